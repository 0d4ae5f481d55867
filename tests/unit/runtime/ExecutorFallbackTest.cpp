// The contract executor's unprivileged fallback (user + PID namespaces), and the scenarios run in
// a re-executed copy of this binary: as nobody (NonRootFallbackUsesAUserNamespace when run as
// root), over a state directory that is a mount of its own, and under a seccomp filter that
// refuses mount_setattr. The fixture: ExecutorTestFixture.h.
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

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "ExecutorTestFixture.h"

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace testing;

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
