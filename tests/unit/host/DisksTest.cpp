// Disks logic: the mountinfo parser.
#include <gtest/gtest.h>

#include "sashimono/host/Disks.h"

namespace sashimono::host {
namespace {

TEST(MountLogic, ParsesMountinfoWithEscapes) {
  auto m = parseMountInfo(
      "36 25 7:0 / /var/lib/t/homes/a rw,nosuid - ext4 /dev/loop0 rw\n"
      "37 36 0:50 / /var/lib/t/homes/a/state rw - fuse.statefs sashimono-statefs rw,user_id=1\n"
      "38 25 0:51 / /mnt/with\\040space rw - tmpfs tmpfs rw\n");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].source, "/dev/loop0");
  EXPECT_EQ(m[1].fsType, "fuse.statefs");
  EXPECT_EQ(m[2].mountPoint, "/mnt/with space");
}

}  // namespace
}  // namespace sashimono::host
