// bench_runtime_bench's shared pieces (RuntimeBench.h): helpers, cleanup, child processes, the
// round-time sink, an in-process instance, and the bundles.
#include "RuntimeBench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "sashimono/runtime/Config.h"

namespace sashimono::runtime_bench {

// ---- small helpers ----

std::string loadAvg() {
  std::istringstream in(slurp("/proc/loadavg"));
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "runtime_bench: %s\n", what.c_str());
  std::fflush(stderr);
  std::exit(1);
}

void must(const core::Status& s, const std::string& what) {
  if (!s) die(what + ": " + s.error().message);
}

CpuTimes cpuNow() {
  CpuTimes c;
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  rusage r{};
  ::getrusage(RUSAGE_SELF, &r);
  c.self = secs(r.ru_utime) + secs(r.ru_stime);
  ::getrusage(RUSAGE_CHILDREN, &r);
  c.children = secs(r.ru_utime) + secs(r.ru_stime);
  std::istringstream in(slurp("/proc/stat"));
  std::string cpu;
  in >> cpu;
  std::vector<double> f;
  double x = 0;
  for (int i = 0; i < 8 && in >> x; ++i) f.push_back(x);
  for (std::size_t i = 0; i < f.size(); ++i) {
    c.machineAll += f[i];
    if (i != 3 && i != 4) c.machineBusy += f[i];  // not idle, not iowait
  }
  return c;
}

// ---- cleanup: temporary directories and child processes, at exit and on SIGINT/SIGTERM ----

namespace {
std::mutex gCleanupMu;
std::vector<std::string> gTempDirs;
std::vector<pid_t> gChildren;
std::vector<std::string> gMounts;
}  // namespace

void registerMount(const std::string& mountpoint) {
  std::lock_guard lock(gCleanupMu);
  gMounts.push_back(mountpoint);
}

void cleanupAll() {
  std::vector<pid_t> kids;
  std::vector<std::string> dirs, mounts;
  {
    std::lock_guard lock(gCleanupMu);
    kids.swap(gChildren);
    dirs.swap(gTempDirs);
    mounts.swap(gMounts);
  }
  for (pid_t p : kids) ::kill(p, SIGKILL);
  for (pid_t p : kids) {
    int st = 0;
    ::waitpid(p, &st, 0);
  }
  // State filesystems first: their directories are removed below, never through a mount.
  for (const auto& m : mounts) {
    const std::string cmd =
        std::string(SASHIMONO_BINARY) + " statefs unmount --mountpoint '" + m + "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0)
      std::fprintf(stderr, "runtime_bench: unmounting %s failed\n", m.c_str());
  }
  for (const auto& d : dirs) {
    std::error_code ec;
    fs::remove_all(d, ec);
  }
}

std::string makeTempDir(const std::string& tag) {
  std::string t = (fs::temp_directory_path() / ("sashi-rtbench-" + tag + "-XXXXXX")).string();
  if (::mkdtemp(t.data()) == nullptr) die("mkdtemp: " + std::string(std::strerror(errno)));
  std::lock_guard lock(gCleanupMu);
  gTempDirs.push_back(t);
  return t;
}

void forgetChild(pid_t p) {
  std::lock_guard lock(gCleanupMu);
  gChildren.erase(std::remove(gChildren.begin(), gChildren.end(), p), gChildren.end());
}

void startSignalThread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "runtime_bench: signal %d, cleaning up\n", sig);
    cleanupAll();
    std::_Exit(130);
  }).detach();
}

std::vector<pid_t> treeOf(pid_t pid) {
  std::vector<pid_t> out{pid};
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::error_code ec;
    for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(out[i]) + "/task", ec)) {
      std::istringstream in(slurp(t.path().string() + "/children"));
      pid_t c = 0;
      while (in >> c) out.push_back(c);
    }
  }
  return out;
}

// A child process (stdout and stderr to logFile) that dies with this process; cleanupAll() kills it.
pid_t spawnChild(const std::vector<std::string>& args, const std::string& logFile) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  std::unique_lock lock(gCleanupMu);  // the pid is recorded before anyone can clean up
  pid_t pid = ::fork();
  if (pid < 0) {
    const int e = errno;
    lock.unlock();
    die("fork: " + std::string(std::strerror(e)));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    int fd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int nul = ::open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    if (nul >= 0) ::dup2(nul, 0);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  gChildren.push_back(pid);
  return pid;
}

pid_t spawnRuntime(const std::string& dir, const std::string& logFile) {
  return spawnChild({SASHIMONO_BINARY, "runtime", "--config", dir + "/instance.json", "--data", dir + "/data",
                     "--contract-fs", dir + "/fs"},
                    logFile);
}

void writeInstanceKey(const std::string& dir, const InstanceKey& key) {
  std::string priv = key.privateHex();
  int fd = ::open((dir + "/instance.key").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ::write(fd, priv.data(), priv.size()) != static_cast<ssize_t>(priv.size()))
    die("instance.key");
  ::close(fd);
}

// ---- the runtime's round times ----

std::optional<double> roundMs(std::string_view v) {
  if (v.rfind("round ", 0) != 0 || v.size() < 4 || v.substr(v.size() - 3) != " us") return std::nullopt;
  auto sp = v.rfind(' ', v.size() - 4);
  if (sp == std::string_view::npos) return std::nullopt;
  return std::strtod(std::string(v.substr(sp + 1, v.size() - 4 - sp)).c_str(), nullptr) / 1000.0;
}

std::shared_ptr<RoundSink> gRounds;
int gClientThreads = 1;

void setUpLogging() {
  const char* env = std::getenv("SASHIMONO_LOG");
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_level(env != nullptr ? spdlog::level::from_str(env) : spdlog::level::warn);
  gRounds = std::make_shared<RoundSink>();
  gRounds->set_level(spdlog::level::debug);
  auto logger = std::make_shared<spdlog::logger>("bench", spdlog::sinks_init_list{console, gRounds});
  logger->set_level(spdlog::level::debug);
  logger->set_pattern("%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_default_logger(logger);
}

// ---- an in-process instance with a bundle installed ----

std::unique_ptr<Bench> startInstance(const std::string& tag, const std::string& bundleDir) {
  auto b = std::make_unique<Bench>();
  b->dir = makeTempDir(tag);
  InstanceConfig c;
  c.contractId = "bench-" + tag;
  c.user.listen = "127.0.0.1";
  c.user.port = 0;
  c.user.tls = "off";
  c.user.maxConnections = 512;
  c.user.maxConnectionsPerHost = 512;
  auto bundle = must(packDirectory(bundleDir), "packing " + bundleDir);
  b->manifest = bundle.contract;
  b->stateDir = b->dir + "/fs/state";
  b->inst = must(Instance::create(c, b->key, b->dir + "/data", b->dir + "/fs"), "creating the instance");
  auto port = must(b->inst->start(), "starting the instance");
  b->url = "ws://127.0.0.1:" + std::to_string(port);
  b->inst->requestInstall(std::move(bundle));  // wakes an empty round that installs it
  auto end = Clock::now() + std::chrono::seconds(30);
  while (b->inst->lcl().first < 1) {
    if (Clock::now() > end) die("the instance did not install the bundle within 30 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return b;
}

// ---- the bundles ----

std::optional<std::string> makeJsBundle() {
  const std::string src = std::string(SASHIMONO_SOURCE_DIR) + "/contracts-samples/js-counter";
  const std::string lib =
      std::string(SASHIMONO_SOURCE_DIR) + "/tests/interop/node_modules/hotpocket-nodejs-contract";
  if (!fs::exists("/usr/bin/node") || !fs::exists(lib + "/index.js")) return std::nullopt;
  const std::string d = makeTempDir("js") + "/js-counter";
  fs::create_directories(d + "/node_modules/hotpocket-nodejs-contract");
  fs::copy_file(src + "/index.js", d + "/index.js");
  fs::copy_file(src + "/package.json", d + "/package.json");
  fs::copy_file(lib + "/index.js", d + "/node_modules/hotpocket-nodejs-contract/index.js");
  fs::copy_file(lib + "/package.json", d + "/node_modules/hotpocket-nodejs-contract/package.json");
  auto m = must(parseContractManifest(slurp(src + "/contract.json")), "js-counter contract.json");
  m.binPath = "/usr/bin/node";
  std::ofstream(d + "/contract.json") << renderContractManifest(m);
  return d;
}

std::string defaultEchoBundle() {
  // <build>/tests/bench_runtime_bench → <build>/contracts-samples/echo/bundle
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return (exe.parent_path().parent_path() / "contracts-samples/echo/bundle").string();
}

}  // namespace sashimono::runtime_bench
