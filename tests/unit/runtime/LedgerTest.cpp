#include "sashimono/runtime/Ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "sashimono/crypto/Blake3.h"

namespace sashimono::runtime {
namespace {

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ledger-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "ledger.sqlite").string(); }

  static LedgerRecord next(const LedgerRecord& prev, std::uint8_t tag) {
    LedgerRecord r;
    r.seqNo = prev.seqNo + 1;
    r.timestamp = 1000 + r.seqNo;
    r.prevHash = prev.hash;
    r.stateHash.fill(tag);
    sealLedger(r);
    return r;
  }
  std::filesystem::path dir_;
};

TEST_F(LedgerTest, ChainsPersistsAndReopens) {
  PubKey user{};
  user[0] = 0xED;
  user[1] = 7;
  {
    auto ls = LedgerStore::open(path());
    ASSERT_TRUE(ls.ok()) << ls.error().message;
    EXPECT_EQ(ls->last().seqNo, 0u);
    LedgerRecord prev = ls->last();
    for (std::uint8_t i = 1; i <= 5; ++i) {
      auto r = next(prev, i);
      LedgerInput in{user, crypto::blake3(core::ByteView(&i, 1)), 100u + i, 50, {i, i}};
      LedgerOutput out{user, Hash{}, {{1, 2, 3}, {i}}};
      ASSERT_TRUE(ls->append(r, {in}, {out}).ok());
      prev = r;
    }
    EXPECT_EQ(ls->last().seqNo, 5u);
    auto n = ls->userNonce(user);
    ASSERT_TRUE(n.ok() && n->has_value());
    EXPECT_EQ((*n)->nonce, 105u);
    // Out of order is refused.
    EXPECT_FALSE(ls->append(next(LedgerRecord{}, 9), {}, {}).ok());
  }
  auto ls = LedgerStore::open(path());
  ASSERT_TRUE(ls.ok());
  EXPECT_EQ(ls->last().seqNo, 5u);
  auto r3 = ls->get(3);
  ASSERT_TRUE(r3.ok() && r3->has_value());
  EXPECT_EQ((*r3)->stateHash[0], 3);
  auto ins = ls->inputs(3);
  ASSERT_TRUE(ins.ok());
  ASSERT_EQ(ins->size(), 1u);
  EXPECT_EQ(ins->front().nonce, 103u);
  auto outs = ls->outputs(3);
  ASSERT_TRUE(outs.ok());
  ASSERT_EQ(outs->size(), 1u);
  EXPECT_EQ(outs->front().blobs.size(), 2u);
  auto reader = LedgerStore::openReader(path());
  ASSERT_TRUE(reader.ok());
  auto r5 = reader->get(5);
  ASSERT_TRUE(r5.ok() && r5->has_value());
  EXPECT_EQ(**r5, ls->last());
}

TEST_F(LedgerTest, TamperedChainIsRefused) {
  {
    auto ls = LedgerStore::open(path());
    ASSERT_TRUE(ls.ok());
    LedgerRecord prev = ls->last();
    for (std::uint8_t i = 1; i <= 3; ++i) {
      auto r = next(prev, i);
      ASSERT_TRUE(ls->append(r, {}, {}).ok());
      prev = r;
    }
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE ledgers SET timestamp = 5 WHERE seq_no = 2", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto ls = LedgerStore::open(path());
  ASSERT_FALSE(ls.ok());
  EXPECT_NE(ls.error().message.find("seq_no 2"), std::string::npos) << ls.error().message;
}

TEST_F(LedgerTest, SignaturesAreStoredWithTheirLedger) {
  PubKey a{}, b{};
  a.fill(0xED);
  b[0] = 0xED;
  const std::vector<Signature> sigs = {{a, core::Bytes(64, 1)}, {b, core::Bytes(64, 2)}};  // b < a
  {
    auto ls = LedgerStore::open(path());
    ASSERT_TRUE(ls.ok());
    auto r1 = next(ls->last(), 1);
    ASSERT_TRUE(ls->append(r1, {}, {}, sigs).ok());
    // A repeated signer is refused, and nothing of that ledger is stored.
    auto r2 = next(r1, 2);
    EXPECT_FALSE(ls->append(r2, {}, {}, {sigs[0], sigs[0]}).ok());
    EXPECT_EQ(ls->last(), r1);
    EXPECT_FALSE(ls->get(2)->has_value());
    ASSERT_TRUE(ls->append(r2, {}, {}).ok());  // none (solo callers before they passed them)
  }
  auto ls = LedgerStore::open(path());
  ASSERT_TRUE(ls.ok());
  auto got = ls->signatures(1);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (std::vector<Signature>{sigs[1], sigs[0]}));  // by signer
  EXPECT_TRUE(ls->signatures(2)->empty());
  EXPECT_TRUE(ls->signatures(3)->empty());
}

// A staged ledger (written while the others' results travel) is invisible to readers and gone
// after a crash until commitStaged makes it durable with its signatures; unstage drops it.
TEST_F(LedgerTest, AStagedLedgerIsStoredOnlyWhenCommittedWithItsSignatures) {
  PubKey user{}, signer{};
  user[0] = 0xED;
  signer.fill(0xED);
  const std::vector<Signature> sigs = {{signer, core::Bytes(64, 7)}};
  auto ls = LedgerStore::open(path());
  ASSERT_TRUE(ls.ok());
  auto reader = LedgerStore::openReader(path());
  ASSERT_TRUE(reader.ok());
  auto r1 = next(ls->last(), 1);
  const std::uint8_t tag = 1;
  LedgerInput in{user, crypto::blake3(core::ByteView(&tag, 1)), 42, 50, {1}};
  LedgerOutput out{user, Hash{}, {{9}}};
  EXPECT_FALSE(ls->commitStaged(sigs).ok()) << "nothing staged yet";
  ASSERT_TRUE(ls->stage(r1, {in}, {out}).ok());
  EXPECT_TRUE(ls->staged());
  EXPECT_EQ(ls->last().seqNo, 0u);
  EXPECT_FALSE(reader->get(1)->has_value()) << "a staged ledger is not visible to other connections";
  // Dropped (the round was replaced): nothing of it stays; the same sequence can be staged again.
  ls->unstage();
  EXPECT_FALSE(ls->staged());
  EXPECT_FALSE(ls->get(1)->has_value());
  EXPECT_FALSE(ls->userNonce(user)->has_value());
  ASSERT_TRUE(ls->stage(r1, {in}, {out}).ok());
  // A ledger that does not follow is refused, and drops what was staged.
  EXPECT_FALSE(ls->stage(next(r1, 2), {}, {}).ok());
  EXPECT_FALSE(ls->staged());
  ASSERT_TRUE(ls->stage(r1, {in}, {out}).ok());
  ASSERT_TRUE(ls->commitStaged(sigs, sigs).ok());
  EXPECT_FALSE(ls->staged());
  EXPECT_EQ(ls->last(), r1);
  auto got = reader->get(1);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, r1);
  EXPECT_EQ(*reader->signatures(1), sigs);
  EXPECT_EQ(*reader->rootSignatures(1), sigs);
  EXPECT_EQ((*reader->userNonce(user))->nonce, 42u);
  ASSERT_EQ(reader->outputs(1)->size(), 1u);
  // A staged ledger left open when the store closes (a crash) is not stored.
  auto r2 = next(r1, 2);
  ASSERT_TRUE(ls->stage(r2, {}, {}).ok());
  ls = LedgerStore::open(path());  // the old store, with its open transaction, is gone
  ASSERT_TRUE(ls.ok()) << ls.error().message;
  EXPECT_EQ(ls->last(), r1);
  // A signature that cannot be stored (a repeated signer) fails the commit and stores nothing.
  ASSERT_TRUE(ls->stage(r2, {}, {}).ok());
  EXPECT_FALSE(ls->commitStaged({sigs[0], sigs[0]}).ok());
  EXPECT_FALSE(ls->staged());
  EXPECT_EQ(ls->last(), r1);
  EXPECT_FALSE(ls->get(2)->has_value());
}

// A ledger made before the store kept signatures (schema version 1) opens, keeps its chain and
// gains the table.
TEST_F(LedgerTest, AnOlderDatabaseGainsTheSignaturesTable) {
  const LedgerRecord r1 = next(LedgerRecord{}, 1);
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
    const char* v1 = R"(CREATE TABLE ledgers (
         seq_no INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, hash BLOB NOT NULL, prev_hash BLOB NOT NULL,
         state_hash BLOB NOT NULL, config_hash BLOB NOT NULL, user_hash BLOB NOT NULL,
         input_hash BLOB NOT NULL, output_hash BLOB NOT NULL);
       CREATE TABLE inputs (
         seq_no INTEGER NOT NULL, idx INTEGER NOT NULL, user BLOB NOT NULL, hash BLOB NOT NULL UNIQUE,
         nonce INTEGER NOT NULL, max_ledger INTEGER NOT NULL, blob BLOB NOT NULL, PRIMARY KEY (seq_no, idx));
       CREATE TABLE outputs (
         seq_no INTEGER NOT NULL, user BLOB NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
         blob BLOB NOT NULL, PRIMARY KEY (seq_no, user, idx));
       CREATE TABLE user_nonces (user BLOB PRIMARY KEY, nonce INTEGER NOT NULL, max_ledger INTEGER NOT NULL);
       PRAGMA user_version=1;)";
    ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(
        sqlite3_prepare_v2(db, "INSERT INTO ledgers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, nullptr),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, 1);
    sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(r1.timestamp));
    int col = 3;
    for (const Hash* h :
         {&r1.hash, &r1.prevHash, &r1.stateHash, &r1.configHash, &r1.userHash, &r1.inputHash, &r1.outputHash})
      sqlite3_bind_blob(st, col++, h->data(), static_cast<int>(h->size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  PubKey a{};
  a.fill(0xED);
  {
    auto ls = LedgerStore::open(path());
    ASSERT_TRUE(ls.ok()) << ls.error().message;
    EXPECT_EQ(ls->last(), r1);
    EXPECT_TRUE(ls->signatures(1)->empty());
    ASSERT_TRUE(ls->append(next(r1, 2), {}, {}, {{a, core::Bytes(64, 9)}}).ok());
  }
  auto ls = LedgerStore::open(path());
  ASSERT_TRUE(ls.ok()) << ls.error().message;
  EXPECT_EQ(ls->last().seqNo, 2u);
  EXPECT_EQ(*ls->signatures(2), (std::vector<Signature>{{a, core::Bytes(64, 9)}}));
}

TEST(LedgerHashTest, EmptyListsAreZeroAndOrderMatters) {
  EXPECT_EQ(hashList({}), Hash{});
  EXPECT_EQ(userSetHash({}), Hash{});
  Hash a{}, b{};
  a.fill(1);
  b.fill(2);
  EXPECT_NE(hashList({a, b}), hashList({b, a}));
  PubKey u1{}, u2{};
  u1.fill(1);
  u2.fill(2);
  EXPECT_EQ(userSetHash({u1, u2}), userSetHash({u2, u1}));  // a set: sorted
  LedgerRecord r;
  r.seqNo = 1;
  sealLedger(r);
  EXPECT_EQ(r.hash, crypto::blake3({core::ByteView(r.prevHash), core::ByteView(dataHash(r))}));
}

}  // namespace
}  // namespace sashimono::runtime
