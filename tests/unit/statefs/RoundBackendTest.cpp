#include "sashimono/statefs/RoundBackend.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "RandomOps.h"
#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/PassthroughBackend.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::builtRootHex;
using testing::hex;
using testing::randomOp;
using testing::RandomOps;
using testing::TempTree;

// What a directory holds, by path: kind, permission bits, and content (size, hash) or target.
using Snapshot = std::map<std::string, std::string>;

std::string digest(const std::string& content) {
  return std::to_string(content.size()) + ":" + std::to_string(std::hash<std::string>{}(content));
}

// The paths whose entries differ (a short failure message).
std::string diff(const Snapshot& a, const Snapshot& b) {
  std::string out;
  for (const auto& [p, v] : a)
    if (auto it = b.find(p); it == b.end() || it->second != v)
      out += " " + p + "=" + v + "|" + (it == b.end() ? "-" : it->second);
  for (const auto& [p, v] : b)
    if (a.count(p) == 0) out += " +" + p + "=" + v;
  return out;
}

Snapshot snapshotOf(const fs::path& root) {
  Snapshot out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    const std::string p = "/" + fs::relative(e.path(), root).string();
    struct stat st {};
    ::lstat(e.path().c_str(), &st);
    const std::string mode = std::to_string(st.st_mode & 07777);
    if (S_ISLNK(st.st_mode)) {
      out[p] = "l " + fs::read_symlink(e.path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      out[p] = "d " + mode;
    } else if (S_ISREG(st.st_mode)) {
      std::ifstream in(e.path(), std::ios::binary);
      out[p] = "f " + mode + " " + digest(std::string(std::istreambuf_iterator<char>(in), {}));
    } else {
      out[p] = "p " + mode;
    }
  }
  return out;
}

// The same, read through RoundBackend's view functions.
void snapshotOfView(RoundBackend& r, std::uint64_t epoch, const std::string& dir, Snapshot& out) {
  std::vector<RoundBackend::ViewEntry> entries;
  ASSERT_EQ(r.viewList(epoch, dir, entries), 0) << dir;
  for (const auto& e : entries) {
    const std::string p = (dir == "/" ? "" : dir) + "/" + e.name;
    const std::string mode = std::to_string(e.st.st_mode & 07777);
    if (S_ISLNK(e.st.st_mode)) {
      char buf[4096];
      ASSERT_EQ(r.viewReadlink(epoch, p, buf, sizeof buf), 0) << p;
      out[p] = std::string("l ") + buf;
    } else if (S_ISDIR(e.st.st_mode)) {
      out[p] = "d " + mode;
      snapshotOfView(r, epoch, p, out);
    } else if (S_ISREG(e.st.st_mode)) {
      RoundBackend::ViewFile f;
      ASSERT_EQ(r.viewOpen(epoch, p, f), 0) << p;
      ASSERT_EQ(f.size, e.st.st_size) << p;
      std::string content(static_cast<std::size_t>(f.size), '\0');
      std::size_t got = 0;
      while (got < content.size()) {  // in odd pieces, across block edges
        int n = r.viewRead(f, content.data() + got, std::min<std::size_t>(40000, content.size() - got),
                           static_cast<off_t>(got));
        ASSERT_GT(n, 0) << p;
        got += static_cast<std::size_t>(n);
      }
      out[p] = "f " + mode + " " + digest(content);
    } else {
      out[p] = "p " + mode;
    }
  }
}

// HashingBackend → RoundBackend → PassthroughBackend over <tmp>/src, the undo log in <tmp>/undo.
class RoundBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::umask(022);
    fs::create_directories(src());
    open();
  }
  void TearDown() override { close(); }

  fs::path src() const { return t_.path("src"); }
  fs::path undo() const { return t_.path("undo"); }

  void open() {
    auto dir = SourceDir::open(src().string());
    ASSERT_TRUE(dir.ok()) << dir.error().message;
    inner_.emplace(std::move(dir).value());
    auto log = UndoLog::open(undo().string(), inner_->source());
    ASSERT_TRUE(log.ok()) << log.error().message;
    if (log->roundPresent()) {
      ASSERT_TRUE(log->rollback(nullptr).ok());
    }
    rounds_.emplace(*inner_, inner_->source(), std::move(log).value());
    auto tree = StateTree::build(src().string());
    ASSERT_TRUE(tree.ok()) << tree.error().message;
    be_.emplace(*rounds_, std::move(tree).value(), [this] { return StateTree::build(src().string()); });
  }
  // Drops the backends without ending a round (a killed daemon).
  void close() {
    for (Handle h : open_) (void)be_->release(h);
    open_.clear();
    be_.reset();
    rounds_.reset();
    inner_.reset();
  }

  std::string begin() {
    auto h = be_->exclusive([this](StateTree&) { return rounds_->begin(); });
    EXPECT_TRUE(h.ok()) << h.error().message;
    return h.ok() ? hex(*h) : "";
  }
  std::string commit() {
    auto h = be_->exclusive([this](StateTree&) { return rounds_->commit(); });
    EXPECT_TRUE(h.ok()) << h.error().message;
    return h.ok() ? hex(*h) : "";
  }
  std::string rollback() {
    auto h = be_->exclusive([this](StateTree& t) { return rounds_->rollback(&t); });
    EXPECT_TRUE(h.ok()) << h.error().message;
    return h.ok() ? hex(*h) : "";
  }

  // writeFrom whose source pwrites at most `limit` bytes of `b` (the FUSE layer splices instead);
  // `during` runs when the bytes are about to land.
  int writeFrom(Handle h, const std::string& b, off_t off, std::size_t limit = SIZE_MAX,
                std::function<void()> during = {}) {
    struct Src {
      const std::string& b;
      std::size_t limit;
      std::function<void()>& during;
    } s{b, limit, during};
    auto copy = [](void* c, int fd, off_t at, std::size_t n) -> long {
      auto& src = *static_cast<Src*>(c);
      if (src.during) src.during();
      ssize_t w = ::pwrite(fd, src.b.data(), std::min({n, src.b.size(), src.limit}), at);
      return w < 0 ? -errno : static_cast<long>(w);
    };
    return be_->writeFrom(h, b.size(), off, WriteSource{copy, &s});
  }

  // `steps` random operations through the backend (RandomOps.h: the property tests' mix), half of
  // the writes as the spliced path makes them.
  void randomOps(std::mt19937_64& rng, int steps) {
    RandomOps ops;
    ops.span = 3 * kUndoBlock;
    ops.names = 30;
    ops.writeFrom = [this](Handle h, const std::string& b, off_t at) { return writeFrom(h, b, at); };
    for (int step = 0; step < steps; ++step) randomOp(*be_, src(), rng, open_, ops);
  }

  TempTree t_;
  std::optional<PassthroughBackend> inner_;
  std::optional<RoundBackend> rounds_;
  std::optional<HashingBackend> be_;
  std::vector<Handle> open_;
};

TEST_F(RoundBackendTest, RollbackRestoresDataNamesAndModes) {
  t_.write("src/big", std::string(3 * kUndoBlock + 100, 'a'));
  t_.write("src/gone", "old");
  fs::create_directory(src() / "d");
  t_.write("src/d/inner", "inner");
  fs::permissions(src() / "d", fs::perms(0750));
  open();
  const std::string committed = begin();
  ASSERT_EQ(committed, builtRootHex(src()));

  Handle h = 0;
  ASSERT_EQ(be_->open("/big", O_RDWR, h), 0);
  ASSERT_EQ(be_->write(h, "zz", 2, static_cast<off_t>(kUndoBlock + 5)), 2);
  ASSERT_EQ(be_->ftruncate(h, 10), 0);
  ASSERT_EQ(be_->write(h, "tail", 4, static_cast<off_t>(5 * kUndoBlock)), 4);
  ASSERT_EQ(be_->fchmod(h, 0600), 0);
  ASSERT_EQ(be_->release(h), 0);
  ASSERT_EQ(be_->unlink("/gone"), 0);
  ASSERT_EQ(be_->rename("/d", "/e", 0), 0);
  ASSERT_EQ(be_->chmod("/e", 0700), 0);
  ASSERT_EQ(be_->create("/new", O_RDWR, 0644, h), 0);
  ASSERT_EQ(be_->write(h, "n", 1, 0), 1);
  ASSERT_EQ(be_->release(h), 0);
  ASSERT_EQ(be_->rename("/new", "/e/inner", 0), 0);  // replaces: the old one goes to the trash
  ASSERT_EQ(be_->mkdir("/e/sub", 0755), 0);
  ASSERT_NE(hex(*be_->refresh()), committed);

  EXPECT_EQ(rollback(), committed);
  EXPECT_EQ(builtRootHex(src()), committed);
  EXPECT_EQ(t_.read("src/big"), std::string(3 * kUndoBlock + 100, 'a'));
  EXPECT_EQ(t_.read("src/gone"), "old");
  EXPECT_EQ(t_.read("src/d/inner"), "inner");
  EXPECT_EQ(fs::status(src() / "d").permissions(), fs::perms(0750));
  EXPECT_FALSE(fs::exists(src() / "new"));
  EXPECT_FALSE(fs::exists(undo() / "round"));
  EXPECT_EQ(fs::hard_link_count(src() / "big"), 1U);  // the round's link went with it
}

TEST_F(RoundBackendTest, WriteFromSavesUndoBeforeTheBytesLandAndMarksWhatLanded) {
  const std::string old(2 * kUndoBlock + 100, 'a');
  t_.write("src/f", old);
  open();
  const std::string committed = begin();
  Handle h = 0;
  ASSERT_EQ(be_->open("/f", O_RDWR, h), 0);
  ASSERT_GE(be_->readFd(h), 0);  // reads may splice from the source file
  const std::string w(kUndoBlock, 'W');
  std::uint64_t logged = 0;
  // Past the end, but the source stops after 70 bytes; then across a block boundary.
  ASSERT_EQ(writeFrom(h, w, static_cast<off_t>(2 * kUndoBlock + 50), 70,
                      [&] {
                        logged = rounds_->undoBytes();
                        EXPECT_EQ(t_.read("src/f"), old);  // nothing landed yet ...
                      }),
            70);
  EXPECT_GT(logged, 100U);  // ... and the old block and size were saved before
  ASSERT_EQ(writeFrom(h, w, static_cast<off_t>(kUndoBlock / 2)), static_cast<int>(kUndoBlock));
  EXPECT_EQ(hex(*be_->refresh()), builtRootHex(src()));  // marked: exactly what landed
  std::string expect = old;
  expect.resize(2 * kUndoBlock + 120);
  expect.replace(2 * kUndoBlock + 50, 70, w, 0, 70);
  expect.replace(kUndoBlock / 2, kUndoBlock, w);
  EXPECT_EQ(t_.read("src/f"), expect);
  ASSERT_EQ(be_->release(h), 0);
  EXPECT_EQ(rollback(), committed);
  EXPECT_EQ(t_.read("src/f"), old);
}

TEST_F(RoundBackendTest, ChangesOutsideARoundAreAppliedAndCommittedByTheNextBegin) {
  Handle h = 0;
  ASSERT_EQ(be_->create("/f", O_RDWR, 0644, h), 0);
  ASSERT_EQ(be_->write(h, "one", 3, 0), 3);
  const std::string committed = begin();  // includes /f
  EXPECT_EQ(committed, builtRootHex(src()));
  ASSERT_EQ(be_->write(h, "two", 3, 0), 3);
  ASSERT_EQ(be_->release(h), 0);
  EXPECT_EQ(rollback(), committed);
  EXPECT_EQ(t_.read("src/f"), "one");
  auto again = be_->exclusive([this](StateTree& t) { return rounds_->rollback(&t); });
  EXPECT_FALSE(again.ok());  // no round open
}

TEST_F(RoundBackendTest, CommitKeepsTheRoundAndDiscardsItsLog) {
  t_.write("src/a", "a");
  open();
  begin();
  ASSERT_EQ(be_->unlink("/a"), 0);
  ASSERT_EQ(be_->mkdir("/b", 0755), 0);
  const std::string root = commit();
  EXPECT_EQ(root, builtRootHex(src()));
  EXPECT_FALSE(fs::exists(src() / "a"));
  EXPECT_TRUE(fs::is_empty(undo()));
}

TEST_F(RoundBackendTest, ARoundLeftOpenIsRolledBackWhenTheLogIsOpenedAgain) {
  t_.write("src/f", std::string(100000, 'x'));
  open();
  const std::string committed = begin();
  Handle h = 0;
  ASSERT_EQ(be_->open("/f", O_RDWR | O_TRUNC, h), 0);
  ASSERT_EQ(be_->write(h, "y", 1, 0), 1);
  ASSERT_EQ(be_->mkdir("/d", 0755), 0);
  ASSERT_EQ(be_->rename("/f", "/d/f", 0), 0);
  open_.push_back(h);
  close();  // as if killed: no commit, no rollback
  EXPECT_TRUE(fs::exists(undo() / "round" / "log"));
  open();  // recovery
  EXPECT_EQ(builtRootHex(src()), committed);
  EXPECT_EQ(t_.read("src/f"), std::string(100000, 'x'));
  EXPECT_FALSE(fs::exists(undo() / "round"));
}

TEST_F(RoundBackendTest, RefusedChangesLeaveNoHarmfulRecord) {
  t_.write("src/a", "a");
  fs::create_directory(src() / "d");
  t_.write("src/d/x", "x");
  open();
  const std::string committed = begin();
  Handle h = 0;
  EXPECT_EQ(be_->create("/a", O_RDWR | O_CREAT | O_EXCL, 0644, h), -EEXIST);
  EXPECT_EQ(be_->mkdir("/d", 0755), -EEXIST);
  EXPECT_EQ(be_->rmdir("/d"), -ENOTEMPTY);
  EXPECT_EQ(be_->rename("/a", "/d", 0), -EISDIR);
  EXPECT_EQ(be_->rename("/d", "/d/y", 0), -EINVAL);
  EXPECT_EQ(be_->unlink("/d"), -EISDIR);
  EXPECT_EQ(be_->rename("/a", "/d/x", RENAME_NOREPLACE), -EEXIST);
  EXPECT_EQ(rollback(), committed);
  EXPECT_EQ(t_.read("src/a"), "a");
  EXPECT_EQ(t_.read("src/d/x"), "x");
}

// The property: random operations in a round, then rollback → the committed root, also from
// scratch; random operations in a round, then commit → a from-scratch build's root.
// STATEFS_TEST_SEED=N runs one more sequence.
TEST_F(RoundBackendTest, RandomRoundsRollBackToTheCommittedRootAndCommitToTheDisk) {
  std::vector<std::uint64_t> seeds{11, 12, 13, 14, 15};
  if (const char* s = std::getenv("STATEFS_TEST_SEED")) seeds.push_back(std::strtoull(s, nullptr, 10));
  for (std::uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    close();
    fs::remove_all(t_.path());
    fs::create_directories(src());
    open();
    std::mt19937_64 rng(seed);
    randomOps(rng, 60);  // outside a round: applied directly
    for (int round = 0; round < 6; ++round) {
      const std::string committed = begin();
      ASSERT_EQ(committed, builtRootHex(src()));
      randomOps(rng, 80);
      for (Handle h : open_) (void)be_->release(h);
      open_.clear();
      if (round % 2 == 0) {
        ASSERT_EQ(rollback(), committed) << "round " << round;
        ASSERT_EQ(builtRootHex(src()), committed) << "round " << round;
      } else {
        const std::string root = commit();
        ASSERT_EQ(root, builtRootHex(src())) << "round " << round;
      }
      ASSERT_FALSE(fs::exists(undo() / "round"));
    }
  }
}

// Views: after random operations in a round, the view functions show exactly the committed
// state (names, kinds, modes, bytes, targets) — read from the state plus the undo data.
TEST_F(RoundBackendTest, AViewShowsTheCommittedStateWhileTheRoundWrites) {
  std::vector<std::uint64_t> seeds{31, 32, 33, 34};
  if (const char* s = std::getenv("STATEFS_TEST_SEED")) seeds.push_back(std::strtoull(s, nullptr, 10));
  for (std::uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    close();
    fs::remove_all(t_.path());
    fs::create_directories(src());
    open();
    std::mt19937_64 rng(seed);
    randomOps(rng, 80);
    for (Handle h : open_) (void)be_->release(h);
    open_.clear();
    for (int round = 0; round < 3; ++round) {
      begin();
      const Snapshot committed = snapshotOf(src());
      const auto epoch = rounds_->epoch();
      for (int part = 0; part < 4; ++part) {
        randomOps(rng, 30);
        Snapshot seen;
        snapshotOfView(*rounds_, epoch, "/", seen);
        ASSERT_TRUE(seen == committed)
            << "round " << round << ", part " << part << ":" << diff(committed, seen);
      }
      for (Handle h : open_) (void)be_->release(h);
      open_.clear();
      commit();
      std::vector<RoundBackend::ViewEntry> entries;
      EXPECT_EQ(rounds_->viewList(epoch, "/", entries), -ESTALE);  // a commit ends the view
    }
  }
}

// A view read on another thread while the round writes the same blocks: every read answers the
// committed bytes (each view call and each change is one step under the round's lock).
TEST_F(RoundBackendTest, ViewReadsRacingTheRoundsWritesSeeTheCommittedBytes) {
  const std::string old(4 * kUndoBlock, 'c');
  t_.write("src/f", old);
  open();
  begin();
  const auto epoch = rounds_->epoch();
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    std::string buf(old.size(), '\0');
    while (!stop.load()) {
      RoundBackend::ViewFile f;
      if (rounds_->viewOpen(epoch, "/f", f) != 0) {
        ++bad;
        continue;
      }
      int n = rounds_->viewRead(f, buf.data(), buf.size(), 0);
      if (n != static_cast<int>(old.size()) || buf != old) ++bad;
      ++reads;
    }
  });
  Handle h = 0;
  ASSERT_EQ(be_->open("/f", O_RDWR, h), 0);
  std::mt19937_64 rng(7);
  for (int i = 0; i < 300; ++i) {
    std::string b(1 + rng() % 20000, static_cast<char>('a' + i % 26));
    ASSERT_GT(be_->write(h, b.data(), b.size(), static_cast<off_t>(rng() % (5 * kUndoBlock))), 0);
    if (i % 50 == 0) {
      ASSERT_EQ(be_->ftruncate(h, static_cast<off_t>(rng() % (4 * kUndoBlock))), 0);
    }
  }
  ASSERT_EQ(be_->release(h), 0);
  while (reads.load() < 20) std::this_thread::yield();
  stop.store(true);
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  rollback();
  EXPECT_EQ(t_.read("src/f"), old);
}

// A rollback that dies after k steps (the process killed mid-rollback) and starts again at the
// next open ends at the committed state, for every k: the log is cut after each step, and no step
// is harmful when done twice (a name removed, restored, created again and removed again; an
// exchange).
TEST_F(RoundBackendTest, ARollbackInterruptedAtAnyStepFinishesAtTheNextOpen) {
  struct Stop {};
  for (int k = 1; k < 12; ++k) {
    SCOPED_TRACE("stopped after step " + std::to_string(k));
    close();
    fs::remove_all(t_.path());
    fs::create_directories(src());
    t_.write("src/p", "old p");
    t_.write("src/a", "a");
    t_.write("src/b", "b");
    t_.write("src/f", std::string(100000, 'f'));
    open();
    begin();
    const Snapshot committed = snapshotOf(src());
    Handle h = 0;
    ASSERT_EQ(be_->unlink("/p"), 0);
    ASSERT_EQ(be_->create("/p", O_RDWR, 0644, h), 0);
    ASSERT_EQ(be_->release(h), 0);
    ASSERT_EQ(be_->unlink("/p"), 0);
    ASSERT_EQ(be_->create("/p", O_RDWR, 0600, h), 0);
    ASSERT_EQ(be_->write(h, "newer", 5, 0), 5);
    ASSERT_EQ(be_->release(h), 0);
    ASSERT_EQ(be_->rename("/a", "/b", RENAME_EXCHANGE), 0);
    ASSERT_EQ(be_->open("/f", O_RDWR, h), 0);
    ASSERT_EQ(be_->write(h, "x", 1, 70000), 1);
    ASSERT_EQ(be_->release(h), 0);
    ASSERT_EQ(be_->rename("/f", "/p", 0), 0);
    close();  // killed mid-round

    {  // a rollback killed after k steps
      auto dir = SourceDir::open(src().string());
      ASSERT_TRUE(dir.ok());
      const fs::path round = undo() / "round";
      UniqueFd files(::open((round / "files").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      UniqueFd trash(::open((round / "trash").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
      std::ifstream in(round / "log", std::ios::binary);
      const std::string log((std::istreambuf_iterator<char>(in)), {});
      int steps = 0;
      const std::string logPath = (round / "log").string();
      try {
        (void)replayUndo({reinterpret_cast<const std::uint8_t*>(log.data()), log.size()}, *dir, files.get(),
                         trash.get(), nullptr, [&](std::size_t at) {
                           ASSERT_EQ(::truncate(logPath.c_str(), static_cast<off_t>(at)), 0);
                           if (++steps == k) throw Stop{};
                         });
      } catch (const Stop&) {
      }
    }
    open();  // recovery: the rest of the rollback
    EXPECT_EQ(diff(committed, snapshotOf(src())), "");
    EXPECT_FALSE(fs::exists(undo() / "round"));
  }
}

}  // namespace
}  // namespace sashimono::statefs
