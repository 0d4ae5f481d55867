#pragma once
// The fixture of the state filesystem root tests: real FUSE mounts through the `sashimono`
// binary, as root and as a throwaway unprivileged user, cleaned up even on failure; and the
// helpers they share (running programs as another user, waiting for the daemon, mountinfo).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/Mountinfo.h"
#include "sashimono/statefs/StateTree.h"

namespace statefs_root {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr long kFuseSuperMagic = 0x65735546;

struct RunResult {
  int exitCode = -1;
  std::string out, err;
};

struct Identity {
  uid_t uid;
  gid_t gid;
};

inline std::string drain(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) s.append(buf, static_cast<std::size_t>(n));
  }
  return s;
}

// Runs argv (no shell), optionally as another user, and collects its output.
inline RunResult run(const std::vector<std::string>& argv, std::optional<Identity> as = std::nullopt) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    if (as) {
      if (::setgroups(0, nullptr) != 0 || ::setgid(as->gid) != 0 || ::setuid(as->uid) != 0) ::_exit(126);
    }
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  RunResult r;
  std::thread t([&] { r.err = drain(err[0]); });
  r.out = drain(out[0]);
  t.join();
  ::close(out[0]);
  ::close(err[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Waits for a child (or adopted orphan: we are a subreaper) to exit; its exit code or -1.
inline int waitExit(pid_t pid, std::chrono::milliseconds timeout = 15s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    std::this_thread::sleep_for(20ms);
  }
  return -1;
}

inline bool mountedAt(const std::string& path, std::string* fsType = nullptr) {
  auto all = sashimono::statefs::readOwnMountinfo();
  if (!all.ok()) return false;
  auto here = sashimono::statefs::mountsAt(*all, path);
  if (here.empty()) return false;
  if (fsType != nullptr) *fsType = here.back().fsType;
  return true;
}

inline std::string readFile(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class StateFsRootTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/dev/fuse", R_OK | W_OK) != 0) GTEST_SKIP() << "no usable /dev/fuse";
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);  // the daemon is adopted by us, not init
    std::string tmpl = "/tmp/sashi-statefs-root-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    base_ = tmpl;
    src_ = (base_ / "src").string();
    mnt_ = (base_ / "mnt").string();
    outside_ = (base_ / "outside").string();
    fs::create_directories(src_);
    fs::create_directories(mnt_);
    fs::create_directories(outside_);
  }

  void TearDown() override {
    if (daemon_ > 0 && ::kill(daemon_, 0) == 0) {
      ::kill(daemon_, SIGKILL);
      waitExit(daemon_, 5s);
    }
    for (const auto& m : extraMounts_) ::umount2(m.c_str(), MNT_DETACH);
    for (int i = 0; i < 3 && !mnt_.empty() && mountedAt(mnt_); ++i) ::umount2(mnt_.c_str(), MNT_DETACH);
    if (!base_.empty()) {
      std::error_code ec;
      fs::remove_all(base_, ec);
    }
    if (!user_.empty()) {
      for (int i = 0; i < 10 && run({"userdel", user_}).exitCode == 10; ++i)
        std::this_thread::sleep_for(200ms);
      EXPECT_EQ(::getpwnam(user_.c_str()), nullptr) << "test user " << user_ << " left behind";
    }
  }

  // `sashimono statefs mount` (daemon mode); records the daemon pid on success.
  RunResult mount(std::vector<std::string> extra = {}, std::optional<Identity> as = std::nullopt) {
    std::vector<std::string> argv{SASHIMONO_BINARY, "statefs", "mount", "--source", src_,
                                  "--mountpoint",   mnt_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    RunResult r = run(argv, as);
    if (r.exitCode == 0) daemon_ = static_cast<pid_t>(std::stol(r.out));
    return r;
  }

  void mountOk(std::vector<std::string> extra = {}, std::optional<Identity> as = std::nullopt) {
    RunResult r = mount(std::move(extra), as);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    ASSERT_GT(daemon_, 0);
    std::string type;
    ASSERT_TRUE(mountedAt(mnt_, &type)) << "the parent returned before the mount existed";
    EXPECT_EQ(type, "fuse.statefs");
  }

  // Ends the daemon with `sig`; expects a clean exit, no mount and no process.
  void stopAndExpectClean(int sig) {
    ASSERT_EQ(::kill(daemon_, sig), 0);
    EXPECT_EQ(waitExit(daemon_), 0);
    EXPECT_NE(::kill(daemon_, 0), 0) << "daemon still alive";
    daemon_ = -1;
    EXPECT_FALSE(mountedAt(mnt_));
  }

  // Creates a throwaway system user (removed in TearDown, even on failure).
  Identity makeUser() {
    std::string name = "sashi-stfs-t" + std::to_string(::getpid());
    RunResult r;
    for (int i = 0; i < 10; ++i) {  // other sessions may hold /etc/passwd's lock for a moment
      r = run(
          {"useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--user-group", name});
      if (r.exitCode != 10) break;
      std::this_thread::sleep_for(200ms);
    }
    if (r.exitCode == 0) user_ = name;
    EXPECT_EQ(r.exitCode, 0) << r.err;
    struct passwd* pw = ::getpwnam(name.c_str());
    if (pw == nullptr) return {0, 0};
    return {pw->pw_uid, pw->pw_gid};
  }

  fs::path base_;
  std::string src_, mnt_, outside_, user_;
  std::vector<std::string> extraMounts_;
  pid_t daemon_ = -1;
};

// Runs `fn` in a child as `who`; the child's exit code (fn's result).
inline int asUser(Identity who, const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0) ::_exit(126);
    ::_exit(fn());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One request on a fresh connection to the control socket: its answer line, without '\n'.
inline std::string askControl(const std::string& sock, const std::string& request) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket failed";
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
  std::string out;
  const std::string line = request + "\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::send(fd, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())) {
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') out += c;
  } else {
    out = std::string("connect: ") + std::strerror(errno);
  }
  ::close(fd);
  return out;
}

// The state hash of `dir` from scratch (64 hex), or why it could not be computed.
inline std::string hashOf(const std::string& dir) {
  auto t = sashimono::statefs::StateTree::build(dir);
  return t.ok() ? sashimono::core::toHexLower(t->root()) : "build failed: " + t.error().message;
}

inline void writeFile(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary) << content;
}

}  // namespace statefs_root
