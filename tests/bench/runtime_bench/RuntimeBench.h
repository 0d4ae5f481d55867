#pragma once
// What the parts of bench_runtime_bench (tests/bench/runtime_bench.cpp, which documents the
// measurements) share: small helpers, the cleanup of temporary directories and child processes,
// the runtime's round times captured from its log, an in-process instance, and each part's
// measurement with its results.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <spdlog/sinks/base_sink.h>

#include "bench/BenchUtil.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/UserClient.h"

namespace sashimono::runtime_bench {

using namespace sashimono::runtime;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// ---- small helpers (RuntimeBench.cpp) ----

using bench::ms;
using bench::pct;
using bench::slurp;
std::string loadAvg();
[[noreturn]] void die(const std::string& what);

template <typename T>
T must(core::Result<T> r, const std::string& what) {
  if (!r) die(what + ": " + r.error().message);
  return std::move(*r);
}

void must(const core::Status& s, const std::string& what);

// CPU seconds of this process and of its reaped children (the contracts, through their inits).
struct CpuTimes {
  double self = 0, children = 0;
  double machineBusy = 0, machineAll = 0;  // /proc/stat jiffies
};

CpuTimes cpuNow();

// ---- cleanup: temporary directories and child processes, at exit and on SIGINT/SIGTERM ----

void cleanupAll();
std::string makeTempDir(const std::string& tag);
void forgetChild(pid_t p);
// SIGINT/SIGTERM are blocked in every thread; this thread takes them and cleans up.
void startSignalThread();
// pid and its descendants (`sashimono runtime` is a supervisor with the instance in a worker
// child; both are the instance's cost).
std::vector<pid_t> treeOf(pid_t pid);
// A child process (stdout and stderr to logFile) that dies with this process; cleanupAll() kills it.
pid_t spawnChild(const std::vector<std::string>& args, const std::string& logFile);
// `sashimono runtime` over <dir>/instance.json, <dir>/data and <dir>/fs (see spawnChild).
pid_t spawnRuntime(const std::string& dir, const std::string& logFile);
// A state filesystem mounted at `mountpoint`: unmounted at exit, before temporary directories go.
void registerMount(const std::string& mountpoint);
// <dir>/instance.key: the instance's private key, as `sashimono runtime` reads it.
void writeInstanceKey(const std::string& dir, const InstanceKey& key);

// ---- the runtime's round times (its debug line "round N: … , T us"), captured in-process ----

// "round N: … , T us" → T in ms.
std::optional<double> roundMs(std::string_view v);

class RoundSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<double> takeMs() {
    std::lock_guard lock(base_sink<std::mutex>::mutex_);
    std::vector<double> out;
    out.swap(ms_);
    return out;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& m) override {
    if (m.level != spdlog::level::debug) return;
    if (auto t = roundMs(std::string_view(m.payload.data(), m.payload.size()))) ms_.push_back(*t);
  }
  void flush_() override {}

 private:
  std::vector<double> ms_;
};

extern std::shared_ptr<RoundSink> gRounds;
extern int gClientThreads;  // I/O threads of the pipelined users (--client-threads)

void setUpLogging();

// ---- an in-process instance with a bundle installed ----

struct Bench {
  std::string dir;
  InstanceKey key = InstanceKey::generate();
  std::unique_ptr<Instance> inst;
  std::string url;
  std::string stateDir;
  ContractManifest manifest;
};

std::unique_ptr<Bench> startInstance(const std::string& tag, const std::string& bundleDir);

// ---- part 1: latency (Latency.cpp) ----

struct Latency {
  std::string name;
  std::vector<double> ours, exec, floor, rounds;
  std::string load0, load1;
};

Latency measureLatency(const std::string& name, const std::string& tag, const std::string& bundleDir,
                       const std::string& input, const std::string& expect, int warmup, int samples);

// The per-round durable commit on the same file system, alone.
std::vector<double> measureLedgerAppend(int n);

// ---- part 2: throughput (Throughput.cpp) ----

// Where part 2 sends its inputs: the in-process instance, or (--runtime-process) a separate
// `sashimono runtime` process, whose own CPU time is then measured apart from the clients'.
struct Target {
  std::string url;
  pid_t pid = 0;
  std::unique_ptr<Bench> bench;
  std::unique_ptr<UserClient> control;  // runtime process: asks for the lcl
  std::mutex controlMu;
  std::string dir;
  std::string log;          // runtime process: its stdout/stderr (log level debug)
  std::size_t logSeen = 0;  // bytes of it already read for round times

  // The round times logged since the last call (runtime process), or captured in-process.
  std::vector<double> takeRounds() {
    if (pid == 0) return gRounds->takeMs();
    std::string text = slurp(log);
    std::vector<double> out;
    std::istringstream in(text.substr(std::min(logSeen, text.size())));
    logSeen = text.size();
    std::string line;
    while (std::getline(in, line)) {
      auto at = line.find("debug round ");  // core::initLogging's pattern: "<time> debug round …"
      if (at == std::string::npos) continue;
      if (auto t = roundMs(std::string_view(line).substr(at + 6))) out.push_back(*t);
    }
    return out;
  }

  std::uint64_t lcl() {
    if (bench) return bench->inst->lcl().first;
    std::lock_guard lock(controlMu);
    return must(control->lcl(), "lcl").first;
  }
  // utime+stime and cutime+cstime (the contracts) of the runtime process, in seconds.
  // Summed over the supervisor and its worker.
  [[nodiscard]] std::pair<double, double> cpu() const {
    if (pid == 0) return {0, 0};
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::pair<double, double> sum{0, 0};
    for (pid_t p : treeOf(pid)) {
      std::string stat = slurp("/proc/" + std::to_string(p) + "/stat");
      auto rp = stat.rfind(')');
      if (rp == std::string::npos) continue;
      std::istringstream in(stat.substr(rp + 2));
      std::vector<std::string> f;
      std::string x;
      while (in >> x) f.push_back(x);
      if (f.size() < 15) continue;
      sum.first += (std::stod(f[11]) + std::stod(f[12])) / tick;
      sum.second += (std::stod(f[13]) + std::stod(f[14])) / tick;
    }
    return sum;
  }
  void stop() {
    control.reset();
    if (bench) bench->inst->stop();
    if (pid != 0) {
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
      forgetChild(pid);
      pid = 0;
    }
  }
};

std::unique_ptr<Target> inProcessTarget(const std::string& bundleDir);
std::unique_ptr<Target> runtimeProcessTarget(const std::string& bundleDir);

struct Rate {
  std::uint64_t n = 0;
  double seconds = 0;
  double rate = 0;
  double cpuSelf = 0, cpuChildren = 0, machineBusyPct = 0;
  double cpuServer = 0, cpuServerChildren = 0;  // --runtime-process only
  std::uint64_t ledgers = 0;
  std::vector<double> rounds;
};

struct Throughput {
  int users = 0, window = 0;
  Rate oneInputs, oneStats, pipeInputs, pipeStats;
  std::string load0, load1;
};

Throughput measureThroughput(Target& target, int users, int window, double seconds);

// ---- part 3: idle instances (Idle.cpp) ----

struct ProcSample {
  double cpuTicks = 0;  // utime + stime
  double runNs = 0;     // sum over threads of schedstat run time
  double ctxSwitches = 0;
  double rssKiB = 0, pssKiB = 0;
  double threads = 0;
};

struct Idle {
  int n = 0;
  double seconds = 0;
  ProcSample ours0, ours1, base0, base1;
  double startupS = 0;
  double procsPerInstance = 0;
  std::string load0, load1;
};

Idle measureIdle(int n, double settleS, double windowS);

// ---- part 4: clusters (Cluster.cpp) ----

struct ClusterOptions {
  int warmup = 30, samples = 300;
  int users = 16, window = 8;  // the pipelined users, all on the first member
  double seconds = 5;          // counted, after 1 s of warm-up
  std::vector<int> sizes{3, 5};
  int delayedMembers = 3;
  double delayMs = 50;  // one way, between every two members; 0: no delayed cluster
  // Every instance's state on a state filesystem with its undo log (`sashimono statefs mount
  // --undo`, as in a tenant; needs root or FUSE rights) instead of a local directory: members then
  // run a plan while its votes travel (docs/CLUSTER.md, "Agreement").
  bool statefs = false;
};

// One configuration: a lone instance, or a cluster of `members` (`delayMs` between them).
struct ClusterRun {
  std::string name;
  int members = 1;
  std::size_t threshold = 1;
  double delayMs = 0;
  double oneWayMs = 0;                         // what a hop through the relay added, measured (delayMs > 0)
  std::vector<double> latency;                 // input → verified output (ms), one user, sequential
  std::vector<double> entryLeads, otherLeads;  // the same, split by the round's leader (view 0)
  double cpuMsPerInput = 0;                    // sequential: runtimes + contracts, every member
  double busyPct = 0;                          // sequential: the machine, /proc/stat
  std::vector<double> round, run, agreed;      // the first member's rounds: all, execution, agree+store
  Rate rate;                                   // the pipelined users; cpuServer*: all members
  std::string load0, load1;
};

std::vector<ClusterRun> measureClusters(const std::string& bundleDir, const ClusterOptions& o);

// ---- the bundles (RuntimeBench.cpp) ----

// The JavaScript echo bundle: js-counter with the contract library from tests/interop; nullopt
// without node or the library.
std::optional<std::string> makeJsBundle();
// <build>/contracts-samples/echo/bundle, beside this program's build directory.
std::string defaultEchoBundle();

}  // namespace sashimono::runtime_bench
