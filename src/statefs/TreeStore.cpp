#include "sashimono/statefs/TreeStore.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

#include "sashimono/store/Database.h"

namespace sashimono::statefs {

namespace {

// Block chaining values are stored in parts of this many blocks (2 KiB): a 4 KiB write into a
// 1 GiB file rewrites one part, not the file's 512 KiB of chaining values.
constexpr std::uint64_t kBlocksPerPart = 64;
constexpr std::size_t kCvLen = 32;

constexpr std::array<std::string_view, 1> kSchema{
    R"(CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
       CREATE TABLE files(ino INTEGER PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                          ctime_ns INTEGER NOT NULL, hashed_at_ns INTEGER NOT NULL, hash BLOB NOT NULL);
       CREATE TABLE blocks(ino INTEGER NOT NULL, part INTEGER NOT NULL, cvs BLOB NOT NULL,
                           PRIMARY KEY (ino, part)) WITHOUT ROWID;
       INSERT INTO meta(key, value) VALUES ('clean', 0);)"};

std::int64_t key(ino_t ino) { return static_cast<std::int64_t>(ino); }

std::int64_t nowNs() {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

std::int64_t ns(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

std::uint64_t partsOf(std::uint64_t blocks) {
  return blocks <= 1 ? 0 : (blocks + kBlocksPerPart - 1) / kBlocksPerPart;
}

std::string mib(std::uint64_t bytes) {
  return bytes < (1u << 20) ? std::to_string(bytes) + " bytes" : std::to_string(bytes >> 20) + " MiB";
}

// One stored file row.
struct Row {
  std::uint64_t size = 0;
  std::int64_t mtimeNs = 0, ctimeNs = 0, hashedAtNs = 0;
  crypto::Hash256 hash{};
};

}  // namespace

const char* loadModeName(LoadReport::Mode m) {
  switch (m) {
    case LoadReport::Mode::fresh:
      return "fresh";
    case LoadReport::Mode::clean:
      return "clean";
    case LoadReport::Mode::verified:
      return "verified";
  }
  return "?";
}

std::string describe(const LoadReport& r) {
  std::string s;
  switch (r.mode) {
    case LoadReport::Mode::fresh:
      s = "hashed " + std::to_string(r.files) + " files (" + mib(r.bytesHashed) + ") from scratch";
      if (!r.problem.empty()) s += ": " + r.problem;
      return s;
    case LoadReport::Mode::clean:
      return "loaded " + std::to_string(r.files) + " files: " + std::to_string(r.reused) +
             " from the store, " + std::to_string(r.files - r.reused) + " read (" + mib(r.bytesHashed) +
             "), " + std::to_string(r.stale) + " stale rows dropped";
    case LoadReport::Mode::verified:
      return "after an unclean stop, verified " + std::to_string(r.files) + " files (" + mib(r.bytesHashed) +
             " read): " + std::to_string(r.wrong) + " stored hashes wrong, " + std::to_string(r.missing) +
             " files missing from the store, " + std::to_string(r.stale) + " stale rows; rebuilt";
  }
  return s;
}

struct TreeStore::Impl {
  store::Database db;
  explicit Impl(store::Database d) : db(std::move(d)) {}

  core::Result<std::optional<Row>> row(ino_t ino) {
    SASHI_TRY_ASSIGN(
        q, db.prepare("SELECT size, mtime_ns, ctime_ns, hashed_at_ns, hash FROM files WHERE ino = ?"));
    q.bind(1, key(ino));
    SASHI_TRY_ASSIGN(has, q.step());
    if (!has) return std::optional<Row>();
    auto h = q.blobView(4);
    if (q.int64(0) < 0 || h.size() != kCvLen)
      return core::Error("a malformed row for inode " + std::to_string(ino));
    Row r{static_cast<std::uint64_t>(q.int64(0)), q.int64(1), q.int64(2), q.int64(3), {}};
    std::copy(h.begin(), h.end(), r.hash.begin());
    return std::optional<Row>(r);
  }

  // The file's hash as stored, checked against itself (its block chaining values must give its
  // hash). nullopt: the row is not usable.
  core::Result<std::optional<FileHash>> restore(ino_t ino, const Row& r) {
    std::vector<crypto::Hash256> cvs;
    const std::uint64_t blocks = (r.size + kBlockSize - 1) / kBlockSize;
    if (const std::uint64_t parts = partsOf(blocks); parts > 0) {
      SASHI_TRY_ASSIGN(q, db.prepare("SELECT part, cvs FROM blocks WHERE ino = ? ORDER BY part"));
      q.bind(1, key(ino));
      cvs.reserve(blocks);
      for (std::uint64_t part = 0;; ++part) {
        SASHI_TRY_ASSIGN(has, q.step());
        if (!has) break;
        auto b = q.blobView(1);
        const std::uint64_t want = std::min(kBlocksPerPart, blocks - std::min(blocks, part * kBlocksPerPart));
        if (part >= parts || q.int64(0) != static_cast<std::int64_t>(part) || b.size() != want * kCvLen)
          return std::optional<FileHash>();
        for (std::size_t off = 0; off < b.size(); off += kCvLen) {
          crypto::Hash256 cv;
          std::copy(b.begin() + static_cast<std::ptrdiff_t>(off),
                    b.begin() + static_cast<std::ptrdiff_t>(off + kCvLen), cv.begin());
          cvs.push_back(cv);
        }
      }
    }
    auto f = FileHash::restore(r.size, std::move(cvs), r.hash);
    if (!f || f->hash() != r.hash) return std::optional<FileHash>();
    return std::optional<FileHash>(std::move(*f));
  }

  core::Status setMeta(std::string_view k, std::int64_t v) {
    SASHI_TRY_ASSIGN(q, db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"));
    q.bind(1, k).bind(2, v);
    return q.run();
  }

  core::Status deleteFile(ino_t ino) {
    for (const char* sql : {"DELETE FROM files WHERE ino = ?", "DELETE FROM blocks WHERE ino = ?"}) {
      SASHI_TRY_ASSIGN(q, db.prepare(sql));
      q.bind(1, key(ino));
      SASHI_TRY(q.run());
    }
    return {};
  }

  core::Status writePart(ino_t ino, std::uint64_t part, std::span<const crypto::Hash256> cvs) {
    SASHI_TRY_ASSIGN(q, db.prepare("INSERT OR REPLACE INTO blocks(ino, part, cvs) VALUES (?, ?, ?)"));
    const std::uint64_t first = part * kBlocksPerPart;
    const std::uint64_t n = std::min<std::uint64_t>(kBlocksPerPart, cvs.size() - first);
    q.bind(1, key(ino))
        .bind(2, static_cast<std::int64_t>(part))
        .bind(3, core::ByteView(cvs[first].data(), n * kCvLen));
    return q.run();
  }

  // Writes a file's row and the parts of its chaining values that `ranges` touch (all of them
  // when the store had no chaining values for it).
  core::Status writeFile(const FileRecord& f, const ByteRanges& ranges) {
    SASHI_TRY_ASSIGN(old, row(f.ino));
    SASHI_TRY_ASSIGN(q, db.prepare("INSERT OR REPLACE INTO files(ino, size, mtime_ns, ctime_ns, "
                                   "hashed_at_ns, hash) VALUES (?, ?, ?, ?, ?, ?)"));
    q.bind(1, key(f.ino))
        .bind(2, static_cast<std::int64_t>(f.hash->size()))
        .bind(3, f.mtimeNs)
        .bind(4, f.ctimeNs)
        .bind(5, f.hashedAtNs)
        .bind(6, core::ByteView(f.hash->hash().data(), kCvLen));
    SASHI_TRY(q.run());
    const auto cvs = f.hash->blockCvs();
    const std::uint64_t parts = partsOf(cvs.size());
    SASHI_TRY_ASSIGN(cut, db.prepare("DELETE FROM blocks WHERE ino = ? AND part >= ?"));
    cut.bind(1, key(f.ino)).bind(2, static_cast<std::int64_t>(parts));
    SASHI_TRY(cut.run());
    std::set<std::uint64_t> dirty;
    const bool whole = !old || partsOf((old->size + kBlockSize - 1) / kBlockSize) == 0;
    for (const auto& [first, last] : ranges) {
      if (whole || dirty.size() == parts) break;
      for (std::uint64_t b = first / kBlockSize; b < cvs.size() && b * kBlockSize < last; b += kBlocksPerPart)
        dirty.insert(b / kBlocksPerPart);
      if (last > first && (last - 1) / kBlockSize < cvs.size())
        dirty.insert((last - 1) / kBlockSize / kBlocksPerPart);
    }
    for (std::uint64_t part = 0; part < parts; ++part)
      if (whole || dirty.count(part) != 0) SASHI_TRY(writePart(f.ino, part, cvs));
    return {};
  }

  core::Status writeAll(const StateTree& tree) {
    SASHI_TRY(db.exec("DELETE FROM files; DELETE FROM blocks;"));
    core::Status st;
    tree.forEachFile([&](const FileRecord& f) {
      if (st) st = writeFile(f, {});
    });
    return st;
  }

  // Writes the tree's changes, the root and the flag, and clears the changes: one transaction.
  core::Status save(StateTree& tree, bool clean, const std::vector<ino_t>& drop = {}) {
    SASHI_TRY_ASSIGN(tx, store::Transaction::begin(db));
    for (ino_t ino : drop) SASHI_TRY(deleteFile(ino));
    const TreeChanges& c = tree.changes();
    if (c.all) {
      SASHI_TRY(writeAll(tree));
    } else {
      for (const auto& [ino, ranges] : c.files) {
        auto f = tree.file(ino);
        SASHI_TRY(f ? writeFile(*f, ranges) : deleteFile(ino));
      }
    }
    SASHI_TRY(setMeta("clean", clean ? 1 : 0));
    SASHI_TRY(setMeta("saved_at_ns", nowNs()));
    SASHI_TRY(tx.commit());
    tree.clearChanges();
    return {};
  }

  core::Result<bool> isClean() {
    SASHI_TRY_ASSIGN(q, db.prepare("SELECT value FROM meta WHERE key = 'clean'"));
    SASHI_TRY_ASSIGN(has, q.step());
    return has && q.int64(0) == 1;
  }

  core::Result<std::vector<std::int64_t>> storedInodes() {
    SASHI_TRY_ASSIGN(q, db.prepare("SELECT ino FROM files"));
    std::vector<std::int64_t> out;
    while (true) {
      SASHI_TRY_ASSIGN(has, q.step());
      if (!has) break;
      out.push_back(q.int64(0));
    }
    return out;
  }
};

namespace {

// `created`: the file held no store yet (a first start).
core::Result<store::Database> openStore(const std::string& path, bool* created = nullptr) {
  SASHI_TRY_ASSIGN(db, store::Database::open(path));
  SASHI_TRY_ASSIGN(version, store::userVersion(db));
  if (created != nullptr) *created = version == 0;
  SASHI_TRY(store::migrate(db, kSchema));
  SASHI_TRY_ASSIGN(q, db.prepare("PRAGMA quick_check"));
  SASHI_TRY_ASSIGN(has, q.step());
  if (!has || q.text(0) != "ok")
    return core::Error(path + ": " + (has ? q.text(0) : std::string("no check result")));
  // The tables must be there as this program writes them (a file of another program would not).
  SASHI_TRY(db.prepare("SELECT ino, size, mtime_ns, ctime_ns, hashed_at_ns, hash FROM files LIMIT 0"));
  SASHI_TRY(db.prepare("SELECT ino, part, cvs FROM blocks LIMIT 0"));
  return db;
}

core::Result<store::Database> recreateStore(const std::string& path) {
  for (const std::string& p : {path, path + "-wal", path + "-shm"})
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return core::Error::fromErrno("removing " + p);
  return openStore(path);
}

}  // namespace

TreeStore::TreeStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TreeStore::TreeStore(TreeStore&&) noexcept = default;
TreeStore& TreeStore::operator=(TreeStore&&) noexcept = default;
TreeStore::~TreeStore() = default;

core::Status TreeStore::save(StateTree& tree, bool clean) {
  if (clean && tree.dirty()) return core::Error("saving the state tree: marks are pending (refresh first)");
  return impl_->save(tree, clean);
}

core::Result<LoadedTree> TreeStore::load(const std::string& sourceDir, const std::string& storePath,
                                         const LoadProgress& progress) {
  LoadReport report;
  std::unique_ptr<Impl> impl;
  bool clean = false;
  bool created = false;
  if (auto db = openStore(storePath, &created)) {
    impl = std::make_unique<Impl>(std::move(*db));
    if (auto c = impl->isClean()) {
      clean = *c;
    } else {
      report.problem = c.error().message;
      impl.reset();
    }
  } else {
    report.problem = db.error().message;
  }
  if (!impl) {
    SASHI_TRY_ASSIGN(db, recreateStore(storePath));
    impl = std::make_unique<Impl>(std::move(db));
  }
  const bool haveRows = report.problem.empty() && !created;
  std::uint64_t total = 0;
  if (progress && !(haveRows && clean)) {
    if (auto b = stateBytes(sourceDir)) total = *b;
  }
  auto onHashed = [&](std::uint64_t done) {
    report.bytesHashed = done;
    if (progress) progress(done, total);
  };

  // Clean: take a file's stored hash when its lstat still matches and it was not racy.
  std::set<ino_t> reused;
  std::string storeError;
  KnownFiles known;
  if (haveRows && clean) {
    known = [&](const struct stat& st) -> std::optional<KnownHash> {
      if (!storeError.empty()) return std::nullopt;
      auto r = impl->row(st.st_ino);
      if (!r || !*r) {
        if (!r) storeError = r.error().message;
        return std::nullopt;
      }
      const Row& row = **r;
      if (row.size != static_cast<std::uint64_t>(st.st_size) || row.mtimeNs != ns(st.st_mtim) ||
          row.ctimeNs != ns(st.st_ctim) || std::max(row.mtimeNs, row.ctimeNs) + kRacyNs > row.hashedAtNs)
        return std::nullopt;
      auto f = impl->restore(st.st_ino, row);
      if (!f || !*f) {
        if (!f) storeError = f.error().message;
        return std::nullopt;
      }
      reused.insert(st.st_ino);
      return KnownHash{std::move(**f), row.hashedAtNs};
    };
  }
  SASHI_TRY_ASSIGN(tree, StateTree::build(sourceDir, onHashed, known));
  if (!storeError.empty()) {
    // The store broke while being read: trust none of it.
    report = LoadReport{.problem = storeError};
    SASHI_TRY_ASSIGN(db, recreateStore(storePath));
    impl = std::make_unique<Impl>(std::move(db));
    auto full = StateTree::build(sourceDir, onHashed);
    if (!full) return full.error();
    tree = std::move(*full);
  }
  std::set<ino_t> present;
  tree.forEachFile([&](const FileRecord& f) { present.insert(f.ino); });
  report.files = present.size();

  std::vector<ino_t> drop;
  if (haveRows) {
    report.mode = clean ? LoadReport::Mode::clean : LoadReport::Mode::verified;
    report.reused = reused.size();
    if (!clean) {
      tree.forEachFile([&](const FileRecord& f) {
        auto r = impl->row(f.ino);
        if (r && *r && (*r)->hash != f.hash->hash()) ++report.wrong;
        if (r && !*r) ++report.missing;
      });
    }
    auto stored = impl->storedInodes();
    if (stored) {
      for (std::int64_t i : *stored)
        if (present.count(static_cast<ino_t>(i)) == 0) drop.push_back(static_cast<ino_t>(i));
      report.stale = drop.size();
    }
  }
  // A tree built without the store (fresh, verified) has changes().all: the store is rewritten.
  SASHI_TRY(impl->save(tree, false, drop));
  return LoadedTree{TreeStore(std::move(impl)), std::move(tree), std::move(report)};
}

}  // namespace sashimono::statefs
