// FOR TESTS AND LOCAL DEVELOPMENT ONLY — NO ISOLATION (see ProcessProvisionerPort.h).
#include "sashimono/node/ProcessProvisionerPort.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/File.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/runtime/Config.h"

namespace sashimono::node {

namespace fs = std::filesystem;

namespace {

using namespace std::chrono_literals;

constexpr const char* kPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// An IPv4 or IPv6 socket address for `ip`:`port`.
bool socketAddress(const std::string& ip, std::uint16_t port, sockaddr_storage& sa, socklen_t& len) {
  sa = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(&sa);
  if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&sa);
  if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

// Whether `port` can be bound on `ip` now (nobody else listens there).
bool bindable(const std::string& ip, std::uint16_t port) {
  sockaddr_storage sa{};
  socklen_t len = 0;
  if (!socketAddress(ip, port, sa, len)) return false;
  const int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0;
  ::close(fd);
  return ok;
}

// Whether something accepts TCP connections on `ip`:`port`.
bool accepting(const std::string& ip, std::uint16_t port) {
  sockaddr_storage sa{};
  socklen_t len = 0;
  if (!socketAddress(ip, port, sa, len)) return false;
  const int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0;
  ::close(fd);
  return ok;
}

// Where to reach a port listening on `listen`.
std::string connectAddress(const std::string& listen) {
  if (listen == "0.0.0.0") return "127.0.0.1";
  if (listen == "::") return "::1";
  return listen;
}

// The last lines of the runtime's log, for error messages.
std::string logTail(const std::string& dir) {
  auto text = core::readFile(dir + "/runtime.log");
  if (!text) return "(no log)";
  std::string t = text->size() > 1200 ? text->substr(text->size() - 1200) : *text;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t;
}

// Whether process `pid` is the runtime of the instance in `dir` (its command line names its config).
bool isRuntimeOf(pid_t pid, const std::string& dir) {
  auto cmdline = core::readFile("/proc/" + std::to_string(pid) + "/cmdline");
  return cmdline && cmdline->find(dir + "/instance.json") != std::string::npos;
}

// Whether `pid` has exited and waits to be reaped (state Z in /proc/<pid>/stat).
bool zombie(pid_t pid) {
  auto stat = core::readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  const auto close = stat->rfind(')');
  return close == std::string::npos || stat->compare(close, 3, ") Z") == 0;
}

// Starts `argv` as a child that dies with the calling thread, in its own process group, output
// appended to `logFile`. Returns its pid once exec succeeded. Async-signal-safe after fork.
core::Result<pid_t> spawnChild(const std::vector<std::string>& args, const std::vector<std::string>& envs,
                               const std::string& logFile) {
  std::vector<std::string> argStore = args, envStore = envs;
  std::vector<char*> argv, envp;
  for (auto& a : argStore) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envStore) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int log = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log < 0) return core::Error::fromErrno("opening " + logFile);
  int status[2];
  if (::pipe2(status, O_CLOEXEC) != 0) {
    ::close(log);
    return core::Error::fromErrno("pipe");
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int s = 1; s < NSIG; ++s) (void)::signal(s, SIG_DFL);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(log, 1) < 0 || ::dup2(log, 2) < 0) {
      const int err = errno;
      (void)!::write(status[1], &err, sizeof err);
      ::_exit(127);
    }
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(argv[0], argv.data(), envp.data());
    const int err = errno;
    (void)!::write(status[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(log);
  ::close(status[1]);
  if (pid < 0) {
    ::close(status[0]);
    return core::Error::fromErrno("fork");
  }
  int err = 0;
  ssize_t n;
  do n = ::read(status[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  ::close(status[0]);
  if (n == sizeof err) {
    ::waitpid(pid, nullptr, 0);
    return core::Error::fromErrno("starting " + args[0], err);
  }
  return pid;
}

// Removes a tree, making its directories writable first if a plain removal is refused.
void removeTree(const std::string& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!ec || !fs::exists(dir)) return;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec)) fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(dir, ec);
  if (ec) spdlog::warn("process instances: cannot remove {}: {}", dir, ec.message());
}

}  // namespace

core::Result<std::unique_ptr<ProcessProvisionerPort>> ProcessProvisionerPort::open(
    ProcessInstancesOptions o, const crypto::KeyPair& hostKey) {
  if (o.binary.empty()) {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return core::Error("cannot find the sashimono binary (/proc/self/exe)");
    o.binary.assign(buf, static_cast<std::size_t>(n));
  }
  sockaddr_storage sa{};
  socklen_t len = 0;
  if (!socketAddress(o.listen, 1, sa, len))
    return core::Error("process instances: '" + o.listen + "' is not an IP address");
  std::error_code ec;
  fs::create_directories(o.dir, ec);
  if (ec) return core::Error("cannot create " + o.dir + ": " + ec.message());
  o.dir = fs::absolute(o.dir).lexically_normal().string();
  if (o.dir.size() > 1 && o.dir.back() == '/') o.dir.pop_back();
  std::unique_ptr<ProcessProvisionerPort> p(new ProcessProvisionerPort(std::move(o), hostKey));
  std::lock_guard lock(p->mu_);
  for (const auto& e : fs::directory_iterator(p->o_.dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.front() == '.') {
      removeTree(e.path().string());  // half-made by a crash
      continue;
    }
    if (!protocol::parseHash256(name) || !fs::exists(e.path() / "instance.json")) continue;
    p->stop(name, e.path().string());
    if (auto st = p->start(name, e.path().string()); !st)
      spdlog::error("process instances: cannot restart {}: {}", name, st.error().message);
    else
      spdlog::info("process instances: restarted {} (pid {})", name, p->children_[name]);
  }
  if (ec) return core::Error("cannot list " + p->o_.dir + ": " + ec.message());
  return p;
}

ProcessProvisionerPort::~ProcessProvisionerPort() {
  std::lock_guard lock(mu_);
  const auto children = children_;
  for (const auto& [hex, pid] : children) stop(hex, o_.dir + "/" + hex);
}

std::string ProcessProvisionerPort::dirOf(const crypto::Hash256& leaseId) const {
  return o_.dir + "/" + core::toHex(leaseId);
}

core::Result<std::pair<std::uint16_t, std::uint16_t>> ProcessProvisionerPort::freePorts() const {
  std::set<std::uint16_t> taken;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(o_.dir, ec)) {
    auto text = core::readFile((e.path() / "instance.json").string());
    if (!text) continue;
    auto c = runtime::parseInstanceConfig(*text, e.path().string(), e.path().string());
    if (!c) continue;
    taken.insert(c->user.port);
    taken.insert(c->peer.port);
  }
  auto pick = [&](const PortRange& r, const char* what) -> core::Result<std::uint16_t> {
    for (std::uint32_t p = r.first; p <= r.last; ++p) {
      const auto port = static_cast<std::uint16_t>(p);
      if (taken.count(port) == 0 && bindable(o_.listen, port)) {
        taken.insert(port);
        return port;
      }
    }
    return core::Error(std::string("no free ") + what + " port in " + std::to_string(r.first) + ".." +
                       std::to_string(r.last) + " on " + o_.listen);
  };
  SASHI_TRY_ASSIGN(user, pick(o_.userPorts, "user"));
  SASHI_TRY_ASSIGN(peer, pick(o_.peerPorts, "peer"));
  return std::make_pair(user, peer);
}

protocol::InstanceInfo ProcessProvisionerPort::infoOf(const crypto::Hash256& leaseId,
                                                      const std::string& dir) const {
  protocol::InstanceInfo i;
  const auto key = instanceKeyFor(hostKey_, leaseId);
  std::copy(key.publicKey().begin() + 1, key.publicKey().end(), i.pubkey.begin());
  auto text = core::readFile(dir + "/instance.json");
  if (text) {
    if (auto c = runtime::parseInstanceConfig(*text, dir, dir)) {
      i.userPort = c->user.port;
      i.peerPort = c->peer.port;
    }
  }
  return i;  // host: filled in by the node
}

bool ProcessProvisionerPort::running(const std::string& hex) {
  auto it = children_.find(hex);
  if (it == children_.end()) return false;
  // A killed multi-threaded process is a zombie before waitpid can report it (its other threads
  // are still exiting): not running either; reaped here.
  if (::waitpid(it->second, nullptr, WNOHANG) == 0 && !zombie(it->second)) return true;
  ::waitpid(it->second, nullptr, 0);
  children_.erase(it);
  return false;
}

core::Status ProcessProvisionerPort::start(const std::string& hex, const std::string& dir) {
  auto text = core::readFile(dir + "/instance.json");
  if (!text) return text.error();
  SASHI_TRY_ASSIGN(config, runtime::parseInstanceConfig(*text, dir + "/instance.json", dir));
  std::vector<std::string> env{std::string("PATH=") + kPath, "HOME=" + dir};
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"})
    if (const char* v = std::getenv(name)) env.push_back(std::string(name) + "=" + v);
  SASHI_TRY_ASSIGN(
      pid, spawnChild({o_.binary, "runtime", "--no-supervisor", "--config", dir + "/instance.json", "--data",
                       dir + "/data", "--contract-fs", dir + "/fs"},
                      env, dir + "/runtime.log"));
  children_[hex] = pid;
  (void)core::writeFileAtomic(dir + "/runtime.pid", std::to_string(pid) + "\n", 0644);
  const std::string host = connectAddress(config.user.listen);
  const auto end = std::chrono::steady_clock::now() + o_.startTimeout;
  while (true) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      children_.erase(hex);
      return core::Error("the runtime of " + hex + " ended (" +
                         (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                            : "signal " + std::to_string(WTERMSIG(status))) +
                         "): " + logTail(dir));
    }
    if (accepting(host, config.user.port)) return {};
    if (std::chrono::steady_clock::now() >= end) {
      stop(hex, dir);
      return core::Error("the runtime of " + hex + " did not open its user port " +
                         std::to_string(config.user.port) + " within " +
                         std::to_string(o_.startTimeout.count()) + " ms: " + logTail(dir));
    }
    std::this_thread::sleep_for(50ms);
  }
}

void ProcessProvisionerPort::stop(const std::string& hex, const std::string& dir) {
  const std::string pidFile = dir + "/runtime.pid";
  pid_t pid = -1;
  bool ours = false;
  if (auto it = children_.find(hex); it != children_.end()) {
    pid = it->second;
    ours = true;
  } else if (auto text = core::readFile(pidFile)) {
    pid = static_cast<pid_t>(std::atol(text->c_str()));
    if (pid <= 1 || !isRuntimeOf(pid, dir)) pid = -1;
  }
  if (pid > 1) {
    auto gone = [&] {
      if (ours) return ::waitpid(pid, nullptr, WNOHANG) != 0;
      return ::kill(pid, 0) != 0 || !isRuntimeOf(pid, dir);
    };
    ::kill(pid, SIGTERM);
    const auto end = std::chrono::steady_clock::now() + o_.stopTimeout;
    while (!gone() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
    if (!gone()) {
      spdlog::warn("process instances: {} did not stop within {} ms; killing it", hex,
                   o_.stopTimeout.count());
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
      if (ours) ::waitpid(pid, nullptr, 0);
    }
    ::kill(-pid, SIGKILL);  // what the runtime left in its group (a contract it started)
  }
  children_.erase(hex);
  std::error_code ec;
  fs::remove(pidFile, ec);
}

core::Result<protocol::InstanceInfo> ProcessProvisionerPort::provision(
    const crypto::Hash256& leaseId, const protocol::AcquireRequest& request, const lease::InstanceSize&) {
  std::lock_guard lock(mu_);
  const std::string hex = core::toHex(leaseId);
  const std::string dir = dirOf(leaseId);
  if (fs::exists(dir + "/instance.json")) {
    if (!running(hex)) SASHI_TRY(start(hex, dir));  // same files, ports and key
    return infoOf(leaseId, dir);
  }
  removeTree(dir);
  SASHI_TRY_ASSIGN(ports, freePorts());
  const std::string tmp = o_.dir + "/." + hex + ".tmp";
  removeTree(tmp);
  std::error_code ec;
  fs::create_directories(tmp + "/data", ec);
  if (!ec) fs::create_directories(tmp + "/fs", ec);
  if (ec) return core::Error("cannot create " + tmp + ": " + ec.message());
  fs::permissions(tmp, fs::perms::owner_all, fs::perm_options::replace, ec);

  runtime::InstanceConfig c = instanceConfigFor(request, o_.ceilings);
  c.keyFile = "instance.key";
  c.user.listen = o_.listen;
  c.user.port = ports.first;
  c.user.tls = "self-signed";
  c.peer.enabled = true;
  c.peer.listen = o_.listen;
  c.peer.port = ports.second;
  c.clusterFile = dir + "/cluster.json";
  c.runAs.reset();  // the node's own user: no isolation
  c.statefsControl.clear();
  c.statefsViews.clear();
  c.roundLimits.procCount = 0;  // RLIMIT_NPROC would count every process of the node's user
  auto key = instanceKeyFor(hostKey_, leaseId);
  std::string keyText = instanceKeyText(key);
  auto wrote = core::writeFileAtomic(tmp + "/instance.key", keyText, 0600);
  sodium_memzero(keyText.data(), keyText.size());
  if (wrote) wrote = core::writeFileAtomic(tmp + "/instance.json", runtime::renderInstanceConfig(c), 0600);
  if (wrote) {
    fs::rename(tmp, dir, ec);
    if (ec) wrote = core::Error("cannot rename " + tmp + ": " + ec.message());
  }
  if (!wrote) {
    removeTree(tmp);
    return wrote.error();
  }
  if (auto st = start(hex, dir); !st) {
    stop(hex, dir);
    removeTree(dir);
    return st.error();
  }
  spdlog::info("process instances: {} runs as pid {} (user port {}, peer port {}; NO isolation)", hex,
               children_[hex], ports.first, ports.second);
  return infoOf(leaseId, dir);
}

std::vector<InstanceHealth> ProcessProvisionerPort::health(std::span<const crypto::Hash256> leases) {
  std::lock_guard lock(mu_);
  std::vector<InstanceHealth> out;
  for (const auto& id : leases) {
    InstanceHealth h;
    h.leaseId = id;
    if (fs::exists(dirOf(id) + "/instance.json") && !running(core::toHex(id)))
      h.failed.push_back("runtime: not running");
    out.push_back(std::move(h));
  }
  return out;
}

core::Status ProcessProvisionerPort::heal(const crypto::Hash256& leaseId) {
  std::lock_guard lock(mu_);
  const std::string hex = core::toHex(leaseId);
  const std::string dir = dirOf(leaseId);
  if (!fs::exists(dir + "/instance.json")) return core::Error("process instances: no instance " + hex);
  stop(hex, dir);
  return start(hex, dir);  // same files, ports and key
}

core::Status ProcessProvisionerPort::destroy(const crypto::Hash256& leaseId) {
  std::lock_guard lock(mu_);
  const std::string dir = dirOf(leaseId);
  stop(core::toHex(leaseId), dir);
  removeTree(dir);
  if (fs::exists(dir)) return core::Error("process instances: cannot remove " + dir);
  return {};
}

core::Result<std::vector<crypto::Hash256>> ProcessProvisionerPort::list() {
  std::lock_guard lock(mu_);
  std::vector<crypto::Hash256> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(o_.dir, ec)) {
    auto id = protocol::parseHash256(e.path().filename().string());
    if (id.ok()) out.push_back(*id);
  }
  if (ec) return core::Error("process instances: cannot list " + o_.dir + ": " + ec.message());
  return out;
}

core::Status ProcessProvisionerPort::deliverCluster(const crypto::Hash256& leaseId,
                                                    const std::vector<protocol::ClusterMember>& members) {
  std::lock_guard lock(mu_);
  const std::string dir = dirOf(leaseId);
  if (!fs::exists(dir + "/instance.json"))
    return core::Error("process instances: no instance " + core::toHex(leaseId));
  return core::writeFileAtomic(dir + "/cluster.json", renderClusterFile(leaseId, members), 0644);
}

std::vector<InstanceUsage> ProcessProvisionerPort::usage(std::span<const crypto::Hash256> leases) {
  std::vector<InstanceUsage> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  for (const auto& id : leases) {
    const pid_t pid = pidOf(id);
    if (pid <= 0) continue;
    auto stat = core::readFile("/proc/" + std::to_string(pid) + "/stat");
    if (!stat) continue;
    // After the command's closing parenthesis: state (3), … utime (14), stime, cutime, cstime
    // (17) in clock ticks, … rss (24) in pages.
    const auto close = stat->rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream in(stat->substr(close + 1));
    std::vector<std::string> f{"", "", ""};
    for (std::string w; in >> w;) f.push_back(w);
    if (f.size() < 25) continue;
    InstanceUsage u;
    u.leaseId = id;
    try {
      u.cpuSeconds = static_cast<double>(std::stoull(f[14]) + std::stoull(f[15]) + std::stoull(f[16]) +
                                         std::stoull(f[17])) /
                     tick;
      u.memoryBytes = std::stoull(f[24]) * page;
    } catch (const std::exception&) {
      continue;
    }
    out.push_back(u);
  }
  return out;
}

pid_t ProcessProvisionerPort::pidOf(const crypto::Hash256& leaseId) {
  std::lock_guard lock(mu_);
  auto it = children_.find(core::toHex(leaseId));
  return it == children_.end() ? -1 : it->second;
}

}  // namespace sashimono::node
