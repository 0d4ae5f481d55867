#include "sashimono/store/Database.h"

#include <atomic>

#include <sqlite3.h>

namespace sashimono::store {

using core::Error;
using core::Result;
using core::Status;

namespace {
Error sqliteError(sqlite3* db, int rc, const std::string& context) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error(context + ": " + msg + " (sqlite code " + std::to_string(rc) + ")", 0, "sqlite");
}
}  // namespace

void Database::Closer::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void Statement::Finalizer::operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }

Result<Database> Database::open(const std::string& path, const OpenOptions& options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  flags |= options.readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (options.create && !options.readOnly) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<sqlite3, Closer> owned(raw);
  if (rc != SQLITE_OK) return sqliteError(raw, rc, "opening sqlite database " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busyTimeoutMs);
  Database db(std::move(owned), path);
  if (!options.readOnly) {
    if (options.wal) SASHI_TRY(db.exec("PRAGMA journal_mode=WAL"));
    SASHI_TRY(db.exec("PRAGMA synchronous=" + options.synchronous));
    SASHI_TRY(db.exec("PRAGMA foreign_keys=ON"));
  }
  return db;
}

Status Database::exec(std::string_view sql) {
  std::string text(sql);
  char* msg = nullptr;
  int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string m = msg != nullptr ? msg : sqlite3_errstr(rc);
    sqlite3_free(msg);
    return Error(path_ + ": executing '" + text + "': " + m + " (sqlite code " + std::to_string(rc) + ")", 0,
                 "sqlite");
  }
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    return sqliteError(db_.get(), rc, path_ + ": preparing '" + std::string(sql) + "'");
  }
  return Statement(db_.get(), s);
}

std::int64_t Database::lastInsertRowid() const { return sqlite3_last_insert_rowid(db_.get()); }
int Database::changes() const { return sqlite3_changes(db_.get()); }
Error Database::error(const std::string& context) const {
  return sqliteError(db_.get(), sqlite3_errcode(db_.get()), context);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_.get(), index, value);
  if (rc != SQLITE_OK && bindStatus_.ok())
    bindStatus_ = sqliteError(db_, rc, "binding parameter " + std::to_string(index));
  return *this;
}
Statement& Statement::bind(int index, std::string_view text) {
  int rc =
      sqlite3_bind_text(stmt_.get(), index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bindStatus_.ok())
    bindStatus_ = sqliteError(db_, rc, "binding parameter " + std::to_string(index));
  return *this;
}
Statement& Statement::bind(int index, core::ByteView blob) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const std::uint8_t kEmpty = 0;
  const void* p = blob.empty() ? &kEmpty : blob.data();
  int rc = sqlite3_bind_blob(stmt_.get(), index, p, static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK && bindStatus_.ok())
    bindStatus_ = sqliteError(db_, rc, "binding parameter " + std::to_string(index));
  return *this;
}
Statement& Statement::bindNull(int index) {
  int rc = sqlite3_bind_null(stmt_.get(), index);
  if (rc != SQLITE_OK && bindStatus_.ok())
    bindStatus_ = sqliteError(db_, rc, "binding parameter " + std::to_string(index));
  return *this;
}

Result<bool> Statement::step() {
  if (!bindStatus_.ok()) return bindStatus_.error();
  int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_.get());
  return sqliteError(db_, rc, std::string("executing '") + (sql != nullptr ? sql : "?") + "'");
}

Status Statement::run() {
  for (;;) {
    auto r = step();
    if (!r.ok()) return r.error();
    if (!*r) return {};
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
  bindStatus_ = {};
}

int Statement::columnCount() const { return sqlite3_column_count(stmt_.get()); }
bool Statement::isNull(int column) const { return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL; }
std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_.get(), column); }
std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(stmt_.get(), column);
  int n = sqlite3_column_bytes(stmt_.get(), column);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
                      : std::string();
}
core::ByteView Statement::blobView(int column) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_.get(), column));
  int n = sqlite3_column_bytes(stmt_.get(), column);
  if (p == nullptr) return {};
  return {p, static_cast<std::size_t>(n)};
}
core::Bytes Statement::blob(int column) const {
  auto v = blobView(column);
  return {v.begin(), v.end()};
}

Result<Transaction> Transaction::begin(Database& db) {
  if (sqlite3_get_autocommit(db.handle()) == 0) {
    static std::atomic<std::uint64_t> next{0};
    std::string name = "sp" + std::to_string(++next);
    SASHI_TRY(db.exec("SAVEPOINT " + name));
    return Transaction(&db, std::move(name));
  }
  SASHI_TRY(db.exec("BEGIN IMMEDIATE"));
  return Transaction(&db, {});
}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  if (savepoint_.empty())
    (void)db_->exec("ROLLBACK");
  else
    (void)db_->exec("ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_);
}

Status Transaction::commit() {
  if (db_ == nullptr) return Error("commit: transaction already finished");
  Database* db = db_;
  auto st = db->exec(savepoint_.empty() ? std::string("COMMIT") : "RELEASE " + savepoint_);
  if (!st.ok()) return st;  // the destructor rolls back
  db_ = nullptr;
  return {};
}

Result<int> userVersion(Database& db) {
  auto st = db.prepare("PRAGMA user_version");
  if (!st.ok()) return st.error();
  auto row = st->step();
  if (!row.ok()) return row.error();
  return static_cast<int>(st->int64(0));
}

Status migrate(Database& db, std::span<const std::string_view> steps) {
  auto v = userVersion(db);
  if (!v.ok()) return v.error();
  const int known = static_cast<int>(steps.size());
  if (*v > known) {
    return Error(db.path() + ": schema version " + std::to_string(*v) +
                 " is newer than this program knows (" + std::to_string(known) + ")");
  }
  for (int i = *v; i < known; ++i) {
    auto tx = Transaction::begin(db);
    if (!tx.ok()) return tx.error();
    auto st = db.exec(steps[static_cast<std::size_t>(i)]);
    if (!st.ok()) return st.error().context("migrating schema to version " + std::to_string(i + 1));
    SASHI_TRY(db.exec("PRAGMA user_version=" + std::to_string(i + 1)));
    SASHI_TRY(tx->commit());
  }
  return {};
}

}  // namespace sashimono::store
