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

#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/PassthroughBackend.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::builtRootHex;
using testing::hex;
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

  // State paths of what the directory holds now (symlinks are not followed).
  void scan(std::vector<std::string>& files, std::vector<std::string>& dirs) {
    files.clear();
    dirs.assign(1, "/");
    for (const auto& e : fs::recursive_directory_iterator(t_.path())) {
      const std::string p = "/" + fs::relative(e.path(), t_.path()).string();
      if (e.is_symlink()) continue;
      if (e.is_directory()) dirs.push_back(p);
      if (e.is_regular_file()) files.push_back(p);
    }
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
    std::vector<std::string> files, dirs;
    std::vector<Handle> open;
    auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
    auto newName = [&](const std::string& dir) {
      return (dir == "/" ? "" : dir) + "/n" + std::to_string(rng() % 40);
    };
    auto bytes = [&](std::size_t n) {
      std::string b(n, '\0');
      for (auto& c : b) c = static_cast<char>(rng());
      return b;
    };
    for (int step = 0; step < 160; ++step) {
      scan(files, dirs);
      const bool haveFile = !files.empty(), haveOpen = !open.empty();
      Handle h = 0;
      switch (rng() % 16) {
        case 0:  // create, keep open
          if (be_->create(newName(pick(dirs)), O_RDWR | O_EXCL, 0644, h) == 0) open.push_back(h);
          break;
        case 1:  // open an existing file, maybe truncating or appending
          if (haveFile &&
              be_->open(pick(files),
                        O_RDWR | (rng() % 4 == 0 ? O_TRUNC : 0) | (rng() % 4 == 0 ? O_APPEND : 0), h) == 0)
            open.push_back(h);
          break;
        case 2:
        case 3:  // write at an offset (maybe past the end), possibly into an unlinked file
          if (haveOpen) {
            auto b = bytes(1 + rng() % 9000);
            (void)be_->write(open[rng() % open.size()], b.data(), b.size(),
                             static_cast<off_t>(rng() % (2 * kBlockSize)));
          }
          break;
        case 4:
          if (haveFile) (void)be_->truncate(pick(files), static_cast<off_t>(rng() % (2 * kBlockSize)));
          break;
        case 5:
          if (haveOpen)
            (void)be_->ftruncate(open[rng() % open.size()], static_cast<off_t>(rng() % (2 * kBlockSize)));
          break;
        case 6:  // rename a file or a directory, maybe across directories, maybe replacing
          (void)be_->rename(rng() % 2 ? (haveFile ? pick(files) : "/x") : pick(dirs), newName(pick(dirs)),
                            rng() % 4 == 0 ? RENAME_NOREPLACE : 0);
          break;
        case 7: {  // swap two names (files, directories, or one of each)
          auto& a = rng() % 2 && haveFile ? files : dirs;
          auto& b = rng() % 2 && haveFile ? files : dirs;
          (void)be_->rename(pick(a), pick(b), RENAME_EXCHANGE);
          break;
        }
        case 8:  // unlink (an open handle stays usable)
          if (haveFile) (void)be_->unlink(pick(files));
          break;
        case 9:
          if (haveFile) (void)be_->link(pick(files), newName(pick(dirs)));
          break;
        case 10:
          (void)be_->symlink("../t" + std::to_string(rng() % 3), newName(pick(dirs)));
          break;
        case 11:
          if (rng() % 2)
            (void)be_->mkdir(newName(pick(dirs)), rng() % 2 ? 0755 : 0700);
          else
            (void)be_->rmdir(pick(dirs));
          break;
        case 12:  // chmod a file or a directory by name
          (void)be_->chmod(rng() % 2 && haveFile ? pick(files) : pick(dirs), rng() % 2 ? 0750 : 0705);
          break;
        case 13:
          if (haveOpen) (void)be_->fchmod(open[rng() % open.size()], rng() % 2 ? 0755 : 0600);
          break;
        case 14:
          if (haveOpen) {
            static constexpr int kModes[] = {
                0, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, FALLOC_FL_ZERO_RANGE};
            (void)be_->fallocate(open[rng() % open.size()], kModes[rng() % 4],
                                 static_cast<off_t>(rng() % (2 * kBlockSize)), 1 + rng() % kBlockSize);
          }
          break;
        case 15:  // close a handle, or make a fifo
          if (haveOpen && rng() % 3 != 0) {
            auto at = open.begin() + static_cast<long>(rng() % open.size());
            ASSERT_EQ(be_->release(*at), 0);
            open.erase(at);
          } else {
            (void)be_->mknod(newName(pick(dirs)), S_IFIFO | 0644, 0);
          }
          break;
      }
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
