// Root tests of the spliced data paths (docs/STATEFS.md, "Splice"): large files read through the
// mount (read_buf hands the source descriptor to libfuse) must answer the source's bytes, to the
// last partial block; 1 MiB writes (write_buf: spliced from the device into the source) must be
// marked in the hash tree and, in a round, undone by a rollback; a view keeps answering the
// committed bytes of a file the round rewrites (views never splice). Once as root (whose
// daemon's pipes can hold a whole 1 MiB request) and once for an unprivileged daemon (whose
// pipes stop at fs.pipe-max-size, so libfuse falls back to copying). Skip cleanly without root.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <functional>

#include "StateFsRootFixture.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/StateTree.h"

using namespace statefs_root;

namespace {

constexpr std::size_t kMiB = 1 << 20;

// Deterministic bytes that differ from block to block (a misplaced block shows).
std::string pattern(std::size_t size, std::uint64_t seed) {
  std::string s(size, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (auto& c : s) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return s;
}

// Reads `p` in reads of `chunk` bytes, with the mount's page cache of it dropped first.
std::string readInChunks(const fs::path& p, std::size_t chunk) {
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "open failed";
  (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  std::string out, buf(chunk, '\0');
  ssize_t n;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) out.append(buf.data(), static_cast<std::size_t>(n));
  ::close(fd);
  return n < 0 ? "read failed" : out;
}

// 1 MiB pwrites of `data` at `offset` of `p`; false on any short or failed write.
bool writeInMiB(const fs::path& p, const std::string& data, off_t offset) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = true;
  for (std::size_t at = 0; ok && at < data.size(); at += kMiB) {
    const std::size_t n = std::min(kMiB, data.size() - at);
    ok = ::pwrite(fd, data.data() + at, n, offset + static_cast<off_t>(at)) == static_cast<ssize_t>(n);
  }
  return ::close(fd) == 0 && ok;
}

class StateFsSpliceTest : public StateFsRootTest {
 protected:
  // Through the mount (as `who`, or as the test): a 9 MiB + 12345 byte file read in 1 MiB and
  // 128 KiB reads; then in a round 3 MiB rewritten across block boundaries, a 2 MiB append, the
  // view showing the committed bytes meanwhile; rollback; then the same writes committed.
  void exercise(const std::string& sock, std::optional<Identity> who) {
    const std::string original = bigFile();
    const fs::path big = fs::path(mnt_) / "big";
    auto as = [&](const std::function<int()>& fn) { return who ? asUser(*who, fn) : fn(); };

    EXPECT_EQ(okRoot(sock, "root"), hashOf(src_));
    EXPECT_EQ(as([&] { return readInChunks(big, kMiB) == original ? 0 : 1; }), 0);
    EXPECT_EQ(as([&] { return readInChunks(big, 128 * 1024) == original ? 0 : 1; }), 0);

    const std::string committed = okRoot(sock, "begin");
    EXPECT_EQ(committed, hashOf(src_));
    const std::string mid = pattern(3 * kMiB, 2), tail = pattern(2 * kMiB, 3);
    std::string changed = original;
    changed.replace(3 * kMiB + 1000, mid.size(), mid);
    changed += tail;
    ASSERT_EQ(as([&] {
                if (!writeInMiB(big, mid, 3 * kMiB + 1000)) return 1;
                if (!writeInMiB(big, tail, static_cast<off_t>(original.size()))) return 2;
                return readInChunks(big, kMiB) == changed ? 0 : 3;
              }),
              0);
    EXPECT_EQ(readFile(fs::path(src_) / "big"), changed);
    EXPECT_EQ(okRoot(sock, "root"), hashOf(src_));
    ASSERT_EQ(askControl(sock, "view open").rfind("ok 1 " + committed, 0), 0U);
    EXPECT_EQ(readInChunks(fs::path(views()) / "1" / "big", kMiB), original);  // the committed bytes
    EXPECT_EQ(okRoot(sock, "rollback"), committed);
    EXPECT_EQ(hashOf(src_), committed);
    EXPECT_EQ(readFile(fs::path(src_) / "big"), original);
    EXPECT_EQ(as([&] { return readInChunks(big, kMiB) == original ? 0 : 1; }), 0);

    EXPECT_EQ(okRoot(sock, "begin"), committed);
    ASSERT_EQ(as([&] {
                if (!writeInMiB(big, mid, 3 * kMiB + 1000)) return 1;
                return writeInMiB(big, tail, static_cast<off_t>(original.size())) ? 0 : 2;
              }),
              0);
    EXPECT_EQ(okRoot(sock, "commit"), hashOf(src_));
    EXPECT_EQ(readFile(fs::path(src_) / "big"), changed);
    EXPECT_EQ(as([&] { return readInChunks(big, kMiB) == changed ? 0 : 1; }), 0);
  }

  // The file exercise() works on, written into the source before the mount.
  static std::string bigFile() { return pattern(9 * kMiB + 12345, 1); }
  void writeBig(std::optional<Identity> who) {
    writeFile(fs::path(src_) / "big", bigFile());
    if (who) {
      ASSERT_EQ(::chown((fs::path(src_) / "big").c_str(), who->uid, who->gid), 0);
    }
  }

  std::string undo() const { return (base_ / "undo").string(); }
  std::string views() const { return (base_ / "views").string(); }
  std::string okRoot(const std::string& sock, const std::string& verb) {
    const std::string a = askControl(sock, verb);
    EXPECT_EQ(a.rfind("ok ", 0), 0U) << verb << ": " << a;
    return a.rfind("ok ", 0) == 0 ? a.substr(3) : "";
  }
};

TEST_F(StateFsSpliceTest, LargeReadsAndWritesKeepBytesMarksAndUndo) {
  fs::create_directories(views());
  extraMounts_.push_back(views());
  const std::string sock = (base_ / "ctl.sock").string();
  ASSERT_NO_FATAL_FAILURE(writeBig(std::nullopt));
  ASSERT_NO_FATAL_FAILURE(mountOk({"--control", sock, "--undo", undo(), "--views", views()}));
  ASSERT_NO_FATAL_FAILURE(exercise(sock, std::nullopt));
  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
}

TEST_F(StateFsSpliceTest, LargeReadsAndWritesForAnUnprivilegedDaemon) {
  Identity u = makeUser();
  ASSERT_FALSE(user_.empty());
  fs::permissions(base_, fs::perms(0711));
  const fs::path ctl = base_ / "ctl";
  for (const fs::path& d : {fs::path(src_), fs::path(mnt_), fs::path(views()), fs::path(undo()), ctl}) {
    fs::create_directories(d);
    ASSERT_EQ(::chown(d.c_str(), u.uid, u.gid), 0);
  }
  fs::permissions(ctl, fs::perms(0700));
  extraMounts_.push_back(views());
  const std::string sock = (ctl / "s").string();
  ASSERT_NO_FATAL_FAILURE(writeBig(u));
  // --allow-other: the test reads the views as root.
  ASSERT_NO_FATAL_FAILURE(
      mountOk({"--control", sock, "--undo", undo(), "--views", views(), "--allow-other"}, u));
  ASSERT_NO_FATAL_FAILURE(exercise(sock, u));
  ASSERT_NO_FATAL_FAILURE(stopAndExpectClean(SIGTERM));
}

}  // namespace
