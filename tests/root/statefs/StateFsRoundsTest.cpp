// Root tests of rounds and views through a real mount (`statefs mount --control --undo
// --views`): commit, rollback, two views reading the committed state while a round writes, a
// daemon killed mid-round whose round the next mount keeps for its owner (commit or rollback),
// and a full disk (a small tmpfs the test mounts) failing a round cleanly. Skip cleanly without root or
// /dev/fuse.
#include <sys/socket.h>
#include <sys/un.h>

#include <functional>

#include "StateFsRootFixture.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/StateTree.h"

using namespace statefs_root;

namespace {

class StateFsRoundsTest : public StateFsRootTest {
 protected:
  std::string sock() const { return (base_ / "ctl.sock").string(); }
  std::string undo() const { return (base_ / "undo").string(); }
  std::string views() const { return (base_ / "views").string(); }
  fs::path m(const std::string& rel) const { return fs::path(mnt_) / rel; }

  void mountRounds() {
    fs::create_directories(views());
    extraMounts_.push_back(views());  // a killed daemon leaves its views mount behind
    mountOk({"--control", sock(), "--undo", undo(), "--views", views()});
  }
  // kill -9 of the daemon; its mounts are left behind and unmounted here.
  void killDaemon() {
    ASSERT_EQ(::kill(daemon_, SIGKILL), 0);
    waitExit(daemon_);
    daemon_ = -1;
    EXPECT_EQ(run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mnt_}).exitCode, 0);
    if (mountedAt(views())) {
      EXPECT_EQ(run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", views()}).exitCode, 0);
    }
  }
  // "ok <hex>" → hex (empty on anything else).
  std::string okRoot(const std::string& verb) {
    const std::string a = askControl(sock(), verb);
    EXPECT_EQ(a.rfind("ok ", 0), 0U) << verb << ": " << a;
    return a.rfind("ok ", 0) == 0 ? a.substr(3) : "";
  }
};

TEST_F(StateFsRoundsTest, RollbackRestoresTheCommittedStateAndCommitKeepsTheRound) {
  writeFile(fs::path(src_) / "a", std::string(200000, 'a'));
  fs::create_directories(fs::path(src_) / "d");
  writeFile(fs::path(src_) / "d" / "x", "x");
  mountRounds();
  const std::string committed = okRoot("begin");
  EXPECT_EQ(committed, hashOf(src_));
  EXPECT_EQ(askControl(sock(), "begin"), "error begin: a round is already open");

  {
    std::fstream f(m("a"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(70000);
    f << "changed";
  }
  fs::rename(m("d"), m("e"));
  fs::remove(m("e/x"));
  writeFile(m("new"), "new");
  fs::permissions(m("e"), fs::perms(0700));
  ASSERT_NE(okRoot("root"), committed);
  EXPECT_EQ(okRoot("rollback"), committed);
  EXPECT_EQ(hashOf(src_), committed);
  EXPECT_EQ(readFile(m("a")), std::string(200000, 'a'));
  EXPECT_EQ(readFile(m("d/x")), "x");
  EXPECT_FALSE(fs::exists(m("new")));
  EXPECT_EQ(askControl(sock(), "rollback"), "error rollback: no round is open");

  EXPECT_EQ(okRoot("begin"), committed);
  writeFile(m("d/y"), "y");
  fs::remove(m("a"));
  const std::string next = okRoot("commit");
  EXPECT_EQ(next, hashOf(src_));
  EXPECT_FALSE(fs::exists(fs::path(src_) / "a"));
  EXPECT_FALSE(fs::exists(fs::path(undo()) / "round"));
  // Outside a round changes are applied and committed by the next begin (or commit).
  writeFile(m("outside"), "o");
  EXPECT_EQ(okRoot("begin"), hashOf(src_));
  EXPECT_EQ(okRoot("rollback"), hashOf(src_));
  EXPECT_TRUE(fs::exists(m("outside")));
  stopAndExpectClean(SIGTERM);
  EXPECT_FALSE(mountedAt(views()));
}

TEST_F(StateFsRoundsTest, TwoViewsReadTheCommittedStateWhileTheRoundWrites) {
  writeFile(fs::path(src_) / "f", std::string(150000, 'o'));
  fs::create_directories(fs::path(src_) / "dir");
  writeFile(fs::path(src_) / "dir" / "g", "g0");
  mountRounds();
  const std::string committed = okRoot("begin");
  const std::string v1 = askControl(sock(), "view open");
  ASSERT_EQ(v1, "ok 1 " + committed);
  {
    std::fstream f(m("f"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100000);
    f << std::string(30000, 'N');
  }
  fs::resize_file(m("f"), 120000);
  fs::rename(m("dir"), m("moved"));
  writeFile(m("moved/g"), "g1");
  writeFile(m("fresh"), "fresh");
  const std::string v2 = askControl(sock(), "view open");  // opened mid-round: the same committed state
  ASSERT_EQ(v2, "ok 2 " + committed);
  for (const char* id : {"1", "2"}) {
    const fs::path v = fs::path(views()) / id;
    EXPECT_EQ(readFile(v / "f"), std::string(150000, 'o')) << id;
    EXPECT_EQ(readFile(v / "dir" / "g"), "g0") << id;
    EXPECT_FALSE(fs::exists(v / "moved")) << id;
    EXPECT_FALSE(fs::exists(v / "fresh")) << id;
    std::ofstream w(v / "f", std::ios::app);
    EXPECT_FALSE(w.good()) << id << ": a view is read-only";
  }
  std::set<std::string> top;
  for (const auto& e : fs::directory_iterator(views())) top.insert(e.path().filename().string());
  EXPECT_EQ(top, (std::set<std::string>{"1", "2"}));
  EXPECT_EQ(readFile(m("moved/g")), "g1");  // the round sees its own writes
  EXPECT_EQ(askControl(sock(), "view close 2"), "ok");
  EXPECT_FALSE(fs::exists(fs::path(views()) / "2"));
  EXPECT_EQ(okRoot("commit"), hashOf(src_));
  EXPECT_FALSE(fs::exists(fs::path(views()) / "1"));  // a commit ends the views of the state before
  const std::string v3 = askControl(sock(), "view open");
  EXPECT_EQ(v3, "ok 3 " + hashOf(src_));
  EXPECT_EQ(readFile(fs::path(views()) / "3" / "moved" / "g"), "g1");
  stopAndExpectClean(SIGTERM);
}

// A daemon killed mid-round: the next mount with a control socket keeps the round for its owner
// (the runtime) to decide — changes and views refused until then — and its rollback restores the
// committed state. The runtime commits instead when the round's ledger was stored (next test).
TEST_F(StateFsRoundsTest, ADaemonKilledMidRoundKeepsTheRoundForItsOwner) {
  writeFile(fs::path(src_) / "big", std::string(300000, 'b'));
  writeFile(fs::path(src_) / "keep", "keep");
  mountRounds();
  const std::string committed = okRoot("begin");
  {
    std::fstream f(m("big"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100000);
    f << std::string(200000, 'X');
  }
  fs::remove(m("keep"));
  fs::create_directories(m("newdir/sub"));
  writeFile(m("newdir/sub/file"), "n");
  const std::string roundRoot = okRoot("root");
  killDaemon();
  ASSERT_TRUE(fs::exists(fs::path(undo()) / "round" / "log"));
  EXPECT_NE(hashOf(src_), committed);

  mountOk({"--control", sock(), "--undo", undo(), "--views", views()});
  EXPECT_EQ(okRoot("root"), roundRoot);  // the round's state, as the daemon left it
  const std::string status = askControl(sock(), "status");
  EXPECT_EQ(status.rfind("ok round ", 0), 0U) << status;
  EXPECT_NE(status.find(" recovered"), std::string::npos) << status;
  {
    std::ofstream w(m("refused"));
    EXPECT_FALSE(w.good() && (w << "x").flush().good()) << "a change before the owner decided";
  }
  EXPECT_FALSE(fs::exists(fs::path(src_) / "refused"));
  EXPECT_EQ(askControl(sock(), "view open").rfind("error view open: the round left open", 0), 0U);
  EXPECT_EQ(askControl(sock(), "begin"), "error begin: a round is already open");
  EXPECT_EQ(okRoot("rollback"), committed);
  EXPECT_EQ(hashOf(src_), committed);
  EXPECT_EQ(readFile(m("big")), std::string(300000, 'b'));
  EXPECT_EQ(readFile(m("keep")), "keep");
  EXPECT_FALSE(fs::exists(m("newdir")));
  EXPECT_FALSE(fs::exists(fs::path(undo()) / "round"));
  EXPECT_EQ(askControl(sock(), "status").rfind("ok idle ", 0), 0U);
  EXPECT_EQ(okRoot("begin"), committed);  // rounds go on
  writeFile(m("after"), "a");
  EXPECT_EQ(okRoot("commit"), hashOf(src_));
  stopAndExpectClean(SIGTERM);
}

// Killed after the round ended and before its commit (the runtime had stored the round's
// ledger): the owner commits the kept round, and nothing of it is lost; with --tree the store is
// verified first. A mount without a control socket has no owner to ask: it rolls back.
TEST_F(StateFsRoundsTest, AKeptRoundIsCommittedByItsOwnerOrRolledBackWithoutOne) {
  writeFile(fs::path(src_) / "f", std::string(100000, 'f'));
  const std::string tree = (base_ / "tree.sqlite").string();
  fs::create_directories(views());
  extraMounts_.push_back(views());
  mountOk({"--control", sock(), "--undo", undo(), "--views", views(), "--tree", tree});
  const std::string committed = okRoot("begin");
  writeFile(m("f"), "rewritten");
  writeFile(m("g"), "new");
  const std::string ledgerRoot = okRoot("root");
  killDaemon();
  RunResult r = mount({"--control", sock(), "--undo", undo(), "--views", views(), "--tree", tree});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("kept for its owner"), std::string::npos) << r.err;
  EXPECT_EQ(okRoot("commit"), ledgerRoot);
  EXPECT_EQ(hashOf(src_), ledgerRoot);
  EXPECT_EQ(readFile(m("g")), "new");
  EXPECT_FALSE(fs::exists(fs::path(undo()) / "round"));
  EXPECT_EQ(okRoot("begin"), ledgerRoot);
  writeFile(m("g"), "changed again");
  killDaemon();
  mountOk({"--undo", undo(), "--tree", tree});  // no control socket
  EXPECT_EQ(hashOf(src_), ledgerRoot);
  EXPECT_EQ(readFile(m("g")), "new");
  EXPECT_FALSE(fs::exists(fs::path(undo()) / "round"));
  EXPECT_NE(committed, ledgerRoot);
  stopAndExpectClean(SIGTERM);
}

// With --tree, each commit saves the tree: after a kill the verified store holds every committed
// file's hash (nothing wrong, nothing missing).
TEST_F(StateFsRoundsTest, EachCommitSavesThePersistedTree) {
  writeFile(fs::path(src_) / "a", "one");
  writeFile(fs::path(src_) / "b", "bee");
  const std::string tree = (base_ / "tree.sqlite").string();
  mountOk({"--control", sock(), "--undo", undo(), "--tree", tree});
  okRoot("begin");
  writeFile(m("a"), "one, and more");
  writeFile(m("c"), "new");
  const std::string committed = okRoot("commit");
  killDaemon();
  RunResult r = mount({"--control", sock(), "--undo", undo(), "--tree", tree});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("verified 3 files"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": 0 stored hashes wrong, 0 files missing from the store"), std::string::npos)
      << r.err;
  EXPECT_EQ(okRoot("root"), committed);
  stopAndExpectClean(SIGTERM);
}

TEST_F(StateFsRoundsTest, AFullDiskFailsTheRoundCleanly) {
  // The state and its undo log on a 4 MiB tmpfs the test mounts (and TearDown unmounts).
  const fs::path small = base_ / "small";
  fs::create_directories(small);
  ASSERT_EQ(::mount("tmpfs", small.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,mode=0700"), 0)
      << std::strerror(errno);
  extraMounts_.push_back(small.string());
  src_ = (small / "src").string();
  fs::create_directories(src_);
  writeFile(fs::path(src_) / "data", std::string(1 << 20, 'd'));
  fs::create_directories(views());
  extraMounts_.push_back(views());
  mountOk({"--control", sock(), "--undo", (small / "undo").string(), "--views", views()});
  const std::string committed = okRoot("begin");

  // Overwrite the existing file (each block's old bytes go to the undo log first), then fill
  // the disk with a new file: some write must fail with ENOSPC.
  int err = 0;
  {
    int fd = ::open(m("data").c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string chunk(1 << 16, 'Z');
    for (off_t off = 0; off < (1 << 20) && err == 0; off += static_cast<off_t>(chunk.size()))
      if (::pwrite(fd, chunk.data(), chunk.size(), off) < 0) err = errno;
    ::close(fd);
    fd = ::open(m("filler").c_str(), O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(fd, 0);
    for (int i = 0; i < 200 && err == 0; ++i)
      if (::write(fd, chunk.data(), chunk.size()) < 0) err = errno;
    ::close(fd);
  }
  EXPECT_EQ(err, ENOSPC);
  // The round lost changes: it has no root to agree on and cannot be committed (the runtime's
  // round fails on `root` and rolls back).
  for (const char* verb : {"root", "commit"}) {
    const std::string a = askControl(sock(), verb);
    EXPECT_EQ(a.rfind(std::string("error ") + verb + ": the disk is full: ", 0), 0U) << a;
    EXPECT_NE(a.find("roll the round back"), std::string::npos) << a;
  }
  const std::string status = askControl(sock(), "status");
  EXPECT_EQ(status.rfind("ok round ", 0), 0U) << status;
  EXPECT_NE(status.find(" full "), std::string::npos) << status;
  EXPECT_EQ(okRoot("rollback"), committed);
  EXPECT_EQ(hashOf(src_), committed);
  EXPECT_EQ(readFile(m("data")), std::string(1 << 20, 'd'));
  EXPECT_FALSE(fs::exists(m("filler")));
  // The disk has room again: a round works.
  EXPECT_EQ(okRoot("begin"), committed);
  writeFile(m("small"), "s");
  EXPECT_EQ(okRoot("commit"), hashOf(src_));
  stopAndExpectClean(SIGTERM);
}

// The daemon runs as the tenant user: no privilege to bypass modes. A read-only file and an
// empty read-only directory removed in a round come back, with their modes, at rollback.
TEST_F(StateFsRoundsTest, RoundsAndViewsWorkForAnUnprivilegedDaemon) {
  Identity u = makeUser();
  ASSERT_FALSE(user_.empty());
  fs::permissions(base_, fs::perms(0711));
  const fs::path ctl = base_ / "ctl";
  for (const fs::path& d : {fs::path(src_), fs::path(mnt_), fs::path(views()), fs::path(undo()), ctl}) {
    fs::create_directories(d);
    ASSERT_EQ(::chown(d.c_str(), u.uid, u.gid), 0);
  }
  fs::permissions(ctl, fs::perms(0700));
  writeFile(fs::path(src_) / "f", "orig");
  fs::create_directories(fs::path(src_) / "ro");
  for (const char* n : {"f", "ro"}) ASSERT_EQ(::chown((fs::path(src_) / n).c_str(), u.uid, u.gid), 0);
  fs::permissions(fs::path(src_) / "f", fs::perms(0444));
  fs::permissions(fs::path(src_) / "ro", fs::perms(0555));
  extraMounts_.push_back(views());
  const std::string sock = (ctl / "s").string();
  ASSERT_NO_FATAL_FAILURE(mountOk({"--control", sock, "--undo", undo(), "--views", views()}, u));
  const std::string committed = askControl(sock, "begin").substr(3);
  EXPECT_EQ(committed, hashOf(src_));
  ASSERT_EQ(askControl(sock, "view open"), "ok 1 " + committed);
  const fs::path mnt(mnt_), v(fs::path(views()) / "1");
  EXPECT_EQ(asUser(u,
                   [&] {
                     std::error_code ec;
                     fs::permissions(mnt / "f", fs::perms(0644), ec);
                     if (ec) return 1;
                     writeFile(mnt / "f", "changed");
                     if (readFile(mnt / "f") != "changed") return 2;
                     if (::rmdir((mnt / "ro").c_str()) != 0) return 3;
                     if (readFile(v / "f") != "orig") return 4;  // the view still shows it
                     if (!fs::is_directory(v / "ro")) return 5;
                     return 0;
                   }),
            0);
  EXPECT_EQ(askControl(sock, "rollback"), "ok " + committed);
  EXPECT_EQ(hashOf(src_), committed);
  EXPECT_EQ(readFile(fs::path(src_) / "f"), "orig");
  EXPECT_EQ(fs::status(fs::path(src_) / "f").permissions(), fs::perms(0444));
  EXPECT_EQ(fs::status(fs::path(src_) / "ro").permissions(), fs::perms(0555));
  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
}

}  // namespace
