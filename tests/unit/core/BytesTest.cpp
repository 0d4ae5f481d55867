#include <gtest/gtest.h>

#include "sashimono/core/Bytes.h"

using namespace sashimono::core;

TEST(Bytes, HexRoundTrip) {
  Bytes b{0x00, 0x01, 0xAB, 0xFF};
  EXPECT_EQ(toHex(b), "0001ABFF");
  EXPECT_EQ(toHexLower(b), "0001abff");
  auto back = fromHex("0001abFF");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, b);
}

TEST(Bytes, HexRejectsBadInput) {
  EXPECT_FALSE(fromHex("abc").ok());
  auto r = fromHex("zz");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("invalid hex"), std::string::npos);
}
