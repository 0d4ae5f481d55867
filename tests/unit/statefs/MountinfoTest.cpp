#include <gtest/gtest.h>

#include "sashimono/statefs/Mountinfo.h"

using namespace sashimono::statefs;

namespace {
const char* kSample =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "42 22 0:39 / /tmp/state\\040dir/mnt rw,nosuid,nodev,relatime shared:7 master:2 - fuse.statefs "
    "sashimono-statefs rw,user_id=1001,group_id=1001,default_permissions\n"
    "43 22 0:40 /sub /srv/back\\134slash rw - tmpfs tmpfs rw\n"
    "44 42 0:41 / /tmp/state\\040dir/mnt rw - fuse.statefs sashimono-statefs rw\n";
}  // namespace

TEST(Mountinfo, ParsesFieldsAndUnescapes) {
  auto r = parseMountinfo(kSample);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 4u);
  const auto& e = (*r)[1];
  EXPECT_EQ(e.mountId, 42);
  EXPECT_EQ(e.parentId, 22);
  EXPECT_EQ(e.root, "/");
  EXPECT_EQ(e.mountPoint, "/tmp/state dir/mnt");
  EXPECT_EQ(e.fsType, "fuse.statefs");  // after the optional fields and the "-" separator
  EXPECT_EQ(e.source, "sashimono-statefs");
  EXPECT_EQ((*r)[2].mountPoint, "/srv/back\\slash");
  EXPECT_EQ((*r)[2].root, "/sub");
}

TEST(Mountinfo, MountsAtListsStackedMountsInOrder) {
  auto r = parseMountinfo(kSample);
  ASSERT_TRUE(r.ok());
  auto here = mountsAt(*r, "/tmp/state dir/mnt");
  ASSERT_EQ(here.size(), 2u);
  EXPECT_EQ(here.back().mountId, 44);
  EXPECT_TRUE(mountsAt(*r, "/tmp/state dir").empty());
}

TEST(Mountinfo, RejectsMalformedLines) {
  auto r = parseMountinfo("22 1 8:1 / / rw,relatime shared:1 ext4 /dev/sda1 rw\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 1"), std::string::npos);
  EXPECT_FALSE(parseMountinfo("x 1 8:1 / / rw - ext4 /dev/sda1 rw\n").ok());
  EXPECT_FALSE(parseMountinfo("1 2 3\n").ok());
  EXPECT_TRUE(parseMountinfo("").ok());
}

TEST(Mountinfo, ReadsOwnMountinfo) {
  auto r = readOwnMountinfo();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->empty());
}
