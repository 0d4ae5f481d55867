// ClusterConsensus with in-process links (each member's messages delivered by a thread of its
// own, as a network would) and a stand-in round engine per member that asks nextRound(), "runs"
// the plan (its state hash: the previous one and the inputs, in order) and stores the ledger when
// agree() returns the threshold's signatures. Inputs submitted to different members are each
// applied once, in the same order everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "fakes/Eventually.h"
#include "fakes/runtime/StandInEngine.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/ClusterConsensus.h"

namespace sashimono::runtime {
namespace {

using namespace std::chrono_literals;

class Net;

// One member's inbox: delivered in order by its own thread.
class Link final : public PeerLink {
 public:
  Link(Net& net, std::size_t self) : net_(net), self_(self) {}
  bool send(const PubKey& to, const PeerMessage& m) override;
  void broadcast(const PeerMessage& m) override;

 private:
  Net& net_;
  std::size_t self_;
};

class Net {
 public:
  struct Member {
    std::unique_ptr<InstanceKey> key;
    std::unique_ptr<Link> link;
    std::unique_ptr<ClusterConsensus> consensus;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::pair<PubKey, PeerMessage>> inbox;
    bool done = false;
    std::thread deliver;
    std::unique_ptr<fakes::StandInEngine> engine;
  };

  // `lies`: members started with a test switch (TestLie), by index.
  Net(std::size_t n, double fraction, const std::map<std::size_t, TestLie>& lies = {}) : members_(n) {
    AgreementConfig c;
    for (std::size_t i = 0; i < n; ++i) {
      std::array<std::uint8_t, 32> seed{};
      seed[0] = static_cast<std::uint8_t>(i + 100);
      members_[i].key = std::make_unique<InstanceKey>(InstanceKey::fromSeed(seed));
      c.unl.push_back(members_[i].key->publicKey());
      index_[members_[i].key->publicKey()] = i;
    }
    c.threshold = agreementThreshold(n, fraction);
    c.viewTimeout = 300ms;
    for (std::size_t i = 0; i < n; ++i) {
      Member& m = members_[i];
      m.link = std::make_unique<Link>(*this, i);
      ClusterConfig cc{c};
      if (auto it = lies.find(i); it != lies.end()) cc.lie = it->second;
      m.consensus = std::make_unique<ClusterConsensus>(cc, *m.key, *m.link);
      m.deliver = std::thread([this, i] { deliverLoop(i); });
      m.engine = std::make_unique<fakes::StandInEngine>(*m.consensus, c.threshold);
    }
  }
  ~Net() {
    for (auto& m : members_) m.consensus->stop();
    for (auto& m : members_) {
      {
        std::lock_guard l(m.mu);
        m.done = true;
      }
      m.cv.notify_all();
    }
    for (auto& m : members_) {
      m.engine->join();
      m.deliver.join();
    }
  }

  void post(std::size_t from, std::size_t to, const PeerMessage& msg) {
    Member& m = members_[to];
    {
      std::lock_guard l(m.mu);
      m.inbox.emplace_back(members_[from].key->publicKey(), msg);
    }
    m.cv.notify_all();
  }
  std::size_t indexOf(const PubKey& k) const { return index_.at(k); }
  std::size_t size() const { return members_.size(); }
  Member& member(std::size_t i) { return members_[i]; }

  std::vector<fakes::StandInEngine::Ledger> ledgers(std::size_t i) { return members_[i].engine->ledgers(); }

 private:
  void deliverLoop(std::size_t i) {
    Member& m = members_[i];
    std::unique_lock l(m.mu);
    while (true) {
      m.cv.wait(l, [&] { return m.done || !m.inbox.empty(); });
      if (m.done) return;
      auto [from, msg] = std::move(m.inbox.front());
      m.inbox.pop_front();
      l.unlock();
      m.consensus->received(from, msg);
      l.lock();
    }
  }

  std::vector<Member> members_;
  std::map<PubKey, std::size_t> index_;
};

bool Link::send(const PubKey& to, const PeerMessage& m) {
  net_.post(self_, net_.indexOf(to), m);
  return true;
}
void Link::broadcast(const PeerMessage& m) {
  for (std::size_t j = 0; j < net_.size(); ++j)
    if (j != self_) net_.post(self_, j, m);
}

void expectOneChainWithEveryInputOnce(Net& net, const std::set<Hash>& submitted) {
  const auto first = net.ledgers(0);
  std::multiset<Hash> applied;
  for (const auto& [seq, hash, ins] : first) applied.insert(ins.begin(), ins.end());
  EXPECT_EQ(std::set<Hash>(applied.begin(), applied.end()), submitted);
  EXPECT_EQ(applied.size(), submitted.size()) << "an input was applied twice";
  for (std::size_t i = 1; i < net.size(); ++i) {
    const auto other = net.ledgers(i);
    const std::size_t n = std::min(first.size(), other.size());
    for (std::size_t k = 0; k < n; ++k) EXPECT_EQ(other[k], first[k]) << "member " << i << " ledger " << k;
  }
}

template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = 10s) {
  return sashimono::fakes::eventually(f, limit);
}

TEST(ClusterConsensusTest, InputsSentToDifferentMembersAreAppliedOnceInOneOrder) {
  for (std::size_t n : {3, 5}) {
    Net net(n, 0.8);
    std::array<std::uint8_t, 32> seed{};
    seed[0] = 1;
    const InstanceKey user = InstanceKey::fromSeed(seed);
    std::set<Hash> submitted;
    for (std::uint64_t k = 1; k <= 30; ++k) {
      RoundInput in = fakes::signedUserInput(user, k);
      submitted.insert(in.hash);
      net.member(k % n).consensus->submit(std::move(in));
      if (k % 7 == 0) std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(eventually([&] {
      for (std::size_t i = 0; i < n; ++i) {
        std::size_t seen = 0;
        for (const auto& [seq, hash, ins] : net.ledgers(i)) seen += ins.size();
        if (seen < submitted.size()) return false;
      }
      return true;
    })) << n
        << " members: not every input was applied everywhere" << [&] {
             std::string d;
             for (std::size_t i = 0; i < n; ++i) {
               std::size_t seen = 0;
               for (const auto& [seq, hash, ins] : net.ledgers(i)) seen += ins.size();
               d += "\n  member " + std::to_string(i) + ": " + std::to_string(net.ledgers(i).size()) +
                    " ledgers, " + std::to_string(seen) + " inputs applied, " +
                    std::to_string(net.member(i).consensus->pending()) + " pending, " +
                    net.member(i).consensus->voteStatus();
             }
             return d;
           }();
    expectOneChainWithEveryInputOnce(net, submitted);
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(net.member(i).consensus->pending(), 0U);
      EXPECT_TRUE(net.member(i).consensus->evidence().empty());
      EXPECT_EQ(net.member(i).consensus->voteStatus(), "synced");
    }
  }
}

// busy_round_ms in a cluster: a lone input after a quiet spell is proposed at once; under load
// (inputs wait as a round starts) a leader proposes no sooner than 100 ms after the previous round
// started, so waiting inputs share rounds.
TEST(ClusterConsensusTest, BusyRoundsArePacedAndALoneInputIsNot) {
  Net net(3, 0.8);
  for (std::size_t i = 0; i < net.size(); ++i) net.member(i).consensus->setPacing(1000, false, 100);
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 2;
  const InstanceKey user = InstanceKey::fromSeed(seed);
  const auto t0 = std::chrono::steady_clock::now();
  net.member(1).consensus->submit(fakes::signedUserInput(user, 1));
  ASSERT_TRUE(eventually([&] { return net.member(0).engine->applied() == 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 90ms) << "a lone input waited for pacing";
  std::this_thread::sleep_for(150ms);
  std::vector<RoundInput> load;  // signed first: the loop below only submits
  for (std::uint64_t k = 2; k <= 1201; ++k) load.push_back(fakes::signedUserInput(user, k));
  const std::size_t before = net.member(0).engine->closedAt().size();
  const auto loadStart = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < load.size(); ++k) {  // about 600 ms of load, to the members in turn
    net.member(k % net.size()).consensus->submit(std::move(load[k]));
    if (k % 4 == 3) std::this_thread::sleep_for(2ms);
  }
  const auto loadTime = std::chrono::steady_clock::now() - loadStart;
  ASSERT_TRUE(eventually([&] {
    for (std::size_t i = 0; i < net.size(); ++i)
      if (net.member(i).engine->applied() < 1201) return false;
    return true;
  }));
  const auto closed = net.member(0).engine->closedAt();
  ASSERT_GT(closed.size(), before + 2);
  // Paced: a ledger per 100 ms of load at most, plus the first (nothing waited before it), the
  // last (what was left) and one after a stall of this loop (an idle moment). Unpaced: hundreds.
  const auto maxLedgers = static_cast<std::size_t>(loadTime / 100ms) + 3;
  EXPECT_LE(closed.size() - before, maxLedgers) << "1,200 inputs in " << loadTime / 1ms << " ms";
  std::vector<std::chrono::steady_clock::duration> gaps;
  for (std::size_t k = before + 1; k < closed.size(); ++k) gaps.push_back(closed[k] - closed[k - 1]);
  std::sort(gaps.begin(), gaps.end());
  EXPECT_GE(gaps[gaps.size() / 2], 80ms) << "the median time between two ledgers under load";
}

TEST(ClusterConsensusTest, TheTestSwitchParsesItsThreeLiesAndNothingElse) {
  EXPECT_EQ(*parseTestLie(""), TestLie::kNone);
  EXPECT_EQ(*parseTestLie("state"), TestLie::kState);
  EXPECT_EQ(*parseTestLie("outputs"), TestLie::kOutputs);
  EXPECT_EQ(*parseTestLie("equivocate"), TestLie::kEquivocate);
  for (const char* bad : {"none", "State", "state ", "1", "yes"}) EXPECT_FALSE(parseTestLie(bad).ok()) << bad;
  EXPECT_STREQ(testLieName(TestLie::kOutputs), "outputs");
}

// A member made to lie by the test switch (ClusterConfig::lie): the four others (T = 4 of 5) close
// every round without it, on one chain. A member that reports a wrong state hash or output root
// learns that its result differs (behind: it must sync). One that signs two proposals whenever it
// leads leaves evidence at the members that get both before the round closes (all of them when
// the split holds and the view times out; fewer when a member's relay of one outruns the liar's
// own message of the other, and the round closes on it): rounds go on until every honest member
// kept evidence.
TEST(ClusterConsensusTest, AMemberMadeToLieChangesNothingTheOthersAccept) {
  constexpr std::size_t kLiar = 2;
  for (TestLie lie : {TestLie::kState, TestLie::kOutputs, TestLie::kEquivocate}) {
    SCOPED_TRACE(testLieName(lie));
    Net net(5, 0.8, {{kLiar, lie}});
    std::array<std::uint8_t, 32> seed{};
    seed[0] = 2;
    const InstanceKey user = InstanceKey::fromSeed(seed);
    std::set<Hash> submitted;
    const std::vector<std::size_t> honest{0, 1, 3, 4};
    const std::string liarHex = core::toHexLower(net.member(kLiar).key->publicKey());
    auto applied = [&](std::size_t i) {
      std::size_t n = 0;
      for (const auto& [seq, hash, ins] : net.ledgers(i)) n += ins.size();
      return n;
    };
    auto keptEvidence = [&](std::size_t i) {
      const auto ev = net.member(i).consensus->evidence();
      return std::any_of(ev.begin(), ev.end(), [&](const std::string& e) {
        return e.find("leader " + liarHex + " signed two proposals") != std::string::npos;
      });
    };
    auto everyHonestKeptEvidence = [&] { return std::all_of(honest.begin(), honest.end(), keptEvidence); };
    // One input a round, to honest members in turn, over more than one round of leaders.
    for (std::uint64_t k = 1;
         k <= 8 || (lie == TestLie::kEquivocate && k <= 40 && !everyHonestKeptEvidence()); ++k) {
      RoundInput in = fakes::signedUserInput(user, k);
      submitted.insert(in.hash);
      net.member(honest[k % honest.size()]).consensus->submit(std::move(in));
      ASSERT_TRUE(eventually([&] {
        for (std::size_t i : honest)
          if (applied(i) < submitted.size()) return false;
        return true;
      })) << "input "
          << k << " was not applied by the four honest members";
    }
    expectOneChainWithEveryInputOnce(net, submitted);
    for (std::size_t i : honest) {
      EXPECT_EQ(net.member(i).consensus->voteStatus(), "synced") << i;
      EXPECT_FALSE(net.member(i).consensus->behind().has_value()) << i;
    }
    if (lie == TestLie::kEquivocate) {
      for (std::size_t i : honest) {
        EXPECT_TRUE(keptEvidence(i)) << "member " << i << " kept no evidence of the two proposals";
        for (const auto& e : net.member(i).consensus->evidence())
          EXPECT_NE(e.find(liarHex), std::string::npos) << "evidence against another member: " << e;
      }
      // Its own results are true: it closes the same ledgers as the others.
      EXPECT_TRUE(eventually([&] { return applied(kLiar) == submitted.size(); }));
    } else {
      EXPECT_TRUE(net.member(kLiar).consensus->behind().has_value())
          << "the liar did not learn that its result differs";
      EXPECT_TRUE(net.ledgers(kLiar).empty()) << "the liar closed a ledger on its false result";
      for (std::size_t i : honest) EXPECT_TRUE(net.member(i).consensus->evidence().empty()) << i;
    }
  }
}

}  // namespace
}  // namespace sashimono::runtime
