#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "TempTree.h"
#include "sashimono/statefs/PassthroughBackend.h"

using namespace sashimono::statefs;
using sashimono::statefs::testing::TempTree;
namespace fs = std::filesystem;

namespace {

class PassthroughBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::umask(022);
    fs::create_directories(tree_.path("src/dir"));
    fs::create_directories(tree_.path("outside"));
    tree_.write("outside/secret", "secret");
    tree_.write("src/hello", "hello world");
    fs::create_directory_symlink("../outside", tree_.path("src/outdir"));
    fs::create_symlink(tree_.path("outside/secret"), tree_.path("src/outfile"));
    auto d = SourceDir::open(tree_.path("src").string());
    ASSERT_TRUE(d.ok()) << d.error().message;
    be_.emplace(std::move(d).value());
    struct stat st {};
    ASSERT_EQ(::stat(tree_.path("outside/secret").c_str(), &st), 0);
    secretBefore_ = st;
  }

  // The file outside the source is exactly as it was.
  void expectOutsideUntouched() {
    EXPECT_EQ(tree_.read("outside/secret"), "secret");
    struct stat st {};
    ASSERT_EQ(::stat(tree_.path("outside/secret").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode, secretBefore_.st_mode);
    EXPECT_EQ(st.st_mtim.tv_sec, secretBefore_.st_mtim.tv_sec);
    EXPECT_EQ(st.st_mtim.tv_nsec, secretBefore_.st_mtim.tv_nsec);
    EXPECT_EQ(std::set<std::string>({"secret"}), names("outside"));
  }
  std::set<std::string> names(const std::string& rel) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(tree_.path(rel))) out.insert(e.path().filename().string());
    return out;
  }

  TempTree tree_;
  std::optional<PassthroughBackend> be_;
  struct stat secretBefore_ {};
};

}  // namespace

TEST_F(PassthroughBackendTest, CreateWriteReadGoesToTheSource) {
  Handle h = 0;
  ASSERT_EQ(be_->create("/dir/new.txt", O_RDWR | O_EXCL, 0640, h), 0);
  ASSERT_EQ(be_->write(h, "abcdef", 6, 0), 6);
  ASSERT_EQ(be_->fsync(h, false), 0);
  char buf[16] = {};
  ASSERT_EQ(be_->read(h, buf, sizeof buf, 2), 4);
  EXPECT_STREQ(buf, "cdef");
  ASSERT_EQ(be_->ftruncate(h, 3), 0);
  ASSERT_EQ(be_->flush(h), 0);
  ASSERT_EQ(be_->release(h), 0);
  EXPECT_EQ(tree_.read("src/dir/new.txt"), "abc");
  struct stat st {};
  ASSERT_EQ(be_->getattr("/dir/new.txt", st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);  // the caller's mode, not the daemon's umask
  EXPECT_EQ(be_->create("/dir/new.txt", O_RDWR | O_EXCL, 0640, h), -EEXIST);
}

TEST_F(PassthroughBackendTest, NamespaceOperations) {
  ASSERT_EQ(be_->mkdir("/d2", 0750), 0);
  ASSERT_EQ(be_->rename("/hello", "/d2/hi", 0), 0);
  EXPECT_EQ(tree_.read("src/d2/hi"), "hello world");
  tree_.write("src/other", "o");
  EXPECT_EQ(be_->rename("/other", "/d2/hi", RENAME_NOREPLACE), -EEXIST);
  ASSERT_EQ(be_->rename("/other", "/d2/hi", RENAME_EXCHANGE), 0);
  EXPECT_EQ(tree_.read("src/d2/hi"), "o");
  EXPECT_EQ(tree_.read("src/other"), "hello world");
  EXPECT_EQ(be_->rename("/other", "/x", RENAME_WHITEOUT), -EINVAL);
  ASSERT_EQ(be_->link("/other", "/d2/hard"), 0);
  EXPECT_EQ(fs::hard_link_count(tree_.path("src/other")), 2u);
  ASSERT_EQ(be_->truncate("/d2/hard", 5), 0);
  EXPECT_EQ(tree_.read("src/other"), "hello");
  ASSERT_EQ(be_->symlink("/etc/passwd", "/d2/sym"), 0);
  char target[64];
  ASSERT_EQ(be_->readlink("/d2/sym", target, sizeof target), 0);
  EXPECT_STREQ(target, "/etc/passwd");
  EXPECT_EQ(be_->rmdir("/d2"), -ENOTEMPTY);
  ASSERT_EQ(be_->unlink("/d2/sym"), 0);
  ASSERT_EQ(be_->unlink("/d2/hard"), 0);
  ASSERT_EQ(be_->unlink("/d2/hi"), 0);
  ASSERT_EQ(be_->rmdir("/d2"), 0);
  EXPECT_FALSE(fs::exists(tree_.path("src/d2")));
  ASSERT_EQ(be_->chmod("/other", 0600), 0);
  EXPECT_EQ(fs::status(tree_.path("src/other")).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  struct timespec ts[2] = {{1000, 0}, {2000, 0}};
  ASSERT_EQ(be_->utimens("/other", ts), 0);
  struct stat st {};
  ASSERT_EQ(be_->getattr("/other", st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 2000);
  EXPECT_EQ(be_->mknod("/dev0", S_IFCHR | 0600, makedev(1, 3)), -EPERM);
  ASSERT_EQ(be_->mknod("/fifo", S_IFIFO | 0600, 0), 0);
  Handle h = 0;
  EXPECT_EQ(be_->open("/fifo", O_RDONLY, h), -EINVAL);  // never blocks on a FIFO
  struct statvfs sv {};
  EXPECT_EQ(be_->statfs(sv), 0);
}

TEST_F(PassthroughBackendTest, ReaddirListsAndResumes) {
  for (int i = 0; i < 20; ++i) tree_.write("src/dir/f" + std::to_string(i), "x");
  Handle h = 0;
  ASSERT_EQ(be_->opendir("/dir", h), 0);
  std::set<std::string> seen;
  off_t next = 0;
  // Take 3 entries per call, the way a small kernel buffer would.
  for (int call = 0; call < 100; ++call) {
    int taken = 0;
    bool any = false;
    ASSERT_EQ(be_->readdir(h, next,
                           [&](const DirEntry& e) {
                             if (taken == 3) return true;
                             ++taken;
                             any = true;
                             seen.insert(e.name);
                             next = e.nextOffset;
                             return false;
                           }),
              0);
    if (!any) break;
  }
  ASSERT_EQ(be_->releasedir(h), 0);
  EXPECT_EQ(seen.size(), 22u);  // 20 files, ".", ".."
  EXPECT_TRUE(seen.count("f19"));
}

TEST_F(PassthroughBackendTest, GetattrAndReadlinkDoNotFollowSymlinks) {
  struct stat st {};
  ASSERT_EQ(be_->getattr("/outfile", st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  ASSERT_EQ(be_->getattr("/outdir", st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(PassthroughBackendTest, SymlinkEscapesFail) {
  Handle h = 0;
  struct stat st {};
  EXPECT_NE(be_->getattr("/outdir/secret", st), 0);
  EXPECT_NE(be_->open("/outdir/secret", O_RDONLY, h), 0);
  EXPECT_NE(be_->open("/outfile", O_RDONLY, h), 0);
  EXPECT_NE(be_->open("/outfile", O_WRONLY | O_TRUNC, h), 0);
  EXPECT_NE(be_->create("/outdir/planted", O_WRONLY, 0644, h), 0);
  EXPECT_NE(be_->create("/outfile", O_WRONLY | O_TRUNC, 0644, h), 0);
  EXPECT_NE(be_->truncate("/outfile", 0), 0);
  EXPECT_NE(be_->truncate("/outdir/secret", 0), 0);
  EXPECT_NE(be_->chmod("/outfile", 0777), 0);
  EXPECT_NE(be_->chmod("/outdir/secret", 0777), 0);
  EXPECT_NE(be_->mkdir("/outdir/newdir", 0755), 0);
  EXPECT_NE(be_->unlink("/outdir/secret"), 0);
  EXPECT_NE(be_->rename("/outdir/secret", "/stolen", 0), 0);
  EXPECT_NE(be_->rename("/hello", "/outdir/planted", 0), 0);
  EXPECT_NE(be_->link("/outdir/secret", "/stolen"), 0);
  EXPECT_NE(be_->symlink("x", "/outdir/planted"), 0);
  EXPECT_NE(be_->opendir("/outdir", h), 0);
  struct timespec ts[2] = {{1, 0}, {1, 0}};
  EXPECT_NE(be_->utimens("/outdir/secret", ts), 0);
  ASSERT_EQ(be_->utimens("/outfile", ts), 0);  // changes the link itself, not its target
  expectOutsideUntouched();
  EXPECT_FALSE(fs::exists(tree_.path("src/stolen")));
}

TEST_F(PassthroughBackendTest, DotDotEscapesFail) {
  Handle h = 0;
  struct stat st {};
  EXPECT_EQ(be_->getattr("/../outside/secret", st), -EINVAL);
  EXPECT_EQ(be_->open("/dir/../../outside/secret", O_RDONLY, h), -EINVAL);
  EXPECT_EQ(be_->create("/../outside/planted", O_WRONLY, 0644, h), -EINVAL);
  EXPECT_EQ(be_->unlink("/../outside/secret"), -EINVAL);
  EXPECT_EQ(be_->rename("/hello", "/../outside/hello", 0), -EINVAL);
  EXPECT_EQ(be_->link("/../outside/secret", "/stolen"), -EINVAL);
  EXPECT_EQ(be_->mkdir("/..", 0755), -EINVAL);
  EXPECT_EQ(be_->opendir("/..", h), -EINVAL);
  expectOutsideUntouched();
}

TEST_F(PassthroughBackendTest, RootItselfCannotBeRemovedOrReplaced) {
  EXPECT_EQ(be_->unlink("/"), -EBUSY);
  EXPECT_EQ(be_->rmdir("/"), -EBUSY);
  EXPECT_EQ(be_->rename("/", "/x", 0), -EBUSY);
  EXPECT_EQ(be_->rename("/hello", "/", 0), -EBUSY);
  struct stat st {};
  ASSERT_EQ(be_->getattr("/", st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}
