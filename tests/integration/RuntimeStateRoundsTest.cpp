// The round engine against the state filesystem's control protocol (docs/RUNTIME.md, "Rounds
// against the state filesystem"): an in-process Instance (the echo contract, as in the hostile-user
// suite) whose `statefs_control` is a fake control socket that records every request. Each round
// is begin → root → commit, in that order, with the commit after the ledger; a round whose state
// cannot be hashed is rolled back, its input answered round_failed, and the ledger does not advance.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

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
  EXPECT_EQ(ctl.take(), (V{"status", "begin", "root", "commit"}));

  auto a = good_->submit(core::asBytes("a"));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->status, "accepted");
  EXPECT_EQ(ctl.take(), (V{"begin", "root", "commit"}));

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
  EXPECT_EQ(ctl.take(), (V{"begin", "root", "commit"}));
}

}  // namespace
}  // namespace sashimono::runtime::testing
