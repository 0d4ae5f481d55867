// The outbox against the real devnet: a reply signed but never submitted (crash) is found dead
// after its LastLedgerSequence and re-signed; exactly one copy validates.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/NodeHarness.h"
#include "fakes/node/Tenant.h"
#include "sashimono/lease/Book.h"
#include "sashimono/node/BoardClientPort.h"
#include "sashimono/node/Outbox.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;

TEST(NodeOutboxDevnetTest, DeadEntryIsResignedAndValidatesOnce) {
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, 200);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const auto host = fakes::newEdKey();
  const auto tenant = fakes::newEdKey();
  wallet.waitValidated(wallet.pay(host.address(), 100'000'000));
  wallet.waitValidated(wallet.pay(tenant.address(), 100'000'000));
  BoardClientPort port(wallet.client());

  fakes::TempDir dir;
  auto store = fakes::openStore(dir.path() + "/node.sqlite");
  protocol::ErrorReply e;
  e.request = crypto::Hash256{1};
  e.reason = protocol::Reason::underpaid;
  e.detail = "test";
  e.refund = 77;
  ASSERT_TRUE(store
                  ->addOutbox(outboxEntryFor(lease::errorReply(tenant.accountId(),
                                                               protocol::MessageType::acquireError, e,
                                                               ledger::Amount{true, 77, false, {}})))
                  .ok());
  OutboxOptions o;
  o.lastLedgerWindow = 2;
  o.onStep = [](std::string_view s) {
    if (s == "outbox.stored") throw fakes::Crash();
  };
  {
    Outbox crashing(*store, port, host, o);
    EXPECT_THROW((void)crashing.pump(), fakes::Crash);
  }
  const auto first = store->outbox()->front();
  ASSERT_TRUE(first.hash.has_value());
  // Wait until the LastLedgerSequence has passed.
  for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
    auto v = port.validatedLedger();
    if (v.ok() && *v > *first.lastLedger) break;
    std::this_thread::sleep_for(100ms);
  }
  auto look = port.lookup(*first.hash, *first.lastLedger - 3, *first.lastLedger);
  ASSERT_TRUE(look.ok()) << look.error().message;
  EXPECT_FALSE(look->found);

  o.onStep = nullptr;
  o.lastLedgerWindow = 20;
  Outbox outbox(*store, port, host, o);
  std::size_t resigned = 0;
  for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
    auto p = outbox.pump();
    ASSERT_TRUE(p.ok()) << p.error().message;
    resigned += p->resigned;
    if (p->open == 0) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(resigned, 1u);
  EXPECT_TRUE(store->outbox()->empty());
  board::AccountTxQuery q;
  q.account = tenant.address();
  auto page = wallet.client().accountTx(q);
  ASSERT_TRUE(page.ok());
  int fromHost = 0;
  for (const auto& t : page->transactions) {
    auto d = ledger::decodeTransaction(t.blob);
    if (d && d->account == host.accountId()) ++fromHost;
  }
  EXPECT_EQ(fromHost, 1);
}

}  // namespace
}  // namespace sashimono::node
