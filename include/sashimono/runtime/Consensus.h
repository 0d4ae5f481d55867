#pragma once
// How the instances of a dApp agree on each round. The round engine (Instance) is written
// against this interface; this issue ships the solo implementation (a cluster of one), the
// cluster issue adds one that exchanges signed proposals between UNL members.
//
// A round: the engine asks nextRound() for what to run (inputs in agreed order, time, users),
// executes the contract, then asks agree() for the members' signatures over the output root and
// the ledger it computed; the ledger closes when agree() returns at least the threshold of them.
//
// Thread-safety: submit/wake/stop from any thread; nextRound/agree from the engine thread only.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/runtime/Codec.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/Ledger.h"

namespace sashimono::runtime {

struct RoundInput {
  Protocol protocol = Protocol::Json;  // how `container` is encoded (the user's session)
  PubKey user{};
  Hash hash{};  // H(sig)
  core::Bytes sig;
  core::Bytes container;  // the signed bytes
  core::Bytes blob;       // the input the contract receives
  std::uint64_t nonce = 0;
  std::uint64_t maxLedgerSeqNo = 0;
};

struct RoundPlan {
  std::uint64_t seqNo = 0;
  std::uint64_t timestamp = 0;     // ms, strictly after the previous ledger's
  std::vector<RoundInput> inputs;  // candidates (the engine re-validates and orders them)
  std::vector<PubKey> users;       // the round's user set (sorted)
};

struct Agreed {
  std::vector<Signature> rootSignatures;    // over the output root: users' output proofs
  std::vector<Signature> ledgerSignatures;  // over ledgerDigest(ledger hash): kept with the ledger
  [[nodiscard]] bool closed() const { return !rootSignatures.empty(); }
};

class Consensus {
 public:
  virtual ~Consensus() = default;
  // An input a local user sent (already checked against the lcl); carried to a coming round.
  virtual void submit(RoundInput in) = 0;
  // Blocks until a round should run — inputs wait, a periodic round is due, or wake() was
  // called — or stop(); nullopt after stop().
  virtual std::optional<RoundPlan> nextRound(const LedgerRecord& lcl, std::vector<PubKey> connectedUsers) = 0;
  // The signatures of the members that computed the same result — state hash, output root and
  // ledger hash — (≥ threshold), or none when the round failed to agree (its effects must then be
  // rolled back; never in solo). `whileWaiting`, when set, is called once on the caller's thread,
  // without any consensus lock, after this member's result is out and before it waits for the
  // others' (work that may overlap the agreement: the engine stages the ledger's rows); a
  // consensus with nothing to wait for does not call it.
  virtual Agreed agree(const RoundPlan& plan, const Hash& outputRoot, const Hash& stateHash,
                       const Hash& ledgerHash, const std::function<void()>& whileWaiting = {}) = 0;
  virtual void wake() = 0;
  virtual void stop() = 0;
  // nextRound() returns nullopt once, soon, without a round (the engine has something to do
  // first, e.g. change the consensus); the consensus goes on.
  virtual void interrupt() = 0;
  // The last empty agree() was no failure: the cluster certified another plan for the round, which
  // replaced this one. Its effects are rolled back; its inputs stay pending.
  [[nodiscard]] virtual bool replaced() const { return false; }
  // Hands over the inputs still waiting (the engine moves them to another consensus); none stay.
  virtual std::vector<RoundInput> takePending() = 0;
  // The contract's pacing (patch.cfg): round time, periodic rounds, busy-round spacing.
  virtual void setPacing(std::uint64_t roundTimeMs, bool periodic, std::uint64_t busyRoundMs) = 0;
  [[nodiscard]] virtual std::string voteStatus() const = 0;
  [[nodiscard]] virtual std::size_t pending() const = 0;
};

// A cluster of one: a round starts as soon as inputs wait (no fixed round time), or every
// roundtime when periodic rounds are on; the instance signs its own output root. Under load —
// two or more inputs already waiting when the engine asks for the next round — a round starts no
// sooner than busyRoundMs after the previous one started: ledgers then cannot outrun the clients'
// max_ledger_seq_no windows, and the waiting inputs share one round. A lone user's input starts
// its round at once, even when it arrived as the previous round ended (its sender got the output).
class SoloConsensus final : public Consensus {
 public:
  SoloConsensus(InstanceKey key, std::uint64_t roundTimeMs, bool periodic, std::uint64_t busyRoundMs = 0);
  void submit(RoundInput in) override;
  std::optional<RoundPlan> nextRound(const LedgerRecord& lcl, std::vector<PubKey> connectedUsers) override;
  Agreed agree(const RoundPlan& plan, const Hash& outputRoot, const Hash& stateHash, const Hash& ledgerHash,
               const std::function<void()>& whileWaiting = {}) override;
  void wake() override;
  void stop() override;
  void interrupt() override;
  std::vector<RoundInput> takePending() override;
  [[nodiscard]] std::string voteStatus() const override { return "synced"; }
  [[nodiscard]] std::size_t pending() const override;
  void setPacing(std::uint64_t roundTimeMs, bool periodic, std::uint64_t busyRoundMs) override;

 private:
  InstanceKey key_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RoundInput> pending_;
  std::uint64_t roundTimeMs_;
  bool periodic_;
  std::uint64_t busyRoundMs_;
  std::optional<std::chrono::steady_clock::time_point> lastStart_;
  bool woken_ = false;
  bool interrupted_ = false;
  bool stopped_ = false;
};

std::uint64_t nowMs();

}  // namespace sashimono::runtime
