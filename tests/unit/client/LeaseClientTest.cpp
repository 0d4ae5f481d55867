// The client library over a board session, against the in-process fake board (no sockets).
#include "sashimono/client/LeaseClient.h"

#include <gtest/gtest.h>

#include "fakes/board/FakeBoard.h"
#include "fakes/board/TestTx.h"
#include "fakes/client/Txs.h"

using namespace sashimono;
using namespace sashimono::client::fakes;
using namespace std::chrono_literals;
using board::fakes::FakeBoard;

namespace {

board::fakes::FakeTx fake(const board::BoardTx& t) {
  return board::fakes::fakeTx(t.blob, board::fakes::metaBlob(0));
}

client::SessionOptions optionsFor(const std::shared_ptr<FakeBoard>& board, const std::string& account) {
  client::SessionOptions o;
  o.boards = {"ws://fake-board/"};
  o.account = account;
  o.transport = board->factory();
  o.connectTimeout = 2000ms;
  o.requestTimeout = 2000ms;
  return o;
}

}  // namespace

TEST(LeaseClientTest, AnUnreachableBoardIsReportedOnceAndPromptly) {
  auto board = std::make_shared<FakeBoard>(10);
  board->refuseConnections = true;
  auto o = optionsFor(board, {});
  o.boards = {"ws://fake-a/", "ws://fake-b/"};
  o.connectTimeout = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto s = client::BoardSession::open(o);
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(s.ok());
  EXPECT_LT(took, 2s);
  EXPECT_NE(s.error().message.find("cannot reach any board of ws://fake-a/, ws://fake-b/ within 0.3 s"),
            std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("connection refused"), std::string::npos) << s.error().message;
}

TEST(LeaseClientTest, FindsTheHostAndTheLeaseInTheHistory) {
  const auto registry = newKey();
  const auto host = newKey();
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::ed25519));
  auto board = std::make_shared<FakeBoard>(10);
  board->closeLedger({fake(messageTx(host, registry.accountId(), protocol::MessageType::host,
                                     announcement(host, 1000), std::nullopt, 11))});

  protocol::AcquireOk ok;
  ok.request.fill(0xAB);
  ok.leaseId = ok.request;
  ok.instance.pubkey = edKey(newKey());
  ok.instance.host = "10.1.2.3";
  ok.instance.userPort = 26500;
  ok.instance.peerPort = 26501;
  ok.moments = 1;
  ok.momentSeconds = 3600;
  ok.price = 1000;
  board->closeLedger({fake(messageTx(host, wallet.account.accountId(), protocol::MessageType::acquireOk, ok,
                                     wallet.replyKey(), 12))});

  auto session = client::BoardSession::open(optionsFor(board, {}));
  ASSERT_TRUE(session.ok()) << session.error().message;
  client::LeaseClient lc(**session, wallet);
  auto found = lc.findHost(host.address(), registry.address());
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->a.time, 1000u);
  EXPECT_EQ(found->account, host.address());
  auto missing = lc.findHost(newKey().address(), registry.address());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no sashimono.host announcement"), std::string::npos);

  auto target = lc.resolveLease(ok.leaseId);
  ASSERT_TRUE(target.ok()) << target.error().message;
  EXPECT_EQ(target->host, "10.1.2.3");
  EXPECT_EQ(target->userPort, 26500);
  EXPECT_EQ(target->instanceKey[0], 0xED);
  EXPECT_TRUE(
      std::equal(ok.instance.pubkey.begin(), ok.instance.pubkey.end(), target->instanceKey.begin() + 1));
  EXPECT_TRUE(std::equal(target->ownerSeed.begin(), target->ownerSeed.end(),
                         wallet.replyKeyPair().ed25519SecretKey().begin()));
  crypto::Hash256 other{};
  EXPECT_FALSE(lc.resolveLease(other).ok());

  auto history = lc.history();
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->requests.size(), 1u);
  EXPECT_EQ(history->requests[0].replies.size(), 1u);
}

TEST(LeaseClientTest, AwaitsTheReplyThatAnswersTheRequest) {
  const auto host = newKey();
  auto wallet = *client::makeWallet(crypto::generateSeed(crypto::KeyType::secp256k1));
  auto board = std::make_shared<FakeBoard>(10);
  auto session = client::BoardSession::open(optionsFor(board, wallet.account.address()));
  ASSERT_TRUE(session.ok()) << session.error().message;
  client::LeaseClient lc(**session, wallet);

  protocol::TerminateRequest req{crypto::Hash256{}, wallet.requestReplyKey()};
  req.leaseId.fill(5);
  auto request =
      messageTx(wallet.account, host.accountId(), protocol::MessageType::terminate, req, edKey(host), 11);
  const client::Submitted sent{request.hash, 1};

  // Nothing yet: the request was not validated.
  auto none = lc.awaitReply(host.address(), sent, 1s);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("was not validated within 1 s"), std::string::npos)
      << none.error().message;

  protocol::TerminateOk other{crypto::Hash256{}, req.leaseId, 0, 0};  // answers another request
  protocol::TerminateOk mine{request.hash, req.leaseId, 1, 0};
  board->closeLedger({fake(request),
                      fake(messageTx(host, wallet.account.accountId(), protocol::MessageType::terminateOk,
                                     other, wallet.replyKey(), 11, 1, 1)),
                      fake(messageTx(host, wallet.account.accountId(), protocol::MessageType::terminateOk,
                                     mine, wallet.replyKey(), 11, 1, 2))});
  auto reply = lc.awaitReply(host.address(), sent, 5s);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  EXPECT_EQ(std::get<protocol::TerminateOk>(reply->message), mine);
}
