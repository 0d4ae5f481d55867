// The host node against the real devnet binary (child process), with a fake provisioner: a
// developer's real acquire payment gets exactly one validated reply that it can open.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/FakeProvisioner.h"
#include "fakes/node/NodeHarness.h"
#include "fakes/node/Tenant.h"
#include "fakes/node/TestHostConfig.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/node/NodeService.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  Fixture()
      : genesis(board::fakes::newGenesisSeed()),
        devnet(SASHIMONO_BINARY, genesis, 200),
        wallet(devnet.url(), genesis),
        host(fakes::newEdKey()),
        tenant(fakes::newEdKey()) {
    wallet.waitValidated(wallet.pay(host.address(), 100'000'000));
    wallet.waitValidated(wallet.pay(tenant.address(), 100'000'000));
    config = fakes::testHostConfig(devnet.url(), dir.path());
    config.quietSeconds = 10;
  }

  std::unique_ptr<NodeService> startNode() {
    auto s = std::make_unique<NodeService>(config, *store, provisioner, host, clock,
                                           ServiceOptions{.tickInterval = 100ms,
                                                          .requestTimeout = 5000ms,
                                                          .verifyPeer = true,
                                                          .metrics = nullptr,
                                                          .problems = nullptr});
    auto st = s->start();
    if (!st) throw std::runtime_error("node start: " + st.error().message);
    return s;
  }

  std::string sendRequest(std::uint64_t drops, const protocol::Message& m) {
    auto info = wallet.client().accountInfo(tenant.address(), false);
    if (!info) throw std::runtime_error("account_info: " + info.error().message);
    auto blob = fakes::requestPayment(tenant, host.address(), drops, info->sequence, m, host);
    auto r = wallet.client().submit(blob);
    if (!r || r->engineResult != "tesSUCCESS") throw std::runtime_error("submit failed");
    return core::toHex(ledger::transactionHash(blob));
  }

  // Payments from the host to the tenant, validated, opened with the tenant's key.
  std::vector<fakes::OpenedReply> repliesToTenant() {
    std::vector<fakes::OpenedReply> out;
    board::AccountTxQuery q;
    q.account = tenant.address();
    auto page = wallet.client().accountTx(q);
    if (!page) return out;
    for (const auto& t : page->transactions) {
      auto d = ledger::decodeTransaction(t.blob);
      if (!d || d->account != host.accountId()) continue;
      if (auto r = fakes::openReply(*d, tenant)) out.push_back(*r);
    }
    return out;
  }

  std::string genesis;
  board::fakes::DevnetProcess devnet;
  board::fakes::DevnetWallet wallet;
  crypto::KeyPair host;
  crypto::KeyPair tenant;
  fakes::TempDir dir;
  HostConfig config;
  fakes::FakeProvisioner provisioner;
  lease::SystemClock clock;
  std::unique_ptr<NodeStore> store = fakes::openStore(dir.path() + "/node.sqlite");
};

// An acquire gets one reply; an underpaid acquire sent while the node is down is refunded when it
// comes back, and the first reply is never sent again.
void acquireThenRestart(Fixture& f) {
  auto node = f.startNode();
  auto acquire = f.sendRequest(2500, fakes::acquireRequest());
  std::vector<fakes::OpenedReply> replies;
  for (auto end = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < end;) {
    replies = f.repliesToTenant();
    if (!replies.empty()) break;
    std::this_thread::sleep_for(100ms);
  }
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
  for (auto end = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < end;) {
    replies = f.repliesToTenant();
    if (replies.size() >= 2) break;
    std::this_thread::sleep_for(100ms);
  }
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
