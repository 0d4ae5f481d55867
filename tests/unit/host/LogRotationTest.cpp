#include "sashimono/host/LogRotation.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace sashimono::host {
namespace {

namespace fs = std::filesystem;

class LogRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("logrot-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "log");
  }
  void TearDown() override { fs::remove_all(root_); }
  static std::string read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  fs::path root_;
};

TEST_F(LogRotationTest, ALogOverItsBoundIsCopiedAndTruncatedInPlace) {
  std::ofstream(root_ / "log/instance.log") << std::string(100, 'a');
  std::ofstream(root_ / "log/rootlesskit.log") << "small\n";
  std::ofstream(root_ / "log/notes.txt") << std::string(500, 'n');
  // A writer that appends keeps its descriptor across the rotation.
  std::ofstream appender(root_ / "log/instance.log", std::ios::app);
  auto r = rotateLogs((root_ / "log").string(), 50);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].name, "instance.log");
  EXPECT_EQ((*r)[0].bytes, 100u);
  EXPECT_EQ(read(root_ / "log/instance.log.1"), std::string(100, 'a'));
  EXPECT_EQ(fs::file_size(root_ / "log/instance.log"), 0u);
  EXPECT_EQ(read(root_ / "log/rootlesskit.log"), "small\n");
  EXPECT_EQ(fs::file_size(root_ / "log/notes.txt"), 500u);  // not a .log
  appender << "after\n" << std::flush;
  EXPECT_EQ(read(root_ / "log/instance.log"), "after\n");
  // Again: the previous copy is replaced.
  std::ofstream(root_ / "log/instance.log", std::ios::app) << std::string(60, 'b');
  ASSERT_TRUE(rotateLogs((root_ / "log").string(), 50).ok());
  EXPECT_EQ(read(root_ / "log/instance.log.1"), "after\n" + std::string(60, 'b'));
}

TEST_F(LogRotationTest, LinksAreNeverFollowed) {
  std::ofstream(root_ / "victim") << std::string(100, 'v');
  fs::create_symlink(root_ / "victim", root_ / "log/evil.log");
  auto r = rotateLogs((root_ / "log").string(), 10);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(fs::file_size(root_ / "victim"), 100u);
  // A copy target planted as a link is refused, not written through.
  fs::remove(root_ / "log/evil.log");
  std::ofstream(root_ / "log/a.log") << std::string(100, 'x');
  fs::create_symlink(root_ / "victim", root_ / "log/a.log.1.tmp");
  ASSERT_TRUE(rotateLogs((root_ / "log").string(), 10).ok());  // the stale tmp name is unlinked first
  EXPECT_EQ(read(root_ / "victim"), std::string(100, 'v'));
  EXPECT_EQ(read(root_ / "log/a.log.1"), std::string(100, 'x'));
  // The directory itself as a link: refused.
  fs::create_directories(root_ / "real");
  fs::create_directory_symlink(root_ / "real", root_ / "linked");
  EXPECT_FALSE(rotateLogs((root_ / "linked").string(), 10).ok());
  EXPECT_TRUE(rotateLogs((root_ / "missing").string(), 10)->empty());
}

TEST_F(LogRotationTest, TailReturnsTheLastLines) {
  std::ofstream(root_ / "t.log") << "one\ntwo\nthree\n";
  EXPECT_EQ(*tailFile((root_ / "t.log").string(), 2), "two\nthree\n");
  EXPECT_EQ(*tailFile((root_ / "t.log").string(), 5), "one\ntwo\nthree\n");
  EXPECT_EQ(*tailFile((root_ / "t.log").string(), 0), "");
  EXPECT_EQ(*tailFile((root_ / "none.log").string(), 3), "");
  std::ofstream(root_ / "u.log") << "a\nb";  // no final newline
  EXPECT_EQ(*tailFile((root_ / "u.log").string(), 1), "b");
}

}  // namespace
}  // namespace sashimono::host
