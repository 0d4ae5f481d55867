// The contract executor, end to end with tests/fakes/runtime/TestContract.cpp. Runs as any user:
// root takes the PID-namespace path, other users the user-namespace fallback (NonRootFallback
// covers the fallback when run as root too, in a re-executed copy of this binary running as
// nobody; ReadOnlyDirHoldsWithoutMountSetattr runs one under a seccomp filter). Every
// process a contract starts carries a marker in its command line; TearDown kills any that survived.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sashimono/runtime/Executor.h"

#ifndef SASHIMONO_TEST_CONTRACT
#error "SASHIMONO_TEST_CONTRACT must name the test contract program (tests/CMakeLists.txt)"
#endif

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string pk(unsigned i) {
  char tail[9];
  std::snprintf(tail, sizeof tail, "%08x", i);
  return "ed" + std::string(56, 'a') + tail;
}

core::Bytes bytes(std::string_view s) { return {s.begin(), s.end()}; }
std::string str(const core::Bytes& b) { return {b.begin(), b.end()}; }

std::vector<std::string> strs(const std::vector<core::Bytes>& v) {
  std::vector<std::string> out;
  for (const auto& b : v) out.push_back(str(b));
  return out;
}

// Host pids of live processes whose command line contains `marker`.
std::vector<pid_t> processesWith(const std::string& marker) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(it->path() / "cmdline", std::ios::binary);
    const std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(marker) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

std::map<std::string, std::string> keyValues(const std::vector<core::Bytes>& frames) {
  std::map<std::string, std::string> kv;
  for (const auto& f : frames) {
    const std::string s = str(f);
    const auto eq = s.find('=');
    if (eq != std::string::npos) kv[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return kv;
}

std::string makeTempDir() {
  char tmpl[] = "/tmp/sashi-exec-XXXXXX";
  if (!::mkdtemp(tmpl)) return {};
  return tmpl;
}

ExecRequest baseRequest(const std::string& stateDir, std::vector<std::string> args, std::size_t users) {
  ExecRequest r;
  r.binPath = SASHIMONO_TEST_CONTRACT;
  r.binArgs = std::move(args);
  r.env = {{"PATH", "/usr/bin:/bin"}};
  r.cwd = stateDir;
  r.contractId = "3f25a1c0-0000-4000-8000-000000000001";
  r.publicKeyHex = pk(0xffff);
  r.timestamp = 1718000002000;
  r.lclSeqNo = 5;
  r.lclHashHex = std::string(64, 'c');
  r.unl = {{pk(0xffff), 1718000001850}};
  for (std::size_t i = 0; i < users; ++i) r.users.push_back({pk(static_cast<unsigned>(i)), {}});
  r.limits.timeout = 10s;
  r.stderrFd = 2;  // the test contract's complaints show up in the test log
  return r;
}

// Empty when executions can be isolated here; else why not (no PID and no user namespaces).
const std::string& isolationUnavailable() {
  static const std::string why = [] {
    auto r = execute(baseRequest("/tmp", {"exit", "0"}, 0));
    return !r.ok() && r.error().message.find("cannot isolate") != std::string::npos ? r.error().message
                                                                                    : std::string();
  }();
  return why;
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!isolationUnavailable().empty()) GTEST_SKIP() << isolationUnavailable();
    root_ = makeTempDir();
    ASSERT_FALSE(root_.empty());
    state_ = root_ + "/state";
    fs::create_directory(state_);
    // Reachable by nobody (the fork bomb runs as nobody when the tests run as root).
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(state_, fs::perms::all);
    static std::atomic<int> counter{0};
    marker_ = "sashi-exec-marker-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }

  void TearDown() override {
    if (marker_.empty()) return;                                // skipped
    for (pid_t p : processesWith(marker_)) ::kill(p, SIGKILL);  // only if the executor failed
    std::error_code ec;
    fs::remove_all(root_, ec);
    if (!outside_.empty()) fs::remove_all(outside_, ec);
  }

  // Every argument list ends with the marker, so /proc scans find every process of the run.
  ExecRequest request(std::vector<std::string> args, std::size_t users = 1) {
    args.push_back(marker_);
    return baseRequest(state_, std::move(args), users);
  }

  ExecResult run(const ExecRequest& req, ExecCallbacks cb = {}) {
    auto r = execute(req, std::move(cb));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? std::move(*r) : ExecResult{};
  }

  std::string root_, state_, outside_, marker_;
};

TEST_F(ExecutorTest, EchoesInputsToEveryUserInOrderReassemblingSplitFrames) {
  auto req = request({"echo", "bytewise"}, 3);
  req.users[0].inputs = {bytes("hello"), bytes("")};
  req.users[1].inputs = {bytes("one"), bytes("two"), bytes(std::string(100000, 'z'))};
  // users[2] has no input but still gets a socket.
  auto ex = Execution::start(req);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  EXPECT_EQ((*ex)->isolation(),
            ::geteuid() == 0 ? Isolation::kPidNamespace : Isolation::kUserAndPidNamespace);
  const auto res = (*ex)->wait();
  EXPECT_EQ(res.exitCode, 0);
  EXPECT_EQ(res.signal, 0);
  EXPECT_FALSE(res.timedOut);
  ASSERT_EQ(res.outputs.size(), 3u);
  EXPECT_EQ(res.outputs[0].first, pk(0));
  EXPECT_EQ(strs(res.outputs[0].second), (std::vector<std::string>{"Echo: hello", "Echo: "}));
  EXPECT_EQ(res.outputs[1].first, pk(1));
  EXPECT_EQ(strs(res.outputs[1].second),
            (std::vector<std::string>{"Echo: one", "Echo: two", "Echo: " + std::string(100000, 'z')}));
  EXPECT_EQ(res.outputs[2].first, pk(2));
  EXPECT_TRUE(res.outputs[2].second.empty());
  EXPECT_LT(res.duration, 4s);
}

TEST_F(ExecutorTest, BigOutputIsReadWhileTheContractRuns) {
  constexpr long kBytes = 16L * 1024 * 1024;  // far over any socket buffer
  const auto res = run(request({"bigout", std::to_string(kBytes)}));
  EXPECT_EQ(res.exitCode, 0);
  ASSERT_EQ(res.outputs.size(), 1u);
  const auto& msgs = res.outputs[0].second;
  ASSERT_EQ(msgs.size(), static_cast<std::size_t>(kBytes / 65536));
  for (std::size_t k = 0; k < msgs.size(); ++k) {
    ASSERT_EQ(msgs[k].size(), 65536u);
    ASSERT_EQ(msgs[k].front(), static_cast<std::uint8_t>(k & 0xff));
    ASSERT_EQ(msgs[k].back(), static_cast<std::uint8_t>(k & 0xff));
  }
}

TEST_F(ExecutorTest, EnvironmentCwdAndDescriptorsAreExactlyTheGivenOnes) {
  ::setenv("SASHI_EXEC_SHOULD_NOT_LEAK", "1", 1);
  auto req = request({"env"});
  req.env = {{"FOO", "bar"}, {"HP_X", "a b=c"}};
  const auto res = run(req);
  ::unsetenv("SASHI_EXEC_SHOULD_NOT_LEAK");
  EXPECT_EQ(res.exitCode, 0);
  ASSERT_EQ(res.outputs.size(), 1u);
  // fds: stdin, stdout, stderr, control, user_in, npl, the user's socket — nothing else.
  EXPECT_EQ(strs(res.outputs[0].second),
            (std::vector<std::string>{"cwd=" + state_, "fds=0,1,2,3,4,5,6", "tty=0", "env=FOO=bar",
                                      "env=HP_X=a b=c"}));
}

TEST_F(ExecutorTest, StdinDocumentHasTheFieldsOfEachRunKind) {
  const auto consensus = run(request({"keys"}));
  ASSERT_EQ(consensus.outputs.size(), 1u);
  EXPECT_EQ(strs(consensus.outputs[0].second),
            (std::vector<std::string>{"hp_version,contract_id,public_key,private_key,timestamp,readonly,"
                                      "lcl_seq_no,lcl_hash,npl_fd,control_fd,user_in_fd,users,unl"}));
  auto req = request({"keys"});
  req.readonly = true;
  req.lclSeqNo.reset();
  req.timestamp = 0;
  auto ex = Execution::start(req);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  (*ex)->deliverNpl(pk(7), bytes("dropped: no NPL in read-only runs"));
  const auto readonly = (*ex)->wait();
  ASSERT_EQ(readonly.outputs.size(), 1u);
  EXPECT_EQ(strs(readonly.outputs[0].second),
            (std::vector<std::string>{"hp_version,contract_id,public_key,private_key,timestamp,readonly,"
                                      "control_fd,user_in_fd,users,unl"}));
}

TEST_F(ExecutorTest, TimeoutKillsANeverEndingContractQuickly) {
  auto req = request({"hang"});
  req.limits.timeout = 300ms;
  const auto res = run(req);
  EXPECT_TRUE(res.timedOut);
  EXPECT_EQ(res.exitCode, -1);
  EXPECT_EQ(res.signal, SIGKILL);
  EXPECT_GE(res.duration, 300ms);
  EXPECT_LT(res.duration, 2s);
  EXPECT_TRUE(processesWith(marker_).empty());
}

TEST_F(ExecutorTest, KillFromAnotherThreadEndsTheRun) {
  auto ex = Execution::start(request({"hang"}));
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  std::thread killer([&] {
    std::this_thread::sleep_for(100ms);
    (*ex)->kill();
    (*ex)->kill();
  });
  const auto res = (*ex)->wait();
  killer.join();
  EXPECT_FALSE(res.timedOut);
  EXPECT_EQ(res.signal, SIGKILL);
  EXPECT_LT(res.duration, 2s);
  EXPECT_TRUE(processesWith(marker_).empty());
}

TEST_F(ExecutorTest, DestroyingARunningExecutionLeavesNothing) {
  {
    auto ex = Execution::start(request({"hang"}));
    ASSERT_TRUE(ex.ok()) << ex.error().message;
    EXPECT_FALSE(processesWith(marker_).empty());
  }
  EXPECT_TRUE(processesWith(marker_).empty());
}

TEST_F(ExecutorTest, ADaemonTheContractForkedDiesWithTheRun) {
  // The daemon keeps the user's socket open: wait() must not wait for it.
  const auto res = run(request({"daemon"}));
  EXPECT_EQ(res.exitCode, 0);
  ASSERT_EQ(res.outputs.size(), 1u);
  EXPECT_EQ(strs(res.outputs[0].second), (std::vector<std::string>{"daemon started"}));
  EXPECT_LT(res.duration, 3s);
  EXPECT_TRUE(processesWith(marker_).empty());
}

TEST_F(ExecutorTest, KillingEverythingItCanReachesOnlyTheContractsNamespace) {
  // kill(-1, SIGKILL) from the contract: had it reached this process, the test would not go on.
  const auto res = run(request({"killall"}));
  EXPECT_EQ(res.exitCode, 0);
  ASSERT_EQ(res.outputs.size(), 1u);
  ASSERT_EQ(res.outputs[0].second.size(), 1u);
  EXPECT_EQ(str(res.outputs[0].second[0]).rfind("survived", 0), 0u);
}

TEST_F(ExecutorTest, AForkBombIsBoundedAndLeavesNothing) {
  auto req = request({"forkbomb"});
  req.limits.processes = 50;
  if (::geteuid() == 0) {  // RLIMIT_NPROC does not bind uid 0
    req.uid = 65534;
    req.gid = 65534;
  }
  const auto res = run(req);
  EXPECT_EQ(res.exitCode, 0);
  ASSERT_EQ(res.outputs.size(), 1u);
  ASSERT_FALSE(res.outputs[0].second.empty()) << "no fork failed: the process limit did not hold";
  EXPECT_EQ(str(res.outputs[0].second[0]), "eagain");
  EXPECT_LT(res.duration, 4s);
  EXPECT_TRUE(processesWith(marker_).empty());
}

TEST_F(ExecutorTest, NplPacketsGoBothWaysInPairs) {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> got;
  ExecCallbacks cb;
  cb.onNpl = [&](core::Bytes b) {
    std::lock_guard lk(m);
    got.push_back(str(b));
    cv.notify_all();
  };
  auto ex = Execution::start(request({"npl", "2"}), cb);
  ASSERT_TRUE(ex.ok()) << ex.error().message;
  {
    std::unique_lock lk(m);
    ASSERT_TRUE(cv.wait_for(lk, 3s, [&] { return !got.empty(); }));
  }
  (*ex)->deliverNpl(pk(7), bytes(""));                          // empty: dropped
  (*ex)->deliverNpl("not-a-key", bytes("x"));                   // bad sender: dropped
  (*ex)->deliverNpl(pk(8), core::Bytes(kMaxSeqPacket + 1, 1));  // too big: dropped
  (*ex)->deliverNpl(pk(7), bytes("first"));
  (*ex)->deliverNpl(pk(8), bytes(std::string(kMaxSeqPacket, 's')));
  const auto res = (*ex)->wait();
  (*ex)->deliverNpl(pk(7), bytes("after the end: dropped"));
  EXPECT_EQ(res.exitCode, 0);
  EXPECT_EQ(got, (std::vector<std::string>{"hello-npl"}));
  ASSERT_EQ(res.outputs.size(), 1u);
  EXPECT_EQ(strs(res.outputs[0].second),
            (std::vector<std::string>{"npl:" + pk(7) + ":first",
                                      "npl:" + pk(8) + ":" + std::string(kMaxSeqPacket, 's')}));
}

TEST_F(ExecutorTest, NplOutputBudgetClosesTheChannel) {
  auto req = request({"npl", "0"});
  req.limits.nplOutputBytes = 4;  // "hello-npl" is 9 bytes
  std::atomic<int> packets{0};
  ExecCallbacks cb;
  cb.onNpl = [&](core::Bytes) { ++packets; };
  const auto res = run(req, cb);
  EXPECT_EQ(res.exitCode, 0);
  EXPECT_EQ(packets.load(), 0);
}

TEST_F(ExecutorTest, ControlPacketsReachTheCallback) {
  std::vector<std::string> got;
  ExecCallbacks cb;
  cb.onControl = [&](std::string s) { got.push_back(std::move(s)); };
  const auto res = run(request({"control"}), cb);
  EXPECT_EQ(res.exitCode, 0);
  EXPECT_EQ(got,
            (std::vector<std::string>{R"({"type":"peer_changeset","add":["10.0.0.1:22860"],"remove":[]})"}));
}

TEST_F(ExecutorTest, OutputOverTheUserBudgetClosesThatUsersSocketOnly) {
  auto req = request({"flood", "1000", "50"}, 2);
  req.limits.userOutputBytes = 10000;
  const auto res = run(req);
  EXPECT_EQ(res.exitCode, 0) << "the contract never saw EPIPE";
  ASSERT_EQ(res.outputs.size(), 2u);
  EXPECT_EQ(res.outputs[0].second.size(), 10u);  // 10 × 1000 bytes fit, the 11th does not
  for (const auto& m : res.outputs[0].second) EXPECT_EQ(str(m), std::string(1000, 'x'));
  EXPECT_EQ(strs(res.outputs[1].second), (std::vector<std::string>{"ok"}));
}

TEST_F(ExecutorTest, MultiMegabyteStdinIsDeliveredWhole) {
  auto req = request({"stdin"});
  for (unsigned i = 0; i < 48000; ++i) req.unl.emplace_back(pk(i + 0x100000), 1718000001850 + i);
  const auto res = run(req);
  EXPECT_EQ(res.exitCode, 0);
  ASSERT_EQ(res.outputs.size(), 1u);
  ASSERT_EQ(res.outputs[0].second.size(), 1u);
  const std::string report = str(res.outputs[0].second[0]);
  const auto size = std::stoul(report.substr(report.find('=') + 1));
  EXPECT_GT(size, 4u * 1024 * 1024);
  EXPECT_NE(report.find(" unl=48001"), std::string::npos) << report;

  // A contract that reads only the first 4 KiB (like the C library) is not blocked either.
  req.binArgs = {"stdin4k", marker_};
  const auto small = run(req);
  EXPECT_EQ(small.exitCode, 0);
  EXPECT_LT(small.duration, 3s);
}

TEST_F(ExecutorTest, ExitCodesAndSignalsAreTheContracts) {
  const auto seven = run(request({"exit", "7"}));
  EXPECT_EQ(seven.exitCode, 7);
  EXPECT_EQ(seven.signal, 0);
  const auto zero = run(request({"exit", "0"}));
  EXPECT_EQ(zero.exitCode, 0);
  const auto term = run(request({"signal", std::to_string(SIGTERM)}));
  EXPECT_EQ(term.exitCode, -1);
  EXPECT_EQ(term.signal, SIGTERM);
  EXPECT_FALSE(term.timedOut);
}

TEST_F(ExecutorTest, ReadOnlyDirIsReadOnlyInsideTheRunOnly) {
  outside_ = makeTempDir();
  ASSERT_FALSE(outside_.empty());
  fs::permissions(outside_, fs::perms::all);
  auto req = request({"rofs", outside_});
  req.readOnlyDir = root_;
  auto r = execute(req);
  if (!r.ok() && r.error().message.find("mount") != std::string::npos)
    GTEST_SKIP() << "no mount namespace here: " << r.error().message;
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(strs(r->outputs[0].second),
            (std::vector<std::string>{"inside=" + std::to_string(EROFS) + " outside=0"}));
  EXPECT_TRUE(fs::exists(outside_ + "/rw-test"));
  EXPECT_FALSE(fs::exists(state_ + "/ro-test"));
  std::ofstream(state_ + "/host-write") << "the host's view stays writable";
  EXPECT_TRUE(fs::exists(state_ + "/host-write"));
}

TEST_F(ExecutorTest, BadRequestsAndExecFailuresAreErrors) {
  auto bad = request({"exit", "0"});
  bad.cwd = "relative/dir";
  EXPECT_FALSE(execute(bad).ok());
  bad = request({"exit", "0"});
  bad.users[0].pubkeyHex = "ED" + std::string(64, 'A');
  EXPECT_FALSE(execute(bad).ok());
  bad = request({"exit", "0"}, 2);
  bad.users[1].pubkeyHex = bad.users[0].pubkeyHex;
  EXPECT_FALSE(execute(bad).ok());
  bad = request({"exit", "0"});
  bad.lclSeqNo.reset();
  EXPECT_FALSE(execute(bad).ok());
  bad = request({"exit", "0"});
  bad.env.emplace_back("A=B", "c");
  EXPECT_FALSE(execute(bad).ok());

  auto missing = request({"exit", "0"});
  missing.binPath = root_ + "/no-such-contract";
  auto r = execute(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, ENOENT);
  EXPECT_NE(r.error().message.find("execve"), std::string::npos) << r.error().message;

  auto noDir = request({"exit", "0"});
  noDir.cwd = root_ + "/no-such-dir";
  r = execute(noDir);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errnum, ENOENT);
}

std::size_t openFds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(ExecutorTest, ConcurrentExecutionsStayApartAndLeakNoDescriptor) {
  const std::size_t before = openFds();
  std::vector<std::thread> threads;
  std::vector<ExecResult> results(4);
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      auto req = request({"echo"}, 2);
      req.users[0].inputs = {bytes("run " + std::to_string(t))};
      req.users[1].inputs = {bytes("other " + std::to_string(t))};
      results[t] = run(req);
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < results.size(); ++t) {
    ASSERT_EQ(results[t].outputs.size(), 2u);
    EXPECT_EQ(strs(results[t].outputs[0].second),
              (std::vector<std::string>{"Echo: run " + std::to_string(t)}));
    EXPECT_EQ(strs(results[t].outputs[1].second),
              (std::vector<std::string>{"Echo: other " + std::to_string(t)}));
  }
  EXPECT_EQ(openFds(), before);
}

TEST_F(ExecutorTest, LogHeaderPrecedesTheContractsOutput) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  auto req = request({"exit", "0"});
  req.stdoutFd = fds[1];
  req.stderrFd = fds[1];
  req.logHeader = "Execution lcl 5-cccc\n";
  const auto res = run(req);
  ::close(fds[1]);
  char buf[256];
  const ssize_t n = ::read(fds[0], buf, sizeof buf);
  ::close(fds[0]);
  EXPECT_EQ(res.exitCode, 0);
  EXPECT_EQ(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0), "Execution lcl 5-cccc\n");
}

// ---- the unprivileged fallback (user + PID namespaces) ----

// Runs a few executions and returns what went wrong ("" = all good).
std::string fallbackScenario(const std::string& marker) {
  const std::string dir = makeTempDir();
  if (dir.empty()) return "mkdtemp failed";
  std::string problems;
  auto req = baseRequest(dir, {"echo", marker}, 1);
  req.users[0].inputs = {bytes("hi")};
  auto ex = Execution::start(req);
  if (!ex.ok()) {
    fs::remove_all(dir);
    return "start: " + ex.error().message;
  }
  if ((*ex)->isolation() != Isolation::kUserAndPidNamespace) problems += "not the user-namespace mode; ";
  auto res = (*ex)->wait();
  if (res.exitCode != 0 || res.outputs.size() != 1 ||
      strs(res.outputs[0].second) != std::vector<std::string>{"Echo: hi"})
    problems += "echo failed; ";

  req = baseRequest(dir, {"daemon", marker}, 1);
  res = execute(req).valueOr({});
  if (res.exitCode != 0) problems += "daemon run failed; ";
  if (!processesWith(marker).empty()) problems += "the daemon survived; ";

  req = baseRequest(dir, {"probe", std::to_string(::getpid()), marker}, 1);
  res = execute(req).valueOr({});
  const auto kv =
      res.outputs.empty() ? std::map<std::string, std::string>{} : keyValues(res.outputs[0].second);
  if (kv.count("pids") == 0 || kv.at("pids") != "1,2")
    problems += "probe pids: " + (kv.count("pids") ? kv.at("pids") : "?") + "; ";
  if (kv.count("capeff") == 0 || kv.at("capeff") != "0000000000000000") problems += "capabilities left; ";
  if (kv.count("killhost") == 0 || kv.at("killhost") != std::to_string(ESRCH))
    problems += "the runtime is visible; ";

  const std::string outside = makeTempDir();
  req = baseRequest(dir, {"rofs", outside, marker}, 1);
  req.readOnlyDir = dir;
  res = execute(req).valueOr({});
  if (res.outputs.empty() || strs(res.outputs[0].second) !=
                                 std::vector<std::string>{"inside=" + std::to_string(EROFS) + " outside=0"})
    problems += "readOnlyDir did not hold; ";
  std::error_code ec;
  fs::remove_all(outside, ec);

  req = baseRequest(dir, {"exit", "0", marker}, 1);
  req.uid = 1234;
  if (execute(req).ok()) problems += "a uid request was accepted without privilege; ";
  fs::remove_all(dir, ec);
  return problems;
}

// ---- scenarios run in a re-executed copy of this binary (a fresh process: no thread of this
// one comes along), as nobody or under a seccomp filter ----

constexpr const char* kChildEnv = "SASHI_EXEC_CHILD_MARKER";
constexpr const char* kChildDeniedEnv = "SASHI_EXEC_CHILD_DENIED";

// Runs `test` of this binary in a child and returns the verdict it printed ("CHILD:<verdict>").
std::string runChildTest(const std::string& test, const std::string& marker, bool asNobody,
                         bool denyMountSetattr) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe failed";
  const std::string env = std::string(kChildEnv) + "=" + marker;
  const std::string denied = std::string(kChildDeniedEnv) + "=1";
  const std::string filter = "--gtest_filter=" + test;
  const pid_t child = ::fork();
  if (child < 0) return "fork failed";
  if (child == 0) {
    if (::dup2(fds[1], 1) < 0) ::_exit(126);
    if (asNobody && (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                     ::setresuid(65534, 65534, 65534) != 0))
      ::_exit(126);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // after setresuid, which clears it
    if (denyMountSetattr) {
      sock_filter code[] = {
          BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
          BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mount_setattr, 0, 1),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
          BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      };
      sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
          ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
        ::_exit(125);
    }
    const char* argv[] = {"/proc/self/exe", filter.c_str(), nullptr};
    const char* envp[] = {env.c_str(), denyMountSetattr ? denied.c_str() : nullptr, nullptr};
    ::execve(argv[0], const_cast<char**>(argv), const_cast<char**>(envp));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string got;
  const auto end = std::chrono::steady_clock::now() + 20s;
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  ::kill(child, SIGKILL);  // no-op when it finished
  int st = 0;
  ::waitpid(child, &st, 0);
  const auto at = got.find("CHILD:");
  if (at == std::string::npos) return "no verdict; output: " + got;
  return got.substr(at + 6, got.find('\n', at) - at - 6);
}

void printVerdict(const std::string& problems) {
  std::printf("CHILD:%s\n", problems.empty() ? "OK" : problems.c_str());
  std::fflush(stdout);
}

TEST(ExecutorChild, Fallback) {
  const char* marker = ::getenv(kChildEnv);
  if (!marker) GTEST_SKIP() << "only run by ExecutorTest.NonRootFallbackUsesAUserNamespace";
  printVerdict(fallbackScenario(marker));
}

// readOnlyDir over a state directory that is a mount of its own (as root; like the state
// filesystem), with or without mount_setattr.
TEST(ExecutorChild, ReadOnly) {
  const char* marker = ::getenv(kChildEnv);
  if (!marker) GTEST_SKIP() << "only run by ExecutorTest.ReadOnlyDir…";
  std::string problems;
  if (::getenv(kChildDeniedEnv) &&
      (::syscall(SYS_mount_setattr, -1, "", 0, nullptr, 0) == 0 || errno != EPERM))
    problems += "mount_setattr is not denied; ";
  const std::string dir = makeTempDir(), outside = makeTempDir();
  const std::string state = dir + "/state";
  fs::create_directory(state);
  if (::geteuid() == 0) {  // in a mount namespace of this process's own: nothing leaks
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", state.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0777") != 0)
      problems += std::string("cannot mount the state tmpfs: ") + std::strerror(errno) + "; ";
  }
  auto req = baseRequest(state, {"rofs", outside, marker}, 1);
  req.readOnlyDir = dir;
  auto r = execute(req);
  if (!r.ok())
    problems += "start: " + r.error().message;
  else if (r->outputs.empty() ||
           strs(r->outputs[0].second) !=
               std::vector<std::string>{"inside=" + std::to_string(EROFS) + " outside=0"})
    problems += "readOnlyDir did not hold";
  std::error_code ec;
  fs::remove_all(outside, ec);
  if (::geteuid() == 0) ::umount2(state.c_str(), MNT_DETACH);
  fs::remove_all(dir, ec);
  printVerdict(problems);
}

TEST_F(ExecutorTest, NonRootFallbackUsesAUserNamespace) {
  if (::geteuid() != 0) {
    EXPECT_EQ(fallbackScenario(marker_), "");
    return;
  }
  const std::string verdict = runChildTest("ExecutorChild.Fallback", marker_, true, false);
  if (verdict.rfind("start: contract: cannot isolate", 0) == 0)
    GTEST_SKIP() << "no user namespaces: " << verdict;
  EXPECT_EQ(verdict, "OK");
}

TEST_F(ExecutorTest, ReadOnlyDirCoversSubmounts) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting the state tmpfs needs root";
  EXPECT_EQ(runChildTest("ExecutorChild.ReadOnly", marker_, false, false), "OK");
}

TEST_F(ExecutorTest, ReadOnlyDirHoldsWithoutMountSetattr) {
  // Container seccomp profiles older than mount_setattr(2) refuse it with EPERM.
  EXPECT_EQ(runChildTest("ExecutorChild.ReadOnly", marker_, false, true), "OK");
}

}  // namespace
}  // namespace sashimono::runtime
