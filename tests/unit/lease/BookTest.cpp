#include "sashimono/lease/Book.h"

#include <gtest/gtest.h>

#include "fakes/lease/ManualClock.h"

namespace sashimono::lease {
namespace {
using protocol::Accepted;
using protocol::MessageType;
using protocol::Reason;

crypto::Hash256 hashOf(std::uint8_t n) {
  crypto::Hash256 h{};
  h[0] = n;
  h[31] = 0xAB;
  return h;
}
crypto::AccountId account(std::uint8_t n) {
  crypto::AccountId a{};
  a[0] = n;
  return a;
}
protocol::Ed25519Key key(std::uint8_t n) {
  protocol::Ed25519Key k{};
  k[0] = n;
  return k;
}

const crypto::AccountId kAlice = account(1);
const crypto::AccountId kBob = account(2);

protocol::AcquireRequest acquireRequest() {
  protocol::AcquireRequest r;
  r.contractId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
  r.image = "hotpocket";
  return r;
}

Accepted acquire(std::uint8_t id, protocol::Drops amount, crypto::AccountId from = kAlice) {
  Accepted a;
  a.id = hashOf(id);
  a.from = from;
  a.amount = amount;
  a.replyKey = key(from[0]);
  a.request = acquireRequest();
  return a;
}
Accepted extend(std::uint8_t id, const crypto::Hash256& lease, protocol::Drops amount,
                crypto::AccountId from = kAlice) {
  Accepted a;
  a.id = hashOf(id);
  a.from = from;
  a.amount = amount;
  a.request = protocol::ExtendRequest{lease, std::nullopt};
  return a;
}
Accepted terminate(std::uint8_t id, const crypto::Hash256& lease, protocol::Drops amount = 1,
                   crypto::AccountId from = kAlice) {
  Accepted a;
  a.id = hashOf(id);
  a.from = from;
  a.amount = amount;
  a.request = protocol::TerminateRequest{lease, std::nullopt};
  return a;
}

protocol::InstanceInfo instance() {
  protocol::InstanceInfo i;
  i.pubkey = key(0x77);
  i.host = "host.example.com";
  i.userPort = 26000;
  i.peerPort = 22000;
  return i;
}

Reply onlyReply(const Decision& d) {
  EXPECT_EQ(d.actions.size(), 1u);
  if (d.actions.size() != 1 || !std::holds_alternative<Reply>(d.actions[0])) return Reply{};
  return std::get<Reply>(d.actions[0]);
}
protocol::ErrorReply expectError(const Decision& d, MessageType type, Reason reason, protocol::Drops refund) {
  Reply r = onlyReply(d);
  EXPECT_EQ(r.type, type);
  EXPECT_EQ(r.reason, reason);
  if (!std::holds_alternative<protocol::ErrorReply>(r.message)) {
    ADD_FAILURE() << "not an error reply";
    return {};
  }
  EXPECT_FALSE(r.sealTo);
  EXPECT_EQ(r.refund, refund);
  EXPECT_TRUE(r.amount.native);
  EXPECT_EQ(r.amount.drops, refund > 0 ? refund : 1);
  const auto& e = std::get<protocol::ErrorReply>(r.message);
  EXPECT_EQ(e.reason, reason);
  EXPECT_EQ(e.refund, refund);
  EXPECT_TRUE(protocol::validateDetail(e.detail).ok());
  return e;
}

class BookTest : public ::testing::Test {
 protected:
  static constexpr UnixSeconds kStart = 1'700'000'000;
  static constexpr protocol::Drops kPrice = 1000;
  static constexpr std::uint64_t kMoment = 3600;
  fakes::ManualClock clock_{kStart};
  Offer offer_{2, {}, kPrice, kMoment, 10};
  Book book_{offer_, clock_};

  // Acquire and provision a lease; returns its id. The clock is not moved.
  crypto::Hash256 active(std::uint8_t id, protocol::Drops amount, crypto::AccountId from = kAlice) {
    auto d = book_.decide(acquire(id, amount, from));
    EXPECT_EQ(d.actions.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<Provision>(d.actions.at(0)));
    auto p = book_.provisioned(hashOf(id), instance());
    EXPECT_EQ(p.actions.size(), 1u);
    return hashOf(id);
  }
};

TEST_F(BookTest, AcquireProvisionsThenRepliesWithTheRemainder) {
  auto d = book_.decide(acquire(1, 2500));
  EXPECT_FALSE(d.duplicate);
  EXPECT_EQ(d.handled, hashOf(1));
  ASSERT_EQ(d.actions.size(), 1u);
  const auto& p = std::get<Provision>(d.actions[0]);
  EXPECT_EQ(p.leaseId, hashOf(1));
  EXPECT_EQ(p.owner, kAlice);
  EXPECT_EQ(p.request, acquireRequest());
  ASSERT_EQ(d.upserts.size(), 1u);
  EXPECT_EQ(d.upserts[0].state, LeaseState::provisioning);
  EXPECT_EQ(book_.freeSlots(), 1u);  // taken at acceptance

  clock_.advance(30);  // provisioning takes time; the lease starts when the instance is ready
  auto ok = book_.provisioned(hashOf(1), instance());
  const Reply& r = onlyReply(ok);
  EXPECT_EQ(r.type, MessageType::acquireOk);
  EXPECT_EQ(r.to, kAlice);
  EXPECT_EQ(r.answers, hashOf(1));
  EXPECT_EQ(r.sealTo, key(1));
  EXPECT_EQ(r.refund, 500u);
  EXPECT_EQ(r.amount.drops, 500u);
  const auto& m = std::get<protocol::AcquireOk>(r.message);
  EXPECT_EQ(m.leaseId, hashOf(1));
  EXPECT_EQ(m.request, hashOf(1));
  EXPECT_EQ(m.moments, 2u);
  EXPECT_EQ(m.momentSeconds, kMoment);
  EXPECT_EQ(m.price, kPrice);
  EXPECT_EQ(m.expiry, kStart + 30 + 2 * kMoment);
  EXPECT_EQ(m.instance, instance());
  const Lease* l = book_.find(hashOf(1));
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->state, LeaseState::active);
  EXPECT_EQ(l->expiresAt, kStart + 30 + 2 * kMoment);
  EXPECT_EQ(ok.upserts.at(0), *l);
}

TEST_F(BookTest, ExactPaymentRepliesWithOneDrop) {
  book_.decide(acquire(1, 2 * kPrice));
  const Reply& r = onlyReply(book_.provisioned(hashOf(1), instance()));
  EXPECT_EQ(r.refund, 0u);
  EXPECT_TRUE(r.amount.native);
  EXPECT_EQ(r.amount.drops, 1u);
}

TEST_F(BookTest, UnderpaidAcquireIsRefundedInFull) {
  auto d = book_.decide(acquire(1, kPrice - 1));
  expectError(d, MessageType::acquireError, Reason::underpaid, kPrice - 1);
  EXPECT_EQ(d.handled, hashOf(1));
  EXPECT_TRUE(d.upserts.empty());
  EXPECT_EQ(book_.freeSlots(), 2u);
  EXPECT_EQ(book_.find(hashOf(1)), nullptr);
}

TEST_F(BookTest, NoCapacityUntilAnInstanceIsReallyDestroyed) {
  auto a = active(1, kPrice);
  active(2, kPrice);
  EXPECT_EQ(book_.freeSlots(), 0u);
  expectError(book_.decide(acquire(3, 5000)), MessageType::acquireError, Reason::noCapacity, 5000);
  book_.decide(terminate(4, a));
  EXPECT_EQ(book_.freeSlots(), 0u);  // still being destroyed
  expectError(book_.decide(acquire(5, 5000)), MessageType::acquireError, Reason::noCapacity, 5000);
  book_.destroyed(a);
  EXPECT_EQ(book_.freeSlots(), 1u);
  EXPECT_TRUE(std::holds_alternative<Provision>(book_.decide(acquire(6, 5000)).actions.at(0)));
}

TEST_F(BookTest, MomentsBeyondTheMaximumAreRefunded) {
  book_.decide(acquire(1, 15'500));  // 15 moments paid, 10 allowed
  const Reply& r = onlyReply(book_.provisioned(hashOf(1), instance()));
  EXPECT_EQ(std::get<protocol::AcquireOk>(r.message).moments, 10u);
  EXPECT_EQ(r.refund, 5'500u);
}

TEST_F(BookTest, HugeAmountsStayExact) {
  Offer o{1, {}, 1, 1, 1'000'000};
  fakes::ManualClock clock(kStart);
  Book book(o, clock);
  book.decide(acquire(1, protocol::kMaxDrops));
  const Reply& r = onlyReply(book.provisioned(hashOf(1), instance()));
  EXPECT_EQ(std::get<protocol::AcquireOk>(r.message).moments, 1'000'000u);
  EXPECT_EQ(r.refund, protocol::kMaxDrops - 1'000'000);
  EXPECT_EQ(std::get<protocol::AcquireOk>(r.message).expiry, kStart + 1'000'000);
}

TEST_F(BookTest, DuplicatesYieldNothing) {
  auto v = protocol::Verdict(acquire(1, 2500));
  EXPECT_EQ(book_.decide(v).actions.size(), 1u);
  auto again = book_.decide(v);
  EXPECT_TRUE(again.duplicate);
  EXPECT_TRUE(again.actions.empty());
  EXPECT_TRUE(again.upserts.empty());
  EXPECT_FALSE(again.handled);
  EXPECT_EQ(book_.freeSlots(), 1u);

  EXPECT_EQ(book_.provisioned(hashOf(1), instance()).actions.size(), 1u);
  EXPECT_TRUE(book_.provisioned(hashOf(1), instance()).duplicate);
  EXPECT_TRUE(book_.provisionFailed(hashOf(1), "late").duplicate);

  // A refused request is answered once, too.
  auto refused = protocol::Verdict(acquire(2, 1));
  expectError(book_.decide(refused), MessageType::acquireError, Reason::underpaid, 1);
  EXPECT_TRUE(book_.decide(refused).duplicate);

  protocol::Refused bad;
  bad.id = hashOf(3);
  bad.from = kBob;
  bad.replyType = MessageType::error;
  bad.reason = Reason::unknownType;
  bad.refund.drops = 77;
  expectError(book_.decide(bad), MessageType::error, Reason::unknownType, 77);
  EXPECT_TRUE(book_.decide(bad).duplicate);

  // Completions for leases the book does not know are no-ops.
  EXPECT_TRUE(book_.provisioned(hashOf(99), instance()).duplicate);
  EXPECT_TRUE(book_.destroyed(hashOf(99)).duplicate);
}

TEST_F(BookTest, IgnoredVerdictsAreNotRecorded) {
  auto d = book_.decide(protocol::Ignored{"not for us"});
  EXPECT_FALSE(d.duplicate);
  EXPECT_FALSE(d.handled);
  EXPECT_TRUE(d.actions.empty());
}

TEST_F(BookTest, RefusedVerdictsRefundTheirOwnCurrency) {
  protocol::Refused r;
  r.id = hashOf(1);
  r.from = kBob;
  r.replyType = MessageType::acquireError;
  r.reason = Reason::notXrp;
  r.detail = "Amount: only XRP\n";
  r.refund.native = false;
  r.refund.issued[3] = 9;
  auto d = book_.decide(r);
  const Reply& reply = onlyReply(d);
  EXPECT_EQ(reply.to, kBob);
  EXPECT_FALSE(reply.amount.native);
  EXPECT_EQ(reply.amount.issued[3], 9);
  EXPECT_EQ(reply.refund, 0u);
  const auto& e = std::get<protocol::ErrorReply>(reply.message);
  EXPECT_EQ(e.refund, 0u);
  EXPECT_EQ(e.detail, "Amount: only XRP?");
}

TEST_F(BookTest, ProvisioningFailureDestroysThenRefundsInFull) {
  book_.decide(acquire(1, 2500));
  auto f = book_.provisionFailed(hashOf(1), "containerd:\tno space");
  ASSERT_EQ(f.actions.size(), 1u);
  EXPECT_EQ(std::get<Destroy>(f.actions[0]), (Destroy{hashOf(1), EndCause::provisioningFailed}));
  EXPECT_EQ(book_.freeSlots(), 1u);
  auto d = book_.destroyed(hashOf(1));
  const auto& e = expectError(d, MessageType::acquireError, Reason::provisioningFailed, 2500);
  EXPECT_EQ(e.request, hashOf(1));
  EXPECT_EQ(e.leaseId, hashOf(1));
  EXPECT_EQ(e.detail, "containerd:?no space");
  EXPECT_EQ(d.removed, std::vector<crypto::Hash256>{hashOf(1)});
  EXPECT_EQ(book_.freeSlots(), 2u);
  EXPECT_TRUE(book_.destroyed(hashOf(1)).duplicate);
}

TEST_F(BookTest, ExtendAddsWholeMomentsAndRefundsTheRemainder) {
  auto id = active(1, kPrice);
  const UnixSeconds exp = book_.find(id)->expiresAt;
  clock_.advance(100);
  auto d = book_.decide(extend(2, id, 2 * kPrice + 999));
  const Reply& r = onlyReply(d);
  EXPECT_EQ(r.type, MessageType::extendOk);
  EXPECT_EQ(r.sealTo, key(1));  // the lease's key
  EXPECT_EQ(r.refund, 999u);
  const auto& m = std::get<protocol::ExtendOk>(r.message);
  EXPECT_EQ(m.request, hashOf(2));
  EXPECT_EQ(m.leaseId, id);
  EXPECT_EQ(m.moments, 2u);
  EXPECT_EQ(m.expiry, exp + 2 * kMoment);  // from the old expiry, not from now
  EXPECT_EQ(book_.find(id)->moments, 3u);
  EXPECT_EQ(d.upserts.at(0).expiresAt, exp + 2 * kMoment);

  auto withKey = extend(3, id, kPrice);
  withKey.replyKey = key(9);
  EXPECT_EQ(onlyReply(book_.decide(withKey)).sealTo, key(9));
  EXPECT_TRUE(book_.decide(withKey).duplicate);
}

TEST_F(BookTest, ExtendRefusals) {
  auto id = active(1, kPrice);
  auto e = expectError(book_.decide(extend(2, hashOf(50), 5000)), MessageType::extendError,
                       Reason::unknownLease, 5000);
  EXPECT_EQ(e.leaseId, hashOf(50));
  expectError(book_.decide(extend(3, id, 5000, kBob)), MessageType::extendError, Reason::notOwner, 5000);
  expectError(book_.decide(extend(4, id, kPrice - 1)), MessageType::extendError, Reason::underpaid,
              kPrice - 1);
  // Holding 1 moment of at most 10: 9 more fit, the 10th is refunded.
  auto d = book_.decide(extend(5, id, 10 * kPrice));
  EXPECT_EQ(std::get<protocol::ExtendOk>(onlyReply(d).message).moments, 9u);
  EXPECT_EQ(onlyReply(d).refund, kPrice);
  expectError(book_.decide(extend(6, id, kPrice)), MessageType::extendError, Reason::momentsLimit, kPrice);
  // Once a moment has passed there is room for one more.
  clock_.advance(kMoment);
  EXPECT_EQ(onlyReply(book_.decide(extend(7, id, 5 * kPrice))).type, MessageType::extendOk);

  book_.decide(acquire(8, kPrice));
  expectError(book_.decide(extend(9, hashOf(8), kPrice)), MessageType::extendError, Reason::unknownLease,
              kPrice);
}

TEST_F(BookTest, ExtendAtTheExpiryBoundary) {
  auto id = active(1, kPrice);
  const UnixSeconds exp = book_.find(id)->expiresAt;
  clock_.set(exp - 1);
  EXPECT_EQ(onlyReply(book_.decide(extend(2, id, kPrice))).type, MessageType::extendOk);
  clock_.set(exp + kMoment);  // exactly the new expiry: ended
  expectError(book_.decide(extend(3, id, kPrice)), MessageType::extendError, Reason::unknownLease, kPrice);
}

TEST_F(BookTest, ALeaseKeepsItsPrice) {
  auto id = active(1, kPrice);
  Offer dearer = offer_;
  dearer.pricePerMoment = 5 * kPrice;
  ASSERT_TRUE(book_.setOffer(dearer).ok());
  auto d = book_.decide(extend(2, id, 2 * kPrice));
  EXPECT_EQ(std::get<protocol::ExtendOk>(onlyReply(d).message).moments, 2u);
  expectError(book_.decide(acquire(3, 2 * kPrice)), MessageType::acquireError, Reason::underpaid, 2 * kPrice);
  Offer bad = offer_;
  bad.momentSeconds = 0;
  EXPECT_FALSE(book_.setOffer(bad).ok());
}

TEST_F(BookTest, TerminateRefundsUnusedWholeMomentsAfterTheDestroy) {
  auto id = active(1, 5 * kPrice);
  const UnixSeconds start = clock_.now();
  clock_.set(start + kMoment + 1);  // inside the second moment: moments 3..5 unused
  auto d = book_.decide(terminate(2, id, 7));
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(std::get<Destroy>(d.actions[0]), (Destroy{id, EndCause::terminated}));
  EXPECT_EQ(book_.find(id)->state, LeaseState::ending);
  // Nothing more may happen to an ending lease.
  expectError(book_.decide(extend(3, id, kPrice)), MessageType::extendError, Reason::unknownLease, kPrice);
  expectError(book_.decide(terminate(4, id)), MessageType::terminateError, Reason::unknownLease, 1);
  EXPECT_TRUE(book_.tick().actions.empty());

  clock_.advance(5000);  // the destroy's duration does not change the refund
  auto done = book_.destroyed(id);
  const Reply& r = onlyReply(done);
  EXPECT_EQ(r.type, MessageType::terminateOk);
  EXPECT_EQ(r.answers, hashOf(2));
  EXPECT_EQ(r.sealTo, key(1));
  const auto& m = std::get<protocol::TerminateOk>(r.message);
  EXPECT_EQ(m.moments, 3u);
  EXPECT_EQ(m.refund, 7 + 3 * kPrice);  // the terminate's own amount comes back too
  EXPECT_EQ(r.refund, 7 + 3 * kPrice);
  EXPECT_EQ(done.removed, std::vector<crypto::Hash256>{id});
  EXPECT_EQ(book_.find(id), nullptr);
  expectError(book_.decide(terminate(5, id)), MessageType::terminateError, Reason::unknownLease, 1);
}

TEST_F(BookTest, TerminateAtMomentBoundaries) {
  auto id = active(1, 3 * kPrice);
  const UnixSeconds start = clock_.now();
  clock_.set(start + kMoment);  // exactly two whole moments left
  book_.decide(terminate(2, id));
  EXPECT_EQ(std::get<protocol::TerminateOk>(onlyReply(book_.destroyed(id)).message).moments, 2u);

  auto id2 = active(3, 3 * kPrice);
  clock_.advance(3 * kMoment - 1);  // the last second: nothing whole left
  book_.decide(terminate(4, id2, 1));
  const Reply& r = onlyReply(book_.destroyed(id2));
  EXPECT_EQ(std::get<protocol::TerminateOk>(r.message).moments, 0u);
  EXPECT_EQ(r.refund, 1u);
  EXPECT_EQ(r.amount.drops, 1u);

  auto id3 = active(5, kPrice);
  expectError(book_.decide(terminate(6, id3, 1, kBob)), MessageType::terminateError, Reason::notOwner, 1);
  clock_.advance(kMoment);  // exactly at expiry: already over
  expectError(book_.decide(terminate(7, id3, 3)), MessageType::terminateError, Reason::unknownLease, 3);
}

TEST_F(BookTest, ExpiryExactlyAtTheBoundary) {
  auto id = active(1, 2 * kPrice);
  const UnixSeconds exp = book_.find(id)->expiresAt;
  EXPECT_EQ(book_.nextExpiry(), exp);
  clock_.set(exp - 1);
  EXPECT_TRUE(book_.tick().actions.empty());
  clock_.set(exp);
  auto d = book_.tick();
  ASSERT_EQ(d.actions.size(), 1u);
  EXPECT_EQ(std::get<Destroy>(d.actions[0]), (Destroy{id, EndCause::expired}));
  EXPECT_EQ(d.upserts.at(0).endCause, EndCause::expired);
  EXPECT_TRUE(book_.tick().actions.empty());  // once
  EXPECT_EQ(book_.nextExpiry(), std::nullopt);
  auto done = book_.destroyed(id);
  const Reply& r = onlyReply(done);
  EXPECT_EQ(r.type, MessageType::expired);
  EXPECT_EQ(r.to, kAlice);
  EXPECT_FALSE(r.sealTo);
  EXPECT_EQ(r.amount.drops, 1u);
  EXPECT_EQ(r.refund, 0u);
  EXPECT_EQ(std::get<protocol::ExpiredNotice>(r.message), (protocol::ExpiredNotice{id, exp}));
  EXPECT_EQ(book_.freeSlots(), 2u);
}

TEST_F(BookTest, ClusterMembership) {
  auto id = active(1, kPrice);
  Accepted c;
  c.id = hashOf(2);
  c.from = kAlice;
  c.amount = 10;
  protocol::ClusterRequest req{id,
                               protocol::ClusterMode::add,
                               {{key(1), "a.example.com:1"}, {key(2), "b.example.com:1"}},
                               std::nullopt};
  c.request = req;
  auto d = book_.decide(c);
  ASSERT_EQ(d.actions.size(), 2u);
  EXPECT_EQ(std::get<DeliverCluster>(d.actions[0]).members.size(), 2u);
  const Reply& r = std::get<Reply>(d.actions[1]);
  EXPECT_EQ(r.type, MessageType::clusterOk);
  EXPECT_EQ(r.refund, 10u);  // nothing consumed
  EXPECT_EQ(std::get<protocol::ClusterOk>(r.message).members, 2u);

  c.id = hashOf(3);
  req.members = {{key(2), "c.example.com:2"}, {key(3), "d.example.com:3"}};
  c.request = req;
  d = book_.decide(c);
  const auto& members = std::get<DeliverCluster>(d.actions[0]).members;
  ASSERT_EQ(members.size(), 3u);
  EXPECT_EQ(members[1].peer, "c.example.com:2");  // updated in place

  c.id = hashOf(4);
  req.mode = protocol::ClusterMode::replace;
  req.members = {{key(4), "e.example.com:4"}};
  c.request = req;
  EXPECT_EQ(std::get<DeliverCluster>(book_.decide(c).actions[0]).members.size(), 1u);

  std::uint8_t next = 10;
  req.mode = protocol::ClusterMode::add;
  for (int round = 0; round < 4; ++round) {
    req.members.clear();
    for (int i = 0; i < 16; ++i) req.members.push_back({key(next++), "x.example.com:1"});
    c.id = hashOf(static_cast<std::uint8_t>(100 + round));
    c.request = req;
    d = book_.decide(c);
  }
  expectError(d, MessageType::clusterError, Reason::configOutOfBounds, 10);  // 65 > 64
  EXPECT_EQ(book_.find(id)->cluster.size(), 49u);
}

TEST_F(BookTest, RestoreResumeAndReconcile) {
  offer_.instances = 3;
  ASSERT_TRUE(book_.setOffer(offer_).ok());
  auto a = active(1, 2 * kPrice);
  book_.decide(acquire(2, kPrice, kBob));  // still provisioning
  auto b = active(3, kPrice);
  book_.decide(terminate(4, b));  // ending
  std::vector<crypto::Hash256> handled = {hashOf(1), hashOf(2), hashOf(3), hashOf(4)};

  Offer smaller = offer_;
  smaller.instances = 1;
  Book restored(smaller, clock_);
  ASSERT_TRUE(restored.restore(book_.leases(), handled).ok());
  EXPECT_EQ(restored.leases(), book_.leases());
  EXPECT_EQ(restored.freeSlots(), 0u);
  // Requests handled before the restart stay handled.
  EXPECT_TRUE(restored.decide(acquire(2, kPrice, kBob)).duplicate);
  EXPECT_TRUE(restored.decide(terminate(4, b)).duplicate);

  auto resume = restored.resume();
  ASSERT_EQ(resume.size(), 2u);
  EXPECT_EQ(std::get<Provision>(resume[0]).leaseId, hashOf(2));
  EXPECT_EQ(std::get<Destroy>(resume[1]), (Destroy{b, EndCause::terminated}));

  // The provisioner has the ending lease's instance and one nobody leases, but not lease a.
  auto drift = restored.reconcile({b, hashOf(0x66)});
  EXPECT_FALSE(drift.clean());
  EXPECT_EQ(drift.orphans, std::vector<crypto::Hash256>{hashOf(0x66)});
  EXPECT_EQ(drift.missing, std::vector<crypto::Hash256>{a});
  EXPECT_EQ(drift.overcommitted, 2u);
  ASSERT_EQ(drift.actions.size(), 2u);
  EXPECT_EQ(std::get<Destroy>(drift.actions[0]), (Destroy{hashOf(0x66), EndCause::orphan}));
  EXPECT_EQ(std::get<Provision>(drift.actions[1]).leaseId, a);
  EXPECT_TRUE(restored.destroyed(hashOf(0x66)).duplicate);  // orphans have no lease

  auto clean = book_.reconcile({a, b, hashOf(2)});
  EXPECT_TRUE(clean.clean());
  EXPECT_TRUE(clean.actions.empty());

  // The terminate reply still comes after the restart.
  EXPECT_EQ(onlyReply(restored.destroyed(b)).type, MessageType::terminateOk);
}

TEST_F(BookTest, RestoreRejectsContradictions) {
  auto a = active(1, kPrice);
  auto leases = book_.leases();
  Book other(offer_, clock_);
  auto twice = leases;
  twice.push_back(leases[0]);
  EXPECT_FALSE(other.restore(twice, {}).ok());
  auto noInstance = leases;
  noInstance[0].instance.reset();
  EXPECT_FALSE(other.restore(noInstance, {}).ok());
  auto noCause = leases;
  noCause[0].state = LeaseState::ending;
  EXPECT_FALSE(other.restore(noCause, {}).ok());
  auto noPrice = leases;
  noPrice[0].pricePerMoment = 0;
  EXPECT_FALSE(other.restore(noPrice, {}).ok());
  auto provisioningWithExpiry = leases;
  provisioningWithExpiry[0].state = LeaseState::provisioning;
  EXPECT_FALSE(other.restore(provisioningWithExpiry, {}).ok());
  EXPECT_EQ(other.liveLeases(), 0u);
  ASSERT_TRUE(other.restore(leases, {}).ok());
  EXPECT_TRUE(other.handled(a));  // a lease's own acquire counts as handled
  EXPECT_TRUE(other.decide(acquire(1, kPrice)).duplicate);
}

TEST_F(BookTest, InvalidOfferIsAStartUpBug) {
  Offer bad = offer_;
  bad.pricePerMoment = 0;
  EXPECT_THROW(Book(bad, clock_), std::invalid_argument);
}

}  // namespace
}  // namespace sashimono::lease

namespace sashimono::lease {
namespace {

// The worked example of docs/PROTOCOL.md §9.
TEST(BookDocTest, WorkedExampleHolds) {
  fakes::ManualClock clock(1'700'000'000);
  Book book(Offer{4, {}, 1000, 3600, 720}, clock);
  book.decide(acquire(1, 2500));
  clock.set(1'700'000'030);
  auto ok = std::get<Reply>(book.provisioned(hashOf(1), instance()).actions.at(0));
  EXPECT_EQ(ok.refund, 500u);
  EXPECT_EQ(std::get<protocol::AcquireOk>(ok.message).moments, 2u);
  EXPECT_EQ(std::get<protocol::AcquireOk>(ok.message).expiry, 1'700'007'230u);
  auto ext = std::get<Reply>(book.decide(extend(2, hashOf(1), 1999)).actions.at(0));
  EXPECT_EQ(std::get<protocol::ExtendOk>(ext.message).expiry, 1'700'010'830u);
  EXPECT_EQ(ext.refund, 999u);
  clock.set(1'700'003'631);
  book.decide(terminate(3, hashOf(1), 1));
  auto term = std::get<Reply>(book.destroyed(hashOf(1)).actions.at(0));
  EXPECT_EQ(std::get<protocol::TerminateOk>(term.message).moments, 1u);
  EXPECT_EQ(term.refund, 1001u);
}

}  // namespace
}  // namespace sashimono::lease
