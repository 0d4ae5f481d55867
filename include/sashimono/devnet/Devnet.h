#pragma once
// The embedded single-node ledger, transport-agnostic: state (Engine), persistence (ChainStore),
// ledger closing on a timer and on demand, and stream publication (Subscriptions).
//
// Durability: a closed ledger is committed to sqlite (one transaction, fsync'd) BEFORE it becomes
// the validated ledger and before any stream message or `tx` answer can mention it, so nothing a
// client was told was validated is lost by a crash.
//
// Thread-safety: every public member may be called from any thread. submit() and the queries do
// their decoding and signature checks without locks; only applying to the open ledger takes the
// state lock, briefly.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "sashimono/core/Result.h"
#include "sashimono/devnet/ChainStore.h"
#include "sashimono/devnet/Engine.h"
#include "sashimono/devnet/Subscriptions.h"
#include "sashimono/ledger/DecodedTx.h"

namespace sashimono::devnet {

struct DevnetOptions {
  std::string dataDir;
  // "sEd…"/"s…" seed of the genesis account. Empty: reuse the one stored in the data directory,
  // or generate one for a new chain.
  std::string genesisSeed;
  std::chrono::milliseconds ledgerInterval{1000};  // 0: close only on ledger_accept
};

struct SubmitResult {
  Ter result = Ter::temMALFORMED;
  bool included = false;
  ledger::DecodedTx tx;
  std::uint32_t accountSequenceNext = 0;  // the account's next sequence after this submission
  std::uint32_t openSeq = 0;
  std::uint32_t validatedSeq = 0;
};

class Devnet {
 public:
  static core::Result<std::unique_ptr<Devnet>> open(const DevnetOptions& options);
  ~Devnet();
  Devnet(const Devnet&) = delete;
  Devnet& operator=(const Devnet&) = delete;

  // Starts/stops the ledger close timer (no-op when the interval is 0).
  void start();
  void stop();

  // Decodes, checks the signature and applies a signed transaction to the open ledger.
  // An error (never a Ter) means the blob is not a valid transaction: code "invalidTransaction"
  // with rippled's exception text, e.g. "fails local checks: Invalid signature.".
  core::Result<SubmitResult> submit(core::ByteView blob);
  // Closes the open ledger now; returns its header once committed and published.
  core::Result<LedgerHeader> closeLedger();

  [[nodiscard]] const std::string& genesisSeed() const { return genesisSeed_; }
  [[nodiscard]] std::string genesisAddress() const;
  [[nodiscard]] LedgerHeader validatedLedger() const;
  [[nodiscard]] std::uint32_t openSeq() const;
  [[nodiscard]] std::size_t openTxCount() const;
  // "1-N": the validated ledgers on disk.
  [[nodiscard]] std::string completeLedgers() const;
  // Account state in the open ledger (current) or the last validated one.
  [[nodiscard]] std::optional<AccountRoot> account(const crypto::AccountId& id, bool validated) const;
  [[nodiscard]] std::chrono::steady_clock::time_point startTime() const { return started_; }

  ChainStore& store() { return *store_; }
  Subscriptions& subscriptions() { return subs_; }

 private:
  Devnet() = default;
  void timerLoop();

  DevnetOptions options_;
  std::unique_ptr<ChainStore> store_;
  std::string genesisSeed_;
  crypto::AccountId genesisAccount_{};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  mutable std::mutex stateMu_;  // engine_, validated_*
  std::optional<Engine> engine_;
  LedgerHeader validated_;
  std::unordered_map<crypto::AccountId, AccountRoot, IdHash> validatedAccounts_;

  std::mutex closeMu_;  // one close at a time, in order
  Subscriptions subs_;

  std::mutex timerMu_;
  std::condition_variable timerCv_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace sashimono::devnet
