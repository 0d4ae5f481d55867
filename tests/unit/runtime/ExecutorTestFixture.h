#pragma once
// The fixture of the ExecutorTest suite (ExecutorTest.cpp, ExecutorFallbackTest.cpp): requests
// for tests/fakes/runtime/TestContract.cpp, a temporary state directory per test, and a marker in
// every contract's command line, with which TearDown kills any process that survived.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "TestBytes.h"
#include "fakes/host/Processes.h"
#include "sashimono/runtime/Executor.h"

#ifndef SASHIMONO_TEST_CONTRACT
#error "SASHIMONO_TEST_CONTRACT must name the test contract program (tests/CMakeLists.txt)"
#endif

namespace sashimono::runtime::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using host::fakes::processesWith;

inline std::string pk(unsigned i) {
  char tail[9];
  std::snprintf(tail, sizeof tail, "%08x", i);
  return "ed" + std::string(56, 'a') + tail;
}

inline std::string str(const core::Bytes& b) { return {b.begin(), b.end()}; }

inline std::vector<std::string> strs(const std::vector<core::Bytes>& v) {
  std::vector<std::string> out;
  for (const auto& b : v) out.push_back(str(b));
  return out;
}

inline std::map<std::string, std::string> keyValues(const std::vector<core::Bytes>& frames) {
  std::map<std::string, std::string> kv;
  for (const auto& f : frames) {
    const std::string s = str(f);
    const auto eq = s.find('=');
    if (eq != std::string::npos) kv[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return kv;
}

inline std::string makeTempDir() {
  char tmpl[] = "/tmp/sashi-exec-XXXXXX";
  if (!::mkdtemp(tmpl)) return {};
  return tmpl;
}

inline ExecRequest baseRequest(const std::string& stateDir, std::vector<std::string> args,
                               std::size_t users) {
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
inline const std::string& isolationUnavailable() {
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

}  // namespace sashimono::runtime::testing
