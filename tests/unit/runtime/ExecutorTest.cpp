// The contract executor, end to end with tests/fakes/runtime/TestContract.cpp. Runs as any user:
// root takes the PID-namespace path, other users the user-namespace fallback (NonRootFallback
// covers the fallback when run as root too, in a re-executed copy of this binary running as
// nobody; ReadOnlyDirHoldsWithoutMountSetattr runs one under a seccomp filter). Every
// process a contract starts carries a marker in its command line; TearDown kills any that survived.
// The fallback and the re-executed scenarios: ExecutorFallbackTest; the fixture: ExecutorTestFixture.h.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ExecutorTestFixture.h"

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace testing;

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

// A read request's view: readOnlySource is bound over readOnlyDir, read-only, for the run only.
TEST_F(ExecutorTest, ReadOnlySourceIsBoundOverReadOnlyDir) {
  outside_ = makeTempDir();  // the "view": a copy of the contract fs with its own state/
  ASSERT_FALSE(outside_.empty());
  fs::create_directory(outside_ + "/state");
  std::ofstream(outside_ + "/state/only-in-view") << "v";
  fs::permissions(outside_, fs::perms::all);
  fs::permissions(outside_ + "/state", fs::perms::all);
  fs::permissions(outside_ + "/state/only-in-view", fs::perms::all);
  auto req = request({"read", "only-in-view"});
  req.readOnlyDir = root_;
  req.readOnlySource = outside_;
  auto r = execute(req);
  if (!r.ok() && r.error().message.find("mount") != std::string::npos)
    GTEST_SKIP() << "no mount namespace here: " << r.error().message;
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(strs(r->outputs[0].second), (std::vector<std::string>{"read=0"}));
  req = request({"rofs", "/proc/self/no-such-dir"});
  req.readOnlyDir = root_;
  req.readOnlySource = outside_;
  r = execute(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(strs(r->outputs[0].second).at(0).rfind("inside=" + std::to_string(EROFS) + " ", 0), 0u)
      << strs(r->outputs[0].second).at(0);
  EXPECT_FALSE(fs::exists(outside_ + "/state/ro-test"));
  EXPECT_FALSE(fs::exists(state_ + "/ro-test"));
  auto bad = request({"exit", "0"});
  bad.readOnlySource = outside_;  // without readOnlyDir
  EXPECT_FALSE(execute(bad).ok());
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

}  // namespace
}  // namespace sashimono::runtime
