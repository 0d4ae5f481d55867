// The real cgroup implementation: a process started into a tenant cgroup stays there (with its
// children), the limits are in place, and kill + remove leave nothing. Runs on whichever
// version the machine offers; the v2-only test skips on v1/hybrid hosts.
#include <unistd.h>

#include "TenantTestSupport.h"

namespace sashimono::host::testing {
namespace {

void exerciseCgroups(Cgroups& cg) {
  CgroupLimits l;
  l.pids = 64;
  l.memoryBytes = 96ull << 20;
  const std::string name = "cgprobe";
  ASSERT_TRUE(cg.create(name, l).ok());
  auto runner = makeLinuxProcessRunner();
  ProcessSpec p;
  p.argv = {"/bin/busybox", "sh", "-c", "sleep 60 & sleep 61; true"};
  p.cgroupProcs = cg.procsFiles(name);
  p.as = Credentials{65534, 65534};
  auto pid = runner->spawnDetached(p);
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  std::vector<pid_t> pids;
  for (int i = 0; i < 200 && pids.size() < 3; ++i) {
    pids = *cg.pids(name);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(pids.size(), 3u) << "the shell and both sleeps are in the cgroup";
  EXPECT_NE(std::find(pids.begin(), pids.end(), *pid), pids.end());
  auto max = cg.read(name, "pids", "pids.max");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*max, "64\n");
  ASSERT_TRUE(cg.remove(name).ok());
  EXPECT_FALSE(cg.exists(name));
  for (pid_t x : pids) {
    auto st = slurp("/proc/" + std::to_string(x) + "/status");
    EXPECT_TRUE(st.empty() || st.find("State:\tZ") != std::string::npos) << "pid " << x << " survived";
  }
}

TEST(CgroupsRoot, CreateJoinKillRemoveOnThisMachinesVersion) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  const std::string parent = "smtest-cg-" + std::to_string(::getpid());
  auto cg = makeLinuxCgroups(parent);
  if (!cg) GTEST_SKIP() << cg.error().message;
  exerciseCgroups(**cg);
  for (const char* c : {"cpu", "memory", "pids"})
    ::rmdir(("/sys/fs/cgroup/" + std::string(c) + "/" + parent).c_str());
  ::rmdir(("/sys/fs/cgroup/" + parent).c_str());
}

TEST(CgroupsRoot, V2DelegationWhenTheUnifiedHierarchyIsMounted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  auto mounts = parseCgroupMounts(slurp("/proc/self/mountinfo"));
  std::string controllers = mounts.v2 ? slurp(*mounts.v2 + "/cgroup.controllers") : "";
  auto v = chooseCgroupVersion(CgroupMounts{{}, mounts.v2}, controllers);
  if (!v || *v != CgroupVersion::kV2)
    GTEST_SKIP() << "cgroup v2 with cpu, memory and pids is not available here (v1 or hybrid host)";
  const std::string parent = "smtest-cg2-" + std::to_string(::getpid());
  auto cg = makeCgroupsAt(CgroupVersion::kV2, CgroupMounts{{}, mounts.v2}, parent);
  exerciseCgroups(*cg);
  auto sub = slurp(*mounts.v2 + "/" + parent + "/cgroup.subtree_control");
  for (const char* c : {"cpu", "memory", "pids"}) EXPECT_NE(sub.find(c), std::string::npos) << sub;
  ::rmdir((*mounts.v2 + "/" + parent).c_str());
}

}  // namespace
}  // namespace sashimono::host::testing
