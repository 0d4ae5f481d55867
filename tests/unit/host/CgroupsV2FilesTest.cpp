// The cgroup implementation run on a directory tree that imitates cgroupfs: checks the v2
// delegation (controllers enabled in each parent's subtree_control), the limit files, the
// cgroup.procs files a child joins, and v1's per-controller layout, by file contents.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sashimono/host/Cgroups.h"

namespace sashimono::host {
namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void touch(const std::filesystem::path& p, const std::string& content = "") {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << content;
}

class CgroupFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("cgfiles-" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

TEST_F(CgroupFiles, V2DelegatesControllersAndWritesLimits) {
  touch(root_ / "cgroup.subtree_control", "cpu\n");
  touch(root_ / "sashimono/cgroup.subtree_control");
  auto t = root_ / "sashimono/t1";
  for (auto f : {"cpu.max", "memory.max", "memory.swap.max", "pids.max", "cgroup.procs"}) touch(t / f);
  CgroupMounts m;
  m.v2 = root_.string();
  auto cg = makeCgroupsAt(CgroupVersion::kV2, m, "sashimono");
  CgroupLimits l;
  l.cpuQuotaUs = 20000;
  l.cpuPeriodUs = 100000;
  l.memoryBytes = 100ull << 20;
  l.swapBytes = 0;
  l.pids = 77;
  ASSERT_TRUE(cg->create("t1", l).ok());
  EXPECT_EQ(read(root_ / "cgroup.subtree_control"), "+memory +pids");  // cpu was already on
  EXPECT_EQ(read(root_ / "sashimono/cgroup.subtree_control"), "+cpu +memory +pids");
  EXPECT_EQ(read(t / "cpu.max"), "20000 100000");
  EXPECT_EQ(read(t / "memory.max"), std::to_string(100ull << 20));
  EXPECT_EQ(read(t / "memory.swap.max"), "0");
  EXPECT_EQ(read(t / "pids.max"), "77");
  EXPECT_EQ(cg->procsFiles("t1"), std::vector<std::string>{(t / "cgroup.procs").string()});
  EXPECT_TRUE(cg->exists("t1"));
  EXPECT_EQ(*cg->list(), std::vector<std::string>{"t1"});
  touch(t / "cgroup.procs", "");
  EXPECT_TRUE(cg->pids("t1")->empty());
}

TEST_F(CgroupFiles, V2WithoutSwapAccountingSkipsTheOptionalFile) {
  touch(root_ / "cgroup.subtree_control", "cpu memory pids\n");
  touch(root_ / "p/cgroup.subtree_control", "cpu memory pids\n");
  auto t = root_ / "p/t2";
  for (auto f : {"cpu.max", "memory.max", "pids.max"}) touch(t / f);
  CgroupMounts m;
  m.v2 = root_.string();
  ASSERT_TRUE(makeCgroupsAt(CgroupVersion::kV2, m, "p")->create("t2", CgroupLimits{}).ok());
  EXPECT_FALSE(std::filesystem::exists(t / "memory.swap.max"));
}

TEST_F(CgroupFiles, V1WritesEachControllerDirectory) {
  CgroupMounts m;
  for (auto c : {"cpu", "memory", "pids"}) m.v1[c] = (root_ / c).string();
  auto dir = [&](const char* c) { return root_ / c / "sashimono/t3"; };
  for (auto f : {"cpu.cfs_period_us", "cpu.cfs_quota_us", "cgroup.procs"}) touch(dir("cpu") / f);
  for (auto f : {"memory.limit_in_bytes", "cgroup.procs"}) touch(dir("memory") / f);
  for (auto f : {"pids.max", "cgroup.procs"}) touch(dir("pids") / f);
  auto cg = makeCgroupsAt(CgroupVersion::kV1, m, "sashimono");
  CgroupLimits l;
  l.cpuQuotaUs = 0;
  l.pids = 99;
  ASSERT_TRUE(cg->create("t3", l).ok());
  EXPECT_EQ(read(dir("cpu") / "cpu.cfs_quota_us"), "-1");
  EXPECT_EQ(read(dir("memory") / "memory.limit_in_bytes"), std::to_string(256ull << 20));
  EXPECT_FALSE(std::filesystem::exists(dir("memory") / "memory.memsw.limit_in_bytes"));
  EXPECT_EQ(read(dir("pids") / "pids.max"), "99");
  EXPECT_EQ(cg->procsFiles("t3").size(), 3u);
  touch(dir("pids") / "cgroup.procs", "");
  touch(dir("cpu") / "cgroup.procs", "");
  touch(dir("memory") / "cgroup.procs", "");
  EXPECT_TRUE(cg->pids("t3")->empty());
}

TEST_F(CgroupFiles, V1JoinsCpuacctMountedApartAndReadsUsage) {
  CgroupMounts m;
  for (auto c : {"cpu", "memory", "pids", "cpuacct"}) m.v1[c] = (root_ / c).string();
  auto dir = [&](const char* c) { return root_ / c / "sashimono/t4"; };
  for (auto f : {"cpu.cfs_period_us", "cpu.cfs_quota_us"}) touch(dir("cpu") / f);
  touch(dir("memory") / "memory.limit_in_bytes");
  touch(dir("pids") / "pids.max");
  std::filesystem::create_directories(root_ / "cpuacct");
  auto cg = makeCgroupsAt(CgroupVersion::kV1, m, "sashimono");
  auto made = cg->create("t4", CgroupLimits{});
  ASSERT_TRUE(made.ok()) << made.error().message;
  EXPECT_TRUE(std::filesystem::is_directory(dir("cpuacct")));
  EXPECT_EQ(cg->procsFiles("t4").size(), 4u);
  EXPECT_FALSE(readCgroupUsage(*cg, "t4").cpuSeconds);  // no usage files yet
  touch(dir("cpuacct") / "cpuacct.usage", "2500000000\n");
  touch(dir("memory") / "memory.usage_in_bytes", "1048576\n");
  auto u = readCgroupUsage(*cg, "t4");
  EXPECT_EQ(u.cpuSeconds, 2.5);
  EXPECT_EQ(u.memoryBytes, 1048576u);
}

TEST_F(CgroupFiles, V2ReadsUsageFromCpuStatAndMemoryCurrent) {
  CgroupMounts m;
  m.v2 = root_.string();
  auto t = root_ / "sashimono/t5";
  touch(t / "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n");
  touch(t / "memory.current", "4096\n");
  auto cg = makeCgroupsAt(CgroupVersion::kV2, m, "sashimono");
  auto u = readCgroupUsage(*cg, "t5");
  EXPECT_EQ(u.cpuSeconds, 1.5);
  EXPECT_EQ(u.memoryBytes, 4096u);
  EXPECT_FALSE(parseCpuSeconds(CgroupVersion::kV1, "x12\n"));
  EXPECT_FALSE(parseCpuSeconds(CgroupVersion::kV2, "user_usec 3\n"));
}

}  // namespace
}  // namespace sashimono::host
