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
  v.board = BoardView{true, "ws://b", 120, 118, 0, ""};
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

}  // namespace
}  // namespace sashimono::node
