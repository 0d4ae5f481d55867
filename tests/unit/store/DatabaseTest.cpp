#include "sashimono/store/Database.h"

#include <array>
#include <filesystem>
#include <string_view>

#include <gtest/gtest.h>
#include <unistd.h>

using namespace sashimono;
using namespace sashimono::store;

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sashi-store-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

constexpr std::array<std::string_view, 2> kSteps = {
    "CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB)",
    "ALTER TABLE kv ADD COLUMN n INTEGER DEFAULT 0",
};
}  // namespace

TEST(DatabaseTest, MigratesAndRoundTrips) {
  TempDir dir;
  auto db = Database::open((dir.path / "a.db").string());
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE(migrate(*db, kSteps).ok());
  EXPECT_EQ(*userVersion(*db), 2);
  auto ins = db->prepare("INSERT INTO kv(k, v, n) VALUES(?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  core::Bytes blob{1, 2, 3};
  ins->bind(1, std::string_view("x")).bind(2, core::ByteView(blob)).bind(3, std::int64_t{-5});
  ASSERT_TRUE(ins->run().ok());
  ins->reset();
  ins->bind(1, std::string_view("empty")).bind(2, core::ByteView()).bind(3, std::int64_t{0});
  ASSERT_TRUE(ins->run().ok());
  auto sel = db->prepare("SELECT v, n, typeof(v) FROM kv WHERE k = ?");
  ASSERT_TRUE(sel.ok());
  sel->bind(1, std::string_view("x"));
  ASSERT_TRUE(*sel->step());
  EXPECT_EQ(sel->blob(0), blob);
  EXPECT_EQ(sel->int64(1), -5);
  sel->reset();
  sel->bind(1, std::string_view("empty"));
  ASSERT_TRUE(*sel->step());
  EXPECT_EQ(sel->text(2), "blob");
  EXPECT_FALSE(*sel->step());
  // Re-running migrations is a no-op.
  ASSERT_TRUE(migrate(*db, kSteps).ok());
}

TEST(DatabaseTest, ErrorsCarrySqliteMessageAndContext) {
  TempDir dir;
  auto db = Database::open((dir.path / "a.db").string());
  ASSERT_TRUE(db.ok());
  auto bad = db->prepare("SELEC nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("syntax error"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("SELEC nonsense"), std::string::npos);
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(db->exec("INSERT INTO t VALUES(1)").ok());
  auto dup = db->exec("INSERT INTO t VALUES(1)");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("UNIQUE"), std::string::npos);
}

TEST(DatabaseTest, TransactionRollsBackUnlessCommitted) {
  TempDir dir;
  auto db = Database::open((dir.path / "a.db").string());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)").ok());
  {
    auto tx = Transaction::begin(*db);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(1)").ok());
  }
  {
    auto tx = Transaction::begin(*db);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(2)").ok());
    ASSERT_TRUE(tx->commit().ok());
  }
  auto sel = db->prepare("SELECT group_concat(x) FROM t");
  ASSERT_TRUE(*sel->step());
  EXPECT_EQ(sel->text(0), "2");
}

TEST(DatabaseTest, NestedTransactionsAreSavepointsOfTheOuterOne) {
  TempDir dir;
  auto db = Database::open((dir.path / "a.db").string());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->exec("CREATE TABLE t(x INTEGER)").ok());
  auto all = [&] {
    auto sel = db->prepare("SELECT coalesce(group_concat(x), '') FROM (SELECT x FROM t ORDER BY x)");
    EXPECT_TRUE(*sel->step());
    return sel->text(0);
  };
  {
    auto outer = Transaction::begin(*db);
    ASSERT_TRUE(outer.ok());
    {
      auto inner = Transaction::begin(*db);  // committed: kept with the outer one
      ASSERT_TRUE(inner.ok());
      ASSERT_TRUE(db->exec("INSERT INTO t VALUES(1)").ok());
      ASSERT_TRUE(inner->commit().ok());
    }
    {
      auto inner = Transaction::begin(*db);  // not committed: only its own row goes
      ASSERT_TRUE(inner.ok());
      ASSERT_TRUE(db->exec("INSERT INTO t VALUES(2)").ok());
    }
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(3)").ok());
    EXPECT_EQ(all(), "1,3");
    ASSERT_TRUE(outer->commit().ok());
  }
  EXPECT_EQ(all(), "1,3");
  {
    auto outer = Transaction::begin(*db);  // rolled back: its committed savepoint goes too
    ASSERT_TRUE(outer.ok());
    auto inner = Transaction::begin(*db);
    ASSERT_TRUE(db->exec("INSERT INTO t VALUES(4)").ok());
    ASSERT_TRUE(inner->commit().ok());
  }
  EXPECT_EQ(all(), "1,3");
}

TEST(DatabaseTest, RefusesNewerSchema) {
  TempDir dir;
  auto db = Database::open((dir.path / "a.db").string());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(db->exec("PRAGMA user_version=7").ok());
  auto st = migrate(*db, kSteps);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("newer"), std::string::npos);
}

TEST(DatabaseTest, WalModeAndConcurrentReader) {
  TempDir dir;
  auto path = (dir.path / "a.db").string();
  auto w = Database::open(path);
  ASSERT_TRUE(w.ok());
  auto mode = w->prepare("PRAGMA journal_mode");
  ASSERT_TRUE(*mode->step());
  EXPECT_EQ(mode->text(0), "wal");
  mode->reset();  // an unfinished statement would keep the next autocommit writes uncommitted
  ASSERT_TRUE(w->exec("CREATE TABLE t(x INTEGER); INSERT INTO t VALUES(1)").ok());
  OpenOptions ro;
  ro.readOnly = true;
  auto r = Database::open(path, ro);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto tx = Transaction::begin(*w);
  ASSERT_TRUE(tx.ok()) << tx.error().message;
  ASSERT_TRUE(w->exec("INSERT INTO t VALUES(2)").ok());
  auto count = r->prepare("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok()) << count.error().message;
  auto row = count->step();
  ASSERT_TRUE(row.ok()) << row.error().message;
  ASSERT_TRUE(*row);
  EXPECT_EQ(count->int64(0), 1);  // uncommitted write invisible, reader not blocked
  ASSERT_TRUE(tx->commit().ok());
  count->reset();
  ASSERT_TRUE(*count->step());
  EXPECT_EQ(count->int64(0), 2);
}

TEST(DatabaseTest, OpenFailureNamesPath) {
  OpenOptions o;
  o.create = false;
  auto db = Database::open("/nonexistent-dir/x.db", o);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find("/nonexistent-dir/x.db"), std::string::npos);
}
