#pragma once
// Parsing of rippled subscription stream messages (messages without a response "id"):
//   {"type": "ledgerClosed", "ledger_index", "ledger_hash", "txn_count"?, "validated_ledgers"?}
//   {"type": "transaction", "validated", "ledger_index", "engine_result", "hash" (api v2) or
//    "transaction": {"hash", …} (v1), "meta": {"TransactionIndex", …}, …}
// Pure functions, thread-safe. Other stream types parse to StreamEvent::Kind::other.
#include <cstdint>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/board/Responses.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::board {

struct StreamEvent {
  enum class Kind { ledgerClosed, transaction, other };
  Kind kind = Kind::other;
  std::uint32_t ledgerIndex = 0;
  // ledgerClosed
  std::uint32_t txnCount = 0;
  std::string validatedLedgers;
  // transaction
  bool validated = false;
  crypto::Hash256 hash{};  // as the server names it: the blob is fetched and checked against it
  std::string engineResult;
  std::optional<std::uint32_t> txIndex;
};

// Errors ("badStream") for a message of a known type with missing or ill-typed fields.
[[nodiscard]] core::Result<StreamEvent> parseStreamEvent(const rapidjson::Value& message);

// The transaction of a validated `transaction` stream message in binary, re-encoded locally
// from its JSON (transaction / tx_json and meta, minus the fields rippled adds that are not
// serialized: hash, date, ctid, inLedger, ledger_index, DeliverMax, delivered_amount), so the
// node need not fetch it. Returns nullopt unless the blob hashes to the event's hash and the
// metadata encodes too (then the caller fetches it with `tx`, as before): a server's JSON that
// does not reproduce the signed bytes is never trusted.
[[nodiscard]] std::optional<BoardTx> localTransaction(const rapidjson::Value& message,
                                                      const StreamEvent& event);

// True if the message is a response (has "type": "response" or an "id" member).
[[nodiscard]] bool isResponse(const rapidjson::Value& message);

}  // namespace sashimono::board
