// The host node against the real devnet binary (child process), with a fake provisioner: a
// developer's real acquire payment gets exactly one validated reply that it can open.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fakes/node/DevnetNodeFixture.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;

using Fixture = fakes::DevnetNodeFixture;

// An acquire gets one reply; an underpaid acquire sent while the node is down is refunded when it
// comes back, and the first reply is never sent again.
void acquireThenRestart(Fixture& f) {
  auto node = f.startNode();
  auto acquire = f.sendRequest(2500, fakes::acquireRequest());
  f.waitPaymentsToTenant(1, 30s);
  auto replies = f.repliesToTenant();
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].type, protocol::MessageType::acquireOk);
  const auto& ok = std::get<protocol::AcquireOk>(replies[0].message);
  EXPECT_EQ(core::toHex(ok.leaseId), acquire);
  EXPECT_EQ(ok.moments, 2u);
  EXPECT_EQ(ok.refund, 500u);
  EXPECT_EQ(replies[0].drops, 500u);
  EXPECT_EQ(ok.instance.host, "127.0.0.1");
  EXPECT_EQ(f.provisioner.instances.size(), 1u);

  // An underpaid acquire while the node is down is refunded when it comes back, and the first
  // reply is never sent again.
  node->stop();
  node.reset();
  auto under = f.sendRequest(10, fakes::acquireRequest());
  f.wallet.waitValidated(under);
  node = f.startNode();
  f.waitPaymentsToTenant(2, 30s);
  std::this_thread::sleep_for(1s);  // several more ledgers: nothing else may arrive
  replies = f.repliesToTenant();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies[1].type, protocol::MessageType::acquireError);
  EXPECT_EQ(std::get<protocol::ErrorReply>(replies[1].message).reason, protocol::Reason::underpaid);
  EXPECT_EQ(replies[1].drops, 10u);
  EXPECT_FALSE(node->fatal());
}

TEST(NodeDevnetTest, AcquireGetsExactlyOneValidatedSealedReply) {
  Fixture f;
  acquireThenRestart(f);
}

// The same with the node trusting the devnet's validator key, not the board: requests come from
// checked ledgers, and the outbox confirms its replies from them and from the node's cursor.
TEST(NodeDevnetTest, TrustingTheValidatorKeyTheSameHoldsAndRepliesAreConfirmedFromCheckedLedgers) {
  Fixture f;
  auto info = f.wallet.client().request(R"({"command":"server_info"})");
  ASSERT_TRUE(info.ok());
  f.config.validators = {(*info)["result"]["info"]["pubkey_validator"].GetString()};
  f.config.validatorQuorum = 1;
  acquireThenRestart(f);
  auto open = f.store->outbox();
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty()) << "every reply confirmed from a checked ledger";
}

}  // namespace
}  // namespace sashimono::node
