// The FileSystem port: one contract, checked on the Linux implementation (in a temp directory)
// and on MemFileSystem, so the fake the Provisioner's tests run on behaves like the real one.
#include "sashimono/host/FileSystem.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "sashimono/host/MemFileSystem.h"

namespace sashimono::host {
namespace {

using namespace std::chrono_literals;

struct Kind {
  const char* name;
  bool linux;
};

class FileSystemTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam().linux) {
      auto d = std::filesystem::temp_directory_path() /
               ("fs-unit-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
      std::filesystem::remove_all(d);
      std::filesystem::create_directories(d);
      root_ = d.string();
      fs_ = makeLinuxFileSystem();
    } else {
      auto mem = std::make_unique<MemFileSystem>();
      mem->makeDirs("/tmp/mem");
      root_ = "/tmp/mem";
      fs_ = std::move(mem);
    }
  }
  void TearDown() override {
    if (GetParam().linux) std::filesystem::remove_all(root_);
  }
  std::vector<std::string> sortedList(const std::string& dir) {
    auto l = fs_->listDir(dir);
    EXPECT_TRUE(l.ok()) << l.error().message;
    if (!l) return {};
    std::sort(l->begin(), l->end());
    return *l;
  }

  std::string root_;
  std::unique_ptr<FileSystem> fs_;
};

TEST_P(FileSystemTest, MakeDirNeedsItsParentAndIsIdempotent) {
  EXPECT_TRUE(fs_->makeDir(root_ + "/a", 0700).ok());
  EXPECT_TRUE(fs_->makeDir(root_ + "/a", 0711).ok()) << "an existing directory is fine";
  EXPECT_TRUE(fs_->exists(root_ + "/a"));
  auto orphan = fs_->makeDir(root_ + "/no/such", 0700);
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.error().errnum, ENOENT);
  EXPECT_NE(orphan.error().message.find(root_ + "/no/such"), std::string::npos) << orphan.error().message;
}

TEST_P(FileSystemTest, ListsNamesOnlyOfDirectChildren) {
  ASSERT_TRUE(fs_->makeDir(root_ + "/d", 0700).ok());
  ASSERT_TRUE(fs_->makeDir(root_ + "/d/sub", 0700).ok());
  ASSERT_TRUE(fs_->makeDir(root_ + "/d-x", 0700).ok());  // sorts between "d" and "d/" in a map
  ASSERT_TRUE(fs_->writeFileAtomic(root_ + "/d/b.json", "b", 0600, false).ok());
  ASSERT_TRUE(fs_->writeFileAtomic(root_ + "/d/sub/deep", "x", 0600, false).ok());
  EXPECT_EQ(sortedList(root_ + "/d"), (std::vector<std::string>{"b.json", "sub"}));
  EXPECT_EQ(sortedList(root_ + "/d-x"), std::vector<std::string>{});
  auto missing = fs_->listDir(root_ + "/none");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().errnum, ENOENT);
}

TEST_P(FileSystemTest, ReadsWhatWasWrittenAndReplacesIt) {
  const auto f = root_ + "/f";
  auto none = fs_->readFile(f);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().errnum, ENOENT) << "callers tell 'missing' from 'unreadable' by errno";
  ASSERT_TRUE(fs_->writeFileAtomic(f, "one", 0600, false).ok());
  EXPECT_EQ(*fs_->readFile(f), "one");
  ASSERT_TRUE(fs_->writeFileAtomic(f, std::string("two\0bytes", 9), 0600, true).ok());
  EXPECT_EQ(*fs_->readFile(f), std::string("two\0bytes", 9));
  EXPECT_FALSE(fs_->exists(f + ".tmp")) << "no temp file left behind";
  EXPECT_FALSE(fs_->writeFileAtomic(root_ + "/no/such/file", "x", 0600, false).ok());
  ASSERT_TRUE(fs_->makeDir(root_ + "/dir", 0700).ok());
  EXPECT_FALSE(fs_->readFile(root_ + "/dir").ok());
}

TEST_P(FileSystemTest, RemoveFileIsOkWhenNothingIsThere) {
  const auto f = root_ + "/gone";
  ASSERT_TRUE(fs_->writeFileAtomic(f, "x", 0600, false).ok());
  EXPECT_TRUE(fs_->removeFile(f).ok());
  EXPECT_FALSE(fs_->exists(f));
  EXPECT_TRUE(fs_->removeFile(f).ok());
  ASSERT_TRUE(fs_->makeDir(root_ + "/dir", 0700).ok());
  EXPECT_FALSE(fs_->removeFile(root_ + "/dir").ok()) << "not a file";
}

TEST_P(FileSystemTest, ExclusiveLockWaitsForTheHolder) {
  const auto path = root_ + "/lock";
  auto first = fs_->lockExclusive(path);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(fs_->exists(path)) << "the lock file is created";
  std::atomic<bool> got{false};
  std::thread other([&] {
    auto second = fs_->lockExclusive(path);
    EXPECT_TRUE(second.ok());
    got = true;
  });
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(got.load()) << "a second lock while the first is held";
  first->reset();
  other.join();
  EXPECT_TRUE(got.load());
  auto again = fs_->lockExclusive(path);
  EXPECT_TRUE(again.ok()) << "released again when the second holder went away";
  EXPECT_FALSE(fs_->lockExclusive(root_ + "/no/such/lock").ok());
}

INSTANTIATE_TEST_SUITE_P(Both, FileSystemTest, ::testing::Values(Kind{"Linux", true}, Kind{"Memory", false}),
                         [](const ::testing::TestParamInfo<Kind>& i) { return std::string(i.param.name); });

TEST(MemFileSystem, KeepsModesAndRemovesTrees) {
  MemFileSystem fs;
  fs.makeDirs("/a/b/c", 0700);
  EXPECT_EQ(fs.mode("/a"), 0755u);
  EXPECT_EQ(fs.mode("/a/b/c"), 0700u);
  ASSERT_TRUE(fs.makeDir("/a/b/c", 0711).ok());
  EXPECT_EQ(fs.mode("/a/b/c"), 0711u) << "makeDir sets the mode of an existing directory";
  ASSERT_TRUE(fs.writeFileAtomic("/a/b/c/f", "x", 0400, false).ok());
  EXPECT_EQ(fs.mode("/a/b/c/f"), 0400u);
  ASSERT_TRUE(fs.writeFileAtomic("/a/b-sibling", "y", 0600, false).ok());
  fs.removeTree("/a/b");
  EXPECT_FALSE(fs.exists("/a/b"));
  EXPECT_FALSE(fs.exists("/a/b/c/f"));
  EXPECT_TRUE(fs.exists("/a/b-sibling")) << "only the tree itself";
  EXPECT_EQ(fs.mode("/a/b"), std::nullopt);
}

TEST(LinuxFileSystem, MakeDirSetsTheModeAndWriteReplacesASymlinkInsteadOfFollowingIt) {
  auto d = std::filesystem::temp_directory_path() / ("fs-linux-" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  auto fs = makeLinuxFileSystem();
  ASSERT_TRUE(fs->makeDir((d / "m").string(), 0711).ok());  // chmod too: the umask does not narrow it
  struct stat st {};
  ASSERT_EQ(::stat((d / "m").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
  ASSERT_TRUE(fs->writeFileAtomic((d / "target").string(), "keep", 0600, false).ok());
  std::filesystem::create_symlink(d / "target", d / "link");
  ASSERT_TRUE(fs->writeFileAtomic((d / "link").string(), "new", 0600, false).ok());
  EXPECT_EQ(*fs->readFile((d / "target").string()), "keep");
  EXPECT_FALSE(std::filesystem::is_symlink(d / "link"));
  std::filesystem::remove_all(d);
}

}  // namespace
}  // namespace sashimono::host
