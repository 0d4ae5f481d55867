#pragma once
// What the node needs from the board, as a small interface (BoardClientPort adapts the real
// board::BoardClient; tests use fakes/node/FakeBoard.h). Deliveries go the other way: the
// owner of the port calls Node::onTransaction / Node::onLedgerFinished.
//
// Implementations must be callable from the node's thread; every call may fail (not connected,
// timeout) and the node retries later.
#include <cstdint>
#include <optional>
#include <string>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::node {

struct TxLookup {
  bool found = false;      // the server knows the transaction
  bool validated = false;  // in a validated ledger: final
  std::uint32_t ledger = 0;
  std::string result;  // engine result when known
};

struct SubmitOutcome {
  std::string engineResult;
  bool accepted = false;
};

// What a transaction costs now, in drops (rippled's `fee` command). A transaction paying at
// least openLedger gets into the open ledger; the open-ledger fee rises above base when the
// network is busy (fee escalation).
struct FeeView {
  std::uint64_t base = 0;        // the reference transaction cost
  std::uint64_t openLedger = 0;  // what gets a transaction into the open ledger now
  std::uint64_t minimum = 0;     // the least the server queues
  bool operator==(const FeeView&) const = default;
};

// The reserves of the latest validated ledger, in drops: an account must keep
// base + ownerCount × increment; only the balance above it can be spent.
struct ReserveView {
  std::uint64_t base = 0;
  std::uint64_t increment = 0;
  bool operator==(const ReserveView&) const = default;
};

// An account in the latest validated ledger (account_info).
struct AccountView {
  std::uint32_t sequence = 0;  // its next sequence
  std::uint64_t balance = 0;   // drops
  std::uint32_t ownerCount = 0;
  std::uint32_t ledger = 0;  // the validated ledger answered from
};

class BoardPort {
 public:
  virtual ~BoardPort() = default;
  // The latest validated ledger index.
  [[nodiscard]] virtual core::Result<std::uint32_t> validatedLedger() = 0;
  // The fees a transaction pays now.
  [[nodiscard]] virtual core::Result<FeeView> fee() = 0;
  // The reserves of the latest validated ledger.
  [[nodiscard]] virtual core::Result<ReserveView> reserves() = 0;
  // The account in the latest validated ledger (one account_info); code "actNotFound" if none.
  [[nodiscard]] virtual core::Result<AccountView> account(const std::string& address) = 0;
  [[nodiscard]] virtual core::Result<SubmitOutcome> submit(core::ByteView blob) = 0;
  // A transaction by hash, searched in ledgers [minLedger, maxLedger]. found = false only when
  // the server is sure it is in none of them (rippled's searched_all); an error otherwise.
  [[nodiscard]] virtual core::Result<TxLookup> lookup(const crypto::Hash256& hash, std::uint32_t minLedger,
                                                      std::uint32_t maxLedger) = 0;
  // The network's id (server_info network_id; 0 when the board names none). Payments carry it
  // as NetworkID when it is above 1024 (ledger::networkIdField).
  [[nodiscard]] virtual core::Result<std::uint32_t> networkId() { return 0u; }
  // True when the board delivers only transactions of ledgers it checked against what trusted
  // validators signed (board.validators): the outbox then confirms its payments from those
  // deliveries and the node's cursor, never from the board's word (Outbox.h).
  [[nodiscard]] virtual bool verifiesLedgers() const { return false; }
};

}  // namespace sashimono::node
