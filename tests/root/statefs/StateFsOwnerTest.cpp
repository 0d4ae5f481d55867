// Root tests of a tenant-style mount: the daemon runs as an unprivileged user U that owns the
// source; the mount shows U's files as another uid C (--owner), the "contract". C can use its
// files through the mount (create, write, chmod) but can neither write the source directly nor
// signal the daemon; the persisted tree (--tree) gives the same root after a clean and after an
// unclean stop. Skip cleanly without root or /dev/fuse; the throwaway user is removed in TearDown.
#include <sys/socket.h>
#include <sys/un.h>

#include <functional>

#include "StateFsRootFixture.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/StateTree.h"

using namespace statefs_root;

namespace {

// errno of a failed call as an exit code (0: it succeeded).
int err(int rc) { return rc < 0 ? errno : 0; }

class StateFsOwnerTest : public StateFsRootTest {
 protected:
  void SetUp() override {
    StateFsRootTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    tenant_ = makeUser();
    ASSERT_FALSE(user_.empty());
    // The "contract": a uid and gid no one has, far from the user's.
    contract_ = {tenant_.uid + 300000, tenant_.gid + 300000};
    fs::permissions(base_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    for (const auto& d : {src_, mnt_, dir("statefs"), dir("control")}) {
      fs::create_directories(d);
      ASSERT_EQ(::chown(d.c_str(), tenant_.uid, tenant_.gid), 0);
      ::chmod(d.c_str(), 0700);
    }
  }
  std::string dir(const std::string& n) const { return (base_ / n).string(); }
  std::string sock() const { return dir("control") + "/statefs.sock"; }
  std::vector<std::string> options() const {
    return {"--allow-other",
            "--owner",
            std::to_string(contract_.uid) + ":" + std::to_string(contract_.gid),
            "--control",
            sock(),
            "--tree",
            dir("statefs") + "/tree.sqlite"};
  }
  std::string expectedRoot() const {
    auto t = sashimono::statefs::StateTree::build(src_);
    return t.ok() ? "ok " + sashimono::core::toHexLower(t->root()) : "build failed: " + t.error().message;
  }

  Identity tenant_{}, contract_{};
};

}  // namespace

TEST_F(StateFsOwnerTest, DaemonIsTheTenantsAndTheContractUsesItsFilesOnlyThroughTheMount) {
  std::ofstream(fs::path(src_) / "old.txt") << "from before";
  ASSERT_EQ(::chown((fs::path(src_) / "old.txt").c_str(), tenant_.uid, tenant_.gid), 0);
  ASSERT_NO_FATAL_FAILURE(mountOk(options(), tenant_));
  // The daemon runs as the tenant user (real, effective, saved and filesystem uids).
  const std::string status = readFile("/proc/" + std::to_string(daemon_) + "/status");
  const std::string u = std::to_string(tenant_.uid);
  EXPECT_NE(status.find("\nUid:\t" + u + "\t" + u + "\t" + u + "\t" + u + "\n"), std::string::npos) << status;

  const fs::path m(mnt_), s(src_);
  // The mount shows the tenant's files as the contract's.
  struct stat st {};
  ASSERT_EQ(::stat((m / "old.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, contract_.uid);
  EXPECT_EQ(st.st_gid, contract_.gid);
  // Through the mount, as the contract: create, write, chmod, mkdir, rename, chown to itself.
  EXPECT_EQ(asUser(contract_,
                   [&] {
                     int fd = ::open((m / "new.txt").c_str(), O_CREAT | O_WRONLY | O_EXCL, 0644);
                     if (fd < 0) return 10;
                     if (::write(fd, "abc", 3) != 3) return 11;
                     ::close(fd);
                     if (::chmod((m / "new.txt").c_str(), 0600) != 0) return 12;
                     if (::mkdir((m / "d").c_str(), 0700) != 0) return 13;
                     if (::rename((m / "old.txt").c_str(), (m / "d/old.txt").c_str()) != 0) return 14;
                     if (::chown((m / "new.txt").c_str(), contract_.uid, contract_.gid) != 0) return 15;
                     // Giving a file to anyone else (the tenant user, root) is refused.
                     if (::chown((m / "new.txt").c_str(), tenant_.uid, static_cast<gid_t>(-1)) == 0)
                       return 16;
                     if (errno != EPERM) return 17;
                     if (::chmod((m / "d/old.txt").c_str(), 0640) != 0) return 18;
                     return 0;
                   }),
            0);
  EXPECT_EQ(readFile(s / "new.txt"), "abc");
  ASSERT_EQ(::lstat((s / "new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, tenant_.uid) << "the source holds only the tenant's files";
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  ASSERT_EQ(::lstat((m / "new.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, contract_.uid);
  EXPECT_EQ(askControl(sock(), "root"), expectedRoot());

  // Directly, as the contract's uid (an escaped contract): no write in the source, no signal, no
  // control socket.
  EXPECT_EQ(asUser(contract_, [&] { return err(::open((s / "planted").c_str(), O_CREAT | O_WRONLY, 0644)); }),
            EACCES);
  EXPECT_EQ(asUser(contract_, [&] { return err(::open((s / "new.txt").c_str(), O_WRONLY)); }), EACCES);
  EXPECT_EQ(asUser(contract_, [&] { return err(::kill(daemon_, SIGKILL)); }), EPERM);
  EXPECT_EQ(asUser(contract_, [&] { return err(::kill(daemon_, 0)); }), EPERM);
  EXPECT_EQ(asUser(contract_,
                   [&] {
                     int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
                     sockaddr_un a{};
                     a.sun_family = AF_UNIX;
                     std::strncpy(a.sun_path, sock().c_str(), sizeof a.sun_path - 1);
                     return err(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a));
                   }),
            EACCES);
  EXPECT_FALSE(fs::exists(s / "planted"));
  EXPECT_EQ(::kill(daemon_, 0), 0) << "the daemon survived";
  stopAndExpectClean(SIGTERM);
}

TEST_F(StateFsOwnerTest, PersistedTreeGivesTheSameRootAfterCleanAndUncleanStops) {
  const fs::path m(mnt_), s(src_);
  ASSERT_NO_FATAL_FAILURE(mountOk(options(), tenant_));
  ASSERT_EQ(asUser(contract_,
                   [&] {
                     if (::mkdir((m / "sub").c_str(), 0755) != 0) return 1;
                     std::ofstream(m / "sub/big") << std::string(300000, 'b');
                     std::ofstream(m / "a.txt") << "alpha";
                     return ::symlink("a.txt", (m / "link").c_str()) == 0 ? 0 : 2;
                   }),
            0);
  const std::string root1 = askControl(sock(), "root");
  EXPECT_EQ(root1, expectedRoot());
  stopAndExpectClean(SIGTERM);
  EXPECT_TRUE(fs::exists(dir("statefs") + "/tree.sqlite")) << "the tree is saved beside the state";

  // Clean stop: the stored hashes are used, and the root is the same.
  ASSERT_NO_FATAL_FAILURE(mountOk(options(), tenant_));
  EXPECT_EQ(askControl(sock(), "root"), root1);
  std::ofstream(m / "sub/big", std::ios::app) << "more";  // as root: allow_other lets it in
  const std::string root2 = askControl(sock(), "root");
  EXPECT_NE(root2, root1);
  EXPECT_EQ(root2, expectedRoot());

  // Unclean stop (SIGKILL: nothing saved), then a change behind the daemon's back: the tree is
  // verified at the next mount and the root is the state's.
  ASSERT_EQ(::kill(daemon_, SIGKILL), 0);
  waitExit(daemon_);
  daemon_ = -1;
  ASSERT_EQ(run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mnt_}).exitCode, 0);
  std::ofstream(s / "a.txt") << "changed while unmounted";
  ASSERT_NO_FATAL_FAILURE(mountOk(options(), tenant_));
  EXPECT_EQ(askControl(sock(), "root"), expectedRoot());
  EXPECT_NE(askControl(sock(), "root"), root2);
  stopAndExpectClean(SIGTERM);
}
