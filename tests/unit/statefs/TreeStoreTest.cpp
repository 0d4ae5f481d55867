#include "sashimono/statefs/TreeStore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/store/Database.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::builtRootHex;
using testing::hex;
using testing::inoOf;
using testing::TempTree;

// Files a store can only trust once they are older than a clock tick.
void settle() { ::usleep(static_cast<useconds_t>(2 * kRacyNs / 1000)); }

// A state (in state/) and its store (state.tree beside it).
struct Fixture {
  TempTree t;
  fs::path state = t.path("state");
  std::string store = t.path("state.tree").string();
  Fixture() {
    fs::create_directories(state / "d/e");
    std::ofstream(state / "small") << "small";
    std::ofstream(state / "d/e/big") << std::string(3 * kBlockSize + 17, 'b');
    std::ofstream(state / "d/empty").close();
    fs::create_hard_link(state / "d/e/big", state / "big-link");
    fs::create_symlink("d/e/big", state / "sym");
  }
  LoadedTree load(LoadReport::Mode expected) const {
    std::uint64_t lastDone = 0;
    auto r =
        TreeStore::load(state.string(), store, [&](std::uint64_t done, std::uint64_t) { lastDone = done; });
    if (!r) throw std::runtime_error(r.error().message);
    EXPECT_EQ(r->report.mode, expected) << describe(r->report);
    EXPECT_EQ(lastDone, r->report.bytesHashed);
    EXPECT_EQ(hex(r->tree.root()), builtRootHex(state)) << describe(r->report);
    return std::move(*r);
  }
  void exec(const std::string& sql) const {
    auto db = store::Database::open(store);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec(sql).ok()) << sql;
  }
};

TEST(TreeStoreTest, AfterACleanStopOnlyChangedFilesAreRead) {
  Fixture f;
  settle();
  {
    auto l = f.load(LoadReport::Mode::fresh);
    EXPECT_EQ(l.report.problem, "");
    EXPECT_EQ(l.report.files, 3u);  // small, big (two names), empty
    ASSERT_TRUE(l.store.save(l.tree, true).ok());
  }
  {
    auto l = f.load(LoadReport::Mode::clean);
    EXPECT_EQ(l.report.reused, 3u);
    EXPECT_EQ(l.report.bytesHashed, 0u);
    ASSERT_TRUE(l.store.save(l.tree, true).ok());
  }
  // Changed while nothing ran: another content of the same size, a file removed, one added.
  std::ofstream(f.state / "small") << "SMALL";
  std::ofstream(f.state / "d/new") << "new";  // first, or it may take the removed file's inode
  fs::remove(f.state / "d/empty");
  settle();
  auto l = f.load(LoadReport::Mode::clean);
  EXPECT_EQ(l.report.reused, 1u);  // big
  EXPECT_EQ(l.report.bytesHashed, 8u);
  EXPECT_EQ(l.report.stale, 1u);
  ASSERT_TRUE(l.store.save(l.tree, true).ok());
  auto again = f.load(LoadReport::Mode::clean);
  EXPECT_EQ(again.report.reused, 3u);
  EXPECT_EQ(again.report.stale, 0u);
}

TEST(TreeStoreTest, AfterAnUncleanStopEveryFileIsVerifiedAndWrongRowsCounted) {
  Fixture f;
  settle();
  {
    auto l = f.load(LoadReport::Mode::fresh);
    ASSERT_TRUE(l.store.save(l.tree).ok());  // a round's save; then the process dies
  }
  // A row that lies (its file unchanged) and a file written after the last save.
  f.exec("UPDATE files SET hash = zeroblob(32) WHERE ino = " + std::to_string(inoOf(f.state / "small")));
  std::ofstream(f.state / "d/empty") << "now full";
  auto l = f.load(LoadReport::Mode::verified);
  EXPECT_EQ(l.report.wrong, 2u) << describe(l.report);
  EXPECT_EQ(l.report.missing, 0u);
  EXPECT_EQ(l.report.reused, 0u);
  EXPECT_EQ(l.report.bytesHashed, 5u + 2 * (3 * kBlockSize + 17) + 8);  // big has two names
  ASSERT_TRUE(l.store.save(l.tree, true).ok());
  // Rebuilt: the next start trusts it again.
  settle();
  auto next = f.load(LoadReport::Mode::clean);
  EXPECT_GE(next.report.reused,
            2u);  // big and small (empty, if read within a tick of its change, is read again)
}

TEST(TreeStoreTest, ABlockPartThatDisagreesWithItsFileHashIsNotTrusted) {
  Fixture f;
  settle();
  {
    auto l = f.load(LoadReport::Mode::fresh);
    ASSERT_TRUE(l.store.save(l.tree, true).ok());
  }
  f.exec("UPDATE blocks SET cvs = zeroblob(length(cvs)) WHERE ino = " +
         std::to_string(inoOf(f.state / "d/e/big")));
  auto l = f.load(LoadReport::Mode::clean);
  EXPECT_EQ(l.report.reused, 2u);                              // small and empty; big is read again
  EXPECT_EQ(l.report.bytesHashed, 2 * (3 * kBlockSize + 17));  // both its names
}

TEST(TreeStoreTest, GarbageTruncatedOrForeignStoresFallBackToAFullBuild) {
  Fixture f;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"garbage", std::string(5000, 'x')},
      {"sqlite header only", std::string("SQLite format 3\0", 16) + std::string(200, '\xff')},
  };
  for (const auto& [name, bytes] : cases) {
    std::ofstream(f.store, std::ios::binary | std::ios::trunc) << bytes;
    auto l = f.load(LoadReport::Mode::fresh);
    EXPECT_NE(l.report.problem, "") << name;
    ASSERT_TRUE(l.store.save(l.tree, true).ok());
  }
  // Truncated after a clean save: whatever is left, the root is right.
  {
    auto l = TreeStore::load(f.state.string(), f.store);
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE(l->store.save(l->tree, true).ok());
  }
  fs::resize_file(f.store, fs::file_size(f.store) / 2);
  auto l = TreeStore::load(f.state.string(), f.store);
  ASSERT_TRUE(l.ok()) << l.error().message;
  EXPECT_EQ(hex(l->tree.root()), builtRootHex(f.state)) << describe(l->report);
  // Another program's sqlite file.
  fs::remove(f.store);
  f.exec("CREATE TABLE files(x); PRAGMA user_version=1;");
  auto foreign = f.load(LoadReport::Mode::fresh);
  EXPECT_NE(foreign.report.problem, "");
}

TEST(TreeStoreTest, ASaveAfterASmallWriteRewritesOnePartOfALargeFile) {
  Fixture f;
  const fs::path large = f.state / "large";
  std::ofstream(large) << std::string(100 * kBlockSize, 'l');  // 2 parts of 64 blocks
  auto l = f.load(LoadReport::Mode::fresh);
  ASSERT_TRUE(l.store.save(l.tree).ok());
  f.exec(
      "CREATE TABLE log(t); "
      "CREATE TRIGGER bi AFTER INSERT ON blocks BEGIN INSERT INTO log VALUES ('blocks'); END; "
      "CREATE TRIGGER fi AFTER INSERT ON files BEGIN INSERT INTO log VALUES ('files'); END;");
  {
    int fd = ::open(large.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string four(4096, 'w');
    ASSERT_EQ(::pwrite(fd, four.data(), four.size(), 70 * kBlockSize), 4096);
    ::close(fd);
  }
  l.tree.markData(inoOf(large), 70 * kBlockSize, 4096);
  ASSERT_TRUE(l.tree.refresh().ok());
  ASSERT_TRUE(l.store.save(l.tree).ok());
  auto db = store::Database::open(f.store);
  ASSERT_TRUE(db.ok());
  auto q = db->prepare("SELECT t, count(*) FROM log GROUP BY t ORDER BY t");
  ASSERT_TRUE(q.ok());
  std::string seen;
  while (*q->step()) seen += q->text(0) + "=" + std::to_string(q->int64(1)) + " ";
  EXPECT_EQ(seen, "blocks=1 files=1 ");
  // And what was saved is right: a clean load after it gives the same root.
  ASSERT_TRUE(l.store.save(l.tree, true).ok());
  settle();
  f.load(LoadReport::Mode::clean);
}

TEST(TreeStoreTest, ACleanSaveNeedsTheMarksApplied) {
  Fixture f;
  auto l = f.load(LoadReport::Mode::fresh);
  l.tree.markEntry("/small");
  EXPECT_FALSE(l.store.save(l.tree, true).ok());
  ASSERT_TRUE(l.tree.refresh().ok());
  EXPECT_TRUE(l.store.save(l.tree, true).ok());
}

TEST(TreeStoreTest, AStateThatCannotBeHashedIsAnError) {
  TempTree t;
  auto l = TreeStore::load(t.path("missing").string(), t.path("tree").string());
  EXPECT_FALSE(l.ok());
}

}  // namespace
}  // namespace sashimono::statefs
