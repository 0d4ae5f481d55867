// Root tests of state sync through real mounts (`statefs mount --control --undo --tree`): two
// members A and B, each with its own daemon; B's runtime side (StateRounds::syncTo) fetches
// through A's (StateRounds::answerSync), as two cluster members will. B ends at A's root, its
// mount shows A's files, A never serves a round's uncommitted writes, B refuses to sync in a
// round, and B's daemon after a restart (clean, and after kill -9) has the synced root and a
// persisted tree that holds it. Skip cleanly without root or /dev/fuse.
#include "StateFsRootFixture.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/runtime/StateRounds.h"

using namespace statefs_root;
using namespace sashimono;

namespace {

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 11 + i / 5000) % 26);
  return s;
}

class StateFsSyncTest : public StateFsRootTest {
 protected:
  void SetUp() override {
    StateFsRootTest::SetUp();
    if (IsSkipped()) return;
    srcB_ = (base_ / "srcB").string();
    mntB_ = (base_ / "mntB").string();
    fs::create_directories(srcB_);
    fs::create_directories(mntB_);
    // A and B differ in one 64 KiB block of /big, in /small, and B has a file more.
    std::string big = pattern(1 << 20);
    writeFile(fs::path(src_) / "big", big);
    big[9 * 65536 + 1] = '#';
    writeFile(fs::path(srcB_) / "big", big);
    writeFile(fs::path(src_) / "small", "aaa");
    writeFile(fs::path(srcB_) / "small", "bbb");
    writeFile(fs::path(srcB_) / "extra", "only in B");
    fs::create_directories(fs::path(src_) / "dir");
    fs::create_symlink("../small", fs::path(src_) / "dir" / "link");
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (daemonB_ > 0 && ::kill(daemonB_, 0) == 0) {
      ::kill(daemonB_, SIGKILL);
      waitExit(daemonB_, 5s);
    }
    for (int i = 0; i < 3 && !mntB_.empty() && mountedAt(mntB_); ++i) ::umount2(mntB_.c_str(), MNT_DETACH);
    StateFsRootTest::TearDown();
  }

  std::string sockA() const { return (base_ / "a.sock").string(); }
  std::string sockB() const { return (base_ / "b.sock").string(); }
  std::vector<std::string> optionsB() const {
    return {"--control", sockB(),
            "--undo",    (base_ / "undoB").string(),
            "--tree",    (base_ / "treeB.sqlite").string()};
  }
  void mountA() {
    mountOk({"--control", sockA(), "--undo", (base_ / "undoA").string(), "--tree",
             (base_ / "treeA.sqlite").string()});
    a_ = runtime::makeStatefsStateRounds(sockA(), std::chrono::seconds(20));
  }
  RunResult mountB() {
    std::vector<std::string> argv{SASHIMONO_BINARY, "statefs", "mount", "--source", srcB_,
                                  "--mountpoint",   mntB_};
    for (const auto& o : optionsB()) argv.push_back(o);
    RunResult r = run(argv);
    if (r.exitCode == 0) daemonB_ = static_cast<pid_t>(std::stol(r.out));
    b_ = runtime::makeStatefsStateRounds(sockB(), std::chrono::seconds(20));
    return r;
  }
  void stopB(int sig) {
    b_.reset();
    ASSERT_EQ(::kill(daemonB_, sig), 0);
    waitExit(daemonB_);
    daemonB_ = -1;
    if (sig == SIGKILL) {
      EXPECT_EQ(run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mntB_}).exitCode, 0);
    }
    EXPECT_FALSE(mountedAt(mntB_));
  }
  runtime::SyncFetch fromA() {
    return [this](core::ByteView request) { return a_->answerSync(request); };
  }
  std::string rootOf(runtime::StateRounds& s) {
    auto r = s.root();
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? core::toHexLower(*r) : r.error().message;
  }
  fs::path mB(const std::string& rel) const { return fs::path(mntB_) / rel; }

  std::string srcB_, mntB_;
  pid_t daemonB_ = -1;
  std::unique_ptr<runtime::StateRounds> a_, b_;
};

TEST_F(StateFsSyncTest, BReachesAsRootAndItsMountShowsAsFilesAcrossRestarts) {
  ASSERT_NO_FATAL_FAILURE(mountA());
  ASSERT_EQ(mountB().exitCode, 0);
  EXPECT_EQ(readFile(mB("small")), "bbb");  // looked at through the mount before the sync
  EXPECT_TRUE(fs::exists(mB("extra")));
  const std::string rootA = rootOf(*a_);
  ASSERT_EQ(rootA, hashOf(src_));
  ASSERT_NE(rootOf(*b_), rootA);

  statefs::SyncResult counts;
  auto target = a_->commit();
  ASSERT_TRUE(target.ok());
  auto r = b_->syncTo(*target, fromA(), &counts);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(core::toHexLower(*r), rootA);
  EXPECT_EQ(hashOf(srcB_), rootA);
  EXPECT_EQ(rootOf(*b_), rootA);
  // What differed, and only that: one block of /big, /small, and /dir/link's target.
  EXPECT_EQ(counts.blocks, 2U);
  EXPECT_EQ(counts.bytes, 65536U + 3);
  EXPECT_EQ(counts.symlinks, 1U);
  EXPECT_EQ(readFile(mB("small")), "aaa");
  EXPECT_EQ(readFile(mB("big")), readFile(fs::path(mnt_) / "big"));
  EXPECT_EQ(fs::read_symlink(mB("dir/link")), "../small");
  EXPECT_FALSE(fs::exists(mB("extra")));
  EXPECT_FALSE(fs::exists(base_ / ".srcB.sync"));

  // A clean stop and a new daemon: the root is A's.
  ASSERT_NO_FATAL_FAILURE(stopB(SIGTERM));
  RunResult again = mountB();
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_EQ(rootOf(*b_), rootA);
  // A kill: the store the sync saved is verified, and was right.
  ASSERT_NO_FATAL_FAILURE(stopB(SIGKILL));
  again = mountB();
  ASSERT_EQ(again.exitCode, 0) << again.err;
  EXPECT_NE(again.err.find(": 0 stored hashes wrong, 0 files missing from the store"), std::string::npos)
      << again.err;
  EXPECT_EQ(rootOf(*b_), rootA);
  EXPECT_EQ(readFile(mB("small")), "aaa");
  ASSERT_NO_FATAL_FAILURE(stopB(SIGTERM));
  stopAndExpectClean(SIGTERM);
}

// A's round writes through its mount: B still gets A's committed state, never the round's; once
// A's round has its root, A refuses; B does not sync during its own round.
TEST_F(StateFsSyncTest, ARoundsUncommittedWritesAreNeverServedAndBDoesNotSyncInARound) {
  ASSERT_NO_FATAL_FAILURE(mountA());
  ASSERT_EQ(mountB().exitCode, 0);
  const std::string committed = hashOf(src_);
  ASSERT_TRUE(a_->begin(runtime::LedgerRecord{}).ok());
  writeFile(fs::path(mnt_) / "small", "UNCOMMITTED");
  writeFile(fs::path(mnt_) / "new", "new");
  auto target = core::fromHex(committed);
  runtime::Hash h{};
  std::copy(target->begin(), target->end(), h.begin());
  auto r = b_->syncTo(h, fromA());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(hashOf(srcB_), committed);
  EXPECT_EQ(readFile(mB("small")), "aaa");
  EXPECT_FALSE(fs::exists(mB("new")));

  auto round = a_->root();
  ASSERT_TRUE(round.ok());
  auto refused = b_->syncTo(*round, fromA());
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("round's root was taken"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(hashOf(srcB_), committed);
  ASSERT_TRUE(a_->commit().ok());

  ASSERT_TRUE(b_->begin(runtime::LedgerRecord{}).ok());
  EXPECT_EQ(askControl(sockB(), "sync to " + core::toHexLower(*round)),
            "error sync: a round is open; sync runs between rounds (commit or roll it back first)");
  EXPECT_FALSE(b_->syncTo(*round, fromA()).ok());
  ASSERT_TRUE(b_->rollback().ok());
  r = b_->syncTo(*round, fromA());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(readFile(mB("small")), "UNCOMMITTED");
  EXPECT_EQ(readFile(mB("new")), "new");
  ASSERT_NO_FATAL_FAILURE(stopB(SIGTERM));
  stopAndExpectClean(SIGTERM);
}

}  // namespace
