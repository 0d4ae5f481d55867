#pragma once
// A simulated cluster for Agreement's tests: N members, each an Agreement, connected by a
// network of virtual time with per-message delays, partitions and crashes; each member's owner
// (proposing, fetching inputs, executing, closing) is played here. Deterministic for a seed.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/Agreement.h"

namespace sashimono::runtime::testing {

using Ms = AgreementClock;

// The ledger hash a simulated member computes for a result (the same for the same result).
inline Hash ledgerOf(const Hash& state, const Hash& root) {
  core::Bytes b(state.begin(), state.end());
  b.insert(b.end(), root.begin(), root.end());
  return crypto::blake3(b);
}

struct Closed {
  std::uint64_t seq = 0;
  Hash plan{}, state{}, root{};
  std::size_t signatures = 0;
  Ms at{0};
};

class AgreementSim {
 public:
  struct Member {
    std::unique_ptr<InstanceKey> key;
    std::unique_ptr<Agreement> agreement;
    LedgerRecord lcl;
    std::vector<Closed> closed;
    std::set<Hash> inputs;  // the inputs it holds
    bool crashed = false;
    bool lies = false;  // reports a wrong state hash for every plan it runs
    std::size_t executions = 0, rollbacks = 0, behind = 0;
    std::vector<std::string> evidence;
  };

  // n members; `fraction`: the threshold as a fraction of n.
  AgreementSim(std::size_t n, double fraction, std::uint64_t seed) : rng_(seed) {
    std::vector<PubKey> unl;
    for (std::size_t i = 0; i < n; ++i) {
      std::array<std::uint8_t, 32> s{};
      s[0] = static_cast<std::uint8_t>(i + 1);
      s[1] = static_cast<std::uint8_t>(seed);
      members_.emplace_back();
      members_.back().key = std::make_unique<InstanceKey>(InstanceKey::fromSeed(s));
      unl.push_back(members_.back().key->publicKey());
    }
    AgreementConfig c;
    c.unl = unl;
    c.threshold = agreementThreshold(n, fraction);
    c.viewTimeout = Ms(200);
    c.maxViewTimeout = Ms(3200);
    for (std::size_t i = 0; i < n; ++i) {
      Member& m = members_[i];
      m.agreement = std::make_unique<Agreement>(
          c, *m.key, [this, i](const Hash& h) { return members_[i].inputs.count(h) != 0; });
      index_[m.key->publicKey()] = i;
    }
    threshold_ = c.threshold;
  }

  std::size_t threshold() const { return threshold_; }
  Member& member(std::size_t i) { return members_[i]; }
  std::size_t size() const { return members_.size(); }
  std::size_t indexOf(const PubKey& k) const { return index_.at(k); }
  Ms now() const { return now_; }

  // The delay of a message from a to b (default: 1–20 ms).
  std::function<Ms(std::size_t, std::size_t)> delay = [this](std::size_t, std::size_t) {
    return Ms(1 + static_cast<long>(rng_() % 20));
  };
  // When set, the delay of a peer message from a to b (instead of `delay`).
  std::function<Ms(std::size_t, std::size_t, const PeerMessage&)> messageDelay;
  // Whether a and b can reach each other (default: all).
  std::function<bool(std::size_t, std::size_t)> linked = [](std::size_t, std::size_t) { return true; };
  // A leader's proposal may be replaced per receiver (equivocation tests): given the sender, the
  // receiver and the message, what is delivered.
  std::function<PeerMessage(std::size_t, std::size_t, const PeerMessage&)> tamper;

  // Every member starts round 1 on the genesis ledger; every round has work: `inputsPerRound`
  // inputs, held by every member unless `missing(i, h)` says otherwise (then fetched on request).
  void start(std::size_t inputsPerRound, std::function<bool(std::size_t, const Hash&)> missing = {}) {
    inputsPerRound_ = inputsPerRound;
    missing_ = std::move(missing);
    for (std::size_t i = 0; i < members_.size(); ++i) beginRound(i, LedgerRecord{});
  }

  // Runs the network until `until` (virtual time).
  void runUntil(Ms until) {
    for (;;) {
      const Ms event = queue_.empty() ? Ms::max() : queue_.top().at;
      if (std::min(event, nextTick_) > until) break;
      if (nextTick_ <= event) {  // members tick every 20 ms
        now_ = nextTick_;
        nextTick_ += Ms(20);
        for (std::size_t i = 0; i < members_.size(); ++i)
          if (!members_[i].crashed) {
            members_[i].agreement->tick(now_, wall());
            drain(i);
          }
        continue;
      }
      Event e = queue_.top();
      queue_.pop();
      now_ = e.at;
      if (!members_[e.to].crashed) {
        e.run();
        drain(e.to);
      }
    }
    now_ = until;
  }

  // The highest ledger every member in `who` closed.
  std::uint64_t minClosed(const std::vector<std::size_t>& who) const {
    std::uint64_t lo = UINT64_MAX;
    for (auto i : who) lo = std::min<std::uint64_t>(lo, members_[i].closed.size());
    return lo;
  }
  // Safety: no two members closed different results for one ledger.
  bool agreeOnEveryLedger(std::string* why = nullptr) const {
    std::map<std::uint64_t, Closed> first;
    for (std::size_t i = 0; i < members_.size(); ++i) {
      if (members_[i].lies) continue;
      for (const auto& c : members_[i].closed) {
        auto [it, fresh] = first.emplace(c.seq, c);
        if (!fresh &&
            (it->second.plan != c.plan || it->second.state != c.state || it->second.root != c.root)) {
          if (why) *why = "ledger " + std::to_string(c.seq) + " differs at member " + std::to_string(i);
          return false;
        }
      }
    }
    return true;
  }

  // A message from i to all live linked members (as the transport would), through `tamper`.
  void send(std::size_t from, std::size_t to, const PeerMessage& m) {
    if (to == from || members_[from].crashed || !linked(from, to)) return;
    PeerMessage delivered = tamper ? tamper(from, to, m) : m;
    const PubKey sender = members_[from].key->publicKey();
    const Ms d = messageDelay ? messageDelay(from, to, delivered) : delay(from, to);
    post(to, now_ + d,
         [this, to, sender, delivered] { members_[to].agreement->receive(sender, delivered, now_); });
  }

 private:
  struct Event {
    Ms at{0};
    std::uint64_t order = 0;
    std::size_t to = 0;
    std::function<void()> run;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
  };

  std::uint64_t wall() const { return 1'700'000'000'000ULL + static_cast<std::uint64_t>(now_.count()); }

  void post(std::size_t to, Ms at, std::function<void()> run) {
    queue_.push(Event{at, order_++, to, std::move(run)});
  }

  Hash inputHash(std::uint64_t seq, std::size_t k) const {
    std::string s = "input " + std::to_string(seq) + " " + std::to_string(k);
    return crypto::blake3(core::asBytes(s));
  }

  void beginRound(std::size_t i, const LedgerRecord& lcl) {
    Member& m = members_[i];
    m.lcl = lcl;
    for (std::size_t k = 0; k < inputsPerRound_; ++k) {
      const Hash h = inputHash(lcl.seqNo + 1, k);
      if (!missing_ || !missing_(i, h)) m.inputs.insert(h);
    }
    m.agreement->startRound(lcl, now_);
    m.agreement->noteWork(now_);
    drain(i);
  }

  // Plays the owner of member i until its agreement has nothing more to say.
  void drain(std::size_t i) {
    Member& m = members_[i];
    for (auto actions = m.agreement->take(); !actions.empty(); actions = m.agreement->take())
      for (auto& a : actions) act(i, m, a);
  }

  void act(std::size_t i, Member& m, AgreementAction& a) {
    {
      using K = AgreementAction::Kind;
      switch (a.kind) {
        case K::kBroadcast:
          for (std::size_t j = 0; j < members_.size(); ++j) send(i, j, a.message);
          break;
        case K::kSend:
          send(i, index_.at(a.to), a.message);
          break;
        case K::kNeedProposal: {
          std::vector<Hash> ins;
          for (std::size_t k = 0; k < inputsPerRound_; ++k) ins.push_back(inputHash(m.lcl.seqNo + 1, k));
          m.agreement->propose(std::max(wall(), m.lcl.timestamp + 1), {}, ins, now_);
          break;
        }
        case K::kRequestInputs: {
          const std::size_t from = index_.at(a.to);
          auto wanted = a.inputs;
          if (!linked(i, from)) break;
          post(i, now_ + delay(i, from) + delay(from, i), [this, i, wanted] {
            for (const auto& h : wanted) members_[i].inputs.insert(h);
            members_[i].agreement->inputsArrived(now_);
          });
          break;
        }
        case K::kExecute: {
          ++m.executions;
          const Hash plan = a.planHash;
          const bool lies = m.lies;
          post(i, now_ + Ms(5), [this, i, plan, lies] {
            core::Bytes b(plan.begin(), plan.end());
            b.push_back(lies ? 1 : 0);
            const Hash state = crypto::blake3(b);
            b.push_back(7);
            const Hash root = crypto::blake3(b);
            members_[i].agreement->executed(plan, state, root, ledgerOf(state, root));
          });
          break;
        }
        case K::kRollback:
          ++m.rollbacks;
          break;
        case K::kClose: {
          m.closed.push_back(Closed{a.seq, a.planHash, a.stateHash, a.outputRoot, a.signatures.size(), now_});
          LedgerRecord next;
          next.seqNo = a.seq;
          next.timestamp = a.plan.timestamp;
          core::Bytes b(m.lcl.hash.begin(), m.lcl.hash.end());
          b.insert(b.end(), a.planHash.begin(), a.planHash.end());
          next.hash = crypto::blake3(b);
          next.stateHash = a.stateHash;
          post(i, now_, [this, i, next] { beginRound(i, next); });
          break;
        }
        case K::kBehind:
          ++m.behind;
          break;
        case K::kEvidence:
          m.evidence.push_back(a.text);
          break;
      }
    }
  }

  std::mt19937_64 rng_;
  std::vector<Member> members_;
  std::map<PubKey, std::size_t> index_;
  std::size_t threshold_ = 1;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::uint64_t order_ = 0;
  Ms now_{0};
  Ms nextTick_{0};
  std::size_t inputsPerRound_ = 1;
  std::function<bool(std::size_t, const Hash&)> missing_;
};

}  // namespace sashimono::runtime::testing
