#pragma once
// The devnet's state machine: account state, the open ledger, and closing it. Pure logic: no
// I/O, no clock, no locking — the caller serializes access and persists closed ledgers.
//
// apply() runs a transaction whose signature has already been checked against the open ledger,
// the way rippled applies a submitted transaction to its open ledger: tes/tec results go into the
// ledger (tec claims the fee and consumes the sequence), tem/tef/ter/tel results change nothing.
// Transactions stay in submission order (rippled reorders by a canonical hash at close; this is
// one node, so the provisional result is the final one).
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sashimono/devnet/Chain.h"
#include "sashimono/ledger/DecodedTx.h"

namespace sashimono::devnet {

struct IdHash {
  std::size_t operator()(const crypto::AccountId& a) const noexcept;
  std::size_t operator()(const crypto::Hash256& h) const noexcept;
};

struct ApplyOutcome {
  Ter result = Ter::tesSUCCESS;
  bool included = false;  // in the open ledger (tes/tec)
};

class Engine {
 public:
  // A new chain: ledger 1 holds the genesis account with kGenesisDrops. Returns the engine (open
  // ledger 2) and the genesis ledger to persist.
  static std::pair<Engine, ClosedLedger> genesis(const crypto::AccountId& account, std::uint32_t closeTime);
  // Resumes after `lastClosed` with the persisted accounts.
  Engine(std::vector<AccountRoot> accounts, LedgerHeader lastClosed);

  ApplyOutcome apply(const ledger::DecodedTx& tx, core::ByteView blob);
  // Closes the open ledger at `closeTime` (raised to parent close time + 1 if needed) and opens
  // the next. The result holds the header with its hashes, the transactions with their
  // metadata, and the changed accounts.
  ClosedLedger close(std::uint32_t closeTime);

  [[nodiscard]] const LedgerHeader& lastClosed() const { return lastClosed_; }
  [[nodiscard]] std::uint32_t openSeq() const { return lastClosed_.seq + 1; }
  [[nodiscard]] std::size_t openTxCount() const { return open_.size(); }
  // State including the open ledger.
  [[nodiscard]] const AccountRoot* account(const crypto::AccountId& id) const;
  [[nodiscard]] std::size_t accountCount() const { return accounts_.size(); }

 private:
  Engine() = default;
  Ter preflight(const ledger::DecodedTx& tx) const;

  std::unordered_map<crypto::AccountId, AccountRoot, IdHash> accounts_;
  LedgerHeader lastClosed_;
  std::vector<AppliedTx> open_;
  std::unordered_set<crypto::AccountId, IdHash> dirty_;
  std::uint64_t openFees_ = 0;
  std::unordered_set<crypto::Hash256, IdHash> openHashes_;
  // Hashes of transactions in recent closed ledgers, to answer tefALREADY for resubmissions.
  std::deque<std::vector<crypto::Hash256>> recent_;
  std::unordered_set<crypto::Hash256, IdHash> recentSet_;
};

}  // namespace sashimono::devnet
