#pragma once
// Agreement: how the members of a cluster agree on one round (docs/CLUSTER.md, "Agreement"), as
// a deterministic state machine with no I/O, no clock and no threads of its own. Its owner feeds
// it the peer messages it received (already decoded), the passing of time and what the round
// engine did; it answers with actions: messages to broadcast or send, a plan to execute, a
// round to roll back, a ledger to close. The same code runs in the cluster consensus and in the
// simulated networks of its tests.
//
// Per round s (closing ledger s on the last closed ledger s - 1): views 0, 1, …; the leader of
// (s, v) proposes a plan; members vote, and execute the plan they voted for while the votes
// travel; T votes for one proposal are a certificate, on which a member locks (running the
// certified plan instead when it ran another) and sends its output; T matching outputs close the
// ledger; a view without progress ends in view changes that carry locks, so a later leader
// re-proposes what may already have run.
//
// Thread-compatible: one thread at a time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {

using AgreementClock = std::chrono::milliseconds;  // the owner's monotonic time

struct AgreementConfig {
  std::vector<PubKey> unl;  // the members (any order; sorted inside)
  std::size_t threshold = 1;
  AgreementClock viewTimeout{1000};      // view 0; doubles per view ...
  AgreementClock maxViewTimeout{16000};  // ... up to this
  std::uint64_t clockDriftMs = 10000;    // a proposal's timestamp vs the member's wall clock
  // Run the plan this member votes for before it is certified (the owner can undo a round that
  // another certified plan replaces); else only on a certificate.
  bool speculate = true;
};

// T for a UNL of n members and a threshold fraction (0.8 by default): ceil(fraction × n), at
// least a strict majority, at most n.
std::size_t agreementThreshold(std::size_t members, double fraction = 0.8);

// What the round is about, without who proposed it in which view: the same plan re-proposed in
// a later view has the same plan hash, and outputs name the plan they executed.
struct Plan {
  std::uint64_t seq = 0;
  Hash prev{};
  std::uint64_t timestamp = 0;  // ms since the epoch
  std::vector<PubKey> users;    // sorted, distinct
  std::vector<Hash> inputs;     // in execution order, distinct
  bool operator==(const Plan&) const = default;
};
Plan planOf(const Proposal& p);
// BLAKE3("sashimono-plan-v1" ‖ u64 seq ‖ prev ‖ u64 timestamp ‖ u32 n ‖ users ‖ u32 m ‖ inputs).
Hash planHash(const Plan& p);

struct AgreementAction {
  enum class Kind {
    kBroadcast,      // send `message` to every other member
    kSend,           // send `message` to `to`
    kNeedProposal,   // this member leads (seq, view) and has no lock to re-propose: call propose()
    kRequestInputs,  // fetch `inputs` (from `to`, who proposed them), then call inputsArrived()
    kExecute,        // run `plan`; then call executed() with its results
    kRollback,       // undo the executed plan `planHash` (another plan was certified)
    kClose,          // store ledger `plan.seq`: `stateHash`, `outputRoot`, `ledger`, `signatures` (root
                     // sigs), `ledgerSignatures`
    kBehind,         // members closed (or are closing) ledger `seq` without this one: it must sync
    kEvidence,       // a member signed conflicting messages: `text` describes them
  };
  Kind kind = Kind::kBroadcast;
  PeerMessage message;
  PubKey to{};
  Plan plan;
  Hash planHash{};
  std::vector<Hash> inputs;
  Hash stateHash{}, outputRoot{}, ledger{};
  std::vector<std::pair<PubKey, core::Bytes>> signatures;        // root_sigs
  std::vector<std::pair<PubKey, core::Bytes>> ledgerSignatures;  // ledger_sigs, the same members
  std::uint64_t seq = 0;
  std::uint32_t view = 0;
  std::string text;
};

class Agreement {
 public:
  // `key` signs this member's messages; it must be in the UNL. `hasInput` says whether the
  // member holds an input (by H(sig)).
  Agreement(AgreementConfig config, const InstanceKey& key, std::function<bool(const Hash&)> hasInput);

  // AgreementConfig::speculate from now on (the owner learned whether it can undo a round).
  void setSpeculative(bool on) { config_.speculate = on; }
  // Starts round lcl.seqNo + 1 at view 0 (after a close, or at start).
  void startRound(const LedgerRecord& lcl, AgreementClock now);
  // The round has work (inputs wait here or at a peer, or a periodic round is due): the view
  // timer runs from now; a leader without a proposal asks for one.
  void noteWork(AgreementClock now);
  // The leader's fresh plan content for the current view (after kNeedProposal): timestamp (ms
  // since the epoch, after the last ledger's), users, inputs. Ignored when not the leader or
  // already proposed.
  void propose(std::uint64_t timestamp, std::vector<PubKey> users, std::vector<Hash> inputs,
               AgreementClock now);
  // Inputs arrived: proposals that waited for them are looked at again.
  void inputsArrived(AgreementClock now);
  // The plan `planHash` ran: its state hash, output root and the hash of the ledger it closes.
  void executed(const Hash& planHash, const Hash& stateHash, const Hash& outputRoot, const Hash& ledger);
  // A message from a member (the transport authenticated `from`). `verified`: the caller already
  // checked the message's own signatures (verifyProposal, verifyVote, verifyOutput,
  // verifyViewChange), e.g. outside its lock; a lock's certificate is checked here regardless.
  void receive(const PubKey& from, const PeerMessage& m, AgreementClock now, bool verified = false);
  // Time passed (`wallMs`: ms since the epoch, for proposals' timestamps): view timeouts. A
  // member that timed out sends its view change again at every timeout.
  void tick(AgreementClock now, std::uint64_t wallMs);
  // A connection to `peer` was (re)made: what this member said in the round is sent to it again
  // (its proposal, vote, output and view change), so nothing said during an outage is lost.
  void peerConnected(const PubKey& peer);

  // The actions produced since the last call, in order.
  [[nodiscard]] std::vector<AgreementAction> take();

  [[nodiscard]] std::uint64_t seq() const { return seq_; }
  [[nodiscard]] std::uint32_t view() const { return view_; }
  [[nodiscard]] bool closed() const { return closed_; }
  // Whether a view timer runs (the round has work and is not closed): tick() does nothing without.
  [[nodiscard]] bool timing() const { return !closed_ && deadline_.has_value(); }
  [[nodiscard]] const PubKey& leader(std::uint64_t seq, std::uint32_t view) const;
  [[nodiscard]] const std::vector<PubKey>& unl() const { return config_.unl; }

 private:
  struct Lock {
    std::uint32_t view = 0;
    Proposal proposal;
    std::vector<Vote> votes;
    Hash plan{};
  };

  [[nodiscard]] bool member(const PubKey& k) const;
  [[nodiscard]] AgreementClock timeout() const;
  void emit(AgreementAction a) { actions_.push_back(std::move(a)); }
  void broadcast(PeerMessage m);
  void evidence(std::string text);  // kEvidence
  // `verified`: the signatures were checked (a member's own messages, or by the caller).
  void onProposal(const Proposal& p, AgreementClock now, bool verified);
  void onVote(const Vote& v, AgreementClock now, bool verified);
  void onOutput(const Output& o, AgreementClock now, bool verified);
  void sendOutput();  // this member's result, for the view of its lock
  void reportBehind(std::uint64_t seq, std::string why);
  void onViewChange(const ViewChange& vc, AgreementClock now, bool verified);
  void considerProposal(std::uint32_t view, AgreementClock now);
  void maybeCertify(std::uint32_t view, const Hash& proposal, AgreementClock now);
  // The proposal of view `view`'s leader with this hash: the first this member got (proposals_) or
  // another the leader signed for that view (conflicting_); nullptr when not here.
  [[nodiscard]] const Proposal* proposalFor(std::uint32_t view, const Hash& hash) const;
  void adopt(Lock lock, AgreementClock now);
  void execute(const Hash& plan, Plan content);  // kExecute (executing_ = plan, no result yet)
  void maybeClose();
  // A message for a later round: kept when for one of the next few (replayed by startRound),
  // else reported as kBehind. True when the message is not for this round.
  bool notThisRound(const PubKey& from, const PeerMessage& m, std::uint64_t seq);
  void enterView(std::uint32_t view, AgreementClock now);
  void sendViewChange(std::uint32_t view);
  void leadIfLeader(AgreementClock now);
  [[nodiscard]] bool mayVoteFor(const Proposal& p) const;

  AgreementConfig config_;
  const InstanceKey& key_;
  std::function<bool(const Hash&)> hasInput_;
  std::vector<AgreementAction> actions_;
  std::uint64_t wallMs_ = 0;

  // The round.
  std::uint64_t seq_ = 0;
  LedgerRecord lcl_;
  std::uint32_t view_ = 0;
  std::optional<AgreementClock> deadline_;  // the current view's timeout, once there is work
  bool closed_ = false;
  std::map<std::uint32_t, Proposal> proposals_;   // the leader's, per view
  std::map<std::uint32_t, Hash> proposalHashes_;  // of proposals_
  // Other proposals the leader of a view signed (evidence), by (view, hash): a few per view, so
  // that this member can follow the one the others certify or decide.
  std::map<std::pair<std::uint32_t, Hash>, Proposal> conflicting_;
  std::set<std::uint32_t> voted_, proposed_, viewChangeSent_, waiting_;  // per view
  std::map<std::pair<std::uint32_t, Hash>, std::map<PubKey, Vote>> votes_;
  std::optional<Lock> lock_;
  std::optional<Lock> bestSeen_;  // the highest-view certificate seen in view changes
  struct Result {
    Hash state{}, root{}, ledger{};
    Sig rootSig{}, ledgerSig{};  // signed when the result came: an output then only signs its view
  };
  std::optional<Hash> executing_;                                               // the plan handed to kExecute
  std::optional<Result> result_;                                                // what executing_ produced
  std::map<std::pair<Hash, std::uint32_t>, std::map<PubKey, Output>> outputs_;  // per (plan, view)
  std::map<std::uint32_t, std::map<PubKey, ViewChange>> viewChanges_;
  std::uint64_t behindReported_ = 0;
  struct Early {
    std::uint64_t seq = 0;
    PubKey from{};
    PeerMessage message;
  };
  std::vector<Early> early_;  // messages for the next few rounds (a member a little behind)
};

}  // namespace sashimono::runtime
