#include "sashimono/node/Node.h"

#include <gtest/gtest.h>

#include "fakes/node/NodeHarness.h"

namespace sashimono::node {
namespace {

using fakes::NodeHarness;

protocol::Message acquire(const std::string& image = "hotpocket") { return fakes::acquireRequest(image); }
protocol::Message extend(const crypto::Hash256& id) {
  protocol::ExtendRequest r;
  r.leaseId = id;
  return r;
}
protocol::Message terminate(const crypto::Hash256& id) {
  protocol::TerminateRequest r;
  r.leaseId = id;
  return r;
}

fakes::OpenedReply only(const std::map<crypto::Hash256, std::vector<fakes::OpenedReply>>& r,
                        const crypto::Hash256& id) {
  auto it = r.find(id);
  if (it == r.end()) throw std::runtime_error("no reply");
  EXPECT_EQ(it->second.size(), 1u);
  return it->second.front();
}

protocol::Reason reasonOf(const fakes::OpenedReply& r) {
  return std::get<protocol::ErrorReply>(r.message).reason;
}

TEST(NodeTest, AcquireProvisionsAndRepliesOnceWithSealedInstance) {
  NodeHarness h;
  h.boot();
  auto req = h.send(2500, acquire());
  h.catchUp();
  h.settle();
  ASSERT_EQ(h.provisioner.instances.size(), 1u);
  const auto r = only(h.replies(), req.hash);
  EXPECT_EQ(r.type, protocol::MessageType::acquireOk);
  const auto& ok = std::get<protocol::AcquireOk>(r.message);
  EXPECT_EQ(ok.leaseId, req.hash);
  EXPECT_EQ(ok.moments, 2u);
  EXPECT_EQ(ok.refund, 500u);
  EXPECT_EQ(ok.instance.userPort, 26000);
  EXPECT_EQ(ok.instance.host, "host.example.com");
  EXPECT_EQ(r.drops, 500u);
  EXPECT_EQ(r.to, h.tenant.accountId());
  EXPECT_EQ(ok.expiry, h.clock.now() + 2 * 3600);
  auto state = h.store->requestState(req.hash);
  EXPECT_EQ(**state, RequestState::replied);
}

TEST(NodeTest, DuplicateDeliveryIsHandledOnce) {
  NodeHarness h;
  h.boot();
  auto req = h.send(1000, acquire());
  h.catchUp();
  ASSERT_TRUE(h.node->onTransaction(req).ok());
  ASSERT_TRUE(h.node->onTransaction(req).ok());
  h.settle();
  EXPECT_EQ(h.provisioner.creates, 1);
  EXPECT_EQ(h.replies()[req.hash].size(), 1u);
}

TEST(NodeTest, ExtendThenTerminateRefundsUnusedMoments) {
  NodeHarness h;
  h.boot();
  auto acq = h.send(1000, acquire());
  h.catchUp();
  h.settle();
  auto ext = h.send(1999, extend(acq.hash));
  h.catchUp();
  h.settle();
  const auto e = only(h.replies(), ext.hash);
  ASSERT_EQ(e.type, protocol::MessageType::extendOk);
  EXPECT_EQ(std::get<protocol::ExtendOk>(e.message).moments, 1u);
  EXPECT_EQ(std::get<protocol::ExtendOk>(e.message).refund, 999u);
  h.clock.advance(1);  // 2 moments bought: 7199 s left, 1 whole moment unused
  auto term = h.send(1, terminate(acq.hash));
  h.catchUp();
  h.settle();
  const auto t = only(h.replies(), term.hash);
  ASSERT_EQ(t.type, protocol::MessageType::terminateOk);
  EXPECT_EQ(std::get<protocol::TerminateOk>(t.message).refund, 1001u);
  EXPECT_EQ(t.drops, 1001u);
  EXPECT_TRUE(h.provisioner.instances.empty());
  EXPECT_EQ(h.node->book().freeSlots(), 2u);
}

TEST(NodeTest, ExpiryDestroysThenNotifies) {
  NodeHarness h;
  h.boot();
  auto acq = h.send(1000, acquire());
  h.catchUp();
  h.settle();
  ASSERT_EQ(h.provisioner.instances.size(), 1u);
  h.clock.advance(3600);
  h.settle();
  EXPECT_TRUE(h.provisioner.instances.empty());
  auto r = h.replies()[acq.hash];
  ASSERT_EQ(r.size(), 2u);  // acquire.ok, then sashimono.expired
  EXPECT_EQ(r[1].type, protocol::MessageType::expired);
}

TEST(NodeTest, RefundsEveryRequestItCannotServe) {
  NodeHarness h;
  h.boot();
  auto under = h.send(500, acquire());
  auto image = h.send(1000, acquire("other"));
  auto a1 = h.send(1000, acquire());
  auto a2 = h.send(1000, acquire());
  auto full = h.send(1000, acquire());
  auto unknown = h.send(1000, extend(crypto::Hash256{1, 2, 3}));
  auto plain = h.send(5000, std::nullopt);  // funding: kept, no reply
  h.catchUp();
  h.settle();
  auto r = h.replies();
  EXPECT_EQ(reasonOf(only(r, under.hash)), protocol::Reason::underpaid);
  EXPECT_EQ(only(r, under.hash).drops, 500u);
  EXPECT_EQ(reasonOf(only(r, image.hash)), protocol::Reason::imageNotAllowed);
  EXPECT_EQ(only(r, a1.hash).type, protocol::MessageType::acquireOk);
  EXPECT_EQ(only(r, a2.hash).type, protocol::MessageType::acquireOk);
  EXPECT_EQ(reasonOf(only(r, full.hash)), protocol::Reason::noCapacity);
  EXPECT_EQ(only(r, full.hash).drops, 1000u);
  EXPECT_EQ(reasonOf(only(r, unknown.hash)), protocol::Reason::unknownLease);
  EXPECT_EQ(r.count(plain.hash), 0u);
}

TEST(NodeTest, ProvisioningFailureRefundsInFull) {
  NodeHarness h;
  h.boot();
  h.provisioner.failCreates = 1;
  auto acq = h.send(2500, acquire());
  h.catchUp();
  h.settle();
  const auto r = only(h.replies(), acq.hash);
  EXPECT_EQ(reasonOf(r), protocol::Reason::provisioningFailed);
  EXPECT_EQ(r.drops, 2500u);
  EXPECT_EQ(h.node->book().freeSlots(), 2u);
}

TEST(NodeTest, RequestsSentWhileDownAreServedOnRestart) {
  NodeHarness h;
  h.boot();
  h.node.reset();  // down
  auto acq = h.send(1000, acquire());
  h.boot();
  h.catchUp();
  h.settle();
  EXPECT_EQ(only(h.replies(), acq.hash).type, protocol::MessageType::acquireOk);
}

TEST(NodeTest, StartupReprovisionsAMissingInstanceWithItsCluster) {
  NodeHarness h;
  h.boot();
  auto acq = h.send(1000, acquire());
  h.catchUp();
  h.settle();
  protocol::ClusterRequest c;
  c.leaseId = acq.hash;
  protocol::ClusterMember m{};
  m.pubkey[0] = 7;
  m.peer = "10.0.0.2:22000";
  c.members = {m};
  auto cl = h.send(1, c);
  h.catchUp();
  h.settle();
  EXPECT_EQ(only(h.replies(), cl.hash).type, protocol::MessageType::clusterOk);
  ASSERT_EQ(h.provisioner.clusters[acq.hash].size(), 1u);
  // The instance vanished while the node was down (a lost disk, an operator's destroy).
  h.node.reset();
  h.provisioner.instances.erase(acq.hash);
  h.provisioner.clusters.erase(acq.hash);
  h.boot();
  EXPECT_EQ(h.node->drift().missing.size(), 1u);
  EXPECT_EQ(h.provisioner.instances.count(acq.hash), 1u);
  ASSERT_EQ(h.provisioner.clusters[acq.hash].size(), 1u);
  EXPECT_EQ(h.provisioner.clusters[acq.hash][0], m);
  h.settle();
  EXPECT_EQ(h.replies()[acq.hash].size(), 1u) << "no second reply for the re-provisioned lease";
}

// One retry rule for cluster deliveries: a delivery that fails (here, to a re-provisioned
// instance) stays pending and is retried on every tick until it succeeds.
TEST(NodeTest, AFailedClusterDeliveryIsRetriedOnTheNextTick) {
  NodeHarness h;
  h.boot();
  auto acq = h.send(1000, acquire());
  h.catchUp();
  h.settle();
  protocol::ClusterRequest c;
  c.leaseId = acq.hash;
  protocol::ClusterMember m{};
  m.pubkey[0] = 7;
  m.peer = "10.0.0.2:22000";
  c.members = {m};
  h.send(1, c);
  h.catchUp();
  h.settle();
  h.node.reset();
  h.provisioner.instances.erase(acq.hash);
  h.provisioner.clusters.erase(acq.hash);
  h.provisioner.failDeliveries = 2;  // after re-provisioning at start-up, then on the first tick
  h.boot();
  EXPECT_EQ(h.provisioner.instances.count(acq.hash), 1u);
  EXPECT_EQ(h.provisioner.clusters.count(acq.hash), 0u);
  ASSERT_TRUE(h.node->tick().ok());
  EXPECT_EQ(h.provisioner.clusters.count(acq.hash), 0u);
  EXPECT_EQ(h.store->clusterPending()->size(), 1u);
  ASSERT_TRUE(h.node->tick().ok());
  ASSERT_EQ(h.provisioner.clusters[acq.hash].size(), 1u);
  EXPECT_EQ(h.provisioner.clusters[acq.hash][0], m);
  EXPECT_TRUE(h.store->clusterPending()->empty());
}

// A request an older version recorded (admitted) but did not decide before it stopped is
// decided and answered when the node starts, without the board delivering it again.
TEST(NodeTest, ARequestAdmittedButNotDecidedIsDecidedAtStart) {
  NodeHarness h;
  h.boot();
  auto acq = h.send(1000, acquire());
  h.node.reset();
  {
    auto st = h.store->database().prepare(
        "INSERT INTO requests (hash, state, ledger, blob, meta, result) VALUES (?, 'admitted', ?, ?, x'', "
        "?)");
    ASSERT_TRUE(st.ok());
    st->bind(1, core::ByteView(acq.hash))
        .bind(2, static_cast<std::int64_t>(acq.ledgerIndex))
        .bind(3, core::ByteView(acq.blob))
        .bind(4, acq.result);
    ASSERT_TRUE(st->run().ok());
  }
  h.boot();
  EXPECT_EQ(**h.store->requestState(acq.hash), RequestState::decided);
  EXPECT_EQ(h.provisioner.instances.count(acq.hash), 1u);
  h.settle();
  EXPECT_EQ(only(h.replies(), acq.hash).type, protocol::MessageType::acquireOk);
}

TEST(NodeTest, StartupDestroysOrphansAndReportsDrift) {
  NodeHarness h;
  h.provisioner.instances[crypto::Hash256{9}] = protocol::InstanceInfo{};
  h.boot();
  EXPECT_EQ(h.node->drift().orphans.size(), 1u);
  EXPECT_TRUE(h.provisioner.instances.empty());
}

// The scenario: acquire, extend, an underpaid acquire, terminate; a crash at step n of it, a
// restart on the same store, and the rest. Whatever n, each request ends with exactly one
// reply and no instance is left.
void scenario(NodeHarness& h, int crashAt, std::vector<crypto::Hash256>& requests, bool durableOnly = false) {
  h.boot(crashAt, durableOnly);
  if (requests.empty()) {
    requests.push_back(h.send(2500, acquire()).hash);
    requests.push_back(h.send(1000, extend(requests[0])).hash);
    requests.push_back(h.send(10, acquire()).hash);
    requests.push_back(h.send(1, terminate(requests[0])).hash);
  }
  h.catchUp();
  h.settle(8);
}

TEST(NodeTest, CrashAtEveryStepNeitherLosesNorDoublesAReply) {
  int crashes = 0;
  for (int n = 1; n < 200; ++n) {
    NodeHarness h;
    std::vector<crypto::Hash256> requests;
    bool crashed = false;
    try {
      scenario(h, n, requests);
    } catch (const fakes::Crash&) {
      crashed = true;
    }
    if (!crashed) break;  // n is past the last step: every boundary was tried
    ++crashes;
    SCOPED_TRACE("crash at step " + std::to_string(n) + " (" + h.lastStep + ")");
    if (requests.empty()) {  // crashed in the first start-up, before any request
      scenario(h, 0, requests);
    } else {
      h.boot();
      h.catchUp();
      h.settle(8);
    }
    auto r = h.replies();
    ASSERT_EQ(requests.size(), 4u);
    for (const auto& id : requests) {
      ASSERT_EQ(r[id].size(), 1u) << "request " << core::toHex(id);
    }
    EXPECT_EQ(r[requests[0]][0].type, protocol::MessageType::acquireOk);
    EXPECT_EQ(r[requests[1]][0].type, protocol::MessageType::extendOk);
    EXPECT_EQ(r[requests[2]][0].type, protocol::MessageType::acquireError);
    EXPECT_EQ(r[requests[3]][0].type, protocol::MessageType::terminateOk);
    EXPECT_TRUE(h.provisioner.instances.empty());
    EXPECT_EQ(h.board.poolSize(), 0u);
    auto open = h.store->outbox();
    EXPECT_TRUE(open->empty());
  }
  EXPECT_GT(crashes, 10);
}

// Crashing again and again at the n-th durable step of every boot still converges to one reply
// each. (A crash at a step inside an uncommitted batch rolls the batch back: crashing there on
// every boot would replay the same batch forever, as any group commit would.)
TEST(NodeTest, RepeatedCrashesConverge) {
  for (int n : {2, 3, 5, 8, 13}) {
    NodeHarness h;
    std::vector<crypto::Hash256> requests;
    int boots = 0;
    bool done = false;
    while (!done && boots < 100) {
      ++boots;
      try {
        scenario(h, n, requests, true);
        done = true;
      } catch (const fakes::Crash&) {
      }
    }
    ASSERT_TRUE(done) << "no progress with a crash at step " << n << " of every boot";
    h.boot();
    h.catchUp();
    h.settle(8);
    auto r = h.replies();
    ASSERT_EQ(requests.size(), 4u);
    for (const auto& id : requests) EXPECT_EQ(r[id].size(), 1u) << "n=" << n;
    EXPECT_TRUE(h.provisioner.instances.empty());
  }
}

}  // namespace
}  // namespace sashimono::node

namespace sashimono::node {
namespace {

// A payment whose Amount was changed after signing: the signature no longer verifies.
core::Bytes forged(const crypto::KeyPair& from, const crypto::KeyPair& host, std::uint32_t seq) {
  auto blob = fakes::requestPayment(from, host.address(), 1000, seq, fakes::acquireRequest(), host);
  auto d = ledger::decode(blob);
  (*d)["Amount"].SetString("999999", d->GetAllocator());
  return *ledger::encode(*d);
}

TEST(NodeTest, ForgedAndMisdirectedRequestsAreIgnoredAndALegitOneIsServed) {
  NodeHarness h;
  h.boot();
  // Forged signature.
  auto bad = forged(h.tenant, h.host, h.tenantSeq++);
  auto t1 = h.board.inject(bad);
  board::BoardTx forgedTx{t1.tx.hash, bad, {}, t1.ledger, std::nullopt, "tesSUCCESS"};
  // Not for this host.
  auto other = fakes::newEdKey();
  auto misdirected =
      fakes::requestPayment(h.tenant, other.address(), 1000, h.tenantSeq++, fakes::acquireRequest(), h.host);
  auto t2 = h.board.inject(misdirected);
  board::BoardTx misTx{t2.tx.hash, misdirected, {}, t2.ledger, std::nullopt, "tesSUCCESS"};
  // Failed on the ledger.
  auto failedBlob =
      fakes::requestPayment(h.tenant, h.host.address(), 1000, h.tenantSeq++, fakes::acquireRequest(), h.host);
  auto t3 = h.board.inject(failedBlob);
  board::BoardTx failedTx{t3.tx.hash, failedBlob, {}, t3.ledger, std::nullopt, "tecUNFUNDED_PAYMENT"};
  // Garbage.
  board::BoardTx garbage{crypto::Hash256{0xAB}, core::Bytes{1, 2, 3}, {}, t3.ledger,
                         std::nullopt,          "tesSUCCESS"};
  for (const auto* t : {&forgedTx, &misTx, &failedTx, &garbage}) ASSERT_TRUE(h.node->onTransaction(*t).ok());
  auto legit = h.send(1000, acquire());
  h.catchUp();
  h.settle();
  auto r = h.replies();
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(only(r, legit.hash).type, protocol::MessageType::acquireOk);
  EXPECT_EQ(h.provisioner.creates, 1);
  EXPECT_EQ(**h.store->requestState(forgedTx.hash), RequestState::decided);
}

}  // namespace
}  // namespace sashimono::node
