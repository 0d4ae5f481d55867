#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "TempTree.h"
#include "sashimono/statefs/SourceDir.h"

using namespace sashimono::statefs;
using sashimono::statefs::testing::TempTree;
namespace fs = std::filesystem;

namespace {

class SourceDirTest : public ::testing::TestWithParam<SourceDir::Resolver> {
 protected:
  void SetUp() override {
    fs::create_directories(tree_.path("src/a/b"));
    fs::create_directories(tree_.path("outside"));
    tree_.write("outside/secret", "secret");
    tree_.write("src/a/b/file", "data");
    fs::create_directory_symlink("a", tree_.path("src/inlink"));
    fs::create_directory_symlink("../outside", tree_.path("src/outlink"));
    fs::create_directory_symlink(tree_.path("outside"), tree_.path("src/abslink"));
    auto d = SourceDir::open(tree_.path("src").string(), GetParam());
    ASSERT_TRUE(d.ok()) << d.error().message;
    dir_.emplace(std::move(d).value());
  }

  // Device and inode of what `rel` (relative to the parent fd) names, or {0,0}.
  std::pair<dev_t, ino_t> idOf(const ParentRef& p) {
    struct stat st {};
    if (::fstatat(p.dirfd, p.isRoot() ? "." : p.leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) return {0, 0};
    return {st.st_dev, st.st_ino};
  }
  std::pair<dev_t, ino_t> idOfHostPath(const fs::path& p) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) return {0, 0};
    return {st.st_dev, st.st_ino};
  }

  TempTree tree_;
  std::optional<SourceDir> dir_;
};

}  // namespace

TEST_P(SourceDirTest, ResolvesPathsBeneathTheRoot) {
  ParentRef p;
  ASSERT_EQ(dir_->parentOf("/a/b/file", p), 0);
  EXPECT_STREQ(p.leaf, "file");
  EXPECT_EQ(idOf(p), idOfHostPath(tree_.path("src/a/b/file")));

  ParentRef top;
  ASSERT_EQ(dir_->parentOf("/a", top), 0);
  EXPECT_EQ(top.dirfd, dir_->rootFd());
  EXPECT_EQ(idOf(top), idOfHostPath(tree_.path("src/a")));

  ParentRef root;
  ASSERT_EQ(dir_->parentOf("/", root), 0);
  EXPECT_TRUE(root.isRoot());
  EXPECT_EQ(idOf(root), idOfHostPath(tree_.path("src")));
}

TEST_P(SourceDirTest, FinalSymlinkIsNamedNotFollowed) {
  ParentRef p;
  ASSERT_EQ(dir_->parentOf("/outlink", p), 0);
  EXPECT_EQ(idOf(p), idOfHostPath(tree_.path("src/outlink")));  // the link itself
}

TEST_P(SourceDirTest, RefusesSymlinksInTheMiddle) {
  ParentRef p;
  int rc = dir_->parentOf("/outlink/secret", p);  // relative symlink out of the source
  EXPECT_TRUE(rc == -ELOOP || rc == -ENOTDIR) << rc;
  rc = dir_->parentOf("/abslink/secret", p);
  EXPECT_TRUE(rc == -ELOOP || rc == -ENOTDIR) << rc;
  rc = dir_->parentOf("/inlink/b/file", p);  // even one that stays inside
  EXPECT_TRUE(rc == -ELOOP || rc == -ENOTDIR) << rc;
}

TEST_P(SourceDirTest, RefusesDotDot) {
  ParentRef p;
  EXPECT_EQ(dir_->parentOf("/../outside/secret", p), -EINVAL);
  EXPECT_EQ(dir_->parentOf("/a/../../outside/secret", p), -EINVAL);
  EXPECT_EQ(dir_->parentOf("/a/b/../../../outside/secret", p), -EINVAL);
  EXPECT_EQ(dir_->parentOf("relative", p), -EINVAL);
}

TEST_P(SourceDirTest, ReportsMissingAndNonDirectoryComponents) {
  ParentRef p;
  EXPECT_EQ(dir_->parentOf("/missing/x", p), -ENOENT);
  EXPECT_EQ(dir_->parentOf("/a/b/file/x", p), -ENOTDIR);
}

TEST_P(SourceDirTest, RootFollowsTheDirectoryNotThePath) {
  // Renaming the source away does not redirect resolution to whatever takes its path.
  fs::rename(tree_.path("src"), tree_.path("moved"));
  fs::create_directories(tree_.path("src/a/b"));
  ParentRef p;
  ASSERT_EQ(dir_->parentOf("/a/b/file", p), 0);
  EXPECT_EQ(idOf(p), idOfHostPath(tree_.path("moved/a/b/file")));
}

INSTANTIATE_TEST_SUITE_P(Resolvers, SourceDirTest,
                         ::testing::Values(SourceDir::Resolver::kAuto, SourceDir::Resolver::kWalk),
                         [](const auto& info) {
                           return info.param == SourceDir::Resolver::kAuto ? "openat2" : "walk";
                         });

TEST(SourceDir, OpenFailsClearlyOnMissingDirectory) {
  auto d = SourceDir::open("/nonexistent/sashimono/statefs");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("/nonexistent/sashimono/statefs"), std::string::npos);
  EXPECT_EQ(d.error().errnum, ENOENT);
}
