// The node under a busy network's fees and a dwindling balance: replies wait for fees above the
// ceiling (and go out at the open-ledger fee when it comes down), the host account is watched
// once per ledger, and `host status` and the metrics say what is going on.
#include <gtest/gtest.h>

#include "fakes/node/NodeHarness.h"
#include "sashimono/node/HostStatus.h"
#include "sashimono/node/NodeMetrics.h"

namespace sashimono::node {
namespace {

using fakes::NodeHarness;

constexpr const char* kBoardRow =
    R"({"connected":true,"url":"ws://b","lastLedger":1,"cursor":1,"reconnects":0,"lastError":""})";

// What `host status` would say from the row the node writes now.
StatusAssessment statusOf(const NodeHarness& h, StatusView* view = nullptr) {
  StatusView v;
  const auto now = static_cast<std::int64_t>(h.clock.now());
  readStatusRow(h.node->statusJson(kBoardRow), now, v);
  if (view) *view = v;
  return assessStatus(v, now);
}

bool mentions(const StatusAssessment& a, const std::string& what) {
  for (const auto& s : a.attention)
    if (s.find(what) != std::string::npos) return true;
  return false;
}

// The host's payments that validated, in order.
std::vector<fakes::LedgerTx> hostPayments(const NodeHarness& h) {
  return h.board.validatedFrom(h.host.accountId());
}

// A new validated ledger finished by the board, then a tick (the funds are read once per ledger).
void nextLedger(NodeHarness& h) {
  h.board.close();
  NodeHarness::check(h.node->onLedgerFinished(h.board.ledger()));
  NodeHarness::check(h.node->tick());
}

TEST(NodeFeesTest, RepliesWaitWhileTheFeeIsAboveTheCeilingAndStatusAndMetricsSaySo) {
  NodeHarness h;
  h.customize = [](NodeOptions& o) { o.fees.maxDrops = 1000; };
  h.boot();
  h.board.fees = FeeView{10, 5000, 10};
  auto req = h.send(2500, fakes::acquireRequest("hotpocket"));
  h.catchUp();
  h.settle();
  EXPECT_TRUE(hostPayments(h).empty()) << "nothing signed at a fee that cannot get in";
  EXPECT_EQ(h.node->funds().waiting(), 1u);
  const auto& m = h.node->metrics();
  EXPECT_EQ(m.value(metric::kRepliesWaitingForFee), 1);
  EXPECT_EQ(m.value(metric::kFeeOpenLedger), 5000);
  EXPECT_EQ(m.value(metric::kFeeCeiling), 1000);
  EXPECT_NE(m.render().find("sashimono_replies_waiting_for_fee 1\n"), std::string::npos);

  StatusView v;
  auto a = statusOf(h, &v);
  ASSERT_TRUE(v.fees.has_value());
  EXPECT_EQ(v.fees->waiting, 1u);
  EXPECT_EQ(v.fees->ceiling, 1000u);
  EXPECT_EQ(v.fees->waitingSince, static_cast<std::int64_t>(h.clock.now()));
  EXPECT_FALSE(mentions(a, "wait for fees")) << "a short spike needs no attention";
  h.clock.advance(61);
  a = statusOf(h);
  EXPECT_TRUE(mentions(a,
                       "replies wait for fees: 1 payment(s) unsigned for 61 s, the open-ledger fee 5000 "
                       "drops is above the ceiling of 1000 drops (fees.maxDrops)"))
      << (a.attention.empty() ? "" : a.attention.front());

  // The fee comes down: the reply goes out at the open-ledger fee, and all is well again.
  h.board.fees = FeeView{10, 15, 10};
  h.settle();
  ASSERT_EQ(hostPayments(h).size(), 1u);
  EXPECT_EQ(hostPayments(h)[0].tx.fee, 15u);
  EXPECT_EQ(h.replies().at(req.hash).size(), 1u);
  EXPECT_EQ(h.node->funds().waiting(), 0u);
  EXPECT_EQ(m.value(metric::kRepliesWaitingForFee), 0);
  a = statusOf(h, &v);
  EXPECT_TRUE(a.attention.empty()) << a.attention.front();
  EXPECT_FALSE(v.fees->waitingSince.has_value());
}

TEST(NodeFeesTest, ARaisedCeilingSignsTheWaitingRepliesAtTheNextPass) {
  NodeHarness h;
  h.boot();
  h.board.fees = FeeView{10, 5000, 10};
  auto req = h.send(2500, fakes::acquireRequest("hotpocket"));
  h.catchUp();
  h.settle(2);
  ASSERT_TRUE(hostPayments(h).empty());
  h.node->setFeeLimits(FeeLimits{6000, 1000});  // what SIGHUP does with a new fees.maxDrops
  EXPECT_EQ(h.node->metrics().value(metric::kFeeCeiling), 6000);
  h.settle(2);
  ASSERT_EQ(hostPayments(h).size(), 1u);
  EXPECT_EQ(hostPayments(h)[0].tx.fee, 5000u);
  EXPECT_EQ(h.replies().at(req.hash).size(), 1u);
}

TEST(NodeFeesTest, RepliesInFlightOrWaitingAcrossARestartAreEachSentOnce) {
  NodeHarness h;
  h.boot();
  auto first = h.send(2500, fakes::acquireRequest("hotpocket"));
  h.catchUp();
  ASSERT_TRUE(h.node->pumpOutbox().ok());  // signed at 12 drops and submitted, not validated yet
  h.board.fees = FeeView{10, 5000, 10};    // the network gets busy: that blob does not get in
  auto second = h.send(2500, fakes::acquireRequest("hotpocket"));
  h.catchUp();
  auto p = h.node->pumpOutbox();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->waitingForFee, 1u);
  h.boot();     // a restart on the same store: one entry in flight, one waiting
  h.settle(8);  // the first one's LastLedgerSequence passes: dead, and waits too
  EXPECT_TRUE(hostPayments(h).empty());
  EXPECT_EQ(h.node->funds().waiting(), 2u);
  h.boot();
  h.board.fees = FeeView{10, 20, 10};
  h.settle();
  const auto replies = h.replies();
  ASSERT_EQ(replies.size(), 2u);
  EXPECT_EQ(replies.at(first.hash).size(), 1u);
  EXPECT_EQ(replies.at(second.hash).size(), 1u);
  for (const auto& t : hostPayments(h)) EXPECT_EQ(t.tx.fee, 20u);
  EXPECT_TRUE(h.store->outbox()->empty());
}

TEST(NodeFeesTest, BalanceWarningsAtTheThresholdsAndTheirClearing) {
  NodeHarness h;
  h.customize = [](NodeOptions& o) { o.fees.lowBalanceReplies = 100; };
  h.boot();
  const auto& m = h.node->metrics();
  // Reserve 1,000,000 drops (no objects owned), 12-drop fee: a reply costs 13 drops.
  h.board.setBalance(h.host.accountId(), 1'000'000 + 13 * 100 - 1);
  nextLedger(h);
  EXPECT_EQ(h.node->funds().state(), FundsState::low);
  EXPECT_EQ(m.value(metric::kHostBalance), 1'001'299);
  EXPECT_EQ(m.value(metric::kHostReserve), 1'000'000);
  EXPECT_EQ(m.value(metric::kHostSpendable), 1299);
  EXPECT_EQ(m.value(metric::kHostAffordableReplies), 99);
  StatusView v;
  auto a = statusOf(h, &v);
  ASSERT_TRUE(v.funds.has_value());
  EXPECT_EQ(v.funds->state, "low");
  EXPECT_EQ(v.funds->ledger, h.board.ledger());
  EXPECT_TRUE(mentions(a,
                       "balance low: 1299 drops spendable (balance 1001299, reserve 1000000) pay for 99 "
                       "replies at 13 drops, fewer than 100 (fees.lowBalanceReplies)"))
      << (a.attention.empty() ? "" : a.attention.front());

  // At most one account_info per ledger, however often the node ticks.
  const auto calls = h.board.accountCalls;
  for (int i = 0; i < 5; ++i) NodeHarness::check(h.node->tick());
  EXPECT_EQ(h.board.accountCalls, calls);

  // Funded: the warning clears.
  h.board.setBalance(h.host.accountId(), 50'000'000);
  nextLedger(h);
  EXPECT_EQ(h.board.accountCalls, calls + 1);
  EXPECT_EQ(h.node->funds().state(), FundsState::ok);
  EXPECT_TRUE(statusOf(h).attention.empty());

  // Not enough for one reply.
  h.board.setBalance(h.host.accountId(), 1'000'000 + 5);
  nextLedger(h);
  EXPECT_EQ(h.node->funds().state(), FundsState::exhausted);
  EXPECT_TRUE(mentions(statusOf(h), "the host account cannot pay for a reply: 5 drops spendable"));

  // Never funded at all.
  h.board.unfunded.insert(h.host.accountId());
  nextLedger(h);
  EXPECT_TRUE(mentions(statusOf(h), "the host account is not funded"));
  EXPECT_EQ(m.value(metric::kHostBalance), 0);
}

TEST(NodeFeesTest, ReservesAreReadNowAndThenAndTheOwnerCountCounts) {
  NodeHarness h;
  h.boot();
  h.board.ownerCounts[h.host.accountId()] = 3;
  nextLedger(h);
  EXPECT_EQ(h.node->metrics().value(metric::kHostReserve), 1'000'000 + 3 * 200'000);
  const auto reads = h.board.reserveCalls;
  for (int i = 0; i < 10; ++i) nextLedger(h);
  EXPECT_EQ(h.board.reserveCalls, reads) << "reserves change only at flag ledgers";
  EXPECT_EQ(h.board.accountCalls, 11u);
}

}  // namespace
}  // namespace sashimono::node
