// Root integration tests: real users, cgroups, loop disks, FUSE, rootlesskit, containerd, runc.
#include <signal.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "TenantTestSupport.h"
#include "sashimono/host/StateFs.h"

namespace sashimono::host::testing {
namespace {

class TenantLifecycle : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_ = missingPrerequisite();
    if (skip_.empty()) host_ = new TestHost();
  }
  static void TearDownTestSuite() {
    if (host_) host_->cleanup();
    delete host_;
    host_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }
  void TearDown() override {
    if (!host_) return;
    auto names = host_->prov->list();
    if (!names) return;
    for (auto& n : *names) {
      EXPECT_TRUE(host_->prov->destroy(n).ok()) << n;
    }
  }
  static TenantSpec spec(const std::string& name) {
    TenantSpec s;
    s.name = name;
    s.limits.memoryBytes = 256ull << 20;
    s.limits.pids = 512;
    s.diskBytes = 64ull << 20;
    return s;
  }
  Provisioner& prov() { return *host_->prov; }

  static inline std::string skip_;
  static inline TestHost* host_ = nullptr;
};

TEST_F(TenantLifecycle, ServesThroughForwardedPortAsUnprivilegedMappedUidWithStateThroughFs) {
  auto info = prov().create(spec("life"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  auto fp = footprintOf(*info);
  const auto l = prov().layout("life");

  // Reached from outside through the forwarded user port.
  ASSERT_TRUE(waitServing(userPort(*info)));
  EXPECT_EQ(httpGet(userPort(*info)), "sashimono instance\n");

  // The user: locked, no login shell, home not readable by others.
  const std::string user = host_->prefix + "life";
  auto shadow = linesStartingWith("/etc/shadow", user + ":");
  ASSERT_EQ(shadow.size(), 1u);
  EXPECT_EQ(shadow[0].substr(user.size() + 1, 1), "!");
  auto passwd = linesStartingWith("/etc/passwd", user + ":");
  ASSERT_EQ(passwd.size(), 1u);
  EXPECT_NE(passwd[0].find("/usr/sbin/nologin"), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(l.home.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // the tenant's only (its state filesystem runs as it)
  EXPECT_EQ(st.st_uid, info->uid);

  // Inside, the process is uid 1000, which is a host uid of the tenant's own subordinate range.
  auto id = prov().exec("life", {"/bin/id", "-u"});
  ASSERT_TRUE(id.ok()) << id.error().message;
  EXPECT_EQ(id->out, "1000\n");
  EXPECT_GE(info->contractHostUid, info->subuid.start);
  EXPECT_LT(info->contractHostUid, info->subuid.start + info->subuid.count);
  bool sawHttpd = false;
  for (pid_t p : info->pids) {
    auto comm = slurp("/proc/" + std::to_string(p) + "/comm");
    if (comm != "httpd\n") continue;
    sawHttpd = true;
    auto uids = parseStatusUids(slurp("/proc/" + std::to_string(p) + "/status"));
    ASSERT_FALSE(uids.empty());
    EXPECT_EQ(uids[0], info->contractHostUid);
  }
  EXPECT_TRUE(sawHttpd) << "httpd is not in the tenant cgroup";

  // Every process running as the tenant (or its subordinate uids) is inside the tenant cgroup
  // (read from each process's own /proc/PID/cgroup: the set changes while we look).
  DIR* d = ::opendir("/proc");
  int seen = 0;
  while (auto* e = ::readdir(d)) {
    pid_t pid = ::atoi(e->d_name);
    if (pid <= 0) continue;
    auto status = slurp("/proc/" + std::string(e->d_name) + "/status");
    auto uids = parseStatusUids(status);
    if (uids.empty() || status.find("State:\tZ") != std::string::npos) continue;
    uid_t u = uids[0];
    if (u != info->uid && (u < info->subuid.start || u >= info->subuid.start + info->subuid.count)) continue;
    auto cg = slurp("/proc/" + std::string(e->d_name) + "/cgroup");
    if (cg.empty()) continue;  // exited meanwhile
    ++seen;
    EXPECT_NE(cg.find("/" + host_->cgroupParent + "/life\n"), std::string::npos)
        << "pid " << pid << " outside the cgroup: " << cg;
  }
  ::closedir(d);
  EXPECT_GE(seen, 6);

  // The state directory: written (and rewritten) inside, where /state is the FUSE mount; seen on
  // the host at the state filesystem's mount point, stored by its daemon as the contract's uid.
  auto w = prov().exec("life",
                       {"/bin/sh", "-c",
                        "echo first > /state/probe && echo hello-state > /state/probe && cat /state/probe && "
                        "grep ' /state ' /proc/self/mountinfo"});
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->exitCode, 0) << w->err;
  EXPECT_EQ(w->out.rfind("hello-state\n", 0), 0u) << w->out;
  EXPECT_NE(w->out.find("fuse"), std::string::npos)
      << "/state in the container is not the state filesystem: " << w->out;
  EXPECT_EQ(slurp(l.stateMount + "/probe"), "hello-state\n");
  ASSERT_EQ(::stat((l.stateData + "/probe").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, info->uid) << "backing file not written by the state filesystem daemon (the tenant)";
  ASSERT_EQ(::stat((l.stateMount + "/probe").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, info->contractHostUid) << "the mount shows it as the contract's (--owner)";
  auto mounts = parseMountInfo(slurp("/proc/self/mountinfo"));
  bool fuse = false;
  for (auto& m : mounts)
    if (m.mountPoint == l.stateMount) fuse = m.fsType.rfind("fuse", 0) == 0;
  EXPECT_TRUE(fuse) << "no FUSE mount at " << l.stateMount;
  // The host raised the mount's readahead window (FUSE's default is 128 KiB).
  ASSERT_EQ(::stat(l.stateMount.c_str(), &st), 0);
  EXPECT_EQ(slurp("/sys/class/bdi/" + std::to_string(major(st.st_dev)) + ":" +
                  std::to_string(minor(st.st_dev)) + "/read_ahead_kb"),
            std::to_string(kStateFsReadaheadKiB) + "\n");
  // The container sees only /state, not the backing directory or the host's paths.
  auto peek = prov().exec("life", {"/bin/ls", l.stateData});
  ASSERT_TRUE(peek.ok());
  EXPECT_NE(peek->exitCode, 0);

  // Limits are in the cgroup.
  if (host_->os.cgroups->version() == CgroupVersion::kV1) {
    EXPECT_EQ(*host_->os.cgroups->read("life", "memory", "memory.limit_in_bytes"),
              std::to_string(256ull << 20) + "\n");
    EXPECT_EQ(*host_->os.cgroups->read("life", "pids", "pids.max"), "512\n");
  }

  ASSERT_TRUE(prov().destroy("life").ok());
  ASSERT_TRUE(prov().destroy("life").ok()) << "destroy must be idempotent";
  expectNoTraces(*host_, {fp}, true);
}

TEST_F(TenantLifecycle, SeveralTenantsLeaveNothingAndPortsAreReused) {
  std::vector<Footprint> fps;
  std::vector<std::string> names = {"multi-a", "multi-b", "multi-c"};
  for (auto& n : names) {
    auto i = prov().create(spec(n));
    ASSERT_TRUE(i.ok()) << i.error().message;
    fps.push_back(footprintOf(*i));
  }
  std::set<std::uint16_t> seen;
  for (auto& f : fps)
    for (auto& p : f.ports)
      EXPECT_TRUE(seen.insert(p.hostPort).second) << "port " << p.hostPort << " given twice";
  for (auto& f : fps) {
    ASSERT_TRUE(waitServing(f.ports[0].hostPort)) << f.name;
    EXPECT_EQ(f.ports[0].role, "user");
  }
  auto listed = prov().list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 3u);
  auto firstUserPort = fps[0].ports[0].hostPort;
  ASSERT_TRUE(prov().destroy("multi-a").ok());
  // The released ports go to the next tenant.
  auto again = prov().create(spec("multi-d"));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(userPort(*again), firstUserPort);
  ASSERT_TRUE(waitServing(userPort(*again)));
  fps.push_back(footprintOf(*again));
  for (auto& n : {"multi-b", "multi-c", "multi-d"}) ASSERT_TRUE(prov().destroy(n).ok()) << n;
  expectNoTraces(*host_, fps, true);
}

TEST_F(TenantLifecycle, FailedCreateRollsBackEverything) {
  auto s = spec("broken");
  s.args = {"/bin/does-not-exist"};
  auto info = prov().create(s);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("creating tenant broken"), std::string::npos) << info.error().message;
  expectNoTraces(*host_, {Footprint{"broken", 0, {}, {}}}, true);
  // Bad names never reach the OS.
  auto bad = spec("x; rm -rf /");
  EXPECT_FALSE(prov().create(bad).ok());
  auto dup = prov().create(spec("dup"));
  ASSERT_TRUE(dup.ok()) << dup.error().message;
  auto dup2 = prov().create(spec("dup"));
  ASSERT_FALSE(dup2.ok());
  EXPECT_NE(dup2.error().message.find("already exists"), std::string::npos);
  EXPECT_TRUE(waitServing(userPort(*dup))) << "the failed second create must not harm the first";
}

// kill -9 of a provisioner (the CLI) in the middle of a create, then reconcile: nothing left.
TEST_F(TenantLifecycle, KillNineMidCreateThenReconcileLeavesNothing) {
  for (const char* stopAt : {"disk", "statefs", "daemon", "container"}) {
    std::string name = std::string("crash-") + stopAt;
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const char* argv[] = {SASHIMONO_BINARY,
                            "--log-level",
                            "off",
                            "tenant",
                            "create",
                            name.c_str(),
                            "--base-dir",
                            host_->base.c_str(),
                            "--images-dir",
                            host_->images.c_str(),
                            "--user-prefix",
                            host_->prefix.c_str(),
                            "--cgroup-parent",
                            host_->cgroupParent.c_str(),
                            "--disk",
                            "64",
                            nullptr};
      ::execv(SASHIMONO_BINARY, const_cast<char* const*>(argv));
      ::_exit(127);
    }
    const auto l = prov().layout(name);
    bool killed = false;
    for (int i = 0; i < 3000 && !killed; ++i) {
      auto rec = slurp(l.record);
      if (rec.find(std::string("\"step\": \"") + stopAt + "\"") != std::string::npos) {
        if (std::string(stopAt) != "disk") std::this_thread::sleep_for(std::chrono::milliseconds(30));
        ::kill(pid, SIGKILL);
        killed = true;
      }
      int status;
      if (!killed && ::waitpid(pid, &status, WNOHANG) == pid) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(killed) << "never saw step " << stopAt;
    // Remember the uids before reconcile removes the user.
    Footprint fp{name, 0, {}, {}};
    if (auto u = host_->os.users->lookup(l.user); u && *u) {
      fp.uid = (*u)->uid;
      fp.subuid = (*u)->subuid;
    }
    auto rep = prov().reconcile();
    ASSERT_TRUE(rep.ok()) << rep.error().message;
    EXPECT_TRUE(rep->failed.empty()) << rep->failed[0];
    EXPECT_EQ(rep->removed, std::vector<std::string>{name}) << "stopped at " << stopAt;
    expectNoTraces(*host_, {fp}, true);
  }
}

TEST_F(TenantLifecycle, ReconcileRestartsAReadyTenantWhoseDaemonsDied) {
  auto info = prov().create(spec("phoenix"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  ASSERT_TRUE(waitServing(userPort(*info)));
  ASSERT_TRUE(prov().exec("phoenix", {"/bin/sh", "-c", "echo kept > /state/kept"}).ok());
  // Everything the tenant runs dies (as after a crash of the machine's processes).
  ASSERT_TRUE(host_->os.cgroups->killAll("phoenix").ok());
  auto rep = prov().reconcile();
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->resumed, std::vector<std::string>{"phoenix"});
  EXPECT_TRUE(rep->failed.empty()) << rep->failed[0];
  ASSERT_TRUE(waitServing(userPort(*info)));
  EXPECT_EQ(slurp(prov().layout("phoenix").stateMount + "/kept"), "kept\n");
  auto again = prov().reconcile();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kept, std::vector<std::string>{"phoenix"});
}

}  // namespace
}  // namespace sashimono::host::testing
