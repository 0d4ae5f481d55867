#include "sashimono/devnet/ChainStore.h"

#include <array>
#include <cstring>
#include <filesystem>
#include <string_view>

namespace sashimono::devnet {

using core::Error;
using core::Result;
using core::Status;
using store::Database;
using store::Statement;

namespace {

constexpr std::array<std::string_view, 1> kSchema = {
    R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE ledgers(
  seq INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, parent_hash BLOB NOT NULL,
  total_drops INTEGER NOT NULL, tx_hash BLOB NOT NULL, account_hash BLOB NOT NULL,
  parent_close_time INTEGER NOT NULL, close_time INTEGER NOT NULL,
  close_time_resolution INTEGER NOT NULL, close_flags INTEGER NOT NULL, tx_count INTEGER NOT NULL);
CREATE TABLE accounts(
  id BLOB PRIMARY KEY, balance INTEGER NOT NULL, sequence INTEGER NOT NULL,
  owner_count INTEGER NOT NULL, flags INTEGER NOT NULL,
  prev_txn_id BLOB NOT NULL, prev_txn_seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE transactions(
  hash BLOB PRIMARY KEY, ledger_seq INTEGER NOT NULL, tx_index INTEGER NOT NULL,
  result INTEGER NOT NULL, blob BLOB NOT NULL, meta BLOB NOT NULL);
CREATE INDEX transactions_by_ledger ON transactions(ledger_seq, tx_index);
CREATE TABLE account_tx(
  account BLOB NOT NULL, ledger_seq INTEGER NOT NULL, tx_index INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY(account, ledger_seq, tx_index)) WITHOUT ROWID;
)sql",
};

template <std::size_t N>
std::array<std::uint8_t, N> fixed(core::ByteView v) {
  std::array<std::uint8_t, N> a{};
  if (v.size() == N) std::memcpy(a.data(), v.data(), N);
  return a;
}

constexpr const char* kHeaderColumns =
    "seq, hash, parent_hash, total_drops, tx_hash, account_hash, parent_close_time, close_time, "
    "close_time_resolution, close_flags, tx_count";

LedgerHeader readHeader(const Statement& s) {
  LedgerHeader h;
  h.seq = static_cast<std::uint32_t>(s.int64(0));
  h.hash = fixed<32>(s.blobView(1));
  h.parentHash = fixed<32>(s.blobView(2));
  h.totalDrops = static_cast<std::uint64_t>(s.int64(3));
  h.txHash = fixed<32>(s.blobView(4));
  h.accountHash = fixed<32>(s.blobView(5));
  h.parentCloseTime = static_cast<std::uint32_t>(s.int64(6));
  h.closeTime = static_cast<std::uint32_t>(s.int64(7));
  h.closeTimeResolution = static_cast<std::uint8_t>(s.int64(8));
  h.closeFlags = static_cast<std::uint8_t>(s.int64(9));
  h.txCount = static_cast<std::uint32_t>(s.int64(10));
  return h;
}

// Columns: hash, ledger_seq, tx_index, result, blob, meta, close_time, ledger hash
constexpr const char* kTxSelect =
    "SELECT t.hash, t.ledger_seq, t.tx_index, t.result, t.blob, t.meta, l.close_time, l.hash "
    "FROM transactions t JOIN ledgers l ON l.seq = t.ledger_seq ";

StoredTx readTx(const Statement& s) {
  StoredTx t;
  t.hash = fixed<32>(s.blobView(0));
  t.ledgerSeq = static_cast<std::uint32_t>(s.int64(1));
  t.index = static_cast<std::uint32_t>(s.int64(2));
  t.result = static_cast<int>(s.int64(3));
  t.blob = s.blob(4);
  t.meta = s.blob(5);
  t.closeTime = static_cast<std::uint32_t>(s.int64(6));
  t.ledgerHash = fixed<32>(s.blobView(7));
  return t;
}

}  // namespace

class ChainStore::ReadLease {
 public:
  ReadLease(ChainStore* store, std::unique_ptr<Database> db) : store_(store), db_(std::move(db)) {}
  ReadLease(ReadLease&&) noexcept = default;
  ~ReadLease() {
    if (db_) {
      std::lock_guard lock(store_->readMu_);
      store_->idleReaders_.push_back(std::move(db_));
    }
  }
  Database& db() { return *db_; }

 private:
  ChainStore* store_;
  std::unique_ptr<Database> db_;
};

ChainStore::~ChainStore() = default;

Result<std::unique_ptr<ChainStore>> ChainStore::open(const std::string& dataDir) {
  std::error_code ec;
  std::filesystem::create_directories(dataDir, ec);
  if (ec) return Error("creating data directory " + dataDir + ": " + ec.message(), ec.value());
  std::unique_ptr<ChainStore> s(new ChainStore());
  s->path_ = (std::filesystem::path(dataDir) / "devnet.db").string();
  auto db = Database::open(s->path_);
  if (!db.ok()) return db.error();
  s->writer_ = std::make_unique<Database>(std::move(*db));
  SASHI_TRY(s->writer_->exec("PRAGMA cache_size=-65536"));
  auto st = store::migrate(*s->writer_, kSchema);
  if (!st.ok()) return st.error();
  return s;
}

Result<ChainStore::ReadLease> ChainStore::reader() {
  {
    std::lock_guard lock(readMu_);
    if (!idleReaders_.empty()) {
      auto db = std::move(idleReaders_.back());
      idleReaders_.pop_back();
      return ReadLease(this, std::move(db));
    }
  }
  store::OpenOptions o;
  o.readOnly = true;
  auto db = Database::open(path_, o);
  if (!db.ok()) return db.error();
  return ReadLease(this, std::make_unique<Database>(std::move(*db)));
}

Result<std::optional<std::string>> ChainStore::meta(const std::string& key) {
  auto s = writer_->prepare("SELECT value FROM meta WHERE key = ?");
  if (!s.ok()) return s.error();
  s->bind(1, std::string_view(key));
  auto row = s->step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(s->text(0));
}

Status ChainStore::setMeta(const std::string& key, const std::string& value) {
  auto s = writer_->prepare(
      "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!s.ok()) return s.error();
  s->bind(1, std::string_view(key)).bind(2, std::string_view(value));
  return s->run();
}

Result<std::optional<LedgerHeader>> ChainStore::lastLedger() {
  auto s =
      writer_->prepare(std::string("SELECT ") + kHeaderColumns + " FROM ledgers ORDER BY seq DESC LIMIT 1");
  if (!s.ok()) return s.error();
  auto row = s->step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<LedgerHeader>();
  return std::optional<LedgerHeader>(readHeader(*s));
}

Result<std::vector<AccountRoot>> ChainStore::loadAccounts() {
  auto s = writer_->prepare(
      "SELECT id, balance, sequence, owner_count, flags, prev_txn_id, prev_txn_seq FROM accounts");
  if (!s.ok()) return s.error();
  std::vector<AccountRoot> out;
  for (;;) {
    auto row = s->step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    AccountRoot a;
    a.id = fixed<20>(s->blobView(0));
    a.balance = static_cast<std::uint64_t>(s->int64(1));
    a.sequence = static_cast<std::uint32_t>(s->int64(2));
    a.ownerCount = static_cast<std::uint32_t>(s->int64(3));
    a.flags = static_cast<std::uint32_t>(s->int64(4));
    a.previousTxnId = fixed<32>(s->blobView(5));
    a.previousTxnLgrSeq = static_cast<std::uint32_t>(s->int64(6));
    out.push_back(a);
  }
  return out;
}

Status ChainStore::commit(const ClosedLedger& l) {
  Database& db = *writer_;
  auto tx = store::Transaction::begin(db);
  if (!tx.ok()) return tx.error().context("committing ledger " + std::to_string(l.header.seq));
  const auto& h = l.header;
  {
    auto s =
        db.prepare(std::string("INSERT INTO ledgers(") + kHeaderColumns + ") VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    if (!s.ok()) return s.error();
    s->bind(1, std::int64_t{h.seq})
        .bind(2, core::ByteView(h.hash))
        .bind(3, core::ByteView(h.parentHash))
        .bind(4, static_cast<std::int64_t>(h.totalDrops))
        .bind(5, core::ByteView(h.txHash))
        .bind(6, core::ByteView(h.accountHash))
        .bind(7, std::int64_t{h.parentCloseTime})
        .bind(8, std::int64_t{h.closeTime})
        .bind(9, std::int64_t{h.closeTimeResolution})
        .bind(10, std::int64_t{h.closeFlags})
        .bind(11, std::int64_t{h.txCount});
    SASHI_TRY(s->run());
  }
  if (!l.txs.empty()) {
    auto ins = db.prepare(
        "INSERT INTO transactions(hash, ledger_seq, tx_index, result, blob, meta) VALUES(?,?,?,?,?,?)");
    if (!ins.ok()) return ins.error();
    auto idx = db.prepare("INSERT INTO account_tx(account, ledger_seq, tx_index, hash) VALUES(?,?,?,?)");
    if (!idx.ok()) return idx.error();
    for (const auto& t : l.txs) {
      ins->reset();
      ins->bind(1, core::ByteView(t.hash))
          .bind(2, std::int64_t{t.ledgerSeq})
          .bind(3, std::int64_t{t.index})
          .bind(4, std::int64_t{terCode(t.result)})
          .bind(5, core::ByteView(t.blob))
          .bind(6, core::ByteView(t.meta));
      SASHI_TRY(ins->run());
      for (const auto& a : t.affected) {
        idx->reset();
        idx->bind(1, core::ByteView(a))
            .bind(2, std::int64_t{t.ledgerSeq})
            .bind(3, std::int64_t{t.index})
            .bind(4, core::ByteView(t.hash));
        SASHI_TRY(idx->run());
      }
    }
  }
  if (!l.modified.empty()) {
    auto up = db.prepare(
        "INSERT INTO accounts(id, balance, sequence, owner_count, flags, prev_txn_id, prev_txn_seq) "
        "VALUES(?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET balance=excluded.balance, "
        "sequence=excluded.sequence, owner_count=excluded.owner_count, flags=excluded.flags, "
        "prev_txn_id=excluded.prev_txn_id, prev_txn_seq=excluded.prev_txn_seq");
    if (!up.ok()) return up.error();
    for (const auto& a : l.modified) {
      up->reset();
      up->bind(1, core::ByteView(a.id))
          .bind(2, static_cast<std::int64_t>(a.balance))
          .bind(3, std::int64_t{a.sequence})
          .bind(4, std::int64_t{a.ownerCount})
          .bind(5, std::int64_t{a.flags})
          .bind(6, core::ByteView(a.previousTxnId))
          .bind(7, std::int64_t{a.previousTxnLgrSeq});
      SASHI_TRY(up->run());
    }
  }
  auto st = tx->commit();
  if (!st.ok()) return st.error().context("committing ledger " + std::to_string(h.seq));
  return {};
}

Result<std::optional<StoredTx>> ChainStore::tx(const crypto::Hash256& hash) {
  auto lease = reader();
  if (!lease.ok()) return lease.error();
  auto s = lease->db().prepare(std::string(kTxSelect) + "WHERE t.hash = ?");
  if (!s.ok()) return s.error();
  s->bind(1, core::ByteView(hash));
  auto row = s->step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<StoredTx>();
  return std::optional<StoredTx>(readTx(*s));
}

Result<std::vector<StoredTx>> ChainStore::ledgerTxs(std::uint32_t seq) {
  auto lease = reader();
  if (!lease.ok()) return lease.error();
  auto s = lease->db().prepare(std::string(kTxSelect) + "WHERE t.ledger_seq = ? ORDER BY t.tx_index");
  if (!s.ok()) return s.error();
  s->bind(1, std::int64_t{seq});
  std::vector<StoredTx> out;
  for (;;) {
    auto row = s->step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    out.push_back(readTx(*s));
  }
  return out;
}

namespace {
Result<std::optional<LedgerHeader>> oneHeader(Statement& s) {
  auto row = s.step();
  if (!row.ok()) return row.error();
  if (!*row) return std::optional<LedgerHeader>();
  return std::optional<LedgerHeader>(readHeader(s));
}
}  // namespace

Result<std::optional<LedgerHeader>> ChainStore::ledger(std::uint32_t seq) {
  auto lease = reader();
  if (!lease.ok()) return lease.error();
  auto s = lease->db().prepare(std::string("SELECT ") + kHeaderColumns + " FROM ledgers WHERE seq = ?");
  if (!s.ok()) return s.error();
  s->bind(1, std::int64_t{seq});
  return oneHeader(*s);
}

Result<std::optional<LedgerHeader>> ChainStore::ledgerByHash(const crypto::Hash256& hash) {
  auto lease = reader();
  if (!lease.ok()) return lease.error();
  auto s = lease->db().prepare(std::string("SELECT ") + kHeaderColumns + " FROM ledgers WHERE hash = ?");
  if (!s.ok()) return s.error();
  s->bind(1, core::ByteView(hash));
  return oneHeader(*s);
}

Result<AccountTxPage> ChainStore::accountTx(const crypto::AccountId& account, std::uint32_t minSeq,
                                            std::uint32_t maxSeq, bool forward, std::uint32_t limit,
                                            std::optional<AccountTxMarker> marker) {
  auto lease = reader();
  if (!lease.ok()) return lease.error();
  std::string sql =
      "SELECT t.hash, t.ledger_seq, t.tx_index, t.result, t.blob, t.meta, l.close_time, l.hash "
      "FROM account_tx a JOIN transactions t ON t.hash = a.hash JOIN ledgers l ON l.seq = a.ledger_seq "
      "WHERE a.account = ?1 AND a.ledger_seq BETWEEN ?2 AND ?3 ";
  if (marker)
    sql += forward ? "AND (a.ledger_seq, a.tx_index) >= (?4, ?5) "
                   : "AND (a.ledger_seq, a.tx_index) <= (?4, ?5) ";
  sql += forward ? "ORDER BY a.ledger_seq, a.tx_index " : "ORDER BY a.ledger_seq DESC, a.tx_index DESC ";
  sql += "LIMIT ?6";
  auto s = lease->db().prepare(sql);
  if (!s.ok()) return s.error();
  s->bind(1, core::ByteView(account)).bind(2, std::int64_t{minSeq}).bind(3, std::int64_t{maxSeq});
  if (marker) s->bind(4, std::int64_t{marker->ledger}).bind(5, std::int64_t{marker->seq});
  s->bind(6, std::int64_t{limit} + 1);
  AccountTxPage page;
  for (;;) {
    auto row = s->step();
    if (!row.ok()) return row.error();
    if (!*row) break;
    if (page.txs.size() == limit) {
      page.marker =
          AccountTxMarker{static_cast<std::uint32_t>(s->int64(1)), static_cast<std::uint32_t>(s->int64(2))};
      break;
    }
    page.txs.push_back(readTx(*s));
  }
  return page;
}

}  // namespace sashimono::devnet
