// The round engine against the state filesystem's control protocol (docs/RUNTIME.md, "Rounds
// against the state filesystem"): an in-process Instance (the echo contract, as in the hostile-user
// suite) whose `statefs_control` is a fake control socket that records every request. Each round
// is begin → root → commit, in that order, with the commit after the ledger and after the round's
// users were answered, and a read request that follows an output waits for that commit; a round
// whose state cannot be hashed is rolled back, its input answered round_failed, and the ledger does
// not advance.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <thread>

#include "HostileUserFixture.h"
#include "fakes/runtime/FakeControl.h"

namespace sashimono::runtime::testing {
namespace {

using fakes::FakeControl;

using RuntimeStateRoundsTest = RuntimeHostileUserTest;

TEST_F(RuntimeStateRoundsTest, EachRoundIsBeginRootCommitAndAFailedRoundIsRolledBack) {
  const std::string committed(64, 'c'), changed(64, 'd');
  std::atomic<bool> failRoot{false};
  FakeControl ctl(
      (fs::temp_directory_path() / ("sashi-rounds-" + std::to_string(::getpid()) + ".sock")).string(),
      [&](const std::string& r) -> std::string {
        if (r == "status") return "ok idle 0";
        if (r == "begin" || r == "rollback") return "ok " + committed;
        if (r == "root") return failRoot ? "error root: injected" : "ok " + changed;
        if (r == "commit") return "ok " + changed;
        return "error unknown request: " + r;
      });
  ASSERT_NO_FATAL_FAILURE(start([&](InstanceConfig& c) { c.statefsControl = ctl.path(); }));
  using V = std::vector<std::string>;
  // At start, whether a round was left open; then the warm-up round.
  EXPECT_EQ(ctl.take(4), (V{"status", "begin", "root", "commit"}));

  auto a = good_->submit(core::asBytes("a"));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, "accepted");
  EXPECT_EQ(ctl.take(3), (V{"begin", "root", "commit"}));

  failRoot = true;  // the round's state cannot be hashed: it fails and is rolled back
  auto b = good_->submit(core::asBytes("b"));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->status, "rejected");
  EXPECT_EQ(b->reason, "round_failed");
  EXPECT_TRUE(b->outputs.empty());
  EXPECT_EQ(ctl.take(), (V{"begin", "root", "rollback"}));

  failRoot = false;
  auto c = good_->submit(core::asBytes("c"));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->status, "accepted");
  EXPECT_EQ(c->ledgerSeqNo, a->ledgerSeqNo + 1) << "the failed round closed no ledger";
  ASSERT_EQ(c->outputs.size(), 1u);
  EXPECT_EQ(core::asString(c->outputs[0]), "Echo: c");
  EXPECT_EQ(ctl.take(3), (V{"begin", "root", "commit"}));
}

// The output goes out as soon as the ledger is stored; the state's commit follows, and a read
// request sent on the output's heels is served only once that commit is done (it reads the
// committed state, which must hold what the output told of).
TEST_F(RuntimeStateRoundsTest, TheOutputDoesNotWaitForTheCommitButAReadAfterItDoes) {
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> slowCommit{false};
  std::atomic<Clock::rep> committedAt{0};
  FakeControl ctl(
      (fs::temp_directory_path() / ("sashi-rounds-read-" + std::to_string(::getpid()) + ".sock")).string(),
      [&](const std::string& r) -> std::string {
        if (r == "status") return "ok idle 0";
        if (r == "commit" && slowCommit) {
          std::this_thread::sleep_for(std::chrono::milliseconds(400));
          committedAt = Clock::now().time_since_epoch().count();
        }
        return "ok " + std::string(64, 'c');
      });
  ASSERT_NO_FATAL_FAILURE(start([&](InstanceConfig& c) { c.statefsControl = ctl.path(); }));
  (void)ctl.take(4);
  slowCommit = true;
  const auto sent = Clock::now();
  auto a = good_->submit(core::asBytes("a"));
  const auto answered = Clock::now();
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, "accepted");
  EXPECT_LT(answered - sent, std::chrono::milliseconds(350)) << "the output waited for the state's commit";
  auto read = good_->read(core::asBytes("r"));
  const auto readAt = Clock::now();
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_NE(committedAt.load(), 0) << "the read was answered before the round's commit ended";
  EXPECT_GE(readAt.time_since_epoch().count(), committedAt.load());
  EXPECT_EQ(ctl.take(3), (std::vector<std::string>{"begin", "root", "commit"}));
}

}  // namespace
}  // namespace sashimono::runtime::testing
