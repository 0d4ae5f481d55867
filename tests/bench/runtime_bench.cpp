// Instance runtime benchmark: what a user of one dApp instance waits for and what idle instances
// cost, each beside a floor measured in the same run, printed as ratios (docs/PERFORMANCE.md).
//
//   1. latency: input → output over the user protocol (UserClient, plain ws on loopback, one user,
//      sequential inputs) for the C++ echo sample and the JavaScript echo (js-counter, "echo hi"),
//      each on an in-process runtime::Instance. Beside it, alternating sample by sample: the
//      floor (the same binary spawned with posix_spawn, same argv/cwd/env, a minimal Hot Pocket
//      stdin with no users, waited for) and the executor alone (runtime::execute with one user
//      and one input, as a round runs it).
//   2. throughput: 64 users sending inputs to the C++ echo at once, (a) with UserClient, each
//      user on its own thread (send, then await: one input in flight per user), and (b)
//      pipelined: each user keeps --window inputs in flight on its connection, all users driven
//      by --client-threads shared I/O threads (default 1). Beside each, the rate of `stat` round
//      trips over the same 64 connections with the same number in flight.
//   3. idle: 50 `sashimono runtime` instances (no contract deployed, plain ws, port 0; each a
//      supervisor process and its worker, both counted) beside 50 `sleep` processes, alive at the
//      same time: CPU over a window (utime+stime from /proc/PID/stat, and the threads' schedstat
//      run time), context switches, RSS and PSS (smaps_rollup).
//
//   bench_runtime_bench [--part all|latency|throughput|idle] [--samples 300] [--warmup 30]
//                       [--users 64] [--window 8] [--seconds 10] [--instances 50] [--idle-seconds 10]
//                       [--settle-seconds 5] [--echo-bundle DIR] [--no-js] [--runtime-process]
//                       [--client-threads 1]
//   --runtime-process: part 2 talks to a separate `sashimono runtime` process (the bundle deployed
//   by its owner over the user protocol), so that the runtime's CPU is measured apart from the
//   clients'.
//   SASHIMONO_LOG=info|debug shows the runtime's own log (warnings otherwise).
//
// Goals (the runtime issue): C++ echo p50 ≤ 20 ms and ≤ floor + 10 ms; ≥ 5,000 inputs/s with 64
// users; 50 idle instances together < 2 % of one core. Missed goals are printed, not failed: the
// exit status is non-zero only on errors. Temporary directories are removed and every child
// process is killed at exit, also on SIGINT/SIGTERM (children also get PR_SET_PDEATHSIG).
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "sashimono/crypto/Keys.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Codec.h"
#include "sashimono/runtime/Config.h"
#include "sashimono/runtime/Executor.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/UserClient.h"
#include "sashimono/runtime/UserMessages.h"

using namespace sashimono;
using namespace sashimono::runtime;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

// ---- small helpers ----

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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

template <typename T>
T must(core::Result<T> r, const std::string& what) {
  if (!r) die(what + ": " + r.error().message);
  return std::move(*r);
}

void must(const core::Status& s, const std::string& what) {
  if (!s) die(what + ": " + s.error().message);
}

// ---- cleanup: temporary directories and child processes, at exit and on SIGINT/SIGTERM ----

std::mutex gCleanupMu;
std::vector<std::string> gTempDirs;
std::vector<pid_t> gChildren;

void cleanupAll() {
  std::vector<pid_t> kids;
  std::vector<std::string> dirs;
  {
    std::lock_guard lock(gCleanupMu);
    kids.swap(gChildren);
    dirs.swap(gTempDirs);
  }
  for (pid_t p : kids) ::kill(p, SIGKILL);
  for (pid_t p : kids) {
    int st = 0;
    ::waitpid(p, &st, 0);
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

// SIGINT/SIGTERM are blocked in every thread; this thread takes them and cleans up.
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

// pid and its descendants (`sashimono runtime` is a supervisor with the instance in a worker
// child; both are the instance's cost).
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

// ---- the runtime's round times (its debug line "round N: … , T us"), captured in-process ----

// "round N: … , T us" → T in ms.
std::optional<double> roundMs(std::string_view v) {
  if (v.rfind("round ", 0) != 0 || v.size() < 4 || v.substr(v.size() - 3) != " us") return std::nullopt;
  auto sp = v.rfind(' ', v.size() - 4);
  if (sp == std::string_view::npos) return std::nullopt;
  return std::strtod(std::string(v.substr(sp + 1, v.size() - 4 - sp)).c_str(), nullptr) / 1000.0;
}

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

std::shared_ptr<RoundSink> gRounds;
int gClientThreads = 1;  // I/O threads of the pipelined users (--client-threads)

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

struct Bench {
  std::string dir;
  InstanceKey key = InstanceKey::generate();
  std::unique_ptr<Instance> inst;
  std::string url;
  std::string stateDir;
  ContractManifest manifest;
};

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

// ---- the floor: the contract spawned once with no users ----

std::string minimalStdin(const Bench& b) {
  const std::string pk = b.key.publicHex();
  return R"({"hp_version":"0.6.4","contract_id":"bench","public_key":")" + pk +
         R"(","private_key":"","timestamp":)" + std::to_string(nowMs()) +
         R"(,"readonly":false,"lcl_seq_no":1,"lcl_hash":")" + std::string(64, '0') +
         R"(","npl_fd":5,"control_fd":3,"user_in_fd":4,"users":{},"unl":{")" + pk + R"(":{"active_on":0}}})";
}

class Floor {
 public:
  explicit Floor(const Bench& b) : cwd_(b.stateDir) {
    path_ = b.manifest.binPath;
    argvStore_.push_back(b.manifest.binPath);
    for (auto& a : splitBinArgs(b.manifest.binArgs)) argvStore_.push_back(a);
    for (auto& [k, v] : b.manifest.environment) envStore_.push_back(k + "=" + v);
    for (auto& s : argvStore_) argv_.push_back(s.data());
    argv_.push_back(nullptr);
    for (auto& s : envStore_) env_.push_back(s.data());
    env_.push_back(nullptr);
    stdin_ = ::memfd_create("floor-stdin", MFD_CLOEXEC);
    std::string doc = minimalStdin(b);
    if (stdin_ < 0 || ::write(stdin_, doc.data(), doc.size()) != static_cast<ssize_t>(doc.size()))
      die("floor stdin memfd");
  }
  ~Floor() { ::close(stdin_); }

  // ms from posix_spawn to the exit being reaped; dies on a failed run.
  double runOnce() {
    ::lseek(stdin_, 0, SEEK_SET);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, stdin_, 0);
    for (int fd = 1; fd <= 5; ++fd) posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_RDWR, 0);
    posix_spawn_file_actions_addchdir_np(&fa, cwd_.c_str());
    const auto t0 = Clock::now();
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, path_.c_str(), &fa, nullptr, argv_.data(), env_.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) die("floor: posix_spawn " + path_ + ": " + std::strerror(rc));
    int st = 0;
    while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    const double t = ms(Clock::now() - t0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
      die("floor: " + path_ + " failed (status " + std::to_string(st) + ")");
    return t;
  }

 private:
  std::string cwd_, path_;
  std::vector<std::string> argvStore_, envStore_;
  std::vector<char*> argv_, env_;
  int stdin_ = -1;
};

// ---- the executor alone: one round's execution with one user and one input ----

double executorOnce(const Bench& b, const std::string& input, const std::string& expect) {
  ExecRequest r;
  r.binPath = b.manifest.binPath;
  r.binArgs = splitBinArgs(b.manifest.binArgs);
  r.env = b.manifest.environment;
  r.cwd = b.stateDir;
  r.contractId = "bench";
  r.publicKeyHex = b.key.publicHex();
  r.timestamp = nowMs();
  r.lclSeqNo = 1;
  r.lclHashHex = std::string(64, '0');
  auto user = InstanceKey::generate();
  r.users.push_back(ExecUser{user.publicHex(), {core::Bytes(input.begin(), input.end())}});
  r.unl.emplace_back(b.key.publicHex(), 0);
  const auto t0 = Clock::now();
  auto res = must(execute(r), "executor");
  const double t = ms(Clock::now() - t0);
  if (res.exitCode != 0 || res.outputs.size() != 1 || res.outputs[0].second.size() != 1 ||
      core::asString(res.outputs[0].second[0]).find(expect) == std::string::npos)
    die("executor: unexpected result (exit " + std::to_string(res.exitCode) + ")");
  return t;
}

// ---- part 1: latency ----

struct Latency {
  std::string name;
  std::vector<double> ours, exec, floor, rounds;
  std::string load0, load1;
};

Latency measureLatency(const std::string& name, const std::string& tag, const std::string& bundleDir,
                       const std::string& input, const std::string& expect, int warmup, int samples) {
  Latency L;
  L.name = name;
  auto b = startInstance(tag, bundleDir);
  auto user = InstanceKey::generate();
  auto client = must(UserClient::connect(b->url, user), "connecting to the instance");
  Floor floor(*b);
  std::uint64_t seq = must(client->lcl(), "lcl").first;
  const core::Bytes in(input.begin(), input.end());
  L.load0 = loadAvg();
  std::printf("  %s: %d warm-up + %d samples (ours, executor alone, floor alternating), load %s\n",
              name.c_str(), warmup, samples, L.load0.c_str());
  std::fflush(stdout);
  for (int i = 0; i < warmup + samples; ++i) {
    if (i == warmup) (void)gRounds->takeMs();
    const auto t0 = Clock::now();
    auto h = must(client->send(in, client->nextNonce(), seq + 10), "send");
    auto out = must(client->await(h), "await");
    const double t = ms(Clock::now() - t0);
    if (out.status != "accepted") die(name + ": input " + out.status + " " + out.reason);
    if (out.outputs.size() != 1 || core::asString(out.outputs[0]).find(expect) == std::string::npos)
      die(name + ": unexpected output");
    if (!out.verified) die(name + ": the output proof did not verify");
    seq = out.ledgerSeqNo;
    const double e = executorOnce(*b, input, expect);
    const double f = floor.runOnce();
    if (i >= warmup) {
      L.ours.push_back(t);
      L.exec.push_back(e);
      L.floor.push_back(f);
    }
  }
  L.rounds = gRounds->takeMs();
  L.load1 = loadAvg();
  client.reset();
  b->inst->stop();
  return L;
}

// ---- part 2: throughput ----

// CPU seconds of this process and of its reaped children (the contracts, through their inits).
struct CpuTimes {
  double self = 0, children = 0;
  double machineBusy = 0, machineAll = 0;  // /proc/stat jiffies
};

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

// One user of the Hot Pocket user protocol (BSON), driven entirely from its WebSocket client's
// I/O callbacks, that keeps `window` requests in flight: contract inputs (each output proof is
// checked, as UserClient does) or stat requests. UserClient needs a thread per user to block in
// await(); this needs none.
class PipeUser {
 public:
  static std::unique_ptr<PipeUser> connect(const std::string& url, std::uint64_t lcl,
                                           net::ClientContext* context) {
    std::unique_ptr<PipeUser> u(new PipeUser());
    u->seq_ = lcl;
    u->nonce_ = nowMs();
    net::ClientOptions o;
    o.binaryFrames = true;
    o.context = context;
    PipeUser* raw = u.get();
    o.onMessage = [raw](std::string&& m) { raw->onMessage(std::move(m)); };
    auto ws = must(net::WsClient::connect(url, o), "connecting a pipelined user");
    std::vector<std::string> early;
    {
      std::lock_guard lock(u->mu_);  // the challenge may have arrived before connect() returned
      u->ws_ = std::move(ws);
      early.swap(u->early_);
    }
    for (auto& m : early) u->handshake(m);
    std::unique_lock lock(u->mu_);
    if (!u->cv_.wait_for(lock, std::chrono::seconds(15), [&] { return u->ready_ || !u->error_.empty(); }))
      die("pipelined user: no handshake within 15 s");
    if (!u->error_.empty()) die("pipelined user: " + u->error_);
    return u;
  }
  ~PipeUser() {
    if (ws_) ws_->close(std::chrono::milliseconds(500));
  }

  // Starts keeping `window` requests in flight; `count` decides whether completions are counted.
  void run(bool inputs, int window, std::atomic<bool>* count, std::atomic<std::uint64_t>* done) {
    {
      std::lock_guard lock(mu_);
      inputs_ = inputs;
      count_ = count;
      done_ = done;
      running_ = true;
    }
    for (int i = 0; i < window; ++i) sendOne();
  }
  // Stops sending and waits until nothing is in flight.
  void drain() {
    std::unique_lock lock(mu_);
    running_ = false;
    if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return inFlight_ == 0 || !error_.empty(); }))
      die("pipelined user: requests still in flight 30 s after the end");
    if (!error_.empty()) die("pipelined user: " + error_);
  }
  [[nodiscard]] std::string error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  PipeUser() = default;

  static const std::string* str(const Value& v, std::string_view k) {
    const Value* f = v.find(k);
    return f != nullptr && f->isString() ? &f->asString() : nullptr;
  }

  void fail(std::string e) {
    {
      std::lock_guard lock(mu_);
      if (error_.empty()) error_ = std::move(e);
    }
    cv_.notify_all();
  }

  void sendOne() {
    std::string msg;
    {
      std::lock_guard lock(mu_);
      ++inFlight_;
      if (!inputs_) {
        Object o;
        o.emplace_back("type", Value("stat"));
        msg = renderBson(Value(std::move(o)));
      } else {
        const std::string text = "tput";
        Object container;
        container.emplace_back("input", Value::binary(core::asBytes(text)));
        container.emplace_back("nonce", Value::uint(++nonce_));
        container.emplace_back("max_ledger_seq_no", Value::uint(seq_ + 10));
        const std::string bytes = renderBson(Value(std::move(container)));
        Object o;
        o.emplace_back("type", Value("contract_input"));
        o.emplace_back("input_container", Value::binary(core::asBytes(bytes)));
        o.emplace_back("sig", Value::binary(user_.sign(core::asBytes(bytes))));
        msg = renderBson(Value(std::move(o)));
      }
    }
    if (auto st = ws_->send(std::move(msg)); !st) fail("send: " + st.error().message);
  }

  void completed() {
    bool again = false;
    {
      std::lock_guard lock(mu_);
      --inFlight_;
      if (count_ != nullptr && count_->load()) done_->fetch_add(1);
      again = running_;
    }
    if (again)
      sendOne();
    else
      cv_.notify_all();
  }

  void onMessage(std::string&& m) {
    if (!ready_) {
      {
        std::lock_guard lock(mu_);
        if (!ws_) {
          early_.push_back(std::move(m));
          return;
        }
      }
      handshake(m);
      return;
    }
    auto v = parseBson(core::asBytes(m), ParseLimits{64, m.size() + 1});
    if (!v) return fail("a message from the server: " + v.error().message);
    const std::string* type = str(*v, "type");
    if (type == nullptr) return;
    if (*type == "stat_response") {
      completed();
    } else if (*type == "contract_input_status") {
      const std::string* status = str(*v, "status");
      if (status == nullptr || *status != "accepted") {
        const std::string* reason = str(*v, "reason");
        return fail("input rejected: " + (reason != nullptr ? *reason : std::string("?")));
      }
      if (const Value* s = v->find("ledger_seq_no"); s != nullptr && s->isInt()) {
        std::lock_guard lock(mu_);
        seq_ = std::max(seq_, static_cast<std::uint64_t>(s->asInt()));
      }
      completed();
    } else if (*type == "ledger_event") {
      const Value* l = v->find("ledger");
      const Value* s = l != nullptr ? l->find("seq_no") : nullptr;
      if (s != nullptr && s->isInt()) {
        std::lock_guard lock(mu_);
        seq_ = std::max(seq_, static_cast<std::uint64_t>(s->asInt()));
      }
    } else if (*type == "contract_output") {
      std::vector<core::Bytes> outs;
      if (const Value* o = v->find("outputs"); o != nullptr && o->isArray())
        for (const auto& e : o->asArray())
          if (e.isBinary()) outs.push_back(e.asBinary());
      if (!verifyOutputProof(user_.publicKey(), outs, *v, {server_})) fail("an output proof did not verify");
    }
  }

  void handshake(const std::string& m) {
    auto v = parseJson(m);
    if (!v || !v->isObject()) return fail("handshake: not JSON");
    const std::string* type = str(*v, "type");
    if (type != nullptr && *type == "user_challenge" && str(*v, "challenge") != nullptr) {
      contractId_ = str(*v, "contract_id") != nullptr ? *str(*v, "contract_id") : "";
      contractVersion_ = str(*v, "contract_version") != nullptr ? *str(*v, "contract_version") : "";
      Object r;
      r.emplace_back("type", Value("user_challenge_response"));
      r.emplace_back("sig", Value(core::toHexLower(user_.sign(core::asBytes(*str(*v, "challenge"))))));
      r.emplace_back("pubkey", Value(user_.publicHex()));
      r.emplace_back("server_challenge", Value(serverChallenge_));
      r.emplace_back("protocol", Value("bson"));
      if (auto st = ws_->send(renderJson(Value(std::move(r)))); !st) fail("handshake: " + st.error().message);
      return;
    }
    if (type != nullptr && *type == "server_challenge_response") {
      auto pk = str(*v, "pubkey") != nullptr ? parseHexKey(*str(*v, "pubkey")) : core::Error("no pubkey");
      auto sig = str(*v, "sig") != nullptr ? core::fromHex(*str(*v, "sig")) : core::Error("no sig");
      const std::string signedText = serverChallenge_ + contractId_ + contractVersion_;
      if (!pk || !sig || !crypto::verify(*pk, core::asBytes(signedText), *sig).ok())
        return fail("handshake: the server's signature does not verify");
      server_ = *pk;
      Object sub;
      sub.emplace_back("type", Value("subscription"));
      sub.emplace_back("channel", Value("ledger_event"));
      sub.emplace_back("enabled", Value(true));
      if (auto st = ws_->send(renderBson(Value(std::move(sub)))); !st)
        return fail("subscribing: " + st.error().message);
      {
        std::lock_guard lock(mu_);
        ready_ = true;
      }
      cv_.notify_all();
      return;
    }
    fail("handshake: unexpected message");
  }

  std::unique_ptr<net::WsClient> ws_;
  InstanceKey user_ = InstanceKey::generate();
  PubKey server_{};
  std::string serverChallenge_ = "bench" + std::to_string(nowMs());
  std::string contractId_, contractVersion_;
  std::vector<std::string> early_;  // handshake messages that came before ws_ was set
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> ready_{false};
  std::string error_;
  bool inputs_ = false, running_ = false;
  int inFlight_ = 0;
  std::uint64_t seq_ = 0, nonce_ = 0;
  std::atomic<bool>* count_ = nullptr;
  std::atomic<std::uint64_t>* done_ = nullptr;
};

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

std::unique_ptr<Target> inProcessTarget(const std::string& bundleDir) {
  auto t = std::make_unique<Target>();
  t->bench = startInstance("tput", bundleDir);
  t->url = t->bench->url;
  return t;
}

std::unique_ptr<Target> runtimeProcessTarget(const std::string& bundleDir) {
  auto t = std::make_unique<Target>();
  t->dir = makeTempDir("proc");
  const std::string& d = t->dir;
  fs::create_directories(d + "/data");
  fs::create_directories(d + "/fs");
  auto key = InstanceKey::generate();
  auto owner = InstanceKey::generate();
  {
    std::string priv = key.privateHex();
    int fd = ::open((d + "/instance.key").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 || ::write(fd, priv.data(), priv.size()) != static_cast<ssize_t>(priv.size()))
      die("instance.key");
    ::close(fd);
  }
  InstanceConfig c;
  c.contractId = "bench-proc";
  c.logLevel = "debug";  // one line per round: its duration
  c.owner = owner.publicKey();
  c.keyFile = d + "/instance.key";
  c.user.listen = "127.0.0.1";
  c.user.port = 0;
  c.user.tls = "off";
  c.user.maxConnections = 512;
  c.user.maxConnectionsPerHost = 512;
  std::ofstream(d + "/instance.json") << renderInstanceConfig(c);
  t->log = d + "/out.log";
  const std::string& log = t->log;
  t->pid = spawnChild({SASHIMONO_BINARY, "runtime", "--config", d + "/instance.json", "--data", d + "/data",
                       "--contract-fs", d + "/fs"},
                      log);
  const auto end = Clock::now() + std::chrono::seconds(30);
  std::size_t at = std::string::npos;
  std::string text;
  while ((at = (text = slurp(log)).find("user port ws ")) == std::string::npos) {
    if (Clock::now() > end) die("the runtime process did not open its port: " + text);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  t->url = "ws://127.0.0.1:" + std::to_string(std::atoi(text.c_str() + at + 13));
  // Deployed as its owner would: a bundle input.
  t->control = must(UserClient::connect(t->url, owner), "connecting as the owner");
  auto bundle = must(packDirectory(bundleDir), "packing " + bundleDir);
  auto archive = must(writeBundle(bundle), "writing the bundle");
  core::Bytes input(kBundleInputPrefix.begin(), kBundleInputPrefix.end());
  input.insert(input.end(), archive.begin(), archive.end());
  auto out = must(t->control->submit(input), "deploying");
  if (out.status != "accepted" || out.outputs.empty() ||
      core::asString(out.outputs[0]).find("deployed version") == std::string::npos)
    die("the bundle was not deployed: " + out.status + " " + out.reason);
  return t;
}

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

// Warm-up 1 s, then `seconds` counted; the ledgers closed and the rounds' times are recorded.
template <typename Start, typename Stop>
Rate countFor(Target& b, double seconds, std::atomic<bool>& counting, std::atomic<std::uint64_t>& done,
              Start start, Stop stop) {
  Rate r;
  start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  (void)b.takeRounds();
  const auto seq0 = b.lcl();
  const auto c0 = cpuNow();
  const auto s0 = b.cpu();
  const auto t0 = Clock::now();
  counting = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  counting = false;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto c1 = cpuNow();
  const auto s1 = b.cpu();
  r.ledgers = b.lcl() - seq0;
  r.cpuServer = s1.first - s0.first;
  r.cpuServerChildren = s1.second - s0.second;
  r.rounds = b.takeRounds();
  r.n = done.load();
  stop();
  r.rate = static_cast<double>(r.n) / r.seconds;
  r.cpuSelf = c1.self - c0.self;
  r.cpuChildren = c1.children - c0.children;
  r.machineBusyPct = c1.machineAll > c0.machineAll
                         ? 100.0 * (c1.machineBusy - c0.machineBusy) / (c1.machineAll - c0.machineAll)
                         : 0;
  return r;
}

Throughput measureThroughput(Target& target, int users, int window, double seconds) {
  Throughput T;
  T.users = users;
  T.window = window;
  Target* b = &target;
  T.load0 = loadAvg();

  // (a) UserClient, every user on its own thread: send+await (one input in flight per user),
  //     beside stat() (one request in flight per user) over the same connections.
  {
    std::vector<std::unique_ptr<UserClient>> clients;
    for (int i = 0; i < users; ++i)
      clients.push_back(
          must(UserClient::connect(b->url, InstanceKey::generate()), "connecting user " + std::to_string(i)));
    std::printf("  UserClient: %d users connected, one request in flight each, load %s\n", users,
                loadAvg().c_str());
    std::fflush(stdout);
    for (bool inputs : {true, false}) {
      std::atomic<bool> stop{false}, counting{false}, failed{false};
      std::atomic<std::uint64_t> done{0};
      std::string failure;
      std::mutex failMu;
      std::vector<std::thread> ts;
      auto start = [&] {
        for (int i = 0; i < users; ++i) {
          ts.emplace_back([&, i] {
            auto& c = *clients[static_cast<std::size_t>(i)];
            std::uint64_t seq = b->lcl();
            const std::string text = "tput " + std::to_string(i);
            const core::Bytes in(text.begin(), text.end());
            while (!stop.load()) {
              std::string err;
              if (inputs) {
                auto h = c.send(in, c.nextNonce(), seq + 10);
                if (!h) {
                  err = h.error().message;
                } else {
                  auto out = c.await(*h);
                  if (!out)
                    err = out.error().message;
                  else if (out->status != "accepted")
                    err = "input " + out->status + " " + out->reason;
                  else if (out->outputs.size() != 1 || !out->verified)
                    err = "expected one verified output, got " + std::to_string(out->outputs.size());
                  else
                    seq = out->ledgerSeqNo;
                }
              } else {
                auto s = c.stat();
                if (!s) err = s.error().message;
              }
              if (!err.empty()) {
                std::lock_guard lock(failMu);
                failure = "user " + std::to_string(i) + ": " + err;
                failed = true;
                stop = true;
                return;
              }
              if (counting.load()) done.fetch_add(1);
            }
          });
        }
      };
      auto halt = [&] {
        stop = true;
        for (auto& t : ts) t.join();
        if (failed) die("throughput: " + failure);
      };
      (inputs ? T.oneInputs : T.oneStats) = countFor(*b, seconds, counting, done, start, halt);
    }
  }

  // (b) pipelined users: `window` requests in flight each.
  {
    // All pipelined users share `gClientThreads` I/O threads, as a load generator on another
    // machine would: 64 threads of their own would spend the cores the runtime is measured on.
    net::ClientContext context(gClientThreads);
    std::vector<std::unique_ptr<PipeUser>> pipes;
    for (int i = 0; i < users; ++i) pipes.push_back(PipeUser::connect(b->url, b->lcl(), &context));
    std::printf(
        "  pipelined: %d users connected, %d requests in flight each, %d client I/O thread(s), load %s\n",
        users, window, gClientThreads, loadAvg().c_str());
    std::fflush(stdout);
    for (bool inputs : {true, false}) {
      std::atomic<bool> counting{false};
      std::atomic<std::uint64_t> done{0};
      auto start = [&] {
        for (auto& p : pipes) p->run(inputs, window, &counting, &done);
      };
      auto halt = [&] {
        for (auto& p : pipes) p->drain();
      };
      (inputs ? T.pipeInputs : T.pipeStats) = countFor(*b, seconds, counting, done, start, halt);
    }
  }
  T.load1 = loadAvg();
  return T;
}

// ---- part 3: idle instances ----

struct ProcSample {
  double cpuTicks = 0;  // utime + stime
  double runNs = 0;     // sum over threads of schedstat run time
  double ctxSwitches = 0;
  double rssKiB = 0, pssKiB = 0;
  double threads = 0;
};

ProcSample sampleProc(pid_t pid) {
  ProcSample s;
  const std::string base = "/proc/" + std::to_string(pid);
  std::string stat = slurp(base + "/stat");
  auto rp = stat.rfind(')');
  if (rp != std::string::npos) {
    std::istringstream in(stat.substr(rp + 2));
    std::vector<std::string> f;
    std::string x;
    while (in >> x) f.push_back(x);
    // fields after ")": state(3) … utime(14) stime(15) → indexes 11 and 12 here
    if (f.size() > 12) s.cpuTicks = std::stod(f[11]) + std::stod(f[12]);
  }
  std::error_code ec;
  for (const auto& t : fs::directory_iterator(base + "/task", ec)) {
    std::istringstream in(slurp(t.path().string() + "/schedstat"));
    double run = 0;
    in >> run;
    s.runNs += run;
    std::istringstream st(slurp(t.path().string() + "/status"));
    std::string line;
    while (std::getline(st, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        s.ctxSwitches += std::stod(line.substr(line.find(':') + 1));
    }
    s.threads += 1;
  }
  std::istringstream in(slurp(base + "/smaps_rollup"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    double kib = 0;
    ls >> key >> kib;
    if (key == "Rss:") s.rssKiB = kib;
    if (key == "Pss:") s.pssKiB = kib;
  }
  return s;
}

ProcSample sumProcs(const std::vector<pid_t>& roots) {
  ProcSample s;
  std::vector<pid_t> pids;
  for (pid_t r : roots)
    for (pid_t p : treeOf(r)) pids.push_back(p);
  for (pid_t p : pids) {
    auto x = sampleProc(p);
    s.cpuTicks += x.cpuTicks;
    s.runNs += x.runNs;
    s.ctxSwitches += x.ctxSwitches;
    s.rssKiB += x.rssKiB;
    s.pssKiB += x.pssKiB;
    s.threads += x.threads;
  }
  return s;
}

struct Idle {
  int n = 0;
  double seconds = 0;
  ProcSample ours0, ours1, base0, base1;
  double startupS = 0;
  double procsPerInstance = 0;
  std::string load0, load1;
};

bool listening(const std::string& logFile) { return slurp(logFile).find("user port") != std::string::npos; }

Idle measureIdle(int n, double settleS, double windowS) {
  Idle I;
  I.n = n;
  const std::string root = makeTempDir("idle");
  std::vector<pid_t> ours, base;
  std::vector<std::string> logs;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string d = root + "/i" + std::to_string(i);
    fs::create_directories(d + "/data");
    fs::create_directories(d + "/fs");
    auto key = InstanceKey::generate();
    {
      std::string priv = key.privateHex();
      int fd = ::open((d + "/instance.key").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
      if (fd < 0 || ::write(fd, priv.data(), priv.size()) != static_cast<ssize_t>(priv.size()))
        die("instance.key");
      ::close(fd);
    }
    InstanceConfig c;
    c.contractId = "idle-" + std::to_string(i);
    c.keyFile = d + "/instance.key";
    c.user.listen = "127.0.0.1";
    c.user.port = 0;
    c.user.tls = "off";
    std::ofstream(d + "/instance.json") << renderInstanceConfig(c);
    logs.push_back(d + "/out.log");
    ours.push_back(spawnChild({SASHIMONO_BINARY, "runtime", "--config", d + "/instance.json", "--data",
                               d + "/data", "--contract-fs", d + "/fs"},
                              logs.back()));
  }
  const auto end = Clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < n; ++i) {
    while (!listening(logs[static_cast<std::size_t>(i)])) {
      int st = 0;
      if (::waitpid(ours[static_cast<std::size_t>(i)], &st, WNOHANG) > 0) {
        forgetChild(ours[static_cast<std::size_t>(i)]);
        die("idle instance " + std::to_string(i) + " exited: " + slurp(logs[static_cast<std::size_t>(i)]));
      }
      if (Clock::now() > end)
        die("idle instance " + std::to_string(i) + " did not open its port within 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  I.startupS = std::chrono::duration<double>(Clock::now() - t0).count();
  for (int i = 0; i < n; ++i) base.push_back(spawnChild({"/bin/sleep", "100000"}, "/dev/null"));
  std::printf(
      "  %d runtimes listening after %.1f s (all started at once); %d sleep processes; settling %.0f s\n", n,
      I.startupS, n, settleS);
  std::fflush(stdout);
  I.procsPerInstance = static_cast<double>(treeOf(ours[0]).size());
  std::this_thread::sleep_for(std::chrono::duration<double>(settleS));
  I.load0 = loadAvg();
  I.ours0 = sumProcs(ours);
  I.base0 = sumProcs(base);
  const auto w0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(windowS));
  I.ours1 = sumProcs(ours);
  I.base1 = sumProcs(base);
  I.seconds = std::chrono::duration<double>(Clock::now() - w0).count();
  I.load1 = loadAvg();
  for (int i = 0; i < n; ++i) {
    int st = 0;
    const pid_t p = ours[static_cast<std::size_t>(i)];
    if (const pid_t r = ::waitpid(p, &st, WNOHANG); r != 0) {
      if (r == p) forgetChild(p);
      die("idle instance " + std::to_string(i) + " died during the measurement (waitpid " +
          std::to_string(r) + ", status " + std::to_string(st) +
          "): " + slurp(logs[static_cast<std::size_t>(i)]));
    }
  }
  // Stop: SIGTERM to the runtimes (their normal stop), SIGKILL to whatever is left after 10 s.
  for (pid_t p : ours) ::kill(p, SIGTERM);
  for (pid_t p : base) ::kill(p, SIGKILL);
  const auto stopEnd = Clock::now() + std::chrono::seconds(10);
  std::vector<pid_t> all = ours;
  all.insert(all.end(), base.begin(), base.end());
  for (pid_t p : all) {
    int st = 0;
    while (::waitpid(p, &st, WNOHANG) == 0) {
      if (Clock::now() > stopEnd) {
        ::kill(p, SIGKILL);
        ::waitpid(p, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    forgetChild(p);
  }
  return I;
}

// ---- diagnostics: the per-round durable commit on the same file system ----

std::vector<double> measureLedgerAppend(int n) {
  const std::string d = makeTempDir("ledger");
  auto store = must(LedgerStore::open(d + "/ledger.sqlite"), "ledger");
  auto user = InstanceKey::generate();
  std::vector<double> out;
  LedgerRecord last = store.last();
  for (int i = 0; i < n; ++i) {
    LedgerRecord r;
    r.seqNo = last.seqNo + 1;
    r.timestamp = nowMs();
    r.prevHash = last.hash;
    LedgerInput in;
    in.user = user.publicKey();
    in.hash[0] = static_cast<std::uint8_t>(i);
    in.hash[1] = static_cast<std::uint8_t>(i >> 8);
    in.nonce = static_cast<std::uint64_t>(i + 1);
    in.maxLedgerSeqNo = r.seqNo + 10;
    in.blob = core::Bytes{'h', 'i'};
    LedgerOutput o;
    o.user = user.publicKey();
    o.blobs.push_back(core::Bytes{'E', 'c', 'h', 'o'});
    sealLedger(r);
    const auto t0 = Clock::now();
    must(store.append(r, {in}, {o}), "ledger append");
    out.push_back(ms(Clock::now() - t0));
    last = r;
  }
  return out;
}

// ---- the JavaScript echo bundle: js-counter with the contract library from tests/interop ----

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

const char* verdict(bool ok) { return ok ? "met" : "MISSED"; }

}  // namespace

int main(int argc, char** argv) {
  std::string part = "all";
  int samples = 300, warmup = 30, users = 64, window = 8, instances = 50;
  double seconds = 10, idleSeconds = 10, settleSeconds = 5;
  bool js = true, runtimeProcess = false;
  std::string echoBundle = defaultEchoBundle();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--part")
      part = next();
    else if (a == "--samples")
      samples = std::stoi(next());
    else if (a == "--warmup")
      warmup = std::stoi(next());
    else if (a == "--users")
      users = std::stoi(next());
    else if (a == "--window")
      window = std::stoi(next());
    else if (a == "--seconds")
      seconds = std::stod(next());
    else if (a == "--instances")
      instances = std::stoi(next());
    else if (a == "--idle-seconds")
      idleSeconds = std::stod(next());
    else if (a == "--settle-seconds")
      settleSeconds = std::stod(next());
    else if (a == "--echo-bundle")
      echoBundle = next();
    else if (a == "--client-threads")
      gClientThreads = std::stoi(next());
    else if (a == "--runtime-process")
      runtimeProcess = true;
    else if (a == "--no-js")
      js = false;
    else
      die("unknown option " + a);
  }
  const bool all = part == "all";
  if (!all && part != "latency" && part != "throughput" && part != "idle")
    die("--part all|latency|throughput|idle");
  startSignalThread();
  std::atexit(cleanupAll);
  setUpLogging();
  if (!fs::exists(echoBundle + "/contract.json"))
    die("no echo bundle at " + echoBundle + " (ninja sample_echo, or --echo-bundle DIR)");

  std::printf("runtime_bench: %u cores, load %s, pid %d\n", std::thread::hardware_concurrency(),
              loadAvg().c_str(), ::getpid());
  std::fflush(stdout);

  std::optional<Latency> cpp, jsl;
  std::vector<double> appendMs;
  std::optional<Throughput> tput;
  std::optional<Idle> idle;
  if (all || part == "latency") {
    std::printf("part 1: input -> output latency\n");
    cpp = measureLatency("C++ echo", "cpp", echoBundle, "hello", "Echo: hello", warmup, samples);
    if (js) {
      if (auto d = makeJsBundle())
        jsl = measureLatency("JS echo", "jsecho", *d, "echo hi", "Echo: hi", warmup, samples);
      else
        std::printf(
            "  JS echo skipped: needs /usr/bin/node and "
            "tests/interop/node_modules/hotpocket-nodejs-contract\n");
    }
    appendMs = measureLedgerAppend(std::max(100, samples / 3));
  }
  if (all || part == "throughput") {
    std::printf("part 2: inputs per second, %d users\n", users);
    auto target = runtimeProcess ? runtimeProcessTarget(echoBundle) : inProcessTarget(echoBundle);
    std::printf("  target: %s\n", runtimeProcess
                                      ? "a separate `sashimono runtime` process (deployed by its owner)"
                                      : "in-process Instance");
    tput = measureThroughput(*target, users, window, seconds);
    target->stop();
  }
  if (all || part == "idle") {
    std::printf("part 3: %d idle instances\n", instances);
    idle = measureIdle(instances, settleSeconds, idleSeconds);
  }

  std::printf("\n%-44s %10s %10s %7s %10s  %s\n", "", "ours", "baseline", "ratio", "ours-base", "goal");
  auto row = [](const std::string& what, double a, double b, const std::string& goal) {
    std::printf("%-44s %10.2f %10.2f %7.2f %10.2f  %s\n", what.c_str(), a, b, b > 0 ? a / b : 0.0, a - b,
                goal.c_str());
  };
  for (auto* L : {cpp ? &*cpp : nullptr, jsl ? &*jsl : nullptr}) {
    if (L == nullptr) continue;
    const bool isCpp = L == &*cpp;
    const double p50 = pct(L->ours, 0.5), f50 = pct(L->floor, 0.5);
    std::string goal;
    if (isCpp)
      goal = std::string("<= 20 ms: ") + verdict(p50 <= 20) + "; <= floor+10: " + verdict(p50 - f50 <= 10);
    row(L->name + " latency p50 (ms) vs spawn floor", p50, f50, goal);
    row(L->name + " latency p95 (ms) vs spawn floor", pct(L->ours, 0.95), pct(L->floor, 0.95), "");
    row("  executor alone p50 (ms) vs spawn floor", pct(L->exec, 0.5), f50, "");
    row("  executor alone p95 (ms) vs spawn floor", pct(L->exec, 0.95), pct(L->floor, 0.95), "");
    row("  round (engine) p50 (ms) vs executor alone", pct(L->rounds, 0.5), pct(L->exec, 0.5), "");
    std::printf("  %zu samples, min ours %.2f / floor %.2f ms, load %s -> %s\n", L->ours.size(),
                pct(L->ours, 0), pct(L->floor, 0), L->load0.c_str(), L->load1.c_str());
  }
  if (!appendMs.empty())
    std::printf("  ledger append alone (1 input, 1 output, synchronous=FULL): p50 %.2f ms, p95 %.2f ms\n",
                pct(appendMs, 0.5), pct(appendMs, 0.95));
  if (tput) {
    auto detail = [](const Rate& r) {
      const double n = r.n ? static_cast<double>(r.n) : 1.0;
      std::printf(
          "  %llu in %.1f s, %llu ledgers (%.1f per ledger), round p50 %.1f ms p95 %.1f ms; machine busy "
          "%.0f %%\n",
          static_cast<unsigned long long>(r.n), r.seconds, static_cast<unsigned long long>(r.ledgers),
          r.ledgers ? static_cast<double>(r.n) / static_cast<double>(r.ledgers) : 0.0, pct(r.rounds, 0.5),
          pct(r.rounds, 0.95), r.machineBusyPct);
      if (r.cpuServer > 0)
        std::printf("  CPU per input: runtime %.0f us + contracts %.0f us; clients (this process) %.0f us\n",
                    r.cpuServer / n * 1e6, r.cpuServerChildren / n * 1e6, r.cpuSelf / n * 1e6);
      else
        std::printf("  CPU per input: runtime and clients (this process) %.0f us + contracts %.0f us\n",
                    r.cpuSelf / n * 1e6, r.cpuChildren / n * 1e6);
    };
    const std::string u = std::to_string(tput->users);
    row(u + " users x 1: inputs/s vs stat round trips/s", tput->oneInputs.rate, tput->oneStats.rate,
        std::string(">= 5000/s: ") + verdict(tput->oneInputs.rate >= 5000));
    detail(tput->oneInputs);
    row(u + " users x " + std::to_string(tput->window) + " pipelined: inputs/s vs stats/s",
        tput->pipeInputs.rate, tput->pipeStats.rate,
        std::string(">= 5000/s: ") + verdict(tput->pipeInputs.rate >= 5000));
    detail(tput->pipeInputs);
    std::printf("  stat baselines: %.0f/s (UserClient x 1), %.0f/s (pipelined); load %s -> %s\n",
                tput->oneStats.rate, tput->pipeStats.rate, tput->load0.c_str(), tput->load1.c_str());
  }
  if (idle) {
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    auto cpuPct = [&](const ProcSample& a, const ProcSample& b) {
      return (b.cpuTicks - a.cpuTicks) / tick / idle->seconds * 100.0;
    };
    auto runPct = [&](const ProcSample& a, const ProcSample& b) {
      return (b.runNs - a.runNs) / 1e9 / idle->seconds * 100.0;
    };
    const std::string n = std::to_string(idle->n);
    // utime+stime is charged by the tick, so wake-ups that start on a tick (timers) and sleep before
    // the next are never seen; schedstat counts nanoseconds. The goal is judged on the larger.
    const double ours = cpuPct(idle->ours0, idle->ours1), base = cpuPct(idle->base0, idle->base1);
    const double oursNs = runPct(idle->ours0, idle->ours1), baseNs = runPct(idle->base0, idle->base1);
    row(n + " idle: CPU % of one core (utime+stime)", ours, base, "");
    row(n + " idle: CPU % of one core (schedstat)", oursNs, baseNs,
        std::string("< 2 %: ") + verdict(std::max(ours, oursNs) < 2));
    row(n + " idle: context switches/s (all)",
        (idle->ours1.ctxSwitches - idle->ours0.ctxSwitches) / idle->seconds,
        (idle->base1.ctxSwitches - idle->base0.ctxSwitches) / idle->seconds, "");
    row(n + " idle: RSS total (MiB)", idle->ours1.rssKiB / 1024, idle->base1.rssKiB / 1024, "");
    row(n + " idle: PSS total (MiB)", idle->ours1.pssKiB / 1024, idle->base1.pssKiB / 1024, "");
    row("  PSS per instance (MiB)", idle->ours1.pssKiB / 1024 / idle->n, idle->base1.pssKiB / 1024 / idle->n,
        "");
    std::printf(
        "  baseline: %d `sleep` processes alive in the same window; per instance %.0f processes (supervisor "
        "and "
        "worker), %.0f threads; window %.1f s, load %s -> %s\n",
        idle->n, idle->procsPerInstance, idle->ours1.threads / idle->n, idle->seconds, idle->load0.c_str(),
        idle->load1.c_str());
  }
  std::printf("load average at the end: %s\n", loadAvg().c_str());
  return 0;
}
