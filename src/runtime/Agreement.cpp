#include "sashimono/runtime/Agreement.h"

#include <algorithm>
#include <cmath>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Blake3.h"

namespace sashimono::runtime {

namespace {

void putU64(core::Bytes& b, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void putU32(core::Bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
template <typename A>
void put(core::Bytes& b, const A& a) {
  b.insert(b.end(), a.begin(), a.end());
}

constexpr std::size_t kMaxEarly = 10000;    // messages kept for the next rounds ...
constexpr std::uint64_t kAheadRounds = 4;   // ... up to this many rounds ahead
constexpr std::size_t kMaxConflicting = 4;  // other proposals of one view's leader kept

}  // namespace

std::size_t agreementThreshold(std::size_t members, double fraction) {
  if (members == 0) return 0;
  auto t = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(members) - 1e-9));
  t = std::max(t, members / 2 + 1);
  return std::min(t, members);
}

Plan planOf(const Proposal& p) { return Plan{p.seq, p.prev, p.timestamp, p.users, p.inputs}; }

Hash planHash(const Plan& p) {
  core::Bytes b;
  const std::string_view domain = "sashimono-plan-v1";
  b.insert(b.end(), domain.begin(), domain.end());
  putU64(b, p.seq);
  put(b, p.prev);
  putU64(b, p.timestamp);
  putU32(b, static_cast<std::uint32_t>(p.users.size()));
  for (const auto& u : p.users) put(b, u);
  putU32(b, static_cast<std::uint32_t>(p.inputs.size()));
  for (const auto& h : p.inputs) put(b, h);
  return crypto::blake3(b);
}

Agreement::Agreement(AgreementConfig config, const InstanceKey& key,
                     std::function<bool(const Hash&)> hasInput)
    : config_(std::move(config)), key_(key), hasInput_(std::move(hasInput)) {
  std::sort(config_.unl.begin(), config_.unl.end());
  config_.unl.erase(std::unique(config_.unl.begin(), config_.unl.end()), config_.unl.end());
  config_.threshold =
      std::clamp<std::size_t>(config_.threshold, 1, std::max<std::size_t>(1, config_.unl.size()));
}

const PubKey& Agreement::leader(std::uint64_t seq, std::uint32_t view) const {
  return config_.unl[(seq + view) % config_.unl.size()];
}

bool Agreement::member(const PubKey& k) const {
  return std::binary_search(config_.unl.begin(), config_.unl.end(), k);
}

AgreementClock Agreement::timeout() const {
  auto t = config_.viewTimeout;
  for (std::uint32_t v = 0; v < view_ && t < config_.maxViewTimeout; ++v) t *= 2;
  return std::min(t, config_.maxViewTimeout);
}

std::vector<AgreementAction> Agreement::take() { return std::exchange(actions_, {}); }

void Agreement::evidence(std::string text) {
  AgreementAction a;
  a.kind = AgreementAction::Kind::kEvidence;
  a.text = std::move(text);
  emit(std::move(a));
}

void Agreement::broadcast(PeerMessage m) {
  AgreementAction a;
  a.kind = AgreementAction::Kind::kBroadcast;
  a.message = std::move(m);
  emit(std::move(a));
}

void Agreement::startRound(const LedgerRecord& lcl, AgreementClock now) {
  lcl_ = lcl;
  seq_ = lcl.seqNo + 1;
  view_ = 0;
  deadline_.reset();
  closed_ = false;
  proposals_.clear();
  proposalHashes_.clear();
  conflicting_.clear();
  voted_.clear();
  proposed_.clear();
  viewChangeSent_.clear();
  waiting_.clear();
  votes_.clear();
  lock_.reset();
  bestSeen_.reset();
  executing_.reset();
  result_.reset();
  outputs_.clear();
  viewChanges_.clear();
  // Messages kept for this round are taken now; those for later rounds stay.
  auto early = std::exchange(early_, {});
  for (auto& e : early) {
    if (e.seq == seq_)
      receive(e.from, e.message, now);
    else if (e.seq > seq_)
      early_.push_back(std::move(e));
  }
}

void Agreement::noteWork(AgreementClock now) {
  if (closed_) return;
  if (!deadline_) deadline_ = now + timeout();
  leadIfLeader(now);
}

void Agreement::leadIfLeader(AgreementClock now) {
  if (closed_ || !deadline_ || leader(seq_, view_) != key_.publicKey() || proposed_.count(view_) != 0) return;
  // What may already have run must be proposed again: the highest certificate this member knows.
  const Lock* again = nullptr;
  if (lock_) again = &*lock_;
  if (bestSeen_ && (!again || bestSeen_->view > again->view)) again = &*bestSeen_;
  if (again == nullptr) {
    AgreementAction a;
    a.kind = AgreementAction::Kind::kNeedProposal;
    a.seq = seq_;
    a.view = view_;
    emit(std::move(a));
    return;
  }
  // Its certificate goes first, in a view change of this view, so that members locked on an
  // older plan may vote for it.
  ViewChange vc;
  vc.seq = seq_;
  vc.view = view_;
  vc.lock = ViewChangeLock{again->view, again->proposal, again->votes};
  vc.member = key_.publicKey();
  signViewChange(vc, key_);
  viewChangeSent_.insert(view_);
  viewChanges_[view_][key_.publicKey()] = vc;
  broadcast(vc);
  const Plan plan = planOf(again->proposal);
  propose(plan.timestamp, plan.users, plan.inputs, now);
}

void Agreement::propose(std::uint64_t timestamp, std::vector<PubKey> users, std::vector<Hash> inputs,
                        AgreementClock now) {
  if (closed_ || leader(seq_, view_) != key_.publicKey() || proposed_.count(view_) != 0) return;
  Proposal p;
  p.seq = seq_;
  p.view = view_;
  p.prev = lcl_.hash;
  p.timestamp = timestamp;
  p.users = std::move(users);
  p.inputs = std::move(inputs);
  p.leader = key_.publicKey();
  signProposal(p, key_);
  proposed_.insert(view_);
  broadcast(p);
  onProposal(p, now, true);
}

bool Agreement::notThisRound(const PubKey& from, const PeerMessage& m, std::uint64_t seq) {
  if (seq == seq_) return false;
  if (seq > seq_ && seq <= seq_ + kAheadRounds) {
    if (early_.size() < kMaxEarly) early_.push_back(Early{seq, from, m});
  } else if (seq > seq_) {
    reportBehind(seq - 1, "members are at round " + std::to_string(seq));  // they closed ledger seq - 1
  }
  return true;
}

void Agreement::receive(const PubKey& from, const PeerMessage& m, AgreementClock now, bool verified) {
  if (!member(from)) return;
  // A message kept for a later round is checked again when that round replays it.
  if (const auto* p = std::get_if<Proposal>(&m)) {
    if (!notThisRound(from, m, p->seq)) onProposal(*p, now, verified);  // relayed ones too
  } else if (const auto* v = std::get_if<Vote>(&m)) {
    if (!notThisRound(from, m, v->seq) && v->voter == from) onVote(*v, now, verified);
  } else if (const auto* o = std::get_if<Output>(&m)) {
    if (!notThisRound(from, m, o->seq) && o->member == from) onOutput(*o, now, verified);
  } else if (const auto* vc = std::get_if<ViewChange>(&m)) {
    if (!notThisRound(from, m, vc->seq) && vc->member == from) onViewChange(*vc, now, verified);
  }
}

void Agreement::onProposal(const Proposal& p, AgreementClock now, bool verified) {
  if (p.leader != leader(p.seq, p.view)) return;
  // A copy of a proposal already here (every member relays it) is dropped before any signature
  // check: the same content, whose signature was checked when it first came.
  const Hash h = proposalHash(p);
  auto it = proposalHashes_.find(p.view);
  if (it != proposalHashes_.end() && (it->second == h || conflicting_.count({p.view, h}) != 0)) return;
  if (!verified && !verifyProposal(p)) return;
  if (it != proposalHashes_.end()) {
    evidence("leader " + core::toHexLower(p.leader) + " signed two proposals for round " +
             std::to_string(p.seq) + " view " + std::to_string(p.view) + ": " + core::toHexLower(it->second) +
             " and " + core::toHexLower(h));
    // Kept (a few per view), not voted for: the others may certify or decide it instead of the
    // first, and this member, which has it, then follows them instead of having to sync.
    std::size_t kept = 0;
    for (auto c = conflicting_.lower_bound({p.view, Hash{}});
         c != conflicting_.end() && c->first.first == p.view; ++c)
      ++kept;
    if (kept < kMaxConflicting) {
      conflicting_.emplace(std::pair{p.view, h}, p);
      maybeCertify(p.view, h, now);
    }
    return;
  }
  proposals_[p.view] = p;
  proposalHashes_[p.view] = h;
  noteWork(now);
  considerProposal(p.view, now);  // this member's vote goes out first ...
  // ... then the proposal, relayed once by every member: a member the leader cannot reach still
  // gets it, and a leader that signed two proposals for one view is caught (kEvidence above, at
  // whoever gets both).
  if (p.leader != key_.publicKey()) broadcast(p);
  maybeCertify(p.view, h, now);
}

bool Agreement::mayVoteFor(const Proposal& p) const {
  if (!lock_) return true;
  const Hash plan = planHash(planOf(p));
  if (plan == lock_->plan) return true;
  return bestSeen_ && bestSeen_->plan == plan && bestSeen_->view > lock_->view && bestSeen_->view < p.view;
}

void Agreement::considerProposal(std::uint32_t view, AgreementClock now) {
  if (closed_ || view != view_ || voted_.count(view) != 0) return;
  auto it = proposals_.find(view);
  if (it == proposals_.end()) return;
  const Proposal& p = it->second;
  if (p.seq != seq_ || p.prev != lcl_.hash || p.timestamp <= lcl_.timestamp) return;
  if (wallMs_ != 0 &&
      (p.timestamp > wallMs_ + config_.clockDriftMs || p.timestamp + config_.clockDriftMs < wallMs_))
    return;
  std::vector<Hash> missing;
  for (const auto& h : p.inputs)
    if (!hasInput_(h)) missing.push_back(h);
  if (!missing.empty()) {
    if (waiting_.insert(view).second) {
      AgreementAction a;
      a.kind = AgreementAction::Kind::kRequestInputs;
      a.to = p.leader;
      a.inputs = std::move(missing);
      emit(std::move(a));
    }
    return;
  }
  if (!mayVoteFor(p)) return;
  Vote v;
  v.seq = seq_;
  v.view = view;
  v.proposal = proposalHashes_[view];
  v.voter = key_.publicKey();
  signVote(v, key_);
  voted_.insert(view);
  broadcast(v);
  // The plan runs while the votes travel (speculatively: unlocked, its output is sent only once a
  // certificate locks this member on it, and a certificate for another plan rolls it back).
  if (config_.speculate && !executing_) execute(planHash(planOf(p)), planOf(p));
  onVote(v, now, true);
}

void Agreement::execute(const Hash& plan, Plan content) {
  executing_ = plan;
  result_.reset();
  AgreementAction a;
  a.kind = AgreementAction::Kind::kExecute;
  a.plan = std::move(content);
  a.planHash = plan;
  emit(std::move(a));
}

void Agreement::inputsArrived(AgreementClock now) { considerProposal(view_, now); }

void Agreement::onVote(const Vote& v, AgreementClock now, bool verified) {
  if (!verified && !verifyVote(v)) return;
  for (auto& [key, voters] : votes_) {
    if (key.first != v.view || key.second == v.proposal) continue;
    if (voters.count(v.voter) != 0) {
      evidence("member " + core::toHexLower(v.voter) + " voted for two proposals in round " +
               std::to_string(v.seq) + " view " + std::to_string(v.view));
      return;
    }
  }
  votes_[{v.view, v.proposal}][v.voter] = v;
  maybeCertify(v.view, v.proposal, now);
}

const Proposal* Agreement::proposalFor(std::uint32_t view, const Hash& hash) const {
  if (auto h = proposalHashes_.find(view); h != proposalHashes_.end() && h->second == hash)
    return &proposals_.at(view);
  if (auto c = conflicting_.find({view, hash}); c != conflicting_.end()) return &c->second;
  return nullptr;
}

void Agreement::maybeCertify(std::uint32_t view, const Hash& proposal, AgreementClock now) {
  auto vs = votes_.find({view, proposal});
  if (vs == votes_.end() || vs->second.size() < config_.threshold) return;
  const Proposal* p = proposalFor(view, proposal);
  if (p == nullptr) return;  // the proposal is not here yet
  Lock l;
  l.view = view;
  l.proposal = *p;
  for (const auto& [k, v] : vs->second) l.votes.push_back(v);
  l.plan = planHash(planOf(*p));
  if (!bestSeen_ || bestSeen_->view < l.view) bestSeen_ = l;
  // A certificate of a view this member has left is not followed (it may have voted otherwise
  // since); it only informs a leader's re-proposal.
  if (view >= view_) adopt(std::move(l), now);
}

void Agreement::adopt(Lock l, AgreementClock now) {
  if (closed_ || (lock_ && lock_->view >= l.view)) return;
  lock_ = std::move(l);
  if (lock_->view > view_) view_ = lock_->view;
  deadline_ = now + timeout();  // time for the outputs
  if (executing_ && *executing_ == lock_->plan) {
    if (result_) {  // the same result, for this view's certificate (or run before it came)
      sendOutput();
      maybeClose();  // the others' outputs may all be here already
    }
    return;
  }
  if (executing_) {
    AgreementAction a;
    a.kind = AgreementAction::Kind::kRollback;
    a.planHash = *executing_;
    emit(std::move(a));
    result_.reset();
  }
  execute(lock_->plan, planOf(lock_->proposal));
}

void Agreement::executed(const Hash& plan, const Hash& stateHash, const Hash& outputRoot,
                         const Hash& ledger) {
  if (closed_ || !executing_ || *executing_ != plan || result_) return;
  Output signedOnce;  // the view-free signatures of this result, for every output sent for it
  signedOnce.outputRoot = outputRoot;
  signedOnce.ledger = ledger;
  signOutputResult(signedOnce, key_);
  result_ = Result{stateHash, outputRoot, ledger, signedOnce.rootSig, signedOnce.ledgerSig};
  if (lock_ && lock_->plan == plan) sendOutput();  // else speculative: sent once locked (adopt)
  maybeClose();
}

void Agreement::sendOutput() {
  Output o;
  o.seq = seq_;
  o.view = lock_->view;
  o.plan = *executing_;
  o.stateHash = result_->state;
  o.outputRoot = result_->root;
  o.ledger = result_->ledger;
  o.rootSig = result_->rootSig;
  o.ledgerSig = result_->ledgerSig;
  signOutputView(o, key_);
  outputs_[{o.plan, o.view}][key_.publicKey()] = o;
  broadcast(o);
}

namespace {
bool sameResult(const Output& a, const Output& b) {
  return a.stateHash == b.stateHash && a.outputRoot == b.outputRoot && a.ledger == b.ledger;
}
}  // namespace

void Agreement::onOutput(const Output& o, AgreementClock now, bool verified) {
  if (!verified && !verifyOutput(o)) return;
  auto& byMember = outputs_[{o.plan, o.view}];
  if (auto it = byMember.find(o.member); it != byMember.end() && !sameResult(it->second, o)) {
    evidence("member " + core::toHexLower(o.member) + " signed two results for round " +
             std::to_string(o.seq) + " view " + std::to_string(o.view));
    return;
  }
  byMember[o.member] = o;
  if (closed_) return;
  // T matching outputs of one certificate's view: the round is decided, whatever this member
  // saw of it. It runs that plan (it has the proposal) or must sync.
  std::size_t same = 0;
  for (const auto& [k, other] : byMember)
    if (sameResult(other, o)) ++same;
  if (same >= config_.threshold && (!lock_ || lock_->plan != o.plan)) {
    // The leader's proposal of that view with this plan: the first this member got, or another.
    const Proposal* decided = nullptr;
    if (auto p = proposals_.find(o.view); p != proposals_.end() && planHash(planOf(p->second)) == o.plan)
      decided = &p->second;
    for (auto c = conflicting_.lower_bound({o.view, Hash{}});
         decided == nullptr && c != conflicting_.end() && c->first.first == o.view; ++c)
      if (planHash(planOf(c->second)) == o.plan) decided = &c->second;
    if (decided != nullptr) {
      Lock l{o.view, *decided, {}, o.plan};
      lock_.reset();  // decided: overrides any lock
      adopt(std::move(l), now);
    } else {
      reportBehind(seq_,
                   "the cluster decided round " + std::to_string(seq_) + " on a plan this member lacks");
    }
  }
  maybeClose();
}

void Agreement::reportBehind(std::uint64_t seq, std::string why) {
  if (seq <= behindReported_) return;
  behindReported_ = seq;
  AgreementAction a;
  a.kind = AgreementAction::Kind::kBehind;
  a.seq = seq;
  a.text = std::move(why);
  emit(std::move(a));
}

void Agreement::maybeClose() {
  // Only a locked result closes (a speculative one without a lock waits for its certificate or
  // for a decision, which locks it: onOutput).
  if (closed_ || !executing_ || !result_ || !lock_ || lock_->plan != *executing_) return;
  for (const auto& [key, byMember] : outputs_) {
    if (key.first != *executing_) continue;
    std::vector<std::pair<PubKey, core::Bytes>> sigs, ledgerSigs;
    std::size_t others = 0;
    for (const auto& [k, o] : byMember) {
      if (o.stateHash == result_->state && o.outputRoot == result_->root && o.ledger == result_->ledger) {
        sigs.emplace_back(k, core::Bytes(o.rootSig.begin(), o.rootSig.end()));
        ledgerSigs.emplace_back(k, core::Bytes(o.ledgerSig.begin(), o.ledgerSig.end()));
      } else {
        ++others;
      }
    }
    if (sigs.size() < config_.threshold) {
      // T members agree on another result of the same plan: this member's is wrong.
      if (others >= config_.threshold)
        reportBehind(seq_, "this member's result of round " + std::to_string(seq_) +
                               " differs from the one the cluster agreed on");
      continue;
    }
    closed_ = true;
    AgreementAction a;
    a.kind = AgreementAction::Kind::kClose;
    a.plan = planOf(lock_->proposal);
    a.planHash = *executing_;
    a.stateHash = result_->state;
    a.outputRoot = result_->root;
    a.ledger = result_->ledger;
    a.signatures = std::move(sigs);
    a.ledgerSignatures = std::move(ledgerSigs);
    a.seq = seq_;
    a.view = key.second;
    emit(std::move(a));
    return;
  }
}

void Agreement::onViewChange(const ViewChange& vc, AgreementClock now, bool verified) {
  if (!verified && !verifyViewChange(vc)) return;
  if (vc.lock) {
    const auto& l = *vc.lock;
    if (l.proposal.seq != seq_ || l.proposal.view != l.lockView || l.lockView >= vc.view ||
        !verifyCertificate(l.proposal, l.lockView, l.votes, config_.unl, config_.threshold))
      return;
    if (!bestSeen_ || l.lockView > bestSeen_->view)
      bestSeen_ = Lock{l.lockView, l.proposal, l.votes, planHash(planOf(l.proposal))};
  }
  auto& forView = viewChanges_[vc.view];
  if (auto it = forView.find(vc.member); it == forView.end() || vc.lock) forView[vc.member] = vc;
  if (closed_) return;
  // The highest view T members asked for is entered; one that more than n - T asked for is joined
  // (some honest member timed out there).
  const std::size_t join = config_.unl.size() - config_.threshold + 1;
  std::uint32_t enter = view_;
  for (const auto& [w, who] : viewChanges_) {
    if (w <= view_) continue;
    if (who.size() >= config_.threshold)
      enter = std::max(enter, w);
    else if (who.size() >= join && viewChangeSent_.count(w) == 0)
      sendViewChange(w);
  }
  if (enter > view_)
    enterView(enter, now);
  else if (vc.view == view_)
    leadIfLeader(now);
  // A proposal held back for want of a newer certificate may now get this member's vote.
  considerProposal(view_, now);
}

void Agreement::enterView(std::uint32_t view, AgreementClock now) {
  view_ = view;
  deadline_ = now + timeout();
  if (viewChangeSent_.count(view) == 0) sendViewChange(view);
  considerProposal(view, now);
  leadIfLeader(now);
}

void Agreement::sendViewChange(std::uint32_t view) {
  ViewChange vc;
  vc.seq = seq_;
  vc.view = view;
  if (lock_) vc.lock = ViewChangeLock{lock_->view, lock_->proposal, lock_->votes};
  vc.member = key_.publicKey();
  signViewChange(vc, key_);
  viewChangeSent_.insert(view);
  viewChanges_[view][key_.publicKey()] = vc;
  broadcast(vc);
}

void Agreement::tick(AgreementClock now, std::uint64_t wallMs) {
  wallMs_ = wallMs;
  if (closed_ || !deadline_ || now < *deadline_) return;
  const std::uint32_t next = view_ + 1;
  if (viewChangeSent_.count(next) == 0) {
    sendViewChange(next);
  } else {
    broadcast(viewChanges_[next][key_.publicKey()]);  // said again: it may have been lost
  }
  deadline_ = now + timeout();
  // Entering `next` may already be possible with this member's own view change.
  if (viewChanges_[next].size() >= config_.threshold) enterView(next, now);
}

void Agreement::peerConnected(const PubKey& peer) {
  auto send = [&](PeerMessage m) {
    AgreementAction a;
    a.kind = AgreementAction::Kind::kSend;
    a.to = peer;
    a.message = std::move(m);
    emit(std::move(a));
  };
  if (auto p = proposals_.find(view_); p != proposals_.end() && p->second.leader == key_.publicKey())
    send(p->second);
  for (const auto& [key, voters] : votes_)
    if (key.first == view_)
      if (auto v = voters.find(key_.publicKey()); v != voters.end()) send(v->second);
  for (const auto& [key, byMember] : outputs_)
    if (auto it = byMember.find(key_.publicKey()); it != byMember.end()) send(it->second);
  for (const auto& [w, who] : viewChanges_)
    if (w >= view_)
      if (auto it = who.find(key_.publicKey()); it != who.end()) send(it->second);
}

}  // namespace sashimono::runtime
