#include "sashimono/runtime/ClusterConsensus.h"

#include <algorithm>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Log.h"

namespace sashimono::runtime {

namespace {
constexpr std::size_t kRecentLedgers = 16;  // closed ledgers whose inputs members may still ask for

// What the test switch reports in place of a hash it lies about: every bit flipped.
Hash falsified(const Hash& h) {
  Hash f = h;
  for (auto& b : f) b = static_cast<std::uint8_t>(~b);
  return f;
}
}  // namespace

core::Result<TestLie> parseTestLie(std::string_view text) {
  if (text.empty()) return TestLie::kNone;
  if (text == "state") return TestLie::kState;
  if (text == "outputs") return TestLie::kOutputs;
  if (text == "equivocate") return TestLie::kEquivocate;
  return core::Error("unknown lie '" + std::string(text) + "' (state, outputs or equivocate)");
}

const char* testLieName(TestLie lie) {
  switch (lie) {
    case TestLie::kNone:
      return "none";
    case TestLie::kState:
      return "state";
    case TestLie::kOutputs:
      return "outputs";
    case TestLie::kEquivocate:
      return "equivocate";
  }
  return "?";
}

ClusterConsensus::ClusterConsensus(ClusterConfig config, InstanceKey key, PeerLink& link)
    : config_(std::move(config)),
      key_(std::move(key)),
      link_(link),
      agreement_(config_.agreement, key_, [this](const Hash& h) { return pool_.count(h) != 0; }) {
  ticker_ = std::thread([this] { tickLoop(); });
}

ClusterConsensus::~ClusterConsensus() { stop(); }

AgreementClock ClusterConsensus::now() const {
  return std::chrono::duration_cast<AgreementClock>(Clock::now() - epoch_);
}

void ClusterConsensus::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  if (ticker_.joinable() && ticker_.get_id() != std::this_thread::get_id()) ticker_.join();
}

void ClusterConsensus::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void ClusterConsensus::interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

bool ClusterConsensus::replaced() const {
  std::lock_guard lock(mu_);
  return lastReplaced_;
}

std::vector<RoundInput> ClusterConsensus::takePending() {
  std::lock_guard lock(mu_);
  std::vector<RoundInput> out;
  for (auto& [h, in] : pool_) out.push_back(std::move(in));
  pool_.clear();
  return out;
}

void ClusterConsensus::setPacing(std::uint64_t roundTimeMs, bool periodic, std::uint64_t busyRoundMs) {
  {
    std::lock_guard lock(mu_);
    roundTimeMs_ = roundTimeMs;
    periodic_ = periodic;
    busyRoundMs_ = busyRoundMs;
  }
  cv_.notify_all();
}

std::string ClusterConsensus::voteStatus() const {
  std::lock_guard lock(mu_);
  return behind_ ? "desync" : "synced";
}

std::size_t ClusterConsensus::pending() const {
  std::lock_guard lock(mu_);
  return pool_.size();
}

void ClusterConsensus::appliedElsewhere(const std::vector<std::pair<Hash, std::uint64_t>>& inputs) {
  std::lock_guard lock(mu_);
  for (const auto& [h, maxLedger] : inputs) {
    pool_.erase(h);
    applied_[h] = maxLedger;
  }
}

void ClusterConsensus::caughtUp() {
  std::lock_guard lock(mu_);
  behind_ = false;
  behindSeq_ = 0;
}

std::optional<std::uint64_t> ClusterConsensus::behind() const {
  std::lock_guard lock(mu_);
  if (!behind_) return std::nullopt;
  return behindSeq_;
}

std::vector<std::string> ClusterConsensus::evidence() const {
  std::lock_guard lock(mu_);
  return evidence_;
}

void ClusterConsensus::submit(RoundInput in) {
  {
    std::lock_guard lock(mu_);
    if (applied_.count(in.hash) != 0) return;
    out_.emplace_back(std::nullopt, toPeerInput(in));  // inputs reach every member
    pool_.emplace(in.hash, std::move(in));
    if (started_) {
      agreement_.noteWork(now());
      agreement_.inputsArrived(now());
      act();
    }
  }
  flush();
  cv_.notify_all();
}

void ClusterConsensus::received(const PubKey& from, const PeerMessage& m) {
  // Votes, outputs (three signatures) and view changes are checked here, before the lock: messages
  // from different members, on different transport threads, are checked side by side. (Proposals
  // are checked under it: most are copies that every member relays, dropped unchecked there.)
  bool verified = false;
  if (const auto* v = std::get_if<Vote>(&m)) {
    if (!verifyVote(*v)) return;
    verified = true;
  } else if (const auto* o = std::get_if<Output>(&m)) {
    if (!verifyOutput(*o)) return;
    verified = true;
  } else if (const auto* vc = std::get_if<ViewChange>(&m)) {
    if (!verifyViewChange(*vc)) return;
    verified = true;
  }
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    if (const auto* in = std::get_if<PeerInput>(&m)) {
      auto r = fromPeerInput(*in);
      if (!r.ok()) {
        spdlog::warn("cluster: member {} relayed an input that is not valid: {}", core::toHexLower(from),
                     r.error().message);
        return;
      }
      const Hash h = r->hash;
      if (applied_.count(h) != 0) return;  // already in a ledger: a late copy
      if (pool_.emplace(h, std::move(r).value()).second && started_) {
        agreement_.noteWork(now());
        agreement_.inputsArrived(now());
      }
    } else if (const auto* req = std::get_if<InputRequest>(&m)) {
      for (const auto& h : req->inputs) {
        if (auto it = pool_.find(h); it != pool_.end()) {
          out_.emplace_back(from, toPeerInput(it->second));
          continue;
        }
        for (const auto& [seq, ins] : recent_)  // a member running a round others closed
          if (auto it = ins.find(h); it != ins.end()) out_.emplace_back(from, toPeerInput(it->second));
      }
    } else if (const auto* st = std::get_if<Status>(&m)) {
      // A member further on: this one must sync (only once it runs rounds: before, it has no lcl).
      if (started_ && st->lclSeq > lcl_.seqNo) {
        if (!behind_)
          spdlog::warn("cluster: member {} is at ledger {}, this member at {}: behind",
                       core::toHexLower(from), st->lclSeq, lcl_.seqNo);
        behind_ = true;
        behindSeq_ = std::max(behindSeq_, st->lclSeq);
      }
    } else {
      // Before the engine's first round too: the agreement keeps what is for the next rounds.
      agreement_.receive(from, m, now(), verified);
    }
    act();
  }
  flush();
  cv_.notify_all();
}

void ClusterConsensus::linkUp(const PubKey& peer) {
  {
    std::lock_guard lock(mu_);
    agreement_.peerConnected(peer);
    if (started_)  // where this member is: a peer behind it learns that it must sync
      out_.emplace_back(
          peer, Status{lcl_.seqNo, lcl_.hash, lcl_.stateHash, static_cast<std::uint32_t>(pool_.size())});
    // The inputs waiting here may not have reached the peer.
    for (const auto& [h, in] : pool_) out_.emplace_back(peer, toPeerInput(in));
    act();
  }
  flush();
}

void ClusterConsensus::act() {
  using K = AgreementAction::Kind;
  for (auto actions = agreement_.take(); !actions.empty(); actions = agreement_.take()) {
    for (auto& a : actions) {
      switch (a.kind) {
        case K::kBroadcast:
          if (equivocate(a.message)) break;  // TEST ONLY: false unless config_.lie says so
          out_.emplace_back(std::nullopt, std::move(a.message));
          break;
        case K::kSend:
          out_.emplace_back(a.to, std::move(a.message));
          break;
        case K::kNeedProposal: {
          // Busy (inputs waited as the round started): not before busyRoundMs after the last plan
          // started running here, so that waiting inputs share a round; the ticker asks again then.
          if (a.view == 0 && busy_ && busyRoundMs_ != 0 && lastRun_ != Clock::time_point{}) {
            const auto pace = std::min<Clock::duration>(std::chrono::milliseconds(busyRoundMs_),
                                                        config_.agreement.viewTimeout / 2);
            if (Clock::now() < lastRun_ + pace) {
              proposeAt_ = lastRun_ + pace;
              cv_.notify_all();  // the ticker: to wake then
              break;
            }
          }
          proposeAt_.reset();
          // This member leads: the inputs it holds, in hash order, and the users it serves.
          std::vector<Hash> inputs;
          for (const auto& [h, in] : pool_) inputs.push_back(h);
          if (inputs.size() > kMaxProposalInputs) inputs.resize(kMaxProposalInputs);
          const auto wall = static_cast<std::uint64_t>(nowMs());
          agreement_.propose(wall, users_, std::move(inputs), now());
          break;
        }
        case K::kRequestInputs: {
          InputRequest r;
          r.inputs = std::move(a.inputs);
          if (r.inputs.size() > kMaxRequestedInputs) r.inputs.resize(kMaxRequestedInputs);
          out_.emplace_back(a.to, std::move(r));
          break;
        }
        case K::kExecute: {
          // The plan may name inputs this member never got (it did not vote): ask everyone.
          InputRequest r;
          for (const auto& h : a.plan.inputs)
            if (pool_.count(h) == 0 && r.inputs.size() < kMaxRequestedInputs) r.inputs.push_back(h);
          if (!r.inputs.empty()) out_.emplace_back(std::nullopt, std::move(r));
          execute_ = std::move(a);
          break;
        }
        case K::kRollback:
          if (running_ && *running_ == a.planHash) replaced_ = true;
          if (execute_ && execute_->planHash == a.planHash) execute_.reset();
          break;
        case K::kClose: {
          std::map<Hash, RoundInput> ran;
          for (const auto& h : a.plan.inputs) {
            auto it = pool_.find(h);
            if (it == pool_.end()) continue;
            applied_[h] = it->second.maxLedgerSeqNo;
            ran.emplace(h, std::move(it->second));
            pool_.erase(it);
          }
          recent_.emplace_back(a.seq, std::move(ran));
          behind_ = false;  // it closed a round with the others
          if (recent_.size() > kRecentLedgers) recent_.pop_front();
          closed_ = std::move(a);
          break;
        }
        case K::kBehind:
          if (!behind_) spdlog::warn("cluster: behind the other members: {}", a.text);
          behind_ = true;
          behindSeq_ = std::max(behindSeq_, a.seq);
          break;
        case K::kEvidence:
          spdlog::warn("cluster: {}", a.text);
          evidence_.push_back(std::move(a.text));
          break;
      }
    }
  }
}

void ClusterConsensus::flush() {
  std::vector<std::pair<std::optional<PubKey>, PeerMessage>> out;
  {
    std::lock_guard lock(mu_);
    out.swap(out_);
  }
  for (auto& [to, m] : out) {
    if (to)
      (void)link_.send(*to, m);
    else
      link_.broadcast(m);
  }
}

std::optional<RoundPlan> ClusterConsensus::nextRound(const LedgerRecord& lcl,
                                                     std::vector<PubKey> connectedUsers) {
  std::unique_lock lock(mu_);
  users_ = std::move(connectedUsers);
  std::sort(users_.begin(), users_.end());
  users_.erase(std::unique(users_.begin(), users_.end()), users_.end());
  if (!started_ || agreement_.seq() != lcl.seqNo + 1) {
    // A new round on the ledger the engine stored: inputs it can no longer take are dropped.
    for (auto it = pool_.begin(); it != pool_.end();)
      it = it->second.maxLedgerSeqNo <= lcl.seqNo ? pool_.erase(it) : std::next(it);
    for (auto it = applied_.begin(); it != applied_.end();)  // expired: no copy can be valid now
      it = it->second <= lcl.seqNo ? applied_.erase(it) : std::next(it);
    execute_.reset();
    closed_.reset();
    running_.reset();
    replaced_ = false;
    // Busy: more than one input waits as the round starts. (One may be a lone user's next input,
    // sent when a faster member answered and here before this member closed the round.)
    busy_ = pool_.size() >= 2;
    proposeAt_.reset();
    speculative_ = config_.canUndo ? config_.canUndo() : config_.agreement.speculate;
    agreement_.setSpeculative(speculative_);
    agreement_.startRound(lcl, now());
    started_ = true;
    lclTimestamp_ = lcl.timestamp;
    lcl_ = lcl;
  }
  if (behind_) {  // the engine syncs first
    lock.unlock();
    flush();
    return std::nullopt;
  }
  if (!pool_.empty() || woken_) agreement_.noteWork(now());
  woken_ = false;
  act();
  cv_.notify_all();  // the ticker: a view timer may run now
  lock.unlock();
  flush();
  lock.lock();
  // A plan runs once every input it names is here (a missing one was asked for at kExecute).
  cv_.wait(lock, [&] {
    if (stopped_ || interrupted_ || behind_) return true;
    if (!execute_) return false;
    return std::all_of(execute_->plan.inputs.begin(), execute_->plan.inputs.end(),
                       [&](const Hash& h) { return pool_.count(h) != 0; });
  });
  if (stopped_ || behind_) return std::nullopt;
  if (interrupted_) {
    interrupted_ = false;
    return std::nullopt;
  }
  AgreementAction a = std::move(*execute_);
  execute_.reset();
  running_ = a.planHash;
  replaced_ = false;
  lastRun_ = Clock::now();
  RoundPlan plan;
  plan.seqNo = a.plan.seq;
  plan.timestamp = a.plan.timestamp;
  plan.users = a.plan.users;
  for (const auto& h : a.plan.inputs)
    if (auto it = pool_.find(h); it != pool_.end()) plan.inputs.push_back(it->second);
  const bool drain = speculative_;
  lock.unlock();
  // A plan run as this member votes for it: the vote first (only then does the run's CPU matter
  // to the round's path; a certified plan's run is in the path anyway).
  if (drain) link_.drain(config_.drainBeforeRun);
  return plan;
}

Agreed ClusterConsensus::agree(const RoundPlan& plan, const Hash& outputRoot, const Hash& stateHash,
                               const Hash& ledgerHash, const std::function<void()>& whileWaiting) {
  std::unique_lock lock(mu_);
  lastReplaced_ = false;
  if (!running_ || agreement_.seq() != plan.seqNo) return {};
  const Hash ran = *running_;
  Hash state = stateHash, root = outputRoot;
  lieAbout(plan.seqNo, state, root);  // TEST ONLY: nothing unless config_.lie says so
  agreement_.executed(ran, state, root, ledgerHash);
  act();
  lock.unlock();
  flush();
  if (whileWaiting) whileWaiting();  // the others' outputs may already be here: no matter
  lock.lock();
  cv_.wait(lock, [&] { return stopped_ || replaced_ || behind_ || (closed_ && closed_->planHash == ran); });
  running_.reset();
  // Behind: the cluster closed the round without this member (or on another result): undone like
  // a replaced round, and synced.
  lastReplaced_ = (replaced_ || (behind_ && !(closed_ && closed_->planHash == ran))) && !stopped_;
  if (behind_ && !(closed_ && closed_->planHash == ran)) return {};
  if (stopped_ || replaced_ || !closed_) return {};
  // A close is this member's own result (Agreement closes only on it).
  Agreed a;
  for (auto& [k, sig] : closed_->signatures) a.rootSignatures.emplace_back(k, sig);
  for (auto& [k, sig] : closed_->ledgerSignatures) a.ledgerSignatures.emplace_back(k, sig);
  return a;
}

void ClusterConsensus::lieAbout(std::uint64_t seq, Hash& stateHash, Hash& outputRoot) const {
  Hash* lie = config_.lie == TestLie::kState     ? &stateHash
              : config_.lie == TestLie::kOutputs ? &outputRoot
                                                 : nullptr;
  if (lie == nullptr) return;
  const Hash truth = *lie;
  *lie = falsified(truth);
  spdlog::warn("TEST LIE: round {}: this member reports the {} {} instead of {}", seq,
               lie == &stateHash ? "state hash" : "output root", core::toHexLower(*lie),
               core::toHexLower(truth));
}

bool ClusterConsensus::equivocate(const PeerMessage& m) {
  const auto* p = std::get_if<Proposal>(&m);
  if (config_.lie != TestLie::kEquivocate || p == nullptr || p->leader != key_.publicKey()) return false;
  Proposal twin = *p;
  twin.timestamp += 1;
  signProposal(twin, key_);
  std::vector<PubKey> others;
  for (const auto& k : agreement_.unl())
    if (k != key_.publicKey()) others.push_back(k);
  const std::size_t half = (others.size() + 1) / 2;
  for (std::size_t i = 0; i < others.size(); ++i)
    out_.emplace_back(others[i], i < half ? PeerMessage(*p) : PeerMessage(twin));
  spdlog::warn(
      "TEST LIE: round {} view {}: this member signed two proposals, {} to {} member(s) and {} to {}", p->seq,
      p->view, core::toHexLower(proposalHash(*p)), half, core::toHexLower(proposalHash(twin)),
      others.size() - half);
  return true;
}

void ClusterConsensus::tickLoop() {
  std::unique_lock lock(mu_);
  while (!stopped_) {
    // Idle (no view timer, no periodic rounds): sleep until something gives the round work (every
    // such event notifies) or, should one not, the idle tick; else look at the timers every tick.
    const auto idle = [&] { return !periodic_ && !proposeAt_ && !(started_ && agreement_.timing()); };
    if (idle()) {
      cv_.wait_for(lock, config_.idleTick, [&] { return stopped_ || !idle(); });
    } else {
      auto until = Clock::now() + config_.tick;
      if (proposeAt_ && *proposeAt_ < until) until = *proposeAt_;
      cv_.wait_until(lock, until, [&] { return stopped_ || (proposeAt_ && *proposeAt_ < until); });
    }
    if (stopped_) break;
    if (started_ && proposeAt_ && Clock::now() >= *proposeAt_) {
      proposeAt_.reset();
      agreement_.noteWork(now());  // a leader that held its proposal back makes it now
    }
    if (started_) {
      const auto wall = static_cast<std::uint64_t>(nowMs());
      if (periodic_ && wall >= lclTimestamp_ + roundTimeMs_) agreement_.noteWork(now());
      agreement_.tick(now(), wall);
      act();
    }
    lock.unlock();
    flush();
    cv_.notify_all();
    lock.lock();
  }
}

}  // namespace sashimono::runtime
