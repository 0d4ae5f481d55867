#pragma once
// RAII sqlite: Database (a connection), Statement (a prepared statement with bind/step) and
// Transaction (BEGIN … COMMIT, rolled back on destruction unless committed).
//
// Errors carry sqlite's own message and the SQL or operation that failed.
// Thread-safety: a Database and its Statements belong to one thread at a time (sqlite is opened
// in "multi-thread" mode, so separate connections may be used concurrently from different
// threads). Statements must not outlive their Database.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sashimono::store {

class Statement;

struct OpenOptions {
  bool readOnly = false;
  bool create = true;
  // PRAGMA journal_mode=WAL (write connections only).
  bool wal = true;
  // PRAGMA synchronous: "FULL" makes every commit durable (one fsync of the WAL per commit);
  // "NORMAL" may lose the last commits on power loss (not on a process crash).
  std::string synchronous = "FULL";
  int busyTimeoutMs = 5000;
};

class Database {
 public:
  static core::Result<Database> open(const std::string& path, const OpenOptions& options = {});

  Database(Database&&) noexcept = default;
  Database& operator=(Database&&) noexcept = default;
  ~Database() = default;

  // Runs one or more statements without results.
  core::Status exec(std::string_view sql);
  core::Result<Statement> prepare(std::string_view sql);

  [[nodiscard]] std::int64_t lastInsertRowid() const;
  [[nodiscard]] int changes() const;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] sqlite3* handle() const { return db_.get(); }

  // "context: sqlite message (code N)".
  [[nodiscard]] core::Error error(const std::string& context) const;

 private:
  struct Closer {
    void operator()(sqlite3* db) const;
  };
  Database(std::unique_ptr<sqlite3, Closer> db, std::string path)
      : db_(std::move(db)), path_(std::move(path)) {}

  std::unique_ptr<sqlite3, Closer> db_;
  std::string path_;
};

class Statement {
 public:
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;
  ~Statement() = default;

  // Parameters are 1-based, as in sqlite. Text and blobs are copied (SQLITE_TRANSIENT).
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, core::ByteView blob);
  Statement& bindNull(int index);

  // true: a row is available; false: done. Errors include the SQL text.
  core::Result<bool> step();
  // Runs to completion, ignoring rows (for INSERT/UPDATE/DELETE).
  core::Status run();
  // Clears bindings and resets for another execution.
  void reset();

  [[nodiscard]] int columnCount() const;
  [[nodiscard]] bool isNull(int column) const;
  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] core::Bytes blob(int column) const;
  [[nodiscard]] core::ByteView blobView(int column) const;  // valid until the next step/reset

 private:
  friend class Database;
  struct Finalizer {
    void operator()(sqlite3_stmt* s) const;
  };
  Statement(sqlite3* db, sqlite3_stmt* s) : db_(db), stmt_(s) {}

  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, Finalizer> stmt_;
  core::Status bindStatus_;  // first bind error, reported by step()
};

class Transaction {
 public:
  // BEGIN IMMEDIATE: takes the write lock now, so commit cannot fail with SQLITE_BUSY later.
  // Inside an open transaction it nests as a SAVEPOINT instead: its commit releases the
  // savepoint (durable only when the outer transaction commits), its rollback undoes only
  // its own changes. This is how a caller groups many commits into one fsync.
  static core::Result<Transaction> begin(Database& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_), savepoint_(std::move(o.savepoint_)) { o.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();  // rolls back if not committed

  core::Status commit();

 private:
  Transaction(Database* db, std::string savepoint) : db_(db), savepoint_(std::move(savepoint)) {}
  Database* db_;
  std::string savepoint_;  // empty: the outermost transaction
};

// Schema migrations by version. Step i (0-based) takes the schema from user_version i to i+1;
// each step runs in its own transaction together with the user_version update. A database
// newer than the steps known is an error (refuse to run old code on a new schema).
core::Status migrate(Database& db, std::span<const std::string_view> steps);
core::Result<int> userVersion(Database& db);

}  // namespace sashimono::store
