// The contract executor as root: uid/gid switching, and what a hostile contract can reach from
// inside its execution (tests/fakes/runtime/TestContract.cpp "probe" mode). Skips unless root.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "fakes/host/Processes.h"
#include "sashimono/runtime/Executor.h"

#ifndef SASHIMONO_TEST_CONTRACT
#error "SASHIMONO_TEST_CONTRACT must name the test contract program (tests/CMakeLists.txt)"
#endif

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using host::fakes::processesWith;

constexpr const char* kNoCaps = "0000000000000000";

class ExecutorRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/sashi-exec-root-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    state_ = root_ + "/state";
    fs::create_directory(state_);
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
    fs::permissions(state_, fs::perms::all);
    marker_ = "sashi-exec-root-marker-" + std::to_string(::getpid());
  }

  void TearDown() override {
    for (pid_t p : processesWith(marker_)) ::kill(p, SIGKILL);
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  // Runs the probe and returns its key=value report.
  std::map<std::string, std::string> probe(std::optional<uid_t> uid, std::optional<gid_t> gid) {
    ExecRequest r;
    r.binPath = SASHIMONO_TEST_CONTRACT;
    r.binArgs = {"probe", std::to_string(::getpid()), marker_};
    r.cwd = state_;
    r.uid = uid;
    r.gid = gid;
    r.lclSeqNo = 1;
    r.users.push_back({"ed" + std::string(64, 'b'), {}});
    r.limits.timeout = 10s;
    r.stderrFd = 2;
    auto res = execute(r);
    EXPECT_TRUE(res.ok()) << (res.ok() ? "" : res.error().message);
    std::map<std::string, std::string> kv;
    if (!res.ok()) return kv;
    EXPECT_EQ(res->exitCode, 0);
    EXPECT_TRUE(processesWith(marker_).empty());
    for (const auto& f : res->outputs.at(0).second) {
      const std::string s(f.begin(), f.end());
      const auto eq = s.find('=');
      if (eq != std::string::npos) kv[s.substr(0, eq)] = s.substr(eq + 1);
    }
    return kv;
  }

  std::string root_, state_, marker_;
};

TEST_F(ExecutorRootTest, RunsAsNobodyWithoutGroupsOrCapabilities) {
  auto kv = probe(65534, 65534);
  EXPECT_EQ(kv["uid"], "65534,65534");
  EXPECT_EQ(kv["gid"], "65534,65534");
  EXPECT_EQ(kv["groups"], "0");
  EXPECT_EQ(kv["capeff"], kNoCaps);
  EXPECT_EQ(kv["capprm"], kNoCaps);
  EXPECT_EQ(kv["nnp"], "1");
  EXPECT_EQ(kv["oom"], "1000");
}

TEST_F(ExecutorRootTest, TheContractSeesOnlyItsOwnNamespaceAndCannotReachTheRuntime) {
  auto kv = probe(65534, 65534);
  EXPECT_EQ(kv["pid"], "2");
  EXPECT_EQ(kv["ppid"], "1");
  EXPECT_EQ(kv["pids"], "1,2");  // its private /proc: the init and itself, nothing of the host
  EXPECT_EQ(kv["killhost"], std::to_string(ESRCH));  // the runtime has no pid it could name
  EXPECT_EQ(kv["kill1"], std::to_string(EPERM));
  EXPECT_EQ(kv["ptrace1"], std::to_string(EPERM));
  EXPECT_EQ(kv["umount"], std::to_string(EPERM));
}

// The init and the contract's child run in the runtime's memory until the contract's execve, and
// the kernel passes an oom_score_adj written there on to every process sharing it, except from a
// vfork child. The contract's 1000 must be its own, never the runtime's.
TEST_F(ExecutorRootTest, TheContractsOomScoreIsNeverTheRuntimes) {
  auto adj = [] {
    std::ifstream in("/proc/self/oom_score_adj");
    std::string v;
    in >> v;
    return v;
  };
  const std::string before = adj();
  ASSERT_NE(before, "1000");
  auto kv = probe(65534, 65534);
  EXPECT_EQ(kv["oom"], "1000");
  EXPECT_EQ(adj(), before);
  kv = probe(std::nullopt, std::nullopt);
  EXPECT_EQ(kv["oom"], "1000");
  EXPECT_EQ(adj(), before);
}

TEST_F(ExecutorRootTest, AContractLeftAsRootHoldsNoCapabilityEither) {
  auto kv = probe(std::nullopt, std::nullopt);
  EXPECT_EQ(kv["uid"], "0,0");
  EXPECT_EQ(kv["capeff"], kNoCaps);
  EXPECT_EQ(kv["capprm"], kNoCaps);
  EXPECT_EQ(kv["pids"], "1,2");
  EXPECT_EQ(kv["killhost"], std::to_string(ESRCH));
  EXPECT_EQ(kv["ptrace1"], std::to_string(EPERM));  // the init keeps capabilities the contract lacks
  EXPECT_EQ(kv["umount"], std::to_string(EPERM));   // so the host's /proc stays hidden
}

TEST_F(ExecutorRootTest, GidAloneIsSwitchedToo) {
  auto kv = probe(std::nullopt, 65534);
  EXPECT_EQ(kv["uid"], "0,0");
  EXPECT_EQ(kv["gid"], "65534,65534");
  EXPECT_EQ(kv["groups"], "0");
}

}  // namespace
}  // namespace sashimono::runtime
