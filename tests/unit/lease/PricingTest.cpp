#include "sashimono/lease/Pricing.h"

#include <gtest/gtest.h>

#include "sashimono/lease/Offer.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::lease {
namespace {
using protocol::kMaxDrops;
using protocol::kMaxJsonInteger;

TEST(PricingTest, BuysWholeMomentsAndRefundsTheRemainder) {
  auto p = buyMoments(2500, 1000, 100);
  EXPECT_EQ(p.moments, 2u);
  EXPECT_EQ(p.cost, 2000u);
  EXPECT_EQ(p.refund, 500u);
  EXPECT_FALSE(p.capped);
  p = buyMoments(3000, 1000, 100);
  EXPECT_EQ(p.moments, 3u);
  EXPECT_EQ(p.refund, 0u);
  p = buyMoments(999, 1000, 100);
  EXPECT_EQ(p.moments, 0u);
  EXPECT_EQ(p.refund, 999u);
  p = buyMoments(0, 1000, 100);
  EXPECT_EQ(p.moments, 0u);
  EXPECT_EQ(p.refund, 0u);
}

TEST(PricingTest, CapsAtMaxMomentsAndRefundsTheRest) {
  auto p = buyMoments(10'000, 1000, 4);
  EXPECT_EQ(p.moments, 4u);
  EXPECT_EQ(p.cost, 4000u);
  EXPECT_EQ(p.refund, 6000u);
  EXPECT_TRUE(p.capped);
  p = buyMoments(10'000, 1000, 0);
  EXPECT_EQ(p.moments, 0u);
  EXPECT_EQ(p.refund, 10'000u);
}

TEST(PricingTest, ExtremeAmountsNeverOverflow) {
  auto p = buyMoments(kMaxDrops, 1, UINT64_MAX);
  EXPECT_EQ(p.moments, kMaxDrops);
  EXPECT_EQ(p.cost, kMaxDrops);
  EXPECT_EQ(p.refund, 0u);
  p = buyMoments(kMaxDrops, kMaxDrops, UINT64_MAX);
  EXPECT_EQ(p.moments, 1u);
  p = buyMoments(UINT64_MAX, 3, UINT64_MAX);  // out-of-range input still stays consistent
  EXPECT_EQ(p.cost + p.refund, UINT64_MAX);
  p = buyMoments(5, 0, 10);  // no price: nothing bought, all back
  EXPECT_EQ(p.moments, 0u);
  EXPECT_EQ(p.refund, 5u);
}

TEST(PricingTest, UnusedAndHeldMomentsAtBoundaries) {
  const UnixSeconds exp = 10'000;
  EXPECT_EQ(unusedMoments(exp, exp, 100), 0u);
  EXPECT_EQ(unusedMoments(exp + 1, exp, 100), 0u);
  EXPECT_EQ(unusedMoments(exp - 1, exp, 100), 0u);    // inside the last moment
  EXPECT_EQ(unusedMoments(exp - 100, exp, 100), 1u);  // exactly one whole moment left
  EXPECT_EQ(unusedMoments(exp - 101, exp, 100), 1u);
  EXPECT_EQ(unusedMoments(exp - 200, exp, 100), 2u);
  EXPECT_EQ(unusedMoments(0, exp, 0), 0u);
  EXPECT_EQ(heldMoments(exp, exp, 100), 0u);
  EXPECT_EQ(heldMoments(exp - 1, exp, 100), 1u);
  EXPECT_EQ(heldMoments(exp - 100, exp, 100), 1u);
  EXPECT_EQ(heldMoments(exp - 101, exp, 100), 2u);
}

TEST(PricingTest, AddMomentsIsChecked) {
  EXPECT_EQ(addMoments(1000, 3, 60), 1180u);
  EXPECT_EQ(addMoments(1000, 0, 60), 1000u);
  EXPECT_EQ(addMoments(0, 1, kMaxJsonInteger), kMaxJsonInteger);
  EXPECT_EQ(addMoments(1, 1, kMaxJsonInteger), std::nullopt);
  EXPECT_EQ(addMoments(0, UINT64_MAX, UINT64_MAX), std::nullopt);
  EXPECT_EQ(addMoments(0, 1ULL << 32, 1ULL << 32), std::nullopt);  // would wrap to 0
  EXPECT_EQ(addMoments(kMaxJsonInteger + 1, 0, 1), std::nullopt);
}

TEST(PricingTest, OfferValidation) {
  Offer o{2, {}, 1000, 3600, 720};
  EXPECT_TRUE(validateOffer(o).ok());
  auto bad = o;
  bad.pricePerMoment = 0;
  EXPECT_FALSE(validateOffer(bad).ok());
  bad = o;
  bad.pricePerMoment = kMaxDrops + 1;
  EXPECT_FALSE(validateOffer(bad).ok());
  bad = o;
  bad.momentSeconds = 0;
  EXPECT_FALSE(validateOffer(bad).ok());
  bad = o;
  bad.maxMoments = 0;
  EXPECT_FALSE(validateOffer(bad).ok());
  bad = o;
  bad.maxMoments = kMaxJsonInteger;  // × 3600 s is past 2^53
  EXPECT_FALSE(validateOffer(bad).ok());
  bad.momentSeconds = 1;
  EXPECT_TRUE(validateOffer(bad).ok());
}

}  // namespace
}  // namespace sashimono::lease
