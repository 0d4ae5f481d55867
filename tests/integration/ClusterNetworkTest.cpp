// ClusterConsensus over the real transport: members on 127.0.0.1, each a PeerNetwork (TLS
// WebSocket links, signed handshake) and a ClusterConsensus driven by a stand-in round engine
// (fakes/runtime/StandInEngine.h). Inputs sent to different members are applied once each, in one
// order everywhere.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "fakes/Eventually.h"
#include "fakes/runtime/StandInEngine.h"
#include "sashimono/runtime/ClusterConsensus.h"
#include "sashimono/runtime/NetworkLink.h"
#include "sashimono/runtime/PeerNetwork.h"

namespace sashimono::runtime {
namespace {

using namespace std::chrono_literals;

struct Member {
  std::unique_ptr<InstanceKey> key;
  std::atomic<ClusterConsensus*> consensus{nullptr};  // set once it exists
  std::unique_ptr<PeerNetwork> net;
  std::unique_ptr<NetworkLink> link;
  std::unique_ptr<ClusterConsensus> owned;
  std::unique_ptr<fakes::StandInEngine> engine;
};

template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = 15s) {
  return sashimono::fakes::eventually(f, limit);
}

TEST(ClusterNetworkTest, ThreeMembersAgreeOverTlsLinks) {
  constexpr std::size_t n = 3;
  std::vector<Member> ms(n);
  AgreementConfig ac;
  std::vector<PeerAddress> addresses;
  for (std::size_t i = 0; i < n; ++i) {
    std::array<std::uint8_t, 32> seed{};
    seed[0] = static_cast<std::uint8_t>(200 + i);
    ms[i].key = std::make_unique<InstanceKey>(InstanceKey::fromSeed(seed));
    ac.unl.push_back(ms[i].key->publicKey());
    PeerNetworkOptions o;
    o.contractId = "cluster-network-test";
    o.minBackoff = 50ms;
    o.maxBackoff = 400ms;
    Member* m = &ms[i];
    ms[i].net = std::make_unique<PeerNetwork>(
        o, *ms[i].key,
        [m](const PubKey& from, PeerMessage&& msg) {
          if (auto* c = m->consensus.load()) c->received(from, msg);
        },
        [m](const PubKey& peer, bool up) {
          if (auto* c = m->consensus.load(); c != nullptr && up) c->linkUp(peer);
        });
    auto port = ms[i].net->start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    addresses.push_back(PeerAddress{ms[i].key->publicKey(), "127.0.0.1", *port});
  }
  ac.threshold = agreementThreshold(n);
  ac.viewTimeout = 500ms;
  for (auto& m : ms) {
    m.link = std::make_unique<NetworkLink>(*m.net);
    m.owned = std::make_unique<ClusterConsensus>(ClusterConfig{ac}, *m.key, *m.link);
    m.consensus = m.owned.get();
    m.engine = std::make_unique<fakes::StandInEngine>(*m.owned, ac.threshold);
    m.net->setPeers(addresses);
  }
  struct Stop {  // whatever the outcome: engines, then networks, then the consensus objects
    std::vector<Member>& ms;
    ~Stop() {
      for (auto& m : ms)
        if (m.owned) m.owned->stop();
      for (auto& m : ms)
        if (m.engine) m.engine->join();
      for (auto& m : ms)
        if (m.net) m.net->stop();
    }
  } stop{ms};
  ASSERT_TRUE(eventually([&] {
    for (auto& m : ms)
      if (m.net->connected().size() != n - 1) return false;
    return true;
  })) << "the members did not connect";

  std::array<std::uint8_t, 32> useed{};
  useed[0] = 9;
  const InstanceKey user = InstanceKey::fromSeed(useed);
  std::set<Hash> submitted;
  for (std::uint64_t k = 1; k <= 20; ++k) {
    RoundInput in = fakes::signedUserInput(user, k);
    submitted.insert(in.hash);
    ms[k % n].owned->submit(std::move(in));
  }
  ASSERT_TRUE(eventually([&] {
    for (auto& m : ms)
      if (m.engine->applied() < submitted.size()) return false;
    return true;
  })) << "not every input was applied by every member";
  const auto first = ms[0].engine->ledgers();
  std::multiset<Hash> applied;
  for (const auto& [seq, hash, ins] : first) applied.insert(ins.begin(), ins.end());
  EXPECT_EQ(applied.size(), submitted.size()) << "an input was applied twice";
  EXPECT_EQ(std::set<Hash>(applied.begin(), applied.end()), submitted);
  for (std::size_t i = 1; i < n; ++i) EXPECT_EQ(ms[i].engine->ledgers(), first) << "member " << i;
}

}  // namespace
}  // namespace sashimono::runtime
