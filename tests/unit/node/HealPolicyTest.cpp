#include "sashimono/node/HealPolicy.h"

#include <gtest/gtest.h>

namespace sashimono::node {
namespace {

const crypto::Hash256 kA{1};
const crypto::Hash256 kB{2};
const crypto::Hash256 kC{3};

TEST(HealPolicyTest, AFailureIsRestartedAtOnceThenBacksOffWhileItKeepsFailing) {
  HealPolicy p;
  p.observe(kA, true, "", 0);
  EXPECT_TRUE(p.due(0).empty());
  p.observe(kA, false, "containerd: refused", 5000);
  ASSERT_EQ(p.due(5000), std::vector<crypto::Hash256>{kA});
  p.restarted(kA, true, "", 5000);
  // Comes up, serves, dies again: 1 s, then 2, 4, … capped at 60 s between attempts.
  std::int64_t t = 5000;
  const std::int64_t waits[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
  for (std::int64_t w : waits) {
    p.observe(kA, true, "", t + 5);
    p.observe(kA, false, "again", t + 10);
    EXPECT_TRUE(p.due(t + w - 1).empty()) << w;
    ASSERT_EQ(p.due(t + w), std::vector<crypto::Hash256>{kA}) << w;
    t += w;
    p.restarted(kA, true, "", t);
  }
  EXPECT_EQ(p.view(t)[0].restarts, 9u);
}

TEST(HealPolicyTest, AnInstanceComingUpIsNotJudgedUntilItServesOrItsGraceEnds) {
  HealPolicy p(HealOptions{.startGraceMs = 10'000});
  p.observe(kA, false, "user port: refused", 0);  // just provisioned, not listening yet
  p.observe(kA, false, "user port: refused", 9'000);
  EXPECT_TRUE(p.due(9'000).empty());
  EXPECT_EQ(p.view(9'000)[0].state, HealthState::healthy);
  p.observe(kA, false, "user port: refused", 10'000);  // never came up: judged
  ASSERT_EQ(p.due(10'000), std::vector<crypto::Hash256>{kA});
  p.restarted(kA, true, "", 10'000);
  // Restarted and still coming up: not restarted again at its 1 s backoff.
  p.observe(kA, false, "user port: refused", 11'500);
  EXPECT_TRUE(p.due(11'500).empty());
  // Serving ends the grace: the next failure counts at once (within the backoff's time).
  p.observe(kA, true, "", 12'000);
  p.observe(kA, false, "container: gone", 13'000);
  EXPECT_EQ(p.due(13'000), std::vector<crypto::Hash256>{kA});
}

TEST(HealPolicyTest, ServingStablyForgivesThePastAttempts) {
  HealPolicy p;
  p.observe(kA, true, "", 0);
  p.observe(kA, false, "x", 100);
  p.restarted(kA, true, "", 100);
  p.observe(kA, true, "", 500);
  p.observe(kA, false, "x", 700);  // within the backoff of the first attempt
  EXPECT_TRUE(p.due(700).empty());
  p.restarted(kA, true, "", 1100);
  p.observe(kA, true, "", 1200);
  p.observe(kA, true, "", 31'300);  // 30 s serving: attempts forgiven
  EXPECT_EQ(p.view(31'300)[0].attempts, 0u);
  p.observe(kA, false, "y", 40'000);
  EXPECT_EQ(p.due(40'000), std::vector<crypto::Hash256>{kA});  // at once again
}

TEST(HealPolicyTest, LongFailuresAreReportedAndAPassRestartsAFew) {
  HealPolicy p(HealOptions{.startGraceMs = 0, .maxRestartsPerPass = 2});
  for (const auto& id : {kA, kB, kC}) p.observe(id, false, "down", 0);
  EXPECT_EQ(p.due(0).size(), 2u);
  auto v = p.view(1000);
  EXPECT_EQ(v[0].state, HealthState::healing);
  EXPECT_EQ(v[0].detail, "down");
  EXPECT_EQ(p.view(60'001)[0].state, HealthState::failing);
  p.keepOnly({kB});
  ASSERT_EQ(p.view(0).size(), 1u);
  EXPECT_EQ(p.view(0)[0].leaseId, kB);
  EXPECT_STREQ(healthStateName(HealthState::failing), "failing");
}

}  // namespace
}  // namespace sashimono::node
