#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <string>

#include "sashimono/statefs/StatePath.h"

using namespace sashimono::statefs;

TEST(StatePath, SplitsRootAndNestedPaths) {
  SplitPath sp;
  ASSERT_EQ(splitStatePath("/", sp), 0);
  EXPECT_EQ(sp.parent, "");
  EXPECT_EQ(sp.leaf, "");
  ASSERT_EQ(splitStatePath("/a", sp), 0);
  EXPECT_EQ(sp.parent, "");
  EXPECT_EQ(sp.leaf, "a");
  ASSERT_EQ(splitStatePath("/a/b/c.txt", sp), 0);
  EXPECT_EQ(sp.parent, "a/b");
  EXPECT_EQ(sp.leaf, "c.txt");
  ASSERT_EQ(splitStatePath("/..a/b..", sp), 0);  // dots inside names are fine
  EXPECT_EQ(sp.leaf, "b..");
}

TEST(StatePath, RefusesDotDotAndDotComponents) {
  SplitPath sp;
  for (const char* p : {"/..", "/../etc/passwd", "/a/../../x", "/a/..", "/.", "/a/./b", "/a/."}) {
    EXPECT_EQ(splitStatePath(p, sp), -EINVAL) << p;
  }
}

TEST(StatePath, RefusesMalformedPaths) {
  SplitPath sp;
  for (const char* p : {"", "a", "a/b", "//", "//a", "/a//b", "/a/", "/a/b/"}) {
    EXPECT_EQ(splitStatePath(p, sp), -EINVAL) << "'" << p << "'";
  }
  std::string withNul("/a\0b", 4);
  EXPECT_EQ(splitStatePath(withNul, sp), -EINVAL);
}

TEST(StatePath, RefusesOverlongNamesAndPaths) {
  SplitPath sp;
  EXPECT_EQ(splitStatePath("/" + std::string(NAME_MAX, 'x'), sp), 0);
  EXPECT_EQ(splitStatePath("/" + std::string(NAME_MAX + 1, 'x'), sp), -ENAMETOOLONG);
  std::string longPath;
  while (longPath.size() < PATH_MAX) longPath += "/abcdefgh";
  EXPECT_EQ(splitStatePath(longPath, sp), -ENAMETOOLONG);
}

TEST(StatePath, PlainNames) {
  EXPECT_TRUE(isPlainName("a"));
  EXPECT_TRUE(isPlainName("..."));
  EXPECT_FALSE(isPlainName(""));
  EXPECT_FALSE(isPlainName("."));
  EXPECT_FALSE(isPlainName(".."));
  EXPECT_FALSE(isPlainName("a/b"));
}
