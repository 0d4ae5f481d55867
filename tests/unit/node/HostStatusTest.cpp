// When `host status` says a host needs its owner's attention.
#include "sashimono/node/HostStatus.h"

#include <gtest/gtest.h>

namespace sashimono::node {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

StatusView healthy() {
  StatusView v;
  v.reportedAt = kNow - 1;
  v.instances = 3;
  BoardView b;
  b.connected = true;
  b.url = "ws://b";
  b.lastLedger = 120;
  b.cursor = 118;
  v.board = b;
  lease::Lease l;
  l.state = lease::LeaseState::active;
  l.acceptedAt = kNow - 5000;
  v.leases.push_back(l);
  return v;
}

bool mentions(const StatusAssessment& a, const std::string& what) {
  for (const auto& s : a.attention)
    if (s.find(what) != std::string::npos) return true;
  return false;
}

TEST(HostStatusTest, AHealthyNodeNeedsNothing) {
  auto a = assessStatus(healthy(), kNow);
  EXPECT_TRUE(a.attention.empty()) << a.attention.front();
  EXPECT_TRUE(a.running);
  EXPECT_EQ(a.free, 2u);
  EXPECT_EQ(a.lag, 2u);
  EXPECT_FALSE(a.oldestReplyAge);
}

TEST(HostStatusTest, EachProblemIsNamed) {
  StatusView v = healthy();
  v.reportedAt = kNow - 60;
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "not running"));
  EXPECT_FALSE(assessStatus(v, kNow).running);
  v.reportedAt.reset();
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "has not run"));
  v = healthy();
  v.stopped = true;
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "stopped"));
  EXPECT_FALSE(assessStatus(v, kNow).running);

  v = healthy();
  v.board->connected = false;
  v.board->lastError = "connection refused";
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "connection refused"));

  v = healthy();
  v.board->cursor = 100;
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "20 ledgers behind"));

  v = healthy();
  v.outbox = OutboxSummary{4, kNow - 300, 4};
  auto a = assessStatus(v, kNow);
  EXPECT_EQ(a.oldestReplyAge, 300);
  EXPECT_TRUE(mentions(a, "4 payment(s) owed, the oldest for 300 s"));
  v.outbox.oldestAt = kNow - 30;  // recent: fine
  EXPECT_TRUE(assessStatus(v, kNow).attention.empty());

  v = healthy();
  v.leases[0].state = lease::LeaseState::provisioning;
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "still provisioning"));
}

TEST(HostStatusTest, RecentErrorsCountWarningsAndOldErrorsDoNot) {
  StatusView v = healthy();
  v.problems = {{kNow - 10, "warning", "board lost"}, {kNow - 4000, "error", "old"}};
  EXPECT_TRUE(assessStatus(v, kNow).attention.empty());
  v.problems.push_back({kNow - 10, "error", "store"});
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "1 error(s)"));
}

TEST(HostStatusTest, ReadsTheRowTheNodeWrites) {
  StatusView v;
  readStatusRow(
      R"({"account":"r","version":"0.2.0","instances":2,"free":1,"leases":1,)"
      R"("board":{"connected":true,"url":"ws://x","lastLedger":9,"cursor":8,"reconnects":3,"lastError":""},)"
      R"("problems":[{"time":5,"level":"error","message":"m"},{"bad":1}]})",
      77, v);
  EXPECT_EQ(v.reportedAt, 77);
  EXPECT_EQ(v.version, "0.2.0");
  ASSERT_TRUE(v.board);
  EXPECT_EQ(v.board->cursor, 8u);
  EXPECT_EQ(v.board->reconnects, 3u);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_EQ(v.problems[0].message, "m");
  StatusView garbage;
  readStatusRow("{not json", 1, garbage);
  EXPECT_EQ(garbage.reportedAt, 1);
  EXPECT_FALSE(garbage.board);
}

TEST(HostStatusTest, RepliesWaitingForFeesNeedAttentionAfterAMinute) {
  StatusView v = healthy();
  v.fees = FeesRow{FeeView{10, 5000, 10}, 1000, 2, kNow - 30};
  EXPECT_TRUE(assessStatus(v, kNow).attention.empty()) << "a spike of a few ledgers";
  v.fees->waitingSince = kNow - 90;
  EXPECT_TRUE(
      mentions(assessStatus(v, kNow),
               "replies wait for fees: 2 payment(s) unsigned for 90 s, the open-ledger fee 5000 drops is "
               "above the ceiling of 1000 drops (fees.maxDrops)"));
  v.fees->waiting = 0;
  EXPECT_TRUE(assessStatus(v, kNow).attention.empty());
  v.fees->waiting = 2;
  v.stopped = true;  // a stopped node's last row: stale, only "stopped" is said
  EXPECT_FALSE(mentions(assessStatus(v, kNow), "wait for fees"));
}

TEST(HostStatusTest, ALowOrExhaustedBalanceNeedsAttention) {
  StatusView v = healthy();
  FundsRow f;
  f.state = "ok";
  f.balance = 1'001'299;
  f.reserve = 1'000'000;
  f.spendable = 1299;
  f.replyCost = 13;
  f.lowReplies = 100;
  v.funds = f;
  EXPECT_TRUE(assessStatus(v, kNow).attention.empty());
  v.funds->state = "unknown";
  EXPECT_TRUE(assessStatus(v, kNow).attention.empty());
  v.funds->state = "low";
  EXPECT_TRUE(mentions(assessStatus(v, kNow),
                       "balance low: 1299 drops spendable (balance 1001299, reserve "
                       "1000000) pay for 99 replies at 13 drops, fewer than 100"));
  v.funds->state = "exhausted";
  v.funds->spendable = 3;
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "cannot pay for a reply: 3 drops spendable"));
  v.funds->unfunded = true;
  EXPECT_TRUE(mentions(assessStatus(v, kNow), "the host account is not funded"));
}

TEST(HostStatusTest, ReadsFeesAndFundsFromTheRow) {
  FundsRow f;
  f.state = "low";
  f.ledger = 321;
  f.balance = 5'000'000;
  f.ownerCount = 2;
  f.reserveBase = 1'000'000;
  f.reserveIncrement = 200'000;
  f.reserve = 1'400'000;
  f.spendable = -7;
  f.replyCost = 13;
  f.lowReplies = 1000;
  const std::string row = R"({"version":"0.1.0","fees":)" +
                          renderFees(FeesRow{FeeView{10, 12, 11}, 900, 3, 1234}) + R"(,"funds":)" +
                          renderFunds(f) + "}";
  StatusView v;
  readStatusRow(row, 77, v);
  ASSERT_TRUE(v.fees.has_value());
  ASSERT_TRUE(v.fees->fee.has_value());
  EXPECT_EQ(*v.fees->fee, (FeeView{10, 12, 11}));
  EXPECT_EQ(v.fees->ceiling, 900u);
  EXPECT_EQ(v.fees->waiting, 3u);
  EXPECT_EQ(v.fees->waitingSince, 1234);
  ASSERT_TRUE(v.funds.has_value());
  EXPECT_EQ(v.funds->state, "low");
  EXPECT_EQ(v.funds->ledger, 321u);
  EXPECT_EQ(v.funds->balance, 5'000'000u);
  EXPECT_EQ(v.funds->ownerCount, 2u);
  EXPECT_EQ(v.funds->reserveIncrement, 200'000u);
  EXPECT_EQ(v.funds->reserve, 1'400'000u);
  EXPECT_EQ(v.funds->spendable, -7);
  EXPECT_EQ(v.funds->lowReplies, 1000u);
  // Ill-typed fields are left at their defaults; a row without them has none.
  StatusView odd;
  readStatusRow(
      R"({"fees":{"openLedger":"12","waiting":-1,"waitingSince":"x"},"funds":{"state":5,"balance":-1}})", 1,
      odd);
  ASSERT_TRUE(odd.fees.has_value());
  EXPECT_FALSE(odd.fees->fee.has_value());
  EXPECT_EQ(odd.fees->waiting, 0u);
  EXPECT_FALSE(odd.fees->waitingSince.has_value());
  ASSERT_TRUE(odd.funds.has_value());
  EXPECT_EQ(odd.funds->state, "unknown");
  EXPECT_EQ(odd.funds->balance, 0u);
  StatusView none;
  readStatusRow(R"({"version":"0.1.0"})", 1, none);
  EXPECT_FALSE(none.fees.has_value());
  EXPECT_FALSE(none.funds.has_value());
}

TEST(HostStatusTest, ABoardCaughtLyingRecentlyAndConflictingValidationsNeedAttention) {
  StatusView v = healthy();
  v.board->verifying = true;
  v.board->faults.push_back({"ws://liar", kNow - 100, "txTreeMismatch: ledger 7: …", 3});
  auto a = assessStatus(v, kNow);
  ASSERT_EQ(a.attention.size(), 1u);
  EXPECT_NE(a.attention[0].find("ws://liar"), std::string::npos);
  EXPECT_NE(a.attention[0].find("3 time(s)"), std::string::npos);
  EXPECT_NE(a.attention[0].find("txTreeMismatch"), std::string::npos);
  // An old fault is history, not a problem.
  v.board->faults[0].at = kNow - 7200;
  EXPECT_TRUE(assessStatus(v, kNow).attention.empty());
  v.board->conflicts = 2;
  a = assessStatus(v, kNow);
  ASSERT_EQ(a.attention.size(), 1u);
  EXPECT_NE(a.attention[0].find("conflict"), std::string::npos);
}

TEST(HostStatusTest, TheTrustFieldsOfTheNodesRowAreRead) {
  StatusView v;
  readStatusRow(
      R"({"board":{"connected":true,"url":"ws://a","lastLedger":9,"cursor":8,"reconnects":1,)"
      R"("lastError":"","verifying":true,"quorumLedger":9,"ledgersVerified":5,"verifyMicros":120,)"
      R"("conflicts":0,"faults":[{"url":"ws://liar","at":1000,"evidence":"headerMismatch: x","count":2},)"
      R"({"url":7}],"avoided":["ws://liar",3]}})",
      kNow, v);
  ASSERT_TRUE(v.board);
  EXPECT_TRUE(v.board->verifying);
  EXPECT_EQ(v.board->quorumLedger, 9u);
  EXPECT_EQ(v.board->ledgersVerified, 5u);
  EXPECT_EQ(v.board->verifyMicros, 120u);
  ASSERT_EQ(v.board->faults.size(), 1u);  // the ill-typed one is skipped
  EXPECT_EQ(v.board->faults[0].count, 2u);
  EXPECT_EQ(v.board->faults[0].at, 1000);
  EXPECT_EQ(v.board->avoided, std::vector<std::string>{"ws://liar"});
}

}  // namespace
}  // namespace sashimono::node
