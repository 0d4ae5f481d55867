#include "sashimono/statefs/OwnerMap.h"

#include <gtest/gtest.h>

namespace sashimono::statefs {
namespace {

const OwnerMap kMap{.daemonUid = 2000, .daemonGid = 2000, .uid = 101000, .gid = 101000};

TEST(OwnerMapTest, PresentsTheDaemonsFilesAsTheOwnerAndOthersAsTheyAre) {
  struct stat st {};
  st.st_uid = 2000;
  st.st_gid = 2000;
  kMap.present(st);
  EXPECT_EQ(st.st_uid, 101000u);
  EXPECT_EQ(st.st_gid, 101000u);
  st.st_uid = 0;
  st.st_gid = 5;
  kMap.present(st);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 5u);
  st.st_uid = 2000;  // each id on its own
  kMap.present(st);
  EXPECT_EQ(st.st_uid, 101000u);
  EXPECT_EQ(st.st_gid, 5u);
}

TEST(OwnerMapTest, ChownMayOnlyNameThePresentedOwnerAndChangesNothing) {
  const auto keepU = static_cast<uid_t>(-1);
  const auto keepG = static_cast<gid_t>(-1);
  struct Case {
    uid_t u;
    gid_t g;
    int rc;
  };
  for (auto c : {Case{101000, 101000, 0}, Case{keepU, 101000, 0}, Case{101000, keepG, 0},
                 Case{keepU, keepG, 0}, Case{2000, keepG, -EPERM}, Case{keepU, 2000, -EPERM},
                 Case{0, 0, -EPERM}, Case{101000, 0, -EPERM}, Case{101001, 101000, -EPERM}}) {
    uid_t u = c.u;
    gid_t g = c.g;
    EXPECT_EQ(kMap.chown(u, g), c.rc) << c.u << ":" << c.g;
    if (c.rc == 0) {
      EXPECT_EQ(u, keepU);
      EXPECT_EQ(g, keepG);
    }
  }
}

TEST(OwnerMapTest, ParsesUidColonGid) {
  auto o = parseOwner("101000:101001");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->first, 101000u);
  EXPECT_EQ(o->second, 101001u);
  EXPECT_TRUE(parseOwner("0:0"));
  for (auto bad : {"", ":", "1:", ":1", "1", "a:1", "1:b", "-1:1", "1:1:1", "4294967295:1", "1:4294967296",
                   " 1:1", "1:1 ", "+1:1"})
    EXPECT_FALSE(parseOwner(bad)) << bad;
}

}  // namespace
}  // namespace sashimono::statefs
