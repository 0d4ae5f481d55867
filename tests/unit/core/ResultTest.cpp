#include "sashimono/core/Result.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

using namespace sashimono;

namespace {

core::Result<int> parsePositive(int v) {
  if (v <= 0) return core::Error("not positive: " + std::to_string(v));
  return v;
}

core::Result<int> sumOfTwo(int a, int b) {
  SASHI_TRY_ASSIGN(x, parsePositive(a));
  SASHI_TRY_ASSIGN(y, parsePositive(b));  // a second one in the same scope
  return x + y;
}

core::Result<std::unique_ptr<int>> boxed(int v) {
  if (v < 0) return core::Error("negative");
  return std::make_unique<int>(v);
}

core::Result<int> unbox(int v) {
  SASHI_TRY_ASSIGN(p, boxed(v));  // move-only values are moved out
  return *p;
}

core::Status check(int v) {
  SASHI_TRY(parsePositive(v));
  return {};
}

}  // namespace

TEST(ResultTest, TryAssignDeclaresTheValue) {
  auto r = sumOfTwo(2, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  auto m = unbox(7);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, 7);
}

TEST(ResultTest, TryAssignPropagatesTheFirstError) {
  auto r = sumOfTwo(-1, -2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "not positive: -1");
  auto s = sumOfTwo(1, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "not positive: 0");
  EXPECT_FALSE(unbox(-1).ok());
}

TEST(ResultTest, TryPropagatesIntoStatus) {
  EXPECT_TRUE(check(1).ok());
  auto s = check(0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "not positive: 0");
}

TEST(ResultTest, ContextPrefixesTheMessage) {
  core::Error e("boom", 5, "code");
  auto c = e.context("while testing");
  EXPECT_EQ(c.message, "while testing: boom");
  EXPECT_EQ(c.errnum, 5);
  EXPECT_EQ(c.code, "code");
}
