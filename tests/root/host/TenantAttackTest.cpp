// Attacks from inside tenant A (its container, and its host uid as if a container escape had
// reached A's daemons), each of which must fail without harming tenant B or the host.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/un.h>

#include "TenantTestSupport.h"

namespace sashimono::host::testing {
namespace {

class TenantAttack : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_ = missingPrerequisite();
    if (!skip_.empty()) return;
    host_ = new TestHost();
    for (const char* n : {"victim", "attacker"}) {
      TenantSpec s;
      s.name = n;
      s.limits.memoryBytes = 192ull << 20;
      s.limits.pids = 200;
      s.diskBytes = 48ull << 20;
      auto i = host_->prov->create(s);
      if (!i) {
        skip_ = std::string("cannot create tenant: ") + i.error().message;
        return;
      }
      (std::string(n) == "victim" ? b_ : a_) = *i;
    }
    waitServing(userPort(a_));
    waitServing(userPort(b_));
  }
  static void TearDownTestSuite() {
    if (host_) {
      host_->cleanup();
      expectNoTraces(*host_, {footprintOf(a_), footprintOf(b_)}, true);
    }
    delete host_;
    host_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
  }
  Provisioner& prov() { return *host_->prov; }
  // Runs a shell snippet inside A's container.
  ExecResult inA(const std::string& script, int seconds = 30) {
    auto r = prov().exec("attacker", {"/bin/sh", "-c", script}, std::chrono::seconds(seconds));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : ExecResult{};
  }
  // Runs argv on the host as A's own user, inside A's cgroup: what an escape from the
  // container into A's daemons could do.
  ProcessResult asA(std::vector<std::string> argv) {
    ProcessSpec p;
    p.argv = std::move(argv);
    p.env = {std::string("PATH=") + kSafePath};
    p.as = Credentials{a_.uid, a_.uid};
    if (auto u = host_->os.users->lookup(a_.user); u && *u) p.as->gid = (*u)->gid;
    p.cgroupProcs = host_->os.cgroups->procsFiles("attacker");
    auto r = host_->os.runner->run(p);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : ProcessResult{};
  }
  void expectBFine() {
    EXPECT_EQ(httpGet(userPort(b_)), "sashimono instance\n") << "tenant B stopped serving";
    auto r = prov().exec("victim", {"/bin/sh", "-c", "echo ok > /state/health && cat /state/health"});
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->out, "ok\n");
  }

  static inline std::string skip_;
  static inline TestHost* host_ = nullptr;
  static inline TenantInfo a_, b_;
};

TEST_F(TenantAttack, CannotReadOrWriteOtherTenantsFilesOrState) {
  const auto lb = prov().layout("victim");
  ASSERT_TRUE(prov().exec("victim", {"/bin/sh", "-c", "echo secret > /state/secret"}).ok());
  // From A's container, B's paths do not exist at all.
  auto r = inA("cat " + lb.stateMount + "/secret; cat " + lb.stateData + "/secret; ls " + lb.home);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_EQ(r.out.find("secret"), std::string::npos);
  // As A's host user: B's home is 0700, its state filesystem is behind it.
  for (auto path : {lb.stateMount + "/secret", lb.stateData + "/secret", lb.containerdConfig}) {
    auto c = asA({"/bin/busybox", "cat", path});
    EXPECT_NE(c.exitCode, 0) << path;
    EXPECT_EQ(c.out.find("secret"), std::string::npos);
  }
  auto w =
      asA({"/bin/busybox", "touch", lb.stateMount + "/owned", lb.home + "/owned", lb.stateData + "/owned"});
  EXPECT_NE(w.exitCode, 0);
  EXPECT_FALSE(std::filesystem::exists(lb.stateData + "/owned"));
  EXPECT_FALSE(std::filesystem::exists(lb.home + "/owned"));
  expectBFine();
}

TEST_F(TenantAttack, InfoFilesReachOnlyTheirOwnContractReadOnly) {
  // What the host hands an instance (cluster membership) is private to it: readable by its
  // contract at /run/sashimono, not writable there, and invisible to the other tenant.
  ASSERT_TRUE(prov().writeInfo("victim", "cluster.json", "{\"members\":[\"victim-peers\"]}\n").ok());
  ASSERT_TRUE(prov().writeInfo("attacker", "cluster.json", "{\"members\":[]}\n").ok());
  auto own = prov().exec("victim", {"/bin/cat", "/run/sashimono/cluster.json"});
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_EQ(own->out, "{\"members\":[\"victim-peers\"]}\n");
  auto write = prov().exec(
      "victim", {"/bin/sh", "-c", "echo x > /run/sashimono/cluster.json; echo x > /run/sashimono/new"});
  ASSERT_TRUE(write.ok());
  EXPECT_NE(write->exitCode, 0);
  // Replaced whole: the instance sees the new content at once.
  ASSERT_TRUE(prov().writeInfo("victim", "cluster.json", "{\"members\":[]}\n").ok());
  auto again = prov().exec("victim", {"/bin/cat", "/run/sashimono/cluster.json"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->out, "{\"members\":[]}\n");
  ASSERT_TRUE(prov().writeInfo("victim", "cluster.json", "{\"members\":[\"victim-peers\"]}\n").ok());
  const auto lb = prov().layout("victim");
  auto r = inA("cat " + lb.info + "/cluster.json; ls " + lb.info);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_EQ(r.out.find("victim-peers"), std::string::npos);
  auto c = asA({"/bin/busybox", "cat", lb.info + "/cluster.json"});
  EXPECT_NE(c.exitCode, 0);
  EXPECT_EQ(c.out.find("victim-peers"), std::string::npos);
  auto t = asA({"/bin/busybox", "touch", lb.info + "/owned"});
  EXPECT_NE(t.exitCode, 0);
  EXPECT_FALSE(std::filesystem::exists(lb.info + "/owned"));
  EXPECT_FALSE(prov().writeInfo("victim", "../escape", "x").ok());
  EXPECT_FALSE(prov().writeInfo("nobody", "cluster.json", "x").ok());
  expectBFine();
}

TEST_F(TenantAttack, CannotSignalOtherTenantsProcesses) {
  // B's long-lived processes (short-lived helpers such as a daemonizing parent may come and go).
  auto first = host_->os.cgroups->pids("victim");
  ASSERT_TRUE(first.ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto second = host_->os.cgroups->pids("victim");
  ASSERT_TRUE(second.ok());
  std::vector<pid_t> stable;
  for (pid_t p : *first)
    if (std::find(second->begin(), second->end(), p) != second->end()) stable.push_back(p);
  auto pids = &stable;
  ASSERT_GE(pids->size(), 6u);
  std::string list;
  for (pid_t p : *pids) list += " " + std::to_string(p);
  // In A's container (own pid namespace) B's pids are not there, or not B's.
  inA("kill -9" + list + " 2>/dev/null; true");
  // As A's host user: EPERM for every one of B's processes.
  std::vector<std::string> argv = {"/bin/busybox", "kill", "-9"};
  for (pid_t p : *pids) argv.push_back(std::to_string(p));
  auto k = asA(argv);
  EXPECT_NE(k.exitCode, 0);
  for (pid_t p : *pids) EXPECT_EQ(::kill(p, 0), 0) << "B's pid " << p << " was killed";
  expectBFine();
}

TEST_F(TenantAttack, CannotReachHostLoopbackServicesOrControlFiles) {
  // A loopback-only TCP service, a root-only control socket and a root-only sqlite file.
  int srv = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(srv, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(srv, 8), 0);
  socklen_t len = sizeof a;
  ::getsockname(srv, reinterpret_cast<sockaddr*>(&a), &len);
  std::string port = std::to_string(ntohs(a.sin_port));
  std::string dir = host_->base + "/node";
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  std::string sock = dir + "/control.sock";
  int us = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un ua{};
  ua.sun_family = AF_UNIX;
  std::snprintf(ua.sun_path, sizeof ua.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(us, reinterpret_cast<sockaddr*>(&ua), sizeof ua), 0);
  ::chmod(sock.c_str(), 0600);
  ASSERT_EQ(::listen(us, 8), 0);
  std::string db = dir + "/node.sqlite";
  { std::ofstream(db) << "SQLite format 3"; }
  ::chmod(db.c_str(), 0600);

  // From the container: the host's loopback is neither 127.0.0.1 (its own) nor 10.0.2.2
  // (--disable-host-loopback); the socket and file paths do not exist there.
  auto r = inA("for h in 10.0.2.2 127.0.0.1 10.0.2.3; do echo x | nc -w 2 $h " + port +
                   " && echo CONNECTED $h; done; "
                   "cat " +
                   db + "; ls " + sock + "; true",
               30);
  EXPECT_EQ(r.out.find("CONNECTED"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("SQLite"), std::string::npos);
  sockaddr_in peer{};
  socklen_t plen = sizeof peer;
  int got = ::accept(srv, reinterpret_cast<sockaddr*>(&peer), &plen);
  EXPECT_LT(got, 0) << "the loopback service got a connection";
  if (got >= 0) ::close(got);
  // As A's host user: the control socket and sqlite file are root-only.
  EXPECT_NE(asA({"/bin/busybox", "cat", db}).exitCode, 0);
  EXPECT_NE(asA({"/bin/busybox", "nc", "local:" + sock}).exitCode, 0);
  ::close(srv);
  ::close(us);
  expectBFine();
}

TEST_F(TenantAttack, CannotWriteHostPaths) {
  auto r =
      inA("for f in /bin/x /etc/passwd /www/index.html /x; do echo pwned > $f && echo WROTE $f; done; "
          "mount -t tmpfs t /tmp 2>/dev/null && echo MOUNTED; true");
  EXPECT_EQ(r.out.find("WROTE"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("MOUNTED"), std::string::npos) << r.out;
  std::string rootfs = host_->images + "/instance/rootfs";
  EXPECT_EQ(slurp(rootfs + "/www/index.html"), "sashimono instance\n");
  for (auto path : {std::string("/etc/sashimono-pwned"), rootfs + "/bin/pwned",
                    host_->base + "/records/pwned", std::string("/usr/local/bin/pwned")}) {
    auto w = asA({"/bin/busybox", "touch", path});
    EXPECT_NE(w.exitCode, 0) << path;
    EXPECT_FALSE(std::filesystem::exists(path)) << path;
  }
  expectBFine();
}

TEST_F(TenantAttack, MemoryHogIsOomKilledInsideItsOwnCgroup) {
  auto before = host_->os.cgroups->version() == CgroupVersion::kV1
                    ? host_->os.cgroups->read("attacker", "memory", "memory.oom_control")
                    : host_->os.cgroups->read("attacker", "memory", "memory.events");
  ASSERT_TRUE(before.ok());
  auto r = inA("awk 'BEGIN { s = \"xxxxxxxxxxxxxxxx\"; while (1) s = s s }'", 60);
  EXPECT_NE(r.exitCode, 0);
  auto after = host_->os.cgroups->version() == CgroupVersion::kV1
                   ? host_->os.cgroups->read("attacker", "memory", "memory.oom_control")
                   : host_->os.cgroups->read("attacker", "memory", "memory.events");
  ASSERT_TRUE(after.ok());
  EXPECT_GT(parseOomKills(*after), parseOomKills(*before)) << *after;
  auto bEvents = host_->os.cgroups->version() == CgroupVersion::kV1
                     ? host_->os.cgroups->read("victim", "memory", "memory.oom_control")
                     : host_->os.cgroups->read("victim", "memory", "memory.events");
  ASSERT_TRUE(bEvents.ok());
  EXPECT_EQ(parseOomKills(*bEvents), 0u);
  expectBFine();
}

TEST_F(TenantAttack, DiskFillStopsAtTheLimitWithEnospc) {
  // The host's disk: the tenant's image is preallocated, so filling the tenant's disk cannot
  // take more host blocks than the image already holds. (Host free space itself is not checked:
  // other processes on a shared machine change it.)
  const auto image = prov().layout("attacker").image;
  struct stat imgBefore;
  ASSERT_EQ(::stat(image.c_str(), &imgBefore), 0);
  EXPECT_GE(imgBefore.st_blocks * 512ll, 48ll << 20) << "image not preallocated";
  auto r = inA("dd if=/dev/zero of=/state/fill bs=1M count=200 2>&1; echo rc=$?", 60);
  EXPECT_NE(r.out.find("No space left on device"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("rc=0"), std::string::npos);
  auto size = std::filesystem::file_size(prov().layout("attacker").stateData + "/fill");
  EXPECT_LE(size, 48ull << 20);
  struct stat imgAfter;
  ASSERT_EQ(::stat(image.c_str(), &imgAfter), 0);
  EXPECT_EQ(imgAfter.st_blocks, imgBefore.st_blocks) << "the tenant's disk grew on the host";
  EXPECT_EQ(imgAfter.st_size, imgBefore.st_size);
  expectBFine();
  inA("rm -f /state/fill");
}

// Last: it leaves A without free pids until A is destroyed.
TEST_F(TenantAttack, ZForkBombIsStoppedByThePidsLimit) {
  auto r = inA("i=0; while [ $i -lt 1000 ]; do sleep 120 & i=$((i+1)); done 2>/dev/null; echo spawned", 90);
  auto procs = host_->os.cgroups->pids("attacker");
  ASSERT_TRUE(procs.ok());
  EXPECT_LE(procs->size(), 200u);
  if (host_->os.cgroups->version() == CgroupVersion::kV1) {
    auto ev = host_->os.cgroups->read("attacker", "pids", "pids.events");
    ASSERT_TRUE(ev.ok());
    EXPECT_NE(*ev, "max 0\n") << "the pids limit was never hit";
  }
  expectBFine();
  // Destroy still works with the cgroup full of processes.
  auto fp = footprintOf(a_);
  ASSERT_TRUE(prov().destroy("attacker").ok());
  expectNoTraces(*host_, {fp});
  expectBFine();
}

}  // namespace
}  // namespace sashimono::host::testing
