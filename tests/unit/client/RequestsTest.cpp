#include "sashimono/client/Requests.h"

#include <regex>

#include <gtest/gtest.h>

#include "fakes/client/Txs.h"
#include "sashimono/protocol/Envelope.h"

using namespace sashimono;
using namespace sashimono::client::fakes;

TEST(RequestsTest, AcquirePaysPriceTimesMomentsAndNamesTheOwner) {
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto host = announcement(newKey(), 1);
  client::RequestParams p;
  p.image = "hotpocket";
  p.moments = 3;
  auto r = client::prepareRequest(p, wallet, host);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->amount, 3000u);
  const auto& a = std::get<protocol::AcquireRequest>(r->message);
  EXPECT_EQ(a.image, "hotpocket");
  EXPECT_EQ(a.owner, wallet.replyKey());
  EXPECT_FALSE(a.replyKey);                                                      // the account's own key
  EXPECT_TRUE(protocol::validateContractId(a.contractId).ok()) << a.contractId;  // a random UUID

  p.amount = 5;  // --amount overrides
  EXPECT_EQ(client::prepareRequest(p, wallet, host)->amount, 5u);
}

TEST(RequestsTest, ASecpWalletNamesItsReplyKeyInEveryRequest) {
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::secp256k1));
  const auto host = announcement(newKey(), 1);
  client::RequestParams p;
  p.kind = client::RequestKind::terminate;
  p.leaseId.fill(4);
  auto r = client::prepareRequest(p, wallet, host);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->amount, 1u);
  const auto& t = std::get<protocol::TerminateRequest>(r->message);
  ASSERT_TRUE(t.replyKey);
  EXPECT_EQ(*t.replyKey, wallet.replyKey());

  p.kind = client::RequestKind::extend;
  p.moments = 2;
  auto e = client::prepareRequest(p, wallet, host);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->amount, 2000u);
  EXPECT_EQ(std::get<protocol::ExtendRequest>(e->message).leaseId, p.leaseId);
}

TEST(RequestsTest, LocalChecksComeBeforeAnyPayment) {
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::ed25519));
  auto host = announcement(newKey(), 1);
  client::RequestParams p;
  EXPECT_EQ(client::checkRequest(p).error().message, "--image NAME is required");
  p.image = "Bad Image";
  EXPECT_FALSE(client::checkRequest(p).ok());
  p.image = "hotpocket";
  p.contractId = "not a uuid";
  EXPECT_FALSE(client::checkRequest(p).ok());
  p.contractId.clear();
  host.price = protocol::kMaxDrops;
  p.moments = 2;
  auto over = client::prepareRequest(p, wallet, host);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "price × moments overflows");

  client::RequestParams c;
  c.kind = client::RequestKind::cluster;
  EXPECT_FALSE(client::checkRequest(c).ok());  // no members
  c.members.push_back(protocol::ClusterMember{edKey(newKey()), "10.0.0.2:26001"});
  c.addMembers = true;
  auto r = client::prepareRequest(c, wallet, announcement(newKey(), 1));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(std::get<protocol::ClusterRequest>(r->message).mode, protocol::ClusterMode::add);
}

TEST(RequestsTest, RandomUuidsAreVersion4) {
  const std::regex v4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(std::regex_match(client::randomUuid(), v4));
  EXPECT_NE(client::randomUuid(), client::randomUuid());
}

// A cluster's membership goes out as one `replace`, then `add`s, each fitting one sealed memo.
TEST(RequestsTest, AMembershipIsSplitIntoMessagesThatFit) {
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::secp256k1));  // names replyKey
  crypto::Hash256 lease{};
  lease.fill(7);
  std::vector<protocol::ClusterMember> members;
  for (int i = 0; i < 40; ++i) {
    protocol::ClusterMember m;
    m.pubkey.fill(static_cast<std::uint8_t>(i));
    m.peer = "member-" + std::to_string(i) + ".example.org:22000";
    members.push_back(m);
  }
  auto one = client::membershipRequests(lease, {members[0], members[1], members[2]}, wallet);
  ASSERT_TRUE(one.ok()) << one.error().message;
  ASSERT_EQ(one->size(), 1u);
  EXPECT_FALSE(one->front().addMembers);
  EXPECT_EQ(one->front().members.size(), 3u);

  auto many = client::membershipRequests(lease, members, wallet);
  ASSERT_TRUE(many.ok()) << many.error().message;
  ASSERT_GT(many->size(), 2u);
  std::vector<protocol::ClusterMember> sent;
  const auto host = announcement(newKey(), 1);
  for (std::size_t i = 0; i < many->size(); ++i) {
    const auto& p = (*many)[i];
    EXPECT_EQ(p.kind, client::RequestKind::cluster);
    EXPECT_EQ(p.leaseId, lease);
    EXPECT_EQ(p.addMembers, i > 0);
    EXPECT_LE(p.members.size(), protocol::kMaxClusterMembers);
    auto r = client::prepareRequest(p, wallet, host);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(protocol::buildRequest(r->message, host.key).ok()) << "message " << i << " fits a memo";
    sent.insert(sent.end(), p.members.begin(), p.members.end());
  }
  EXPECT_EQ(sent, members);

  EXPECT_FALSE(client::membershipRequests(lease, {}, wallet).ok());
  std::vector<protocol::ClusterMember> tooMany(65, members[0]);
  EXPECT_FALSE(client::membershipRequests(lease, tooMany, wallet).ok());
}
