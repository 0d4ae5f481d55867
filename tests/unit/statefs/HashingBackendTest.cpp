#include "sashimono/statefs/HashingBackend.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "RandomOps.h"
#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/PassthroughBackend.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::builtRootHex;
using testing::hex;
using testing::randomOp;
using testing::RandomOps;
using testing::TempTree;

// A HashingBackend over a PassthroughBackend on a temporary directory, driven directly.
class HashingBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::umask(022);
    auto dir = SourceDir::open(t_.path().string());
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    inner_.emplace(std::move(dir).value());
    auto tree = StateTree::build(t_.path().string());
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    be_.emplace(*inner_, std::move(tree).value(), [this] { return StateTree::build(t_.path().string()); });
  }

  // The incremental root equals a from-scratch build of the directory.
  void expectRootMatches(const std::string& when) {
    auto root = be_->refresh();
    ASSERT_TRUE(root.ok()) << root.error().message;
    ASSERT_EQ(hex(*root), builtRootHex(t_.path())) << when;
  }

  TempTree t_;
  std::optional<PassthroughBackend> inner_;
  std::optional<HashingBackend> be_;
};

TEST_F(HashingBackendTest, EveryChangeIsMarkedAndOwnersAndTimesAreNot) {
  Handle h = 0;
  ASSERT_EQ(be_->mkdir("/d", 0755), 0);
  ASSERT_EQ(be_->create("/d/f", O_RDWR, 0644, h), 0);
  std::string data(200000, 'x');
  ASSERT_EQ(be_->write(h, data.data(), data.size(), 0), static_cast<int>(data.size()));
  expectRootMatches("after create and write");
  ASSERT_EQ(be_->write(h, "yy", 2, 70000), 2);
  ASSERT_EQ(be_->fchmod(h, 0600), 0);
  expectRootMatches("after write and fchmod");
  ASSERT_EQ(be_->rename("/d/f", "/g", 0), 0);
  ASSERT_EQ(be_->link("/g", "/d/h"), 0);
  ASSERT_EQ(be_->ftruncate(h, 5), 0);  // the handle follows the file through the rename
  ASSERT_EQ(be_->fchmod(h, 0640), 0);  // and the mode reaches both names
  expectRootMatches("after rename, link, ftruncate, fchmod");
  ASSERT_EQ(be_->truncate("/d/h", 100000), 0);
  ASSERT_EQ(be_->fallocate(h, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 3), 0);
  expectRootMatches("after truncate and punch hole");
  const struct timespec ts[2] = {{1, 0}, {2, 0}};
  ASSERT_EQ(be_->futimens(h, ts), 0);
  ASSERT_EQ(be_->utimens("/g", ts), 0);
  ASSERT_EQ(be_->release(h), 0);
  ASSERT_EQ(be_->open("/g", O_WRONLY | O_TRUNC, h), 0);  // O_TRUNC at open is a change
  ASSERT_EQ(be_->release(h), 0);
  expectRootMatches("after open with O_TRUNC");
}

TEST_F(HashingBackendTest, AppendModeWritesWhereTheOffsetSays) {
  Handle h = 0;
  ASSERT_EQ(be_->create("/log", O_WRONLY, 0644, h), 0);
  ASSERT_EQ(be_->write(h, "abc", 3, 0), 3);
  ASSERT_EQ(be_->release(h), 0);
  ASSERT_EQ(be_->open("/log", O_WRONLY | O_APPEND, h), 0);
  ASSERT_EQ(be_->write(h, "Z", 1, 1), 1);  // the frontend (the kernel) chose the offset
  ASSERT_EQ(be_->release(h), 0);
  EXPECT_EQ(t_.read("log"), "aZc");
  expectRootMatches("after a write through an O_APPEND handle");
}

TEST_F(HashingBackendTest, FailedChangesMarkNothingAndRefuseNothingNew) {
  Handle h = 0;
  EXPECT_EQ(be_->open("/missing", O_RDWR, h), -ENOENT);
  EXPECT_EQ(be_->mknod("/sock", S_IFSOCK | 0600, 0), -EPERM);
  EXPECT_EQ(be_->rename("/a", "/b", RENAME_WHITEOUT), -EINVAL);
  EXPECT_EQ(be_->mknod("/fifo", S_IFIFO | 0600, 0), 0);
  expectRootMatches("after a fifo");
}

// Writers on several threads never stop; refresh still gets its turn (the lock is not
// reader-preferring), and once they stop the root equals a full build.
TEST_F(HashingBackendTest, RefreshIsNotStarvedByConcurrentWritesAndSeesThemAll) {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> written{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      Handle h = 0;
      const std::string name = "/w" + std::to_string(w);
      if (be_->create(name, O_RDWR, 0644, h) != 0) return;
      std::string block(4096, static_cast<char>('a' + w));
      for (std::uint64_t i = 0; !stop.load(); ++i) {
        (void)be_->write(h, block.data(), block.size(), static_cast<off_t>((i * 4096) % (2 * kBlockSize)));
        ++written;
      }
      (void)be_->release(h);
    });
  }
  for (int i = 0; i < 8; ++i) {
    const std::uint64_t before = written.load();
    while (written.load() < before + 50) std::this_thread::yield();  // refresh amid the writes
    ASSERT_TRUE(be_->refresh().ok());
  }
  stop.store(true);
  for (auto& t : writers) t.join();
  expectRootMatches("after concurrent writers");
}

// Random sequences of backend operations: after every few, the tree's incremental root equals
// a from-scratch build of the directory. STATEFS_TEST_SEED=N runs one more sequence.
TEST_F(HashingBackendTest, RandomOperationsKeepTheRootEqualToAFullBuild) {
  std::vector<std::uint64_t> seeds{1, 2, 3, 4};
  if (const char* s = std::getenv("STATEFS_TEST_SEED")) seeds.push_back(std::strtoull(s, nullptr, 10));
  for (std::uint64_t seed : seeds) {
    fs::remove_all(t_.path());
    fs::create_directory(t_.path());
    SetUp();
    std::mt19937_64 rng(seed);
    std::vector<Handle> open;
    RandomOps ops;
    ops.span = 2 * kBlockSize;
    ops.append = true;
    ops.fifos = true;
    ops.allFallocateModes = true;
    for (int step = 0; step < 160; ++step) {
      randomOp(*be_, t_.path(), rng, open, ops);
      if (step % 7 == 6) {
        ASSERT_NO_FATAL_FAILURE(
            expectRootMatches("seed " + std::to_string(seed) + " step " + std::to_string(step)));
      }
    }
    for (Handle h : open) ASSERT_EQ(be_->release(h), 0);
    ASSERT_NO_FATAL_FAILURE(expectRootMatches("seed " + std::to_string(seed) + " at the end"));
  }
}

}  // namespace
}  // namespace sashimono::statefs
