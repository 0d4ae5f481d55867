// Root tests of the control channel: a real mount with --control, changes made through the
// mount, and the root the daemon answers compared with a from-scratch hash of the source.
// The socket is 0600 and another uid cannot use it. Skip cleanly without root or /dev/fuse.
#include <sys/socket.h>
#include <sys/un.h>

#include <functional>

#include "StateFsRootFixture.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/StateTree.h"

using namespace statefs_root;

namespace {

// Connects to the unix socket at `path`: the descriptor, or -errno.
int connectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    int e = errno;
    ::close(fd);
    return -e;
  }
  return fd;
}

// Reads one answer line.
std::string readLine(int fd) {
  std::string out;
  char c;
  while (::read(fd, &c, 1) == 1) {
    out += c;
    if (c == '\n') break;
  }
  return out;
}

// One request on a fresh connection: its answer line.
std::string ask(const std::string& sock, const std::string& request) {
  int fd = connectUnix(sock);
  if (fd < 0) return std::string("connect: ") + std::strerror(-fd);
  std::string line = request + "\n";
  std::string out = ::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())
                        ? readLine(fd)
                        : "send failed";
  ::close(fd);
  return out;
}

class StateFsControlTest : public StateFsRootTest {
 protected:
  // "ok <root>" of the source, hashed from scratch.
  std::string expectedRoot() {
    auto t = sashimono::statefs::StateTree::build(src_);
    if (!t.ok()) return "build failed: " + t.error().message;
    return "ok " + sashimono::core::toHexLower(t->root()) + "\n";
  }
  std::string sock() const { return (base_ / "ctl.sock").string(); }
};

}  // namespace

TEST_F(StateFsControlTest, RootFollowsChangesMadeThroughTheMount) {
  const fs::path m(mnt_), s(src_);
  fs::create_directories(s / "sub");
  std::ofstream(s / "a.txt") << "alpha";
  std::ofstream(s / "sub" / "big") << std::string(200000, 'b');
  ASSERT_NO_FATAL_FAILURE(mountOk({"--control", sock()}));

  struct stat st {};
  ASSERT_EQ(::lstat(sock().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(ask(sock(), "ping"), "ok\n");
  EXPECT_EQ(ask(sock(), "root"), expectedRoot()) << "the tree is built at mount time";

  // A round of changes through the mount.
  std::ofstream(m / "a.txt", std::ios::app) << " beta";  // an append
  int fd = ::open((m / "sub" / "big").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "XYZ", 3, 70000), 3);
  ASSERT_EQ(::close(fd), 0);
  fs::rename(m / "a.txt", m / "sub" / "a2");
  fs::resize_file(m / "sub" / "big", 100001);
  fs::permissions(m / "sub" / "a2", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_directory(m / "new");
  fs::create_symlink("../sub/a2", m / "new" / "link");
  fs::create_hard_link(m / "sub" / "a2", m / "new" / "hard");
  ASSERT_EQ(::mkfifo((m / "fifo").c_str(), 0640), 0);
  EXPECT_EQ(ask(sock(), "root"), expectedRoot());

  // Another: writes to an open file that is renamed, then unlinked; a directory rename; chmod
  // of a hard link (the mode reaches the other name).
  fd = ::open((m / "sub" / "big").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  fs::rename(m / "sub", m / "new" / "moved");
  ASSERT_EQ(::pwrite(fd, "late", 4, 150000), 4);
  EXPECT_EQ(ask(sock(), "commit"), expectedRoot());
  fs::remove(m / "new" / "moved" / "big");
  ASSERT_EQ(::pwrite(fd, "gone", 4, 0), 4);
  ASSERT_EQ(::ftruncate(fd, 10), 0);
  ASSERT_EQ(::close(fd), 0);
  ASSERT_EQ(::chmod((m / "new" / "hard").c_str(), 0640), 0);
  fs::remove(m / "fifo");
  EXPECT_EQ(ask(sock(), "root"), expectedRoot());
  EXPECT_EQ(ask(sock(), "rollback").rfind("error ", 0), 0u);
  EXPECT_EQ(ask(sock(), "no such verb"), "error unknown request: no\n");

  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
  EXPECT_NE(::lstat(sock().c_str(), &st), 0) << "the daemon removes its socket";
}

TEST_F(StateFsControlTest, AnotherUserCannotUseTheSocket) {
  ASSERT_NO_FATAL_FAILURE(mountOk({"--control", sock()}));
  // Let others through the directory, so that only the socket's own mode keeps them out.
  fs::permissions(base_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  const Identity nobody{65534, 65534};
  const std::string path = sock();
  EXPECT_EQ(asUser(nobody, [&] { return -connectUnix(path); }), EACCES);
  // Were the mode ever loosened, the daemon still turns another uid away.
  ASSERT_EQ(::chmod(path.c_str(), 0666), 0);
  EXPECT_EQ(asUser(nobody,
                   [&] {
                     int fd = connectUnix(path);
                     if (fd < 0) return 2;
                     (void)::send(fd, "root\n", 5, MSG_NOSIGNAL);
                     return readLine(fd) == "error not allowed\n" ? 0 : 1;
                   }),
            0);
  EXPECT_EQ(ask(path, "ping"), "ok\n") << "the daemon's own user still gets in";
  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
}

TEST_F(StateFsControlTest, ABadOrBusyControlSocketFailsTheMount) {
  RunResult r = mount({"--control", (fs::path(src_) / "ctl").string()});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_NE(r.err.find("outside the source"), std::string::npos) << r.err;
  r = mount({"--control", (base_ / "missing" / "ctl").string()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_FALSE(mountedAt(mnt_));

  ASSERT_NO_FATAL_FAILURE(mountOk({"--control", sock()}));
  const pid_t first = daemon_;
  const std::string other = (base_ / "mnt2").string();
  fs::create_directories(other);
  r = run(
      {SASHIMONO_BINARY, "statefs", "mount", "--source", src_, "--mountpoint", other, "--control", sock()});
  EXPECT_EQ(r.exitCode, 1) << r.err;
  EXPECT_NE(r.err.find("in use"), std::string::npos) << r.err;
  EXPECT_FALSE(mountedAt(other));
  EXPECT_EQ(daemon_, first);
  EXPECT_EQ(ask(sock(), "ping"), "ok\n") << "the first daemon's socket is untouched";
  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
}
