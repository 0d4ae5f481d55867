#pragma once
// ClusterConsensus: the Consensus of an instance with peers (docs/CLUSTER.md). It runs the
// round's Agreement against the members' messages, keeps the pool of inputs (its users' and the
// ones relayed by members), and answers the round engine: nextRound() returns the plan the
// cluster certified, agree() the signatures of the members that got the same result.
//
// The round engine (Instance) uses it when the UNL has more than one member. An empty agree() is
// either a failed round or, when replaced(), a round another certified plan replaced (kRollback):
// its inputs stay pending here.
//
// Thread-safety: everything may be called from any thread; nextRound/agree block the calling
// (engine) thread; received()/linkUp() come from the transport; a ticker thread of its own drives
// the view timeouts.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/Agreement.h"
#include "sashimono/runtime/Consensus.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {

// How the consensus reaches the other members (PeerNetwork, or an in-process link in tests).
// Calls must not block on the receiver: a message is delivered later, on another thread.
class PeerLink {
 public:
  virtual ~PeerLink() = default;
  virtual bool send(const PubKey& to, const PeerMessage& m) = 0;
  virtual void broadcast(const PeerMessage& m) = 0;
  // Waits (at most `max`) until what was sent is on the wire (see PeerNetwork::drain).
  virtual void drain(std::chrono::microseconds /*max*/) {}
};

// TEST ONLY (docs/CLUSTER.md, "A lying member, for tests"): makes this member lie, so that tests
// with real processes can show the others accept nothing of it. The runtime reads it once at
// start from the environment variable SASHIMONO_TEST_LIE (Instance); nothing else sets it.
//   kState       its results carry a wrong state hash (the output root and ledger hash it
//                computed are left as they are)
//   kOutputs     its results carry a wrong output root, and its root_sig signs that root
//   kEquivocate  every proposal it makes is signed twice, the second with a timestamp 1 ms later:
//                one goes to the first half of the other members (UNL order), the other to the rest
enum class TestLie { kNone, kState, kOutputs, kEquivocate };
// "" (unset) is kNone; "state", "outputs", "equivocate"; anything else an error.
[[nodiscard]] core::Result<TestLie> parseTestLie(std::string_view text);
const char* testLieName(TestLie lie);

struct ClusterConfig {
  AgreementConfig agreement;
  std::chrono::milliseconds tick{20};       // how often view timeouts are looked at while a view timer runs
  std::chrono::milliseconds idleTick{250};  // and while none runs (nothing to do: the ticker sleeps)
  // Before a plan runs, the votes sent so far get this long to reach the wire: the contract's run
  // would otherwise take the CPU from the threads that write them.
  std::chrono::microseconds drainBeforeRun{5000};
  TestLie lie = TestLie::kNone;  // never set outside tests
  // Asked on the engine's thread at each round: whether the engine can undo a round (then a plan
  // runs as soon as this member votes for it: AgreementConfig::speculate). Empty: as `agreement`.
  std::function<bool()> canUndo{};
};

class ClusterConsensus final : public Consensus {
 public:
  ClusterConsensus(ClusterConfig config, InstanceKey key, PeerLink& link);
  ~ClusterConsensus() override;
  ClusterConsensus(const ClusterConsensus&) = delete;
  ClusterConsensus& operator=(const ClusterConsensus&) = delete;

  // Consensus.
  void submit(RoundInput in) override;
  std::optional<RoundPlan> nextRound(const LedgerRecord& lcl, std::vector<PubKey> connectedUsers) override;
  Agreed agree(const RoundPlan& plan, const Hash& outputRoot, const Hash& stateHash, const Hash& ledgerHash,
               const std::function<void()>& whileWaiting = {}) override;
  void wake() override;
  void stop() override;
  void interrupt() override;
  [[nodiscard]] bool replaced() const override;
  std::vector<RoundInput> takePending() override;
  // Periodic rounds: a round is due every roundTimeMs after the last ledger even without inputs.
  // Busy rounds: when inputs already wait as a round starts (two or more: one may be a lone
  // user's next input that reached this member before it closed the round), this member, leading
  // it, proposes no sooner than busyRoundMs (at most half the view timeout) after the last plan
  // started running here (as SoloConsensus paces; a lone input is proposed at once).
  void setPacing(std::uint64_t roundTimeMs, bool periodic, std::uint64_t busyRoundMs) override;
  [[nodiscard]] std::string voteStatus() const override;
  [[nodiscard]] std::size_t pending() const override;

  // From the transport: a message of an authenticated member, a link (re)made.
  void received(const PubKey& from, const PeerMessage& m);
  void linkUp(const PubKey& peer);

  // This member is behind the cluster (its agreement said so, or a member's `status` names a
  // later ledger): the last ledger seq it knows the cluster reached. nextRound() and agree() then
  // return without a round (agree() as replaced()), so the engine can sync; caughtUp() (the
  // engine fetched all the members had) or closing a round with the others clears it.
  [[nodiscard]] std::optional<std::uint64_t> behind() const;
  void caughtUp();
  // Inputs (H(sig), max ledger) of ledgers this member fetched instead of running: out of the pool,
  // and not taken again.
  void appliedElsewhere(const std::vector<std::pair<Hash, std::uint64_t>>& inputs);

  // What members signed in conflict (kEvidence), for logs and tests.
  [[nodiscard]] std::vector<std::string> evidence() const;

 private:
  using Clock = std::chrono::steady_clock;
  [[nodiscard]] AgreementClock now() const;
  // Runs the agreement's actions (mu_ held); messages to send are queued in out_ and sent by
  // flush() once mu_ is released.
  void act();
  void flush();
  void tickLoop();
  // The lies of config_.lie (mu_ held): a falsified result before the agreement signs it; a
  // proposal of this member sent as two (true when it took care of sending `m`).
  void lieAbout(std::uint64_t seq, Hash& stateHash, Hash& outputRoot) const;
  bool equivocate(const PeerMessage& m);

  ClusterConfig config_;
  InstanceKey key_;
  PeerLink& link_;
  const Clock::time_point epoch_ = Clock::now();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Agreement agreement_;
  std::map<Hash, RoundInput> pool_;  // by H(sig): inputs not yet in a closed ledger
  // Inputs of closed ledgers, until their max ledger passes: a late copy is not taken again.
  std::map<Hash, std::uint64_t> applied_;
  std::deque<std::pair<std::uint64_t, std::map<Hash, RoundInput>>> recent_;  // the last ledgers' inputs
  std::vector<PubKey> users_;  // the engine's connected users, for this member's proposals
  bool started_ = false;
  bool stopped_ = false;
  bool woken_ = false;
  bool behind_ = false;
  std::uint64_t behindSeq_ = 0;
  LedgerRecord lcl_;                        // the last ledger the engine asked a round on
  std::optional<AgreementAction> execute_;  // a plan to hand to nextRound()
  std::optional<Hash> running_;             // the plan the engine runs (between nextRound and agree)
  std::optional<AgreementAction> closed_;   // the close of running_
  bool replaced_ = false;                   // running_ was rolled back for another plan
  bool lastReplaced_ = false;               // the last agree() ended by replaced_
  bool interrupted_ = false;
  std::uint64_t roundTimeMs_ = 1000;
  bool periodic_ = false;
  std::uint64_t lclTimestamp_ = 0;  // of the ledger the round builds on (periodic rounds)
  std::uint64_t busyRoundMs_ = 0;
  Clock::time_point lastRun_{};                 // when nextRound() last handed the engine a plan
  bool busy_ = false;                           // inputs (two or more) waited as this round started
  bool speculative_ = true;                     // this round's plans run as this member votes
  std::optional<Clock::time_point> proposeAt_;  // a paced proposal of this member's, due then
  std::vector<std::pair<std::optional<PubKey>, PeerMessage>> out_;  // nullopt: broadcast
  std::vector<std::string> evidence_;
  std::thread ticker_;
};

}  // namespace sashimono::runtime
