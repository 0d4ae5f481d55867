// Root tests of the state filesystem: real FUSE mounts through the `sashimono` binary, as
// root and as a throwaway unprivileged user. Skip cleanly without root or /dev/fuse.
#include "StateFsRootFixture.h"

using namespace statefs_root;

TEST_F(StateFsRootTest, OperationsPassThroughToTheSource) {
  ASSERT_NO_FATAL_FAILURE(mountOk());
  const fs::path m(mnt_), s(src_);

  // write + fsync + close: visible to host-side readers of the source
  int fd = ::open((m / "f.txt").c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::write(fd, "hello state", 11), 11);
  ASSERT_EQ(::fsync(fd), 0);
  ASSERT_EQ(::close(fd), 0);
  EXPECT_EQ(readFile(s / "f.txt"), "hello state");
  EXPECT_EQ(readFile(m / "f.txt"), "hello state");

  ASSERT_TRUE(fs::create_directory(m / "d"));
  EXPECT_TRUE(fs::is_directory(s / "d"));
  fs::rename(m / "f.txt", m / "d" / "g.txt");
  EXPECT_FALSE(fs::exists(s / "f.txt"));
  EXPECT_EQ(readFile(s / "d" / "g.txt"), "hello state");

  std::ofstream(m / "other") << "other";
  errno = 0;
  EXPECT_NE(
      ::renameat2(AT_FDCWD, (m / "other").c_str(), AT_FDCWD, (m / "d" / "g.txt").c_str(), RENAME_NOREPLACE),
      0);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(readFile(s / "d" / "g.txt"), "hello state");

  fs::resize_file(m / "d" / "g.txt", 5);
  EXPECT_EQ(readFile(s / "d" / "g.txt"), "hello");

  fs::permissions(m / "d" / "g.txt", fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(s / "d" / "g.txt").permissions(), fs::perms::owner_read | fs::perms::owner_write);

  fs::create_hard_link(m / "other", m / "d" / "hard");
  EXPECT_EQ(fs::hard_link_count(s / "other"), 2u);

  // A symlink is stored as text; the daemon never follows it.
  fs::create_symlink("/etc/passwd", m / "lnk");
  EXPECT_TRUE(fs::is_symlink(s / "lnk"));
  EXPECT_EQ(fs::read_symlink(s / "lnk"), "/etc/passwd");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(m / "lnk")));

  // open, unlink, keep reading: no hidden file left in the source
  fd = ::open((m / "other").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  fs::remove(m / "other");
  char buf[8] = {};
  EXPECT_EQ(::pread(fd, buf, 5, 0), 5);
  EXPECT_STREQ(buf, "other");
  ::close(fd);
  std::set<std::string> srcNames, mntNames;
  for (const auto& e : fs::directory_iterator(s)) srcNames.insert(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(m)) mntNames.insert(e.path().filename().string());
  EXPECT_EQ(srcNames, (std::set<std::string>{"d", "lnk"}));
  EXPECT_EQ(mntNames, srcNames);

  fs::remove(m / "d" / "hard");
  fs::remove(m / "d" / "g.txt");
  fs::remove(m / "d");
  EXPECT_FALSE(fs::exists(s / "d"));

  // Nothing outside the mount can be linked or renamed in (the kernel refuses cross-mount).
  std::ofstream(fs::path(outside_) / "secret") << "secret";
  std::error_code ec;
  fs::create_hard_link(fs::path(outside_) / "secret", m / "stolen", ec);
  EXPECT_EQ(ec.value(), EXDEV);

  // Programs can be executed from the state (the mount is nosuid,nodev, not noexec).
  fs::copy_file("/bin/true", m / "true");
  fs::permissions(m / "true", fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  EXPECT_EQ(run({(m / "true").string()}).exitCode, 0);

  struct statfs sfs {};
  ASSERT_EQ(::statfs(mnt_.c_str(), &sfs), 0);
  EXPECT_EQ(sfs.f_type, kFuseSuperMagic);

  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
}

TEST_F(StateFsRootTest, SigintUnmountsInForeground) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 2);
    ::execl(SASHIMONO_BINARY, SASHIMONO_BINARY, "statefs", "mount", "--source", src_.c_str(), "--mountpoint",
            mnt_.c_str(), "--foreground", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  daemon_ = pid;
  for (int i = 0; i < 500 && !mountedAt(mnt_); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(mountedAt(mnt_));
  std::ofstream(fs::path(mnt_) / "x") << "x";
  EXPECT_EQ(readFile(fs::path(src_) / "x"), "x");
  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGINT));
}

TEST_F(StateFsRootTest, FusermountEndsTheDaemon) {
  ASSERT_NO_FATAL_FAILURE(mountOk());
  RunResult r = run({"fusermount3", "-u", mnt_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(waitExit(daemon_), 0);
  daemon_ = -1;
  EXPECT_FALSE(mountedAt(mnt_));
}

TEST_F(StateFsRootTest, UnmountCommandIsIdempotentAndRefusesOtherMounts) {
  ASSERT_NO_FATAL_FAILURE(mountOk());
  RunResult r = run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mnt_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(waitExit(daemon_), 0);
  daemon_ = -1;
  EXPECT_FALSE(mountedAt(mnt_));
  r = run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mnt_});
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("nothing mounted"), std::string::npos) << r.err;

  const std::string tmpfsAt = (base_ / "tmpfs").string();
  fs::create_directories(tmpfsAt);
  ASSERT_EQ(::mount("tmpfs", tmpfsAt.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  extraMounts_.push_back(tmpfsAt);
  r = run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", tmpfsAt});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("not a FUSE mount"), std::string::npos) << r.err;
  EXPECT_TRUE(mountedAt(tmpfsAt));
}

TEST_F(StateFsRootTest, UnmountCommandClearsTheMountOfAKilledDaemon) {
  ASSERT_NO_FATAL_FAILURE(mountOk());
  ASSERT_EQ(::kill(daemon_, SIGKILL), 0);
  EXPECT_EQ(waitExit(daemon_), 128 + SIGKILL);
  daemon_ = -1;
  EXPECT_TRUE(mountedAt(mnt_));  // dead mount: ENOTCONN for everyone
  RunResult r = run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mnt_});
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_FALSE(mountedAt(mnt_));
}

TEST_F(StateFsRootTest, MountFailsClearly) {
  RunResult r =
      run({SASHIMONO_BINARY, "statefs", "mount", "--source", src_, "--mountpoint", mnt_ + "/missing"});
  EXPECT_EQ(r.exitCode, 1);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  r = run({SASHIMONO_BINARY, "statefs", "mount", "--source", src_, "--mountpoint", src_ + "/"});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  r = run({SASHIMONO_BINARY, "statefs", "mount", "--source", src_});
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_FALSE(mountedAt(mnt_));
}

TEST_F(StateFsRootTest, RunsAsAnUnprivilegedUserWithKernelPermissionChecks) {
  if (readFile("/etc/fuse.conf").find("\nuser_allow_other") == std::string::npos &&
      readFile("/etc/fuse.conf").rfind("user_allow_other", 0) != 0) {
    GTEST_SKIP() << "user_allow_other is not enabled in /etc/fuse.conf (run tools/setup.sh)";
  }
  Identity u = makeUser();
  ASSERT_FALSE(user_.empty());
  fs::permissions(base_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  ASSERT_EQ(::chown(src_.c_str(), u.uid, u.gid), 0);
  ASSERT_EQ(::chown(mnt_.c_str(), u.uid, u.gid), 0);

  ASSERT_NO_FATAL_FAILURE(mountOk({"--allow-other"}, u));
  const fs::path m(mnt_), s(src_);
  std::ofstream(m / "private") << "p";
  std::ofstream(m / "public") << "q";
  fs::permissions(m / "private", fs::perms::owner_read | fs::perms::owner_write);
  fs::permissions(m / "public", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                    fs::perms::others_read);
  struct stat st {};
  ASSERT_EQ(::stat((s / "private").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, u.uid) << "files are created by the daemon's user";

  // The kernel checks modes (default_permissions): "nobody" may read only the public file.
  Identity nobody{65534, 65534};
  EXPECT_EQ(run({"cat", (m / "public").string()}, nobody).exitCode, 0);
  RunResult r = run({"cat", (m / "private").string()}, nobody);
  EXPECT_NE(r.exitCode, 0);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
  EXPECT_NE(run({"touch", (m / "planted").string()}, nobody).exitCode, 0);
  EXPECT_FALSE(fs::exists(s / "planted"));

  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
}

TEST_F(StateFsRootTest, WithoutAllowOtherOnlyTheOwnerGetsIn) {
  Identity u = makeUser();
  ASSERT_FALSE(user_.empty());
  fs::permissions(base_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  ASSERT_EQ(::chown(src_.c_str(), u.uid, u.gid), 0);
  // A mountpoint the user may not write to: refused, clearly, and nothing is left mounted.
  RunResult denied = mount({}, u);
  EXPECT_EQ(denied.exitCode, 1);
  EXPECT_NE(denied.err.find("cannot mount on " + mnt_), std::string::npos) << denied.err;
  EXPECT_FALSE(mountedAt(mnt_));
  ASSERT_EQ(::chown(mnt_.c_str(), u.uid, u.gid), 0);
  ASSERT_NO_FATAL_FAILURE(mountOk({}, u));
  EXPECT_EQ(run({"touch", (fs::path(mnt_) / "mine").string()}, u).exitCode, 0);
  EXPECT_TRUE(fs::exists(fs::path(src_) / "mine"));
  struct stat st {};
  EXPECT_NE(::stat((fs::path(mnt_) / "mine").c_str(), &st), 0);  // even root is kept out
  EXPECT_EQ(errno, EACCES);
  // The owner may unmount it with the unmount command (fusermount3 underneath).
  RunResult r = run({SASHIMONO_BINARY, "statefs", "unmount", "--mountpoint", mnt_}, u);
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(waitExit(daemon_), 0);
  daemon_ = -1;
  EXPECT_FALSE(mountedAt(mnt_));
}
