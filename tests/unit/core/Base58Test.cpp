#include "sashimono/core/Base58.h"

#include <gtest/gtest.h>

using namespace sashimono::core;

TEST(Base58, EmptyAndZeros) {
  EXPECT_EQ(base58Encode({}), "");
  Bytes zeros{0, 0, 0};
  EXPECT_EQ(base58Encode(zeros), "rrr");
  auto d = base58Decode("rrr");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, zeros);
  auto e = base58Decode("");
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE(e->empty());
}

TEST(Base58, RoundTripsAndDigits) {
  // Round trips over assorted byte strings, with and without leading zeros.
  for (int len = 0; len < 64; ++len) {
    Bytes b;
    for (int i = 0; i < len; ++i) b.push_back(static_cast<std::uint8_t>((i * 37 + len) & 0xFF));
    if (len > 2) b[0] = 0;
    auto s = base58Encode(b);
    auto back = base58Decode(s);
    ASSERT_TRUE(back.ok()) << s;
    EXPECT_EQ(*back, b);
  }
  EXPECT_EQ(base58Encode(Bytes{57}), std::string(1, kXrplAlphabet[57]));
  EXPECT_EQ(base58Encode(Bytes{58}), (std::string{kXrplAlphabet[1], kXrplAlphabet[0]}));
}

TEST(Base58, RejectsBadCharacters) {
  for (const char* bad : {"r0", "rO", "rI", "rl", "r+", "r\xC3\xA9"}) {
    auto d = base58Decode(bad);
    ASSERT_FALSE(d.ok()) << bad;
    EXPECT_NE(d.error().message.find("invalid base58 character"), std::string::npos);
    EXPECT_NE(d.error().message.find("offset 1"), std::string::npos);
  }
}

TEST(Base58, RejectsOverlongInput) {
  auto d = base58Decode(std::string(kBase58MaxChars + 1, 'p'));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("too long"), std::string::npos);
}
