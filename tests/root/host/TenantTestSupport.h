#pragma once
// Shared by the root tenant tests: a Provisioner over the real Linux implementations, confined
// to test-only names that differ per test process (ctest runs tests in parallel processes):
// user prefix "s<pid>-", cgroup parent "smtest-<pid>", base dir /tmp/smtest-<pid>, ports from a
// per-process slice of 10000-25999 (below the default tenant ranges, which a node on the same
// machine may be using, and below the ephemeral range); a skip check for missing
// privileges or kernel features; and a leak check that looks at every kind of trace a tenant
// can leave.
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "fakes/host/PortSlice.h"
#include "sashimono/host/Disks.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/host/UserManager.h"

namespace sashimono::host::testing {

inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Why the root tests cannot run here, or "" when they can.
inline std::string missingPrerequisite() {
  if (::geteuid() != 0) return "needs root";
  for (const char* p : {"/usr/bin/rootlesskit", "/usr/bin/slirp4netns", "/usr/bin/containerd", "/usr/bin/ctr",
                        "/usr/bin/nsenter", "/usr/sbin/mkfs.ext4", "/usr/bin/newuidmap",
                        "/usr/bin/fusermount3", "/usr/sbin/useradd", "/bin/busybox"})
    if (::access(p, X_OK) != 0 && ::access((std::string("/usr") + p).c_str(), X_OK) != 0)
      return std::string("missing ") + p + " (run tools/setup.sh)";
  if (::access("/usr/sbin/runc", X_OK) != 0 && ::access("/usr/bin/runc", X_OK) != 0) return "missing runc";
  for (const char* d : {"/dev/fuse", "/dev/net/tun", "/dev/loop-control"}) {
    struct stat st;
    if (::stat(d, &st) != 0) return std::string("missing ") + d;
    if (std::string(d) != "/dev/loop-control" && (st.st_mode & 0666) != 0666)
      return std::string(d) + " is not mode 0666 (run tools/setup.sh)";
  }
  if (slurp("/etc/fuse.conf").find("\nuser_allow_other") == std::string::npos &&
      slurp("/etc/fuse.conf").rfind("user_allow_other", 0) != 0)
    return "user_allow_other is off in /etc/fuse.conf (run tools/setup.sh)";
  if (!makeLinuxCgroups("smtest-probe")) return "no usable cgroup hierarchy";
  return "";
}

struct TestHost {
  std::string tag = std::to_string(::getpid());
  std::string base = "/tmp/smtest-" + tag;
  std::string images = "/tmp/smtest-img-" + tag;
  std::string cgroupParent = "smtest-" + tag;
  std::string prefix = "s" + std::to_string(::getpid() % 100000) + "-";
  LinuxHost os;
  std::unique_ptr<Provisioner> prov;

  TestHost() { init(); }
  // One of several hosts in one test: `suffix` (a lowercase letter or digit) sets its users,
  // directories and cgroup apart; `images` may be shared between them.
  TestHost(const std::string& suffix, const std::string& imagesDir)
      : tag(std::to_string(::getpid()) + suffix),
        images(imagesDir),
        prefix("s" + std::to_string(::getpid() % 100000) + suffix + "-") {
    init();
  }

 private:
  void init() {
    auto portBase = static_cast<std::uint16_t>(10000 + (::getpid() % 40) * 400);
    reapDeadRuns();
    auto h = makeLinuxHost(cgroupParent, {SASHIMONO_BINARY, "statefs", "mount"});
    if (!h) throw std::runtime_error(h.error().message);
    os = std::move(*h);
    ProvisionerConfig cfg;
    cfg.baseDir = base;
    cfg.imagesDir = images;
    cfg.userPrefix = prefix;
    cfg.publicIp = "127.0.0.1";
    cfg.ports = fakes::portSlice(portBase, 1, 1);
    prov = std::make_unique<Provisioner>(cfg, os.ops());
    if (!std::filesystem::exists(images + "/instance/rootfs/bin/busybox")) {
      ProcessSpec p;
      p.argv = {"bash", std::string(SASHIMONO_SOURCE_DIR) + "/tools/build-image.sh", "--out", images};
      p.env = {std::string("PATH=") + kSafePath};
      auto r = runChecked(*os.runner, p);
      if (!r) throw std::runtime_error(r.error().message);
    }
  }

 public:
  // Tenants of earlier test runs that died without cleaning up (their users' homes name the
  // run's base directory /tmp/smtest-<pid>): reconciled away so their names are free again.
  static void reapDeadRuns() {
    for (auto& e : parsePasswd(slurp("/etc/passwd"))) {
      if (e.home.rfind("/tmp/smtest-", 0) != 0) continue;
      auto slash = e.home.find('/', 12);
      if (slash == std::string::npos) continue;
      std::string runBase = e.home.substr(0, slash);
      pid_t runPid = ::atoi(runBase.c_str() + 12);
      if (runPid <= 0 || runPid == ::getpid() || ::kill(runPid, 0) == 0) continue;  // a live run: not ours
      auto h = makeLinuxHost("smtest-" + runBase.substr(12), {SASHIMONO_BINARY, "statefs", "mount"});
      if (!h) continue;
      ProvisionerConfig cfg;
      cfg.baseDir = runBase;
      cfg.userPrefix = e.name.substr(0, e.name.find('-') + 1);
      Provisioner stale(cfg, h->ops());
      if (auto names = stale.list(); names)
        for (auto& n : *names) (void)stale.destroy(n);
      std::error_code ec;
      if (mountsUnder(runBase).valueOr({}).empty()) std::filesystem::remove_all(runBase, ec);
    }
  }
  // Destroys every tenant it can find (by test names only), then its own directories.
  void cleanup() {
    if (!prov) return;
    if (auto names = prov->list(); names)
      for (auto& n : *names)
        if (auto st = prov->destroy(n); !st) ADD_FAILURE() << st.error().message;
    std::error_code ec;
    (void)unmountUnder(base);
    std::filesystem::remove_all(base, ec);
    std::filesystem::remove_all(images, ec);
    for (const char* c : {"cpu", "memory", "pids"})
      ::rmdir(("/sys/fs/cgroup/" + std::string(c) + "/" + cgroupParent).c_str());
    ::rmdir(("/sys/fs/cgroup/" + cgroupParent).c_str());
  }
};

// What a tenant was, remembered to check afterwards that nothing of it is left.
struct Footprint {
  std::string name;
  uid_t uid = 0;
  SubIdRange subuid;
  std::vector<PortForward> ports;
};

inline Footprint footprintOf(const TenantInfo& i) { return {i.name, i.uid, i.subuid, i.ports}; }

inline bool tcpConnects(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

inline bool bindable(std::uint16_t port, int type) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// GET / on 127.0.0.1:port; the body, or "" on failure.
inline std::string httpGet(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string resp;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    std::string req = "GET / HTTP/1.0\r\nHost: x\r\n\r\n";
    if (::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  auto body = resp.find("\r\n\r\n");
  return body == std::string::npos ? "" : resp.substr(body + 4);
}

// Polls until the tenant's user port serves (the container is up) or the timeout passes.
inline bool waitServing(std::uint16_t port, int ms = 10000) {
  for (int i = 0; i < ms / 10; ++i) {
    if (!httpGet(port).empty()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

inline std::uint16_t userPort(const TenantInfo& i) {
  for (auto& p : i.ports)
    if (p.role == "user") return p.hostPort;
  return 0;
}

inline std::vector<std::string> linesStartingWith(const std::string& file, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(slurp(file));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  return out;
}

// Every kind of trace of the tenants in `gone`: users (and their contract alias), groups,
// subordinate ids, processes, mounts, cgroups, loop devices, port forwards, files. (Tenants add
// no firewall rules: forwarding is rootlesskit's user-space proxy, so there is none to check
// beyond the listening ports.) With everything=true, no test tenant at all may remain.
inline void expectNoTraces(TestHost& h, const std::vector<Footprint>& gone, bool everything = false) {
  std::vector<std::string> prefixes;
  if (everything) prefixes.push_back(h.prefix);
  for (auto& g : gone) {
    prefixes.push_back(h.prefix + g.name + ":");
    prefixes.push_back(h.prefix + g.name + "_c:");
  }
  for (const char* f :
       {"/etc/passwd", "/etc/group", "/etc/subuid", "/etc/subgid", "/etc/shadow", "/etc/gshadow"})
    for (auto& p : prefixes) {
      auto left = linesStartingWith(f, p);
      EXPECT_TRUE(left.empty()) << f << " still has " << left[0];
    }
  DIR* d = ::opendir("/proc");
  while (auto* e = ::readdir(d)) {
    pid_t pid = ::atoi(e->d_name);
    if (pid <= 0) continue;
    auto status = slurp("/proc/" + std::string(e->d_name) + "/status");
    if (status.find("State:\tZ") != std::string::npos) continue;
    for (uid_t u : parseStatusUids(status))
      for (auto& g : gone)
        EXPECT_FALSE(g.uid != 0 &&
                     (u == g.uid || (u >= g.subuid.start && u < g.subuid.start + g.subuid.count)))
            << "process " << pid << " of tenant " << g.name << " still runs: " << status.substr(0, 40);
  }
  ::closedir(d);
  std::vector<std::string> dirs;
  if (everything) dirs.push_back(h.base);
  for (auto& g : gone) dirs.push_back(h.prov->layout(g.name).home);
  for (auto& dir : dirs) {
    auto mounts = mountsUnder(dir);
    ASSERT_TRUE(mounts.ok());
    EXPECT_TRUE(mounts->empty()) << "still mounted: " << mounts->front();
  }
  auto cgs = h.os.cgroups->list();
  ASSERT_TRUE(cgs.ok());
  for (auto& c : *cgs) {
    bool ours = everything;
    for (auto& g : gone) ours = ours || c == g.name;
    EXPECT_FALSE(ours) << "cgroup left: " << c;
  }
  auto loops = h.os.disks->loopDevicesUnder(h.base);
  ASSERT_TRUE(loops.ok());
  for (auto& dev : *loops) {
    auto n = dev.substr(5);
    auto backing = slurp("/sys/block/" + n + "/loop/backing_file");
    bool ours = everything;
    for (auto& g : gone) ours = ours || backing.find(h.prov->layout(g.name).image) == 0;
    EXPECT_FALSE(ours) << "loop device left: " << dev << " " << backing;
  }
  for (auto& g : gone)
    for (auto& p : g.ports) {
      if (p.proto == Proto::kTcp) {
        EXPECT_FALSE(tcpConnects(p.hostPort)) << "port " << p.hostPort << " still forwarded";
      }
      EXPECT_TRUE(bindable(p.hostPort, p.proto == Proto::kTcp ? SOCK_STREAM : SOCK_DGRAM))
          << "port " << p.hostPort << " still held";
    }
  for (const char* sub : {"/records", "/disks", "/homes"}) {
    std::error_code ec;
    if (!std::filesystem::exists(h.base + sub)) continue;
    for (auto& e : std::filesystem::directory_iterator(h.base + sub, ec)) {
      bool ours = everything;
      auto fn = e.path().filename().string();
      for (auto& g : gone) ours = ours || fn == g.name || fn == g.name + ".json" || fn == g.name + ".img";
      EXPECT_FALSE(ours) << "file left: " << e.path();
    }
  }
}

}  // namespace sashimono::host::testing
