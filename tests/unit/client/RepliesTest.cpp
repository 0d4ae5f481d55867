#include "sashimono/client/Replies.h"

#include <gtest/gtest.h>

#include "fakes/client/Txs.h"

using namespace sashimono;
using namespace sashimono::client::fakes;

namespace {

crypto::Hash256 hashOf(std::uint8_t b) {
  crypto::Hash256 h{};
  h.fill(b);
  return h;
}

protocol::AcquireOk acquireOk(const crypto::Hash256& request) {
  protocol::AcquireOk ok;
  ok.request = request;
  ok.leaseId = request;
  ok.instance.pubkey = edKey(newKey());
  ok.instance.host = "10.0.0.1";
  ok.instance.userPort = 26000;
  ok.instance.peerPort = 26001;
  ok.moments = 1;
  ok.momentSeconds = 3600;
  ok.expiry = 1'700'000'000;
  ok.price = 1000;
  return ok;
}

}  // namespace

TEST(RepliesTest, OpensAReplySealedToTheReplyKey) {
  const auto host = newKey();
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::secp256k1));
  const auto ok = acquireOk(hashOf(7));
  auto tx = messageTx(host, wallet.account.accountId(), protocol::MessageType::acquireOk, ok,
                      wallet.replyKey(), 9, 5);
  auto r = client::openReply(tx, wallet, host.address());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->type, protocol::MessageType::acquireOk);
  EXPECT_EQ(r->from, host.address());
  EXPECT_EQ(r->amount, 5u);
  EXPECT_EQ(r->hash, tx.hash);
  EXPECT_EQ(client::requestOf(r->message), hashOf(7));
  EXPECT_EQ(std::get<protocol::AcquireOk>(r->message), ok);

  // Not from the named host, not to this account, or sealed to another key: not a reply.
  EXPECT_FALSE(client::openReply(tx, wallet, newKey().address()));
  auto other = *client::makeWallet(crypto::generateSeed(crypto::KeyType::ed25519));
  EXPECT_FALSE(client::openReply(tx, other));
  auto foreign =
      messageTx(host, wallet.account.accountId(), protocol::MessageType::acquireOk, ok, edKey(newKey()), 9);
  EXPECT_FALSE(client::openReply(foreign, wallet));
}

TEST(RepliesTest, RequestOfANoticeIsZero) {
  protocol::ExpiredNotice n;
  n.leaseId = hashOf(3);
  EXPECT_EQ(client::requestOf(n), crypto::Hash256{});
}

TEST(RepliesTest, HistoryMatchesRepliesToRequestsAndFindsLeases) {
  const auto host = newKey();
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::ed25519));
  protocol::AcquireRequest req;
  req.contractId = "6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5b";
  req.image = "hotpocket";
  req.owner = wallet.replyKey();
  auto request =
      messageTx(wallet.account, host.accountId(), protocol::MessageType::acquire, req, edKey(host), 4, 2000);
  auto reply = messageTx(host, wallet.account.accountId(), protocol::MessageType::acquireOk,
                         acquireOk(request.hash), wallet.replyKey(), 5);
  protocol::ExpiredNotice notice;
  notice.leaseId = request.hash;
  notice.expiredAt = 42;
  auto expired = messageTx(host, wallet.account.accountId(), protocol::MessageType::expired, notice,
                           std::nullopt, 6, 1, 2);
  auto orphan = messageTx(host, wallet.account.accountId(), protocol::MessageType::acquireOk,
                          acquireOk(hashOf(9)), wallet.replyKey(), 7, 1, 3);

  auto h = client::leaseHistory({request, reply, expired, orphan}, wallet);
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[0].request, core::toHex(request.hash));
  EXPECT_EQ(h.requests[0].requestType, "sashimono.acquire");
  EXPECT_EQ(h.requests[0].host, host.address());
  EXPECT_EQ(h.requests[0].paid, 2000u);
  EXPECT_EQ(h.requests[0].ledger, 4u);
  ASSERT_EQ(h.requests[0].replies.size(), 1u);
  EXPECT_EQ(h.requests[0].replies[0].hash, reply.hash);
  EXPECT_TRUE(h.requests[1].requestType.empty());  // a reply to an unknown request
  ASSERT_EQ(h.notices.size(), 1u);
  EXPECT_EQ(h.notices[0].type, protocol::MessageType::expired);

  auto found = client::findAcquire({request, reply}, wallet, request.hash);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->instance.userPort, 26000);
  EXPECT_FALSE(client::findAcquire({request, reply}, wallet, hashOf(1)));
}
