// bench_runtime_bench, part 1: input → output latency over the user protocol, beside the floor
// (the contract spawned alone) and the executor alone, sample by sample; and the ledger's
// durable append alone.
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "RuntimeBench.h"
#include "sashimono/runtime/Executor.h"
#include "sashimono/runtime/Ledger.h"

namespace sashimono::runtime_bench {
namespace {

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

}  // namespace

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

}  // namespace sashimono::runtime_bench
