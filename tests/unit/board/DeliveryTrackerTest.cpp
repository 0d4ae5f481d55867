#include "sashimono/board/DeliveryTracker.h"

#include <gtest/gtest.h>

using sashimono::board::DeliveryTracker;
using sashimono::crypto::Hash256;

namespace {
Hash256 h(std::uint8_t n) {
  Hash256 x{};
  x[0] = n;
  x[31] = static_cast<std::uint8_t>(n * 7);
  return x;
}
}  // namespace

TEST(DeliveryTrackerTest, AdmitsEachHashOnce) {
  DeliveryTracker t(10);
  EXPECT_TRUE(t.admit(h(1), 11));
  EXPECT_FALSE(t.admit(h(1), 11));
  EXPECT_FALSE(t.admit(h(1), 12));  // the same hash claimed for another ledger
  EXPECT_TRUE(t.admit(h(2), 11));
  EXPECT_EQ(t.windowSize(), 2u);
}

TEST(DeliveryTrackerTest, RefusesLedgersAtOrBelowTheCursor) {
  DeliveryTracker t(10);
  EXPECT_FALSE(t.admit(h(1), 10));
  EXPECT_FALSE(t.admit(h(2), 3));
  EXPECT_TRUE(t.seen(h(3), 9));
  EXPECT_FALSE(t.seen(h(3), 11));
}

TEST(DeliveryTrackerTest, FinishMovesForwardOnlyAndPrunes) {
  DeliveryTracker t(10);
  ASSERT_TRUE(t.admit(h(1), 11));
  ASSERT_TRUE(t.admit(h(2), 12));
  ASSERT_TRUE(t.admit(h(3), 13));
  EXPECT_TRUE(t.finish(12));
  EXPECT_EQ(t.finished(), 12u);
  EXPECT_EQ(t.windowSize(), 1u);    // only ledger 13 is still remembered by hash
  EXPECT_FALSE(t.admit(h(1), 11));  // refused by the cursor now
  EXPECT_FALSE(t.admit(h(3), 13));  // refused by the window
  EXPECT_FALSE(t.finish(12));
  EXPECT_FALSE(t.finish(5));
  EXPECT_EQ(t.finished(), 12u);
}

TEST(DeliveryTrackerTest, WindowIsBoundedDroppingLowestLedgersFirst) {
  DeliveryTracker t(0, 3);
  ASSERT_TRUE(t.admit(h(1), 5));
  ASSERT_TRUE(t.admit(h(2), 6));
  ASSERT_TRUE(t.admit(h(3), 7));
  ASSERT_TRUE(t.admit(h(4), 8));
  EXPECT_EQ(t.windowSize(), 3u);
  EXPECT_FALSE(t.seen(h(1), 5));  // evicted
  EXPECT_TRUE(t.seen(h(2), 6));
  EXPECT_TRUE(t.seen(h(4), 8));
}
