#pragma once
// Rendering of rippled WebSocket API requests as JSON object text, without the "id" (the
// Connection adds it). No api_version is sent: every rippled/Xahau server answers version 1.
// Pure functions, thread-safe.
#include <cstdint>
#include <optional>
#include <string>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::board {

struct AccountTxQuery {
  std::string account;          // r-address
  std::int64_t ledgerMin = -1;  // -1: the earliest the server has
  std::int64_t ledgerMax = -1;  // -1: the latest validated
  bool forward = true;          // oldest first
  bool binary = true;           // tx_blob/meta hex, so the node can verify the bytes itself
  std::uint32_t limit = 200;
  std::optional<std::string> marker;  // opaque JSON text from the previous page
};

struct TxQuery {
  crypto::Hash256 hash{};
  bool binary = true;
  // Both set: the server says whether it searched the whole range (searched_all) when not found.
  std::optional<std::uint32_t> minLedger;
  std::optional<std::uint32_t> maxLedger;
};

std::string renderServerInfo();
std::string renderFee();
std::string renderAccountInfo(const std::string& account, bool validated);
std::string renderLedgerCurrent();
std::string renderLedgerClosed();
std::string renderSubmit(core::ByteView txBlob);
std::string renderTx(const TxQuery& q);
// An ill-formed marker (not JSON) is sent as null.
std::string renderAccountTx(const AccountTxQuery& q);
// accounts: empty for none; ledger: add the "ledger" stream.
std::string renderSubscribe(const std::string& account, bool ledger);
std::string renderPing();
// {"command":"manifest","public_key":"n…"}: the server's current manifest for a validator key.
std::string renderManifest(const std::string& nodePublicKey);
// A closed ledger by sequence; with `transactions`, its transactions expanded in binary (tx_blob and
// meta), and the header as ledger_data: what parseLedger and verifyLedger (Responses.h) read.
std::string renderLedger(std::uint32_t seq, bool transactions);

// `{"id":N,` + the request without its opening brace. Returns empty if `request` is not an object text.
std::string withId(std::uint64_t id, const std::string& request);

}  // namespace sashimono::board
