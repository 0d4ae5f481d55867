#include "sashimono/core/Base64.h"

#include <gtest/gtest.h>

namespace sashimono::core {
namespace {

TEST(Base64Test, EncodesAndDecodesCanonically) {
  EXPECT_EQ(encodeBase64(asBytes("")), "");
  EXPECT_EQ(encodeBase64(asBytes("f")), "Zg==");
  EXPECT_EQ(encodeBase64(asBytes("fo")), "Zm8=");
  EXPECT_EQ(encodeBase64(asBytes("foo")), "Zm9v");
  EXPECT_EQ(encodeBase64(asBytes("foob")), "Zm9vYg==");
  EXPECT_EQ(encodeBase64(Bytes{0xfb, 0xff}), "+/8=");
  for (const char* text : {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "+/8="}) {
    auto d = decodeBase64(text);
    ASSERT_TRUE(d.ok()) << text;
    EXPECT_EQ(encodeBase64(*d), text);
  }
  for (const char* bad : {"Zg", "Zg=", "Zh==", "Zm9=", "Z===", "====", "Zg==Zg==", "Zm 9", "Zm9v\n", "-_8="})
    EXPECT_FALSE(decodeBase64(bad).ok()) << bad;
}

TEST(Base64Test, SizeIsFourCharactersPerThreeBytesRoundedUp) {
  EXPECT_EQ(base64Size(0), 0U);
  EXPECT_EQ(base64Size(1), 4U);
  EXPECT_EQ(base64Size(3), 4U);
  EXPECT_EQ(base64Size(4), 8U);
  EXPECT_EQ(encodeBase64(Bytes(100, 7)).size(), base64Size(100));
}

}  // namespace
}  // namespace sashimono::core
