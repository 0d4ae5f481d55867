#include "sashimono/protocol/Amount.h"

#include <gtest/gtest.h>

namespace sashimono::protocol {
namespace {

TEST(AmountTest, MultiplicationIsCheckedAgainstTheSupply) {
  EXPECT_EQ(mulDrops(0, UINT64_MAX), 0u);
  EXPECT_EQ(mulDrops(UINT64_MAX, 0), 0u);
  EXPECT_EQ(mulDrops(10, 20), 200u);
  EXPECT_EQ(mulDrops(kMaxDrops, 1), kMaxDrops);
  EXPECT_EQ(mulDrops(kMaxDrops, 2), std::nullopt);
  EXPECT_EQ(mulDrops(1'000'000'000, 100'000'000), kMaxDrops);
  EXPECT_EQ(mulDrops(1'000'000'000, 100'000'001), std::nullopt);
  EXPECT_EQ(mulDrops(UINT64_MAX, UINT64_MAX), std::nullopt);  // would wrap
  EXPECT_EQ(mulDrops(1ULL << 32, 1ULL << 32), std::nullopt);  // wraps to 0 in 64 bits
}

TEST(AmountTest, AdditionIsCheckedAgainstTheSupply) {
  EXPECT_EQ(addDrops(1, 2), 3u);
  EXPECT_EQ(addDrops(kMaxDrops, 0), kMaxDrops);
  EXPECT_EQ(addDrops(kMaxDrops, 1), std::nullopt);
  EXPECT_EQ(addDrops(UINT64_MAX, 1), std::nullopt);
  EXPECT_EQ(addDrops(1, UINT64_MAX), std::nullopt);
}

TEST(AmountTest, DropsStringsAreStrict) {
  EXPECT_EQ(*parseDrops("0"), 0u);
  EXPECT_EQ(*parseDrops("123"), 123u);
  EXPECT_EQ(*parseDrops("100000000000000000"), kMaxDrops);
  EXPECT_FALSE(parseDrops("100000000000000001").ok());
  EXPECT_FALSE(parseDrops("").ok());
  EXPECT_FALSE(parseDrops("01").ok());
  EXPECT_FALSE(parseDrops("-1").ok());
  EXPECT_FALSE(parseDrops("+1").ok());
  EXPECT_FALSE(parseDrops("1.0").ok());
  EXPECT_FALSE(parseDrops("1e3").ok());
  EXPECT_FALSE(parseDrops(" 1").ok());
  EXPECT_FALSE(parseDrops("9999999999999999999").ok());
  EXPECT_EQ(formatDrops(0), "0");
  EXPECT_EQ(formatDrops(kMaxDrops), "100000000000000000");
}

}  // namespace
}  // namespace sashimono::protocol
