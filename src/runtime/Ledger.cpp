#include "sashimono/runtime/Ledger.h"

#include <algorithm>

#include "sashimono/core/Log.h"
#include "sashimono/crypto/Blake3.h"

namespace sashimono::runtime {

namespace {

void putBe64(crypto::Blake3& h, std::uint64_t v) {
  std::array<std::uint8_t, 8> b{};
  for (int i = 7; i >= 0; --i) {
    b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xff);
    v >>= 8;
  }
  h.update(b);
}

Hash hashColumn(const store::Statement& s, int col) {
  Hash h{};
  auto v = s.blobView(col);
  if (v.size() == h.size()) std::copy(v.begin(), v.end(), h.begin());
  return h;
}

PubKey keyColumn(const store::Statement& s, int col) {
  PubKey k{};
  auto v = s.blobView(col);
  if (v.size() == k.size()) std::copy(v.begin(), v.end(), k.begin());
  return k;
}

constexpr std::string_view kSchema[] = {
    R"(CREATE TABLE ledgers (
         seq_no INTEGER PRIMARY KEY, timestamp INTEGER NOT NULL, hash BLOB NOT NULL, prev_hash BLOB NOT NULL,
         state_hash BLOB NOT NULL, config_hash BLOB NOT NULL, user_hash BLOB NOT NULL,
         input_hash BLOB NOT NULL, output_hash BLOB NOT NULL);
       CREATE TABLE inputs (
         seq_no INTEGER NOT NULL, idx INTEGER NOT NULL, user BLOB NOT NULL, hash BLOB NOT NULL UNIQUE,
         nonce INTEGER NOT NULL, max_ledger INTEGER NOT NULL, blob BLOB NOT NULL, PRIMARY KEY (seq_no, idx));
       CREATE TABLE outputs (
         seq_no INTEGER NOT NULL, user BLOB NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
         blob BLOB NOT NULL, PRIMARY KEY (seq_no, user, idx));
       CREATE TABLE user_nonces (user BLOB PRIMARY KEY, nonce INTEGER NOT NULL, max_ledger INTEGER NOT NULL);)",
    // 2: the signatures that closed each ledger (the members' ledger_sigs); older ledgers have none.
    R"(CREATE TABLE signatures (
         seq_no INTEGER NOT NULL, signer BLOB NOT NULL, sig BLOB NOT NULL, PRIMARY KEY (seq_no, signer));)",
    // 3: with each ledger_sig the same member's root_sig (older rows have none).
    R"(ALTER TABLE signatures ADD COLUMN root_sig BLOB;)"};

constexpr const char* kLedgerColumns =
    "seq_no, timestamp, hash, prev_hash, state_hash, config_hash, user_hash, input_hash, output_hash";

LedgerRecord readRecord(const store::Statement& s) {
  LedgerRecord r;
  r.seqNo = static_cast<std::uint64_t>(s.int64(0));
  r.timestamp = static_cast<std::uint64_t>(s.int64(1));
  r.hash = hashColumn(s, 2);
  r.prevHash = hashColumn(s, 3);
  r.stateHash = hashColumn(s, 4);
  r.configHash = hashColumn(s, 5);
  r.userHash = hashColumn(s, 6);
  r.inputHash = hashColumn(s, 7);
  r.outputHash = hashColumn(s, 8);
  return r;
}

}  // namespace

Hash hashList(const std::vector<Hash>& hashes) {
  if (hashes.empty()) return Hash{};
  crypto::Blake3 h;
  for (const auto& x : hashes) h.update(x);
  return h.finalize();
}

Hash userSetHash(std::vector<PubKey> users) {
  if (users.empty()) return Hash{};
  std::sort(users.begin(), users.end());
  crypto::Blake3 h;
  for (const auto& u : users) h.update(u);
  return h.finalize();
}

Hash dataHash(const LedgerRecord& r) {
  crypto::Blake3 h;
  putBe64(h, r.seqNo);
  putBe64(h, r.timestamp);
  h.update(r.stateHash).update(r.configHash).update(r.userHash).update(r.inputHash).update(r.outputHash);
  return h.finalize();
}

void sealLedger(LedgerRecord& r) {
  auto d = dataHash(r);
  r.hash = crypto::blake3({core::ByteView(r.prevHash), core::ByteView(d)});
}

core::Result<LedgerStore> LedgerStore::open(const std::string& path) {
  auto db = store::Database::open(path);
  if (!db) return db.error().context("opening the ledger");
  SASHI_TRY(store::migrate(*db, kSchema));
  LedgerStore ls(std::move(*db));
  auto st = ls.db_.prepare(std::string("SELECT ") + kLedgerColumns + " FROM ledgers ORDER BY seq_no");
  if (!st) return st.error();
  LedgerRecord prev;  // genesis
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    auto r = readRecord(*st);
    LedgerRecord check = r;
    sealLedger(check);
    if (r.seqNo != prev.seqNo + 1 || r.prevHash != prev.hash || check.hash != r.hash)
      return core::Error("ledger " + path + ": the hash chain is broken at seq_no " +
                         std::to_string(r.seqNo));
    prev = r;
  }
  ls.last_ = prev;
  return ls;
}

core::Result<LedgerStore> LedgerStore::openReader(const std::string& path) {
  store::OpenOptions ro;
  ro.readOnly = true;
  ro.create = false;
  auto db = store::Database::open(path, ro);
  if (!db) return db.error().context("opening the ledger");
  return LedgerStore(std::move(*db));
}

core::Result<std::optional<LedgerRecord>> LedgerStore::get(std::uint64_t seqNo) {
  if (seqNo == 0) return std::optional<LedgerRecord>(LedgerRecord{});
  auto st = db_.prepare(std::string("SELECT ") + kLedgerColumns + " FROM ledgers WHERE seq_no = ?");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(seqNo));
  auto row = st->step();
  if (!row) return row.error();
  if (!*row) return std::optional<LedgerRecord>();
  return std::optional<LedgerRecord>(readRecord(*st));
}

core::Result<std::vector<LedgerInput>> LedgerStore::inputs(std::uint64_t seqNo) {
  auto st =
      db_.prepare("SELECT user, hash, nonce, max_ledger, blob FROM inputs WHERE seq_no = ? ORDER BY idx");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(seqNo));
  std::vector<LedgerInput> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    LedgerInput in;
    in.user = keyColumn(*st, 0);
    in.hash = hashColumn(*st, 1);
    in.nonce = static_cast<std::uint64_t>(st->int64(2));
    in.maxLedgerSeqNo = static_cast<std::uint64_t>(st->int64(3));
    in.blob = st->blob(4);
    out.push_back(std::move(in));
  }
  return out;
}

core::Result<std::vector<LedgerOutput>> LedgerStore::outputs(std::uint64_t seqNo) {
  auto st = db_.prepare("SELECT user, hash, blob FROM outputs WHERE seq_no = ? ORDER BY user, idx");
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(seqNo));
  std::vector<LedgerOutput> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    auto user = keyColumn(*st, 0);
    if (out.empty() || out.back().user != user) {
      out.emplace_back();
      out.back().user = user;
      out.back().hash = hashColumn(*st, 1);
    }
    out.back().blobs.push_back(st->blob(2));
  }
  return out;
}

core::Result<std::vector<Signature>> LedgerStore::signatures(std::uint64_t seqNo) {
  return signatureRows("SELECT signer, sig FROM signatures WHERE seq_no = ? ORDER BY signer", seqNo);
}

core::Result<std::vector<Signature>> LedgerStore::rootSignatures(std::uint64_t seqNo) {
  return signatureRows(
      "SELECT signer, root_sig FROM signatures WHERE seq_no = ? AND root_sig IS NOT NULL ORDER BY signer",
      seqNo);
}

core::Result<std::vector<Signature>> LedgerStore::signatureRows(std::string_view sql, std::uint64_t seqNo) {
  auto st = db_.prepare(sql);
  if (!st) return st.error();
  st->bind(1, static_cast<std::int64_t>(seqNo));
  std::vector<Signature> out;
  while (true) {
    auto row = st->step();
    if (!row) return row.error();
    if (!*row) break;
    out.emplace_back(keyColumn(*st, 0), st->blob(1));
  }
  return out;
}

core::Result<store::Statement*> LedgerStore::cached(std::optional<store::Statement>& slot,
                                                    std::string_view sql) {
  if (!slot) {
    auto st = db_.prepare(sql);
    if (!st) return st.error();
    slot.emplace(std::move(*st));
  } else {
    slot->reset();
  }
  return &*slot;
}

core::Result<std::optional<UserNonce>> LedgerStore::userNonce(const PubKey& user) {
  auto cachedSt = cached(userNonceSt_, "SELECT nonce, max_ledger FROM user_nonces WHERE user = ?");
  if (!cachedSt) return cachedSt.error();
  store::Statement* st = *cachedSt;
  st->bind(1, core::ByteView(user));
  auto row = st->step();
  if (!row) return row.error();
  std::optional<UserNonce> out;
  if (*row)
    out = UserNonce{static_cast<std::uint64_t>(st->int64(0)), static_cast<std::uint64_t>(st->int64(1))};
  st->reset();
  return out;
}

core::Result<bool> LedgerStore::hasInput(const Hash& inputHash) {
  auto st = cached(hasInputSt_, "SELECT 1 FROM inputs WHERE hash = ?");
  if (!st) return st.error();
  (*st)->bind(1, core::ByteView(inputHash));
  auto row = (*st)->step();
  (*st)->reset();  // no statement stays active between calls
  return row;
}

core::Status LedgerStore::append(const LedgerRecord& record, const std::vector<LedgerInput>& inputs,
                                 const std::vector<LedgerOutput>& outputs,
                                 const std::vector<Signature>& signatures,
                                 const std::vector<Signature>& rootSignatures) {
  SASHI_TRY(stage(record, inputs, outputs));
  return commitStaged(signatures, rootSignatures);
}

core::Status LedgerStore::stage(const LedgerRecord& record, const std::vector<LedgerInput>& inputs,
                                const std::vector<LedgerOutput>& outputs) {
  unstage();
  if (record.seqNo != last_.seqNo + 1 || record.prevHash != last_.hash)
    return core::Error("ledger append: seq_no " + std::to_string(record.seqNo) + " does not follow " +
                       std::to_string(last_.seqNo));
  // The transaction stays open after this returns: it lives in the connection (staging_), so
  // that it moves with it; a connection closed inside it (a crash) stores nothing of it.
  SASHI_TRY(db_.exec("BEGIN IMMEDIATE"));
  staging_ = true;
  auto rows = stageRows(record, inputs, outputs);
  if (!rows)
    unstage();
  else
    stagedRecord_ = record;
  return rows;
}

core::Status LedgerStore::stageRows(const LedgerRecord& record, const std::vector<LedgerInput>& inputs,
                                    const std::vector<LedgerOutput>& outputs) {
  {
    auto st = db_.prepare(std::string("INSERT INTO ledgers (") + kLedgerColumns +
                          ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st) return st.error();
    st->bind(1, static_cast<std::int64_t>(record.seqNo))
        .bind(2, static_cast<std::int64_t>(record.timestamp))
        .bind(3, core::ByteView(record.hash))
        .bind(4, core::ByteView(record.prevHash))
        .bind(5, core::ByteView(record.stateHash))
        .bind(6, core::ByteView(record.configHash))
        .bind(7, core::ByteView(record.userHash))
        .bind(8, core::ByteView(record.inputHash))
        .bind(9, core::ByteView(record.outputHash));
    SASHI_TRY(st->run());
  }
  {
    auto st = db_.prepare(
        "INSERT INTO inputs (seq_no, idx, user, hash, nonce, max_ledger, blob) VALUES (?, ?, ?, ?, ?, ?, ?)");
    if (!st) return st.error();
    auto nonce = db_.prepare(
        "INSERT INTO user_nonces (user, nonce, max_ledger) VALUES (?, ?, ?) "
        "ON CONFLICT(user) DO UPDATE SET nonce = excluded.nonce, max_ledger = excluded.max_ledger");
    if (!nonce) return nonce.error();
    std::int64_t idx = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto& in = inputs[i];
      st->reset();
      st->bind(1, static_cast<std::int64_t>(record.seqNo))
          .bind(2, idx++)
          .bind(3, core::ByteView(in.user))
          .bind(4, core::ByteView(in.hash))
          .bind(5, static_cast<std::int64_t>(in.nonce))
          .bind(6, static_cast<std::int64_t>(in.maxLedgerSeqNo))
          .bind(7, core::ByteView(in.blob));
      SASHI_TRY(st->run());
      // Inputs are in nonce order per user: writing at each change of user leaves every user's
      // last (highest) nonce, with one write per user and run of inputs instead of one per input.
      if (i + 1 < inputs.size() && inputs[i + 1].user == in.user) continue;
      nonce->reset();
      nonce->bind(1, core::ByteView(in.user))
          .bind(2, static_cast<std::int64_t>(in.nonce))
          .bind(3, static_cast<std::int64_t>(in.maxLedgerSeqNo));
      SASHI_TRY(nonce->run());
    }
  }
  {
    auto st = db_.prepare("INSERT INTO outputs (seq_no, user, idx, hash, blob) VALUES (?, ?, ?, ?, ?)");
    if (!st) return st.error();
    for (const auto& o : outputs) {
      std::int64_t idx = 0;
      for (const auto& b : o.blobs) {
        st->reset();
        st->bind(1, static_cast<std::int64_t>(record.seqNo))
            .bind(2, core::ByteView(o.user))
            .bind(3, idx++)
            .bind(4, core::ByteView(o.hash))
            .bind(5, core::ByteView(b));
        SASHI_TRY(st->run());
      }
    }
  }
  return {};
}

void LedgerStore::unstage() {
  if (!staging_) return;
  staging_ = false;
  if (auto st = db_.exec("ROLLBACK"); !st)
    spdlog::error("ledger: rolling a staged ledger back: {}", st.error().message);
}

core::Status LedgerStore::commitStaged(const std::vector<Signature>& signatures,
                                       const std::vector<Signature>& rootSignatures) {
  if (!staging_) return core::Error("ledger append: no ledger is staged");
  const std::uint64_t seqNo = stagedRecord_.seqNo;
  auto failed = [this](core::Error e) {
    unstage();
    return e;
  };
  auto st =
      cached(signatureSt_, "INSERT INTO signatures (seq_no, signer, sig, root_sig) VALUES (?, ?, ?, ?)");
  if (!st) return failed(st.error());
  for (const Signature& s : signatures) {
    (*st)->reset();
    (*st)
        ->bind(1, static_cast<std::int64_t>(seqNo))
        .bind(2, core::ByteView(s.first))
        .bind(3, core::ByteView(s.second));
    const auto root = std::find_if(rootSignatures.begin(), rootSignatures.end(),
                                   [&](const Signature& r) { return r.first == s.first; });
    if (root != rootSignatures.end())
      (*st)->bind(4, core::ByteView(root->second));
    else
      (*st)->bindNull(4);
    if (auto ran = (*st)->run(); !ran) {
      (*st)->reset();
      return failed(ran.error());
    }
  }
  (*st)->reset();  // no statement stays active between calls
  if (auto st = db_.exec("COMMIT"); !st) return failed(st.error());
  staging_ = false;
  last_ = stagedRecord_;
  return {};
}

}  // namespace sashimono::runtime
