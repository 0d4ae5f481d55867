// ClusterConsensus with in-process links (each member's messages delivered by a thread of its
// own, as a network would) and a stand-in round engine per member that asks nextRound(), "runs"
// the plan (its state hash: the previous one and the inputs, in order) and stores the ledger when
// agree() returns the threshold's signatures. Inputs submitted to different members are each
// applied once, in the same order everywhere.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
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

  Net(std::size_t n, double fraction) : members_(n) {
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
      m.consensus = std::make_unique<ClusterConsensus>(ClusterConfig{c}, *m.key, *m.link);
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

}  // namespace
}  // namespace sashimono::runtime
