#include "sashimono/node/NodeStore.h"

#include <array>
#include <string_view>

#include "sashimono/node/LeaseCodec.h"

namespace sashimono::node {

namespace {

constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE requests (
  hash BLOB PRIMARY KEY,
  state TEXT NOT NULL,
  ledger INTEGER NOT NULL,
  blob BLOB NOT NULL,
  meta BLOB NOT NULL,
  result TEXT NOT NULL,
  verdict TEXT NOT NULL DEFAULT ''
);
CREATE INDEX requests_state ON requests(state, ledger);
CREATE TABLE leases (id BLOB PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  answers BLOB NOT NULL,
  dest BLOB NOT NULL,
  type TEXT NOT NULL,
  payload TEXT NOT NULL,
  seal_to BLOB,
  amount_native INTEGER NOT NULL,
  amount_drops INTEGER NOT NULL,
  amount_issued BLOB,
  sequence INTEGER,
  last_ledger INTEGER,
  fee INTEGER NOT NULL DEFAULT 0,
  blob BLOB,
  hash BLOB,
  attempts INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  result TEXT NOT NULL DEFAULT '',
  ledger INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_answers ON outbox(answers);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE cluster_pending (lease_id BLOB PRIMARY KEY);
CREATE TABLE status (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL, updated_at INTEGER NOT NULL);
)sql";

// Version 2: request states named after the request path's stages (docs/NODE.md).
constexpr std::string_view kSchemaV2 = R"sql(
UPDATE requests SET state = 'replied' WHERE state = 'done';
UPDATE requests SET state = 'admitted' WHERE state IN ('seen', 'verified');
)sql";

// Version 3: when each outbox entry was recorded (unix seconds), for the age of the oldest reply
// still owed (status, metrics). Entries of an older version count from the migration.
constexpr std::string_view kSchemaV3 = R"sql(
ALTER TABLE outbox ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET created_at = CAST(strftime('%s', 'now') AS INTEGER);
)sql";

constexpr std::array<std::string_view, 3> kMigrations{kSchemaV1, kSchemaV2, kSchemaV3};

constexpr std::array<const char*, 3> kRequestStates{"admitted", "decided", "replied"};
constexpr std::array<const char*, 3> kOutboxStates{"pending", "signed", "done"};

template <std::size_t N>
std::array<std::uint8_t, N> toArray(core::ByteView b) {
  std::array<std::uint8_t, N> a{};
  if (b.size() == N) std::copy(b.begin(), b.end(), a.begin());
  return a;
}

RequestState parseRequestState(const std::string& s) {
  for (std::size_t i = 0; i < kRequestStates.size(); ++i)
    if (s == kRequestStates[i]) return static_cast<RequestState>(i);
  return RequestState::admitted;
}

core::Result<std::vector<RequestRow>> readRequests(store::Database& db, std::string_view sql) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  std::vector<RequestRow> out;
  while (true) {
    auto r = st->step();
    if (!r) return r.error();
    if (!*r) break;
    RequestRow row;
    row.hash = toArray<32>(st->blobView(0));
    row.state = parseRequestState(st->text(1));
    row.ledger = static_cast<std::uint32_t>(st->int64(2));
    row.blob = st->blob(3);
    row.meta = st->blob(4);
    row.result = st->text(5);
    row.verdict = st->text(6);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

const char* requestStateName(RequestState s) { return kRequestStates[static_cast<std::size_t>(s)]; }
const char* outboxStateName(OutboxState s) { return kOutboxStates[static_cast<std::size_t>(s)]; }

core::Result<NodeStore> NodeStore::open(const std::string& path, bool readOnly) {
  store::OpenOptions o;
  o.readOnly = readOnly;
  o.create = !readOnly;
  o.wal = !readOnly;
  auto db = store::Database::open(path, o);
  if (!db) return db.error().context("node store " + path);
  if (!readOnly) {
    if (auto m = store::migrate(*db, kMigrations); !m) return m.error().context("node store " + path);
  } else {
    // A reader does not migrate: it needs the schema this program writes.
    auto v = store::userVersion(*db);
    if (!v) return v.error().context("node store " + path);
    if (*v != static_cast<int>(kMigrations.size()))
      return core::Error("node store " + path + ": schema version " + std::to_string(*v) +
                         ", this program reads " + std::to_string(kMigrations.size()) +
                         " (the node migrates it when it starts)");
  }
  return NodeStore(std::move(*db));
}

core::Result<std::optional<RequestState>> NodeStore::requestState(const crypto::Hash256& hash) {
  auto st = db_.prepare("SELECT state FROM requests WHERE hash = ?");
  if (!st) return st.error();
  st->bind(1, core::ByteView(hash));
  auto r = st->step();
  if (!r) return r.error();
  if (!*r) return std::optional<RequestState>{};
  return std::optional<RequestState>{parseRequestState(st->text(0))};
}

core::Result<std::vector<RequestRow>> NodeStore::unfinishedRequests() {
  return readRequests(db_,
                      "SELECT hash, state, ledger, blob, meta, result, verdict FROM requests "
                      "WHERE state = 'admitted' ORDER BY ledger, rowid");
}

core::Result<std::vector<RequestRow>> NodeStore::requests() {
  return readRequests(
      db_, "SELECT hash, state, ledger, blob, meta, result, verdict FROM requests ORDER BY ledger, rowid");
}

namespace {

// The 32-byte blobs of the first column of a query.
core::Result<std::vector<crypto::Hash256>> readHashes(store::Database& db, const char* sql) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  std::vector<crypto::Hash256> out;
  while (true) {
    auto r = st->step();
    if (!r) return r.error();
    if (!*r) break;
    out.push_back(toArray<32>(st->blobView(0)));
  }
  return out;
}

}  // namespace

core::Result<std::vector<crypto::Hash256>> NodeStore::handledRequests() {
  return readHashes(db_, "SELECT hash FROM requests WHERE state IN ('decided', 'replied')");
}

core::Status NodeStore::insertOutbox(const OutboxEntry& e) {
  auto st = db_.prepare(
      "INSERT INTO outbox (answers, dest, type, payload, seal_to, amount_native, amount_drops, "
      "amount_issued, state, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', CAST(strftime('%s', 'now') AS INTEGER))");
  if (!st) return st.error();
  st->bind(1, core::ByteView(e.answers))
      .bind(2, core::ByteView(e.to))
      .bind(3, protocol::messageTypeName(e.type))
      .bind(4, e.payload);
  if (e.sealTo)
    st->bind(5, core::ByteView(*e.sealTo));
  else
    st->bindNull(5);
  st->bind(6, static_cast<std::int64_t>(e.amount.native ? 1 : 0))
      .bind(7, static_cast<std::int64_t>(e.amount.drops));
  if (e.amount.native)
    st->bindNull(8);
  else
    st->bind(8, core::ByteView(e.amount.issued));
  return st->run();
}

core::Status NodeStore::addOutbox(const OutboxEntry& entry) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.error();
  SASHI_TRY(insertOutbox(entry));
  return tx->commit();
}

core::Status NodeStore::commitDecision(const DecisionRecord& rec) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.error();
  if (const auto& r = rec.request) {
    auto st = db_.prepare(
        "INSERT INTO requests (hash, state, ledger, blob, meta, result, verdict) "
        "VALUES (?, 'decided', ?, ?, ?, ?, ?) "
        "ON CONFLICT (hash) DO UPDATE SET state = 'decided', verdict = excluded.verdict");
    if (!st) return st.error();
    st->bind(1, core::ByteView(r->hash))
        .bind(2, static_cast<std::int64_t>(r->ledger))
        .bind(3, core::ByteView(r->blob))
        .bind(4, core::ByteView(r->meta))
        .bind(5, r->result)
        .bind(6, r->verdict);
    SASHI_TRY(st->run());
  }
  for (const auto& l : rec.upserts) {
    auto st = db_.prepare("INSERT OR REPLACE INTO leases (id, json) VALUES (?, ?)");
    if (!st) return st.error();
    st->bind(1, core::ByteView(l.id)).bind(2, renderLease(l));
    SASHI_TRY(st->run());
  }
  for (const auto& id : rec.removed) {
    for (const char* sql :
         {"DELETE FROM leases WHERE id = ?", "DELETE FROM cluster_pending WHERE lease_id = ?"}) {
      auto st = db_.prepare(sql);
      if (!st) return st.error();
      st->bind(1, core::ByteView(id));
      SASHI_TRY(st->run());
    }
  }
  for (const auto& id : rec.clusterPending) {
    auto st = db_.prepare("INSERT OR IGNORE INTO cluster_pending (lease_id) VALUES (?)");
    if (!st) return st.error();
    st->bind(1, core::ByteView(id));
    SASHI_TRY(st->run());
  }
  for (const auto& e : rec.outbox) SASHI_TRY(insertOutbox(e));
  return tx->commit();
}

core::Result<std::vector<lease::Lease>> NodeStore::leases() {
  auto st = db_.prepare("SELECT json FROM leases ORDER BY rowid");
  if (!st) return st.error();
  std::vector<lease::Lease> out;
  while (true) {
    auto r = st->step();
    if (!r) return r.error();
    if (!*r) break;
    auto l = parseLease(st->text(0));
    if (!l) return l.error();
    out.push_back(std::move(*l));
  }
  return out;
}

core::Result<std::vector<crypto::Hash256>> NodeStore::clusterPending() {
  return readHashes(db_, "SELECT lease_id FROM cluster_pending");
}

core::Status NodeStore::clusterDelivered(const crypto::Hash256& leaseId) {
  auto st = db_.prepare("DELETE FROM cluster_pending WHERE lease_id = ?");
  if (!st) return st.error();
  st->bind(1, core::ByteView(leaseId));
  return st->run();
}

core::Result<std::optional<std::string>> NodeStore::metaGet(const char* key) {
  auto st = db_.prepare("SELECT value FROM meta WHERE key = ?");
  if (!st) return st.error();
  st->bind(1, std::string_view(key));
  auto r = st->step();
  if (!r) return r.error();
  if (!*r) return std::optional<std::string>{};
  return std::optional<std::string>{st->text(0)};
}

core::Status NodeStore::metaSet(const char* key, const std::optional<std::string>& value) {
  auto st = value ? db_.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)")
                  : db_.prepare("DELETE FROM meta WHERE key = ?");
  if (!st) return st.error();
  st->bind(1, std::string_view(key));
  if (value) st->bind(2, *value);
  return st->run();
}

core::Result<std::optional<std::uint32_t>> NodeStore::cursor() {
  auto v = metaGet("cursor");
  if (!v) return v.error();
  if (!*v) return std::optional<std::uint32_t>{};
  return std::optional<std::uint32_t>{static_cast<std::uint32_t>(std::stoul(**v))};
}

core::Status NodeStore::setCursor(std::uint32_t ledger) { return metaSet("cursor", std::to_string(ledger)); }

core::Result<std::optional<std::uint32_t>> NodeStore::nextSequence() {
  auto v = metaGet("next_sequence");
  if (!v) return v.error();
  if (!*v) return std::optional<std::uint32_t>{};
  return std::optional<std::uint32_t>{static_cast<std::uint32_t>(std::stoul(**v))};
}

core::Status NodeStore::setNextSequence(std::optional<std::uint32_t> next) {
  return metaSet("next_sequence", next ? std::optional<std::string>(std::to_string(*next)) : std::nullopt);
}

core::Result<std::vector<OutboxEntry>> NodeStore::outbox(bool includeDone) {
  std::string sql =
      "SELECT id, answers, dest, type, payload, seal_to, amount_native, amount_drops, amount_issued, "
      "sequence, "
      "last_ledger, fee, blob, hash, attempts, state, result, ledger, created_at FROM outbox";
  if (!includeDone) sql += " WHERE state != 'done'";
  sql += " ORDER BY id";
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  std::vector<OutboxEntry> out;
  while (true) {
    auto r = st->step();
    if (!r) return r.error();
    if (!*r) break;
    OutboxEntry e;
    e.id = st->int64(0);
    e.answers = toArray<32>(st->blobView(1));
    e.to = toArray<20>(st->blobView(2));
    auto t = protocol::parseMessageType(st->text(3));
    if (!t) return core::Error("node store: outbox entry " + std::to_string(e.id) + " has unknown type");
    e.type = *t;
    e.payload = st->text(4);
    if (!st->isNull(5)) e.sealTo = toArray<32>(st->blobView(5));
    e.amount.native = st->int64(6) != 0;
    e.amount.drops = static_cast<std::uint64_t>(st->int64(7));
    if (!st->isNull(8)) e.amount.issued = toArray<48>(st->blobView(8));
    if (!st->isNull(9)) e.sequence = static_cast<std::uint32_t>(st->int64(9));
    if (!st->isNull(10)) e.lastLedger = static_cast<std::uint32_t>(st->int64(10));
    e.fee = static_cast<std::uint64_t>(st->int64(11));
    if (!st->isNull(12)) e.blob = st->blob(12);
    if (!st->isNull(13)) e.hash = toArray<32>(st->blobView(13));
    e.attempts = static_cast<std::uint32_t>(st->int64(14));
    std::string s = st->text(15);
    e.state = s == "done" ? OutboxState::done : s == "signed" ? OutboxState::signed_ : OutboxState::pending;
    e.result = st->text(16);
    e.ledger = static_cast<std::uint32_t>(st->int64(17));
    e.createdAt = st->int64(18);
    out.push_back(std::move(e));
  }
  return out;
}

core::Result<OutboxSummary> NodeStore::outboxSummary() {
  auto st = db_.prepare(
      "SELECT COUNT(*), MIN(created_at), SUM(state = 'signed') FROM outbox WHERE state != 'done'");
  if (!st) return st.error();
  auto r = st->step();
  if (!r) return r.error();
  OutboxSummary s;
  s.open = static_cast<std::size_t>(st->int64(0));
  if (s.open > 0) {
    s.oldestAt = st->int64(1);
    s.signedOpen = static_cast<std::size_t>(st->int64(2));
  }
  return s;
}

core::Status NodeStore::storeSigned(const OutboxEntry& e, std::uint32_t nextSequence) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.error();
  auto st = db_.prepare(
      "UPDATE outbox SET sequence = ?, last_ledger = ?, fee = ?, blob = ?, hash = ?, attempts = attempts + "
      "1, "
      "state = 'signed' WHERE id = ? AND state != 'done'");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(e.sequence.value_or(0)))
      .bind(2, static_cast<std::int64_t>(e.lastLedger.value_or(0)))
      .bind(3, static_cast<std::int64_t>(e.fee))
      .bind(4, core::ByteView(e.blob))
      .bind(5, core::ByteView(e.hash.value_or(crypto::Hash256{})))
      .bind(6, e.id);
  SASHI_TRY(st->run());
  if (db_.changes() != 1)
    return core::Error("node store: outbox entry " + std::to_string(e.id) + " is not open");
  SASHI_TRY(metaSet("next_sequence", std::to_string(nextSequence)));
  return tx->commit();
}

core::Status NodeStore::markSent(std::int64_t id, const std::string& result, std::uint32_t ledger) {
  auto tx = store::Transaction::begin(db_);
  if (!tx) return tx.error();
  auto st = db_.prepare("UPDATE outbox SET state = 'done', result = ?, ledger = ? WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, result).bind(2, static_cast<std::int64_t>(ledger)).bind(3, id);
  SASHI_TRY(st->run());
  auto up = db_.prepare(
      "UPDATE requests SET state = 'replied' WHERE state = 'decided' AND hash = (SELECT answers FROM outbox "
      "WHERE id = ?) "
      "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.answers = requests.hash AND o.state != 'done')");
  if (!up) return up.error();
  up->bind(1, id);
  SASHI_TRY(up->run());
  return tx->commit();
}

core::Status NodeStore::writeStatus(const std::string& json, std::int64_t now) {
  auto st = db_.prepare("INSERT OR REPLACE INTO status (id, json, updated_at) VALUES (1, ?, ?)");
  if (!st) return st.error();
  st->bind(1, json).bind(2, now);
  return st->run();
}

core::Result<std::optional<NodeStatus>> NodeStore::status() {
  auto st = db_.prepare("SELECT json, updated_at FROM status WHERE id = 1");
  if (!st) return st.error();
  auto r = st->step();
  if (!r) return r.error();
  if (!*r) return std::optional<NodeStatus>{};
  return std::optional<NodeStatus>{NodeStatus{st->text(0), st->int64(1)}};
}

}  // namespace sashimono::node
