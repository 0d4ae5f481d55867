// Cgroups logic: hierarchy detection, limit writes, controller and procs parsing.
#include <gtest/gtest.h>

#include "sashimono/host/Cgroups.h"

namespace sashimono::host {
namespace {

const char* kHybridMountinfo =
    "25 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n"
    "31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n"
    "32 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n"
    "33 30 0:29 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n"
    "34 30 0:30 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n"
    "35 30 0:31 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset\n";

TEST(CgroupLogic, DetectsV1HybridAndV2) {
  auto m = parseCgroupMounts(kHybridMountinfo);
  EXPECT_EQ(m.v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(m.v1.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(m.v1.at("pids"), "/sys/fs/cgroup/pids");
  EXPECT_EQ(m.v1.count("cpuset"), 0u);
  ASSERT_TRUE(m.v2.has_value());
  EXPECT_EQ(*chooseCgroupVersion(m, ""), CgroupVersion::kV1);

  auto v2 = parseCgroupMounts("40 1 0:40 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
  EXPECT_TRUE(v2.v1.empty());
  EXPECT_EQ(*v2.v2, "/sys/fs/cgroup");
  EXPECT_EQ(*chooseCgroupVersion(v2, "cpuset cpu io memory hugetlb pids rdma misc\n"), CgroupVersion::kV2);
  auto missing = chooseCgroupVersion(v2, "cpu io\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("memory pids"), std::string::npos) << missing.error().message;
  EXPECT_FALSE(chooseCgroupVersion(CgroupMounts{}, "").ok());
}

TEST(CgroupLogic, LimitWritesForBothVersions) {
  CgroupLimits l;
  l.cpuQuotaUs = 50000;
  l.cpuPeriodUs = 100000;
  l.memoryBytes = 128ull << 20;
  l.swapBytes = 64ull << 20;
  l.pids = 300;
  auto v1 = limitWrites(CgroupVersion::kV1, l);
  ASSERT_EQ(v1.size(), 5u);
  EXPECT_EQ(v1[1].file, "cpu.cfs_quota_us");
  EXPECT_EQ(v1[1].value, "50000");
  EXPECT_EQ(v1[2].file, "memory.limit_in_bytes");
  EXPECT_EQ(v1[3].file, "memory.memsw.limit_in_bytes");
  EXPECT_EQ(v1[3].value, std::to_string(192ull << 20));
  EXPECT_TRUE(v1[3].optional);
  EXPECT_EQ(v1[4].value, "300");
  auto v2 = limitWrites(CgroupVersion::kV2, l);
  ASSERT_EQ(v2.size(), 4u);
  EXPECT_EQ(v2[0].file, "cpu.max");
  EXPECT_EQ(v2[0].value, "50000 100000");
  EXPECT_EQ(v2[1].value, std::to_string(128ull << 20));
  EXPECT_EQ(v2[2].file, "memory.swap.max");
  EXPECT_EQ(v2[2].value, std::to_string(64ull << 20));
  l.cpuQuotaUs = 0;
  EXPECT_EQ(limitWrites(CgroupVersion::kV2, l)[0].value, "max 100000");
  EXPECT_EQ(limitWrites(CgroupVersion::kV1, l)[1].value, "-1");
}

TEST(CgroupLogic, SubtreeControlProcsAndOom) {
  EXPECT_EQ(subtreeControlAdditions(""), "+cpu +memory +pids");
  EXPECT_EQ(subtreeControlAdditions("cpu io memory\n"), "+pids");
  EXPECT_EQ(subtreeControlAdditions("cpuset cpu memory pids\n"), "");
  EXPECT_EQ(parseCgroupProcs("12\n345\n\n7\n"), (std::vector<pid_t>{12, 345, 7}));
  EXPECT_EQ(parseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"), 3u);
  EXPECT_EQ(parseOomKills("low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n"), 2u);
  EXPECT_EQ(parseOomKills(""), 0u);
}

}  // namespace
}  // namespace sashimono::host
