// The Linux process runner, without root: argv (no shell), explicit environment, output capture,
// exit codes, exec failures and timeouts.
#include "sashimono/host/ProcessRunner.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

namespace sashimono::host {
namespace {

TEST(LinuxProcessRunner, RunsArgvWithExplicitEnvironmentAndCapturesOutput) {
  auto r = makeLinuxProcessRunner();
  ProcessSpec p;
  p.argv = {"/bin/busybox", "sh", "-c", "echo \"$GREETING\" ; echo err >&2; exit 3"};
  p.env = {"GREETING=hi; rm -rf /"};
  auto res = r->run(p);
  ASSERT_TRUE(res.ok()) << res.error().message;
  EXPECT_EQ(res->out, "hi; rm -rf /\n") << "arguments and environment are data, never shell code";
  EXPECT_EQ(res->err, "err\n");
  EXPECT_EQ(res->exitCode, 3);
  EXPECT_EQ(res->describe(), "exit 3: err");
  auto checked = runChecked(*r, p);
  ASSERT_FALSE(checked.ok());
  EXPECT_NE(checked.error().message.find("exit 3"), std::string::npos);
}

TEST(LinuxProcessRunner, ArgumentsAreNotInterpreted) {
  auto r = makeLinuxProcessRunner();
  ProcessSpec p;
  p.argv = {"echo", "$(id)", "`id`", "a;b", "*"};
  auto res = r->run(p);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->out, "$(id) `id` a;b *\n");
}

TEST(LinuxProcessRunner, ReportsMissingProgramsAndExecFailures) {
  auto r = makeLinuxProcessRunner();
  ProcessSpec p;
  p.argv = {"no-such-program-anywhere"};
  auto res = r->run(p);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("program not found"), std::string::npos);
  p.argv = {"/etc/passwd"};
  res = r->run(p);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("exec failed"), std::string::npos) << res.error().message;
  p.argv = {"/bin/true"};
  p.cwd = "/no/such/dir";
  res = r->run(p);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().message.find("changing directory"), std::string::npos);
}

TEST(LinuxProcessRunner, KillsOnTimeout) {
  auto r = makeLinuxProcessRunner();
  ProcessSpec p;
  p.argv = {"/bin/sleep", "10"};
  p.timeout = std::chrono::milliseconds(100);
  auto t0 = std::chrono::steady_clock::now();
  auto res = r->run(p);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().errnum, ETIMEDOUT);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST(LinuxProcessRunner, ReturnsWhenTheChildExitsEvenIfADaemonKeepsThePipes) {
  auto r = makeLinuxProcessRunner();
  ProcessSpec p;
  p.argv = {"/bin/busybox", "sh", "-c", "sleep 5 & echo started"};
  auto t0 = std::chrono::steady_clock::now();
  auto res = r->run(p);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->out, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
}

TEST(LinuxProcessRunner, SpawnsDetachedDaemonsInTheirOwnSession) {
  auto r = makeLinuxProcessRunner();
  std::string log = "/tmp/runner-test-" + std::to_string(::getpid()) + ".log";
  ProcessSpec p;
  p.argv = {"/bin/busybox", "sh", "-c", "echo daemon; exec sleep 5"};
  p.logFile = log;
  auto pid = r->spawnDetached(p);
  ASSERT_TRUE(pid.ok()) << pid.error().message;
  EXPECT_EQ(::getsid(*pid), *pid);
  std::string content;
  for (int i = 0; i < 200 && content.empty(); ++i) {
    std::ifstream in(log);
    std::getline(in, content);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(content, "daemon");
  ::kill(*pid, SIGKILL);
  ::unlink(log.c_str());
  p.argv = {"/no/such/binary"};
  EXPECT_FALSE(r->spawnDetached(p).ok());
}

}  // namespace
}  // namespace sashimono::host
