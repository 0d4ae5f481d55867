// `sashimono runtime`: the instance runtime (run inside the instance container), and
// `sashimono dev DIR`: the same runtime on this machine for contract development.
// See docs/RUNTIME.md.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <sodium.h>
#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

#include "Command.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Config.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/InstanceKey.h"

namespace sashimono::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kRuntimeNotes =
    "\n"
    "Runs one dApp instance: the Hot Pocket user port, rounds, the ledger and the contract.\n"
    "  --config FILE       instance.json written by the host node (docs/RUNTIME.md)\n"
    "  --data DIR          the runtime's private directory (ledger, TLS key, logs)\n"
    "  --contract-fs DIR   the contract's file system (state/ and patch.cfg)\n"
    "  --no-supervisor     run the instance in this process (by default a supervisor process\n"
    "                      runs it as a child and restarts it if it dies)\n"
    "Stops on SIGTERM or SIGINT.\n";

constexpr const char* kDevNotes =
    "\n"
    "Runs the contract in DIR (a bundle directory with contract.json, docs/BUNDLE.md) as one\n"
    "instance on this machine, with the same runtime a leased instance runs. Prints the user\n"
    "endpoint, the instance key and the commands to talk to it. Press Enter (or send SIGHUP)\n"
    "to reload the contract from DIR; Ctrl-C stops. State, ledger and keys are kept in the\n"
    "workspace (default ./.sashimono-dev/<name of DIR>), so the next run continues.\n"
    "  --port N      user port (default 8081; 0 picks a free one)\n"
    "  --listen ADDR address to listen on (default 127.0.0.1)\n"
    "  --plain       ws:// instead of wss:// (self-signed certificate)\n";

void addFileLog(const std::string& dataDir, const runtime::InstanceConfig& c) {
  try {
    auto sink = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
        dataDir + "/log/runtime.log", static_cast<std::size_t>(c.logMaxBytesPerFile),
        static_cast<std::size_t>(c.logMaxFiles));
    spdlog::default_logger()->sinks().push_back(sink);
  } catch (const std::exception& e) {
    spdlog::warn("runtime log file: {}", e.what());
  }
}

sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

// Called before any thread starts, so that every thread inherits the mask and the signals
// reach waitForSignals only.
void blockStopSignals() {
  sigset_t set = stopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// Blocks until SIGINT/SIGTERM; SIGHUP and a line on stdin call `reload` (when given). Without
// `reload` it sleeps in sigwait (an idle instance wakes for nothing).
void waitForSignals(const std::function<void()>& reload) {
  sigset_t set = stopSignals();
  if (!reload) {
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig != SIGINT && sig != SIGTERM) {
    }
    return;
  }
  while (true) {
    timespec ts{0, 200 * 1000 * 1000};
    siginfo_t info{};
    int sig = sigtimedwait(&set, &info, &ts);
    if (sig == SIGINT || sig == SIGTERM) return;
    if (sig == SIGHUP) reload();
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0) {
      char buf[256];
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n > 0) reload();
    }
  }
}

// The instance itself (the supervisor's worker).
int runWorker(const std::string& config, const std::string& data, const std::string& contractFs) {
  auto cfg = runtime::loadInstanceConfig(config);
  if (!cfg) return failure("runtime", cfg.error().message);
  auto key = runtime::InstanceKey::load(cfg->keyFile);
  if (!key) return failure("runtime", key.error().message);
  spdlog::set_level(spdlog::level::from_str(cfg->logLevel));
  std::error_code ec;
  fs::create_directories(data + "/log", ec);
  addFileLog(data, *cfg);
  auto inst = runtime::Instance::create(*cfg, *key, data, contractFs);
  if (!inst) return failure("runtime", inst.error().message);
  auto port = (*inst)->start();
  if (!port) return failure("runtime", port.error().message);
  waitForSignals({});
  spdlog::info("runtime stopping");
  (*inst)->stop();
  return 0;
}

// Runs `worker` in a child process and starts it again when it dies (backoff 1 s doubling to
// 30 s, reset after a minute of running); SIGTERM/SIGINT are passed on and end both. In a
// container the supervisor is process 1, so a crashed runtime comes back without the host.
int supervise(const std::function<int()>& worker) {
  std::chrono::seconds backoff(1);
  {
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, nullptr);  // taken by sigwait below
  }
  while (true) {
    const auto started = std::chrono::steady_clock::now();
    const pid_t self = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) return failure("runtime", std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
      sigset_t chld;
      sigemptyset(&chld);
      sigaddset(&chld, SIGCHLD);
      pthread_sigmask(SIG_UNBLOCK, &chld, nullptr);
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != self) _exit(1);  // the supervisor died before prctl
      std::exit(worker());
    }
    sigset_t set = stopSignals();
    sigaddset(&set, SIGCHLD);
    int status = 0;
    while (true) {
      int sig = 0;
      if (sigwait(&set, &sig) != 0) continue;
      if (sig == SIGINT || sig == SIGTERM) {
        ::kill(pid, sig);
        ::waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
      }
      if (sig == SIGCHLD && ::waitpid(pid, &status, WNOHANG) == pid) break;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
    if (std::chrono::steady_clock::now() - started > std::chrono::minutes(1))
      backoff = std::chrono::seconds(1);
    spdlog::error("runtime worker {} ended ({} {}); starting it again in {} s", pid,
                  WIFSIGNALED(status) ? "signal" : "exit code",
                  WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), backoff.count());
    timespec wait{static_cast<time_t>(backoff.count()), 0};
    int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig == SIGINT || sig == SIGTERM) return 0;
    backoff = std::min(backoff * 2, std::chrono::seconds(30));
  }
}

int runRuntime(const std::vector<std::string>& args) {
  std::string config, data, contractFs;
  bool noSupervisor = false;
  auto start = [&](const std::vector<std::string>&) {
    if (config.empty() || data.empty() || contractFs.empty())
      return usageError("runtime", "--config, --data and --contract-fs are required");
    blockStopSignals();
    if (noSupervisor) return runWorker(config, data, contractFs);
    return supervise([&] { return runWorker(config, data, contractFs); });
  };
  const CommandSpec spec{
      .name = "runtime",
      .verbs = {{.name = "",
                 .synopsis = "--config FILE --data DIR --contract-fs DIR [--no-supervisor]",
                 .run = start}},
      .options =
          {
              {"--config", true, setString(config)},
              {"--data", true, setString(data)},
              {"--contract-fs", true, setString(contractFs)},
              {"--no-supervisor", false, setFlag(noSupervisor)},
          },
      .notes = kRuntimeNotes,
  };
  return dispatchVerb(spec, args);
}

core::Status writeSecretFile(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return core::Error::fromErrno("creating " + path);
  std::string line = text + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  sodium_memzero(line.data(), line.size());
  ::close(fd);
  if (!ok) return core::Error::fromErrno("writing " + path);
  return {};
}

core::Result<runtime::InstanceKey> keyIn(const std::string& path) {
  if (!fs::exists(path)) {
    auto k = runtime::InstanceKey::generate();
    auto text = k.privateHex();
    auto st = writeSecretFile(path, text);
    sodium_memzero(text.data(), text.size());
    if (!st) return st.error();
  }
  return runtime::InstanceKey::load(path);
}

struct DevArgs {
  std::string dir;
  std::string workspace;
  std::string listen = "127.0.0.1";
  std::uint64_t port = 8081;
  bool plain = false;
};

int dev(DevArgs a) {
  const std::string& dir = a.dir;
  std::string& workspace = a.workspace;
  const std::string& listen = a.listen;
  const auto port = static_cast<std::uint16_t>(a.port);
  const bool plain = a.plain;
  blockStopSignals();
  std::error_code ec;
  auto absDir = fs::canonical(dir, ec);
  if (ec) return failure("dev", dir + ": " + ec.message());
  auto bundle = runtime::packDirectory(absDir.string());
  if (!bundle) return failure("dev", bundle.error().message);
  if (workspace.empty()) workspace = (fs::current_path() / ".sashimono-dev" / absDir.filename()).string();
  fs::create_directories(workspace, ec);
  if (ec) return failure("dev", workspace + ": " + ec.message());
  ::chmod(workspace.c_str(), 0700);
  auto key = keyIn(workspace + "/instance.key");
  if (!key) return failure("dev", key.error().message);
  auto user = keyIn(workspace + "/user.key");
  if (!user) return failure("dev", user.error().message);
  runtime::InstanceConfig cfg;
  cfg.contractId = "dev-" + absDir.filename().string();
  cfg.owner = user->publicKey();
  cfg.keyFile = workspace + "/instance.key";
  cfg.user.listen = listen;
  cfg.user.port = port;
  cfg.user.tls = plain ? "off" : "self-signed";
  cfg.roundLimits.execTimeoutMs = 60000;
  {
    std::ofstream out(workspace + "/instance.json");
    out << runtime::renderInstanceConfig(cfg);
  }
  addFileLog(workspace + "/data", cfg);
  fs::create_directories(workspace + "/data/log", ec);
  auto inst = runtime::Instance::create(cfg, *key, workspace + "/data", workspace + "/fs");
  if (!inst) return failure("dev", inst.error().message);
  (*inst)->requestInstall(*bundle);
  auto bound = (*inst)->start();
  if (!bound) return failure("dev", bound.error().message);
  std::string host = listen == "0.0.0.0" ? "127.0.0.1" : listen;
  std::string url = std::string(plain ? "ws://" : "wss://") + host + ":" + std::to_string(*bound);
  std::cout << "sashimono dev: contract " << absDir.string() << " (version " << bundle->contract.version
            << ")\n"
            << "  user endpoint   " << url << "\n"
            << "  instance key    " << key->publicHex() << "\n"
            << "  contract id     " << cfg.contractId << "\n"
            << "  your user key   " << workspace << "/user.key (public " << user->publicHex() << ")\n"
            << "  workspace       " << workspace << " (state in fs/state, logs in data/log)\n\n"
            << "Talk to it:\n"
            << "  sashimono instance input --url " << url << " --key-file " << workspace
            << "/user.key \"hello\"\n"
            << "  sashimono instance read  --url " << url << " --key-file " << workspace
            << "/user.key \"get\"\n"
            << "  sashimono instance stat  --url " << url << "\n\n"
            << "Press Enter (or kill -HUP " << ::getpid() << ") to reload the contract from "
            << absDir.string() << "; Ctrl-C stops.\n"
            << std::flush;
  waitForSignals([&] {
    auto b = runtime::packDirectory(absDir.string());
    if (!b) {
      std::cout << "sashimono dev: reload failed: " << b.error().message << "\n" << std::flush;
      return;
    }
    (*inst)->requestInstall(*b);
    std::cout << "sashimono dev: reloading version " << b->contract.version << "\n" << std::flush;
  });
  (*inst)->stop();
  return 0;
}

int runDev(const std::vector<std::string>& args) {
  DevArgs a;
  const CommandSpec spec{
      .name = "dev",
      .verbs = {{.name = "",
                 .args = exactlyOne("DIR (the contract directory)"),
                 .synopsis = "DIR [--workspace DIR] [--port N] [--listen ADDR] [--plain]",
                 .run =
                     [&a](const std::vector<std::string>& pos) {
                       a.dir = pos[0];
                       return dev(a);
                     }}},
      .options =
          {
              {"--workspace", true, setString(a.workspace)},
              {"--port", true, setNumber(a.port, 0, 65535)},
              {"--listen", true, setString(a.listen)},
              {"--plain", false, setFlag(a.plain)},
          },
      .notes = kDevNotes,
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar kRuntimeReg{{"runtime", "run a dApp instance (inside its container)", &runRuntime}};
const CommandRegistrar kDevReg{{"dev", "run a contract directory as a local instance", &runDev}};

}  // namespace

}  // namespace sashimono::cli
