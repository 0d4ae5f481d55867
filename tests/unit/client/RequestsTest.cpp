#include "sashimono/client/Requests.h"

#include <regex>

#include <gtest/gtest.h>

#include "fakes/client/Txs.h"

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
