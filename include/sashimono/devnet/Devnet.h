#pragma once
// The embedded single-node ledger, transport-agnostic: state (Engine), persistence (ChainStore),
// ledger closing on a timer and on demand, stream publication (Subscriptions), and the validator
// that signs every closed ledger (Validator).
//
// Durability: a closed ledger is committed to sqlite (one transaction, fsync'd) BEFORE it becomes
// the validated ledger and before any stream message or `tx` answer can mention it, so nothing a
// client was told was validated is lost by a crash. Each closed ledger's signed validation goes
// out on the "validations" stream before its transaction and ledgerClosed messages.
//
// NetworkID (rippled's rules, checked after the signature): a network id above 1024 requires the
// transaction's NetworkID to equal it (telREQUIRES_NETWORK_ID, telWRONG_NETWORK); one of 1024 or
// below refuses any NetworkID (telNETWORK_ID_MAKES_TX_NON_CANONICAL). The id is stored with the
// chain.
//
// Fees: the open ledger fee (default the base fee) is what a busy network asks; a transaction
// paying less is refused with telINSUF_FEE_P (neither applied nor queued).
//
// open() writes <dataDir>/validator.json ({"master_key","signing_key","manifest" (base64),"seq",
// "network_id"}), and rewrites it after each rotation, for host configs to name the validator.
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
#include "sashimono/devnet/Validator.h"
#include "sashimono/ledger/DecodedTx.h"

namespace sashimono::devnet {

struct DevnetOptions {
  std::string dataDir;
  // "sEd…"/"s…" seed of the genesis account. Empty: reuse the one stored in the data directory,
  // or generate one for a new chain.
  std::string genesisSeed;
  std::chrono::milliseconds ledgerInterval{1000};  // 0: close only on ledger_accept
  // The chain's network id. nullopt: the stored one (kNetworkId for a new chain); a different
  // one than the stored is an error.
  std::optional<std::uint32_t> networkId;
  // Key type of a new validator master key (default ed25519); a stored key of another type is
  // an error when this is set.
  std::optional<crypto::KeyType> validatorKeyType;
  std::uint64_t openLedgerFee = kBaseFee;  // drops; see setOpenLedgerFee
};

// The open ledger fee accepted by setOpenLedgerFee / --open-ledger-fee: from the base fee (not
// busy) to 1,000 XRP.
inline constexpr std::uint64_t kMaxOpenLedgerFee = 1'000'000'000;
// Network ids up to this one are the "legacy" ones whose transactions carry no NetworkID.
inline constexpr std::uint32_t kMaxLegacyNetworkId = 1024;

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

  [[nodiscard]] std::uint32_t networkId() const { return networkId_; }
  // The fee (drops) a transaction must pay to get into the open ledger. set: kBaseFee to
  // kMaxOpenLedgerFee, else an error; kBaseFee ends the busy state.
  [[nodiscard]] std::uint64_t openLedgerFee() const { return openLedgerFee_.load(std::memory_order_relaxed); }
  core::Status setOpenLedgerFee(std::uint64_t drops);

  // The validator's master key ("n…"; fixed for the data directory) and current manifest.
  [[nodiscard]] const std::string& validatorMasterKey() const { return validatorMasterKey_; }
  [[nodiscard]] ledger::Manifest validatorManifest() const;
  // A new signing key under the next manifest sequence: stored, then published on the
  // "manifests" stream; later validations are signed with it. Returns the new manifest.
  core::Result<ledger::Manifest> rotateValidatorKey();

  ChainStore& store() { return *store_; }
  Subscriptions& subscriptions() { return subs_; }

 private:
  Devnet() = default;
  void timerLoop();
  // Signs the validation of a committed ledger and sends it to the "validations" subscribers.
  void publishValidation(const LedgerHeader& header);

  DevnetOptions options_;
  std::unique_ptr<ChainStore> store_;
  std::string genesisSeed_;
  crypto::AccountId genesisAccount_{};
  std::uint32_t networkId_ = kNetworkId;
  std::atomic<std::uint64_t> openLedgerFee_{kBaseFee};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  mutable std::mutex stateMu_;  // engine_, validated_*
  std::optional<Engine> engine_;
  LedgerHeader validated_;
  std::unordered_map<crypto::AccountId, AccountRoot, IdHash> validatedAccounts_;

  std::mutex closeMu_;              // one close (or validator key rotation) at a time, in order
  mutable std::mutex validatorMu_;  // validator_
  std::optional<Validator> validator_;
  std::string validatorMasterKey_;
  Subscriptions subs_;

  std::mutex timerMu_;
  std::condition_variable timerCv_;
  bool stopping_ = false;
  std::thread timer_;
};

}  // namespace sashimono::devnet
