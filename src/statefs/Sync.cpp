#include "sashimono/statefs/Sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "SyncFiles.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/statefs/SourceDir.h"
#include "sashimono/statefs/StatePath.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::statefs {

namespace {

using crypto::Hash256;

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string parentOfPath(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

core::Error syncError(std::string_view path, const std::string& what, int err = 0) {
  return core::Error(
      "sync " + std::string(path) + ": " + what + (err != 0 ? std::string(": ") + std::strerror(err) : ""),
      err);
}

const Hash256& emptyHash() {
  static const Hash256 h = crypto::blake3(core::ByteView{});
  return h;
}

Hash256 hashOf(std::string_view s) { return crypto::blake3(core::asBytes(s)); }

// A change to make at commit, in the order the walk found it.
struct Change {
  enum class Kind { remove, install, mode } kind;
  std::string path;    // state path
  std::string staged;  // install: its name in the staging directory
  std::uint16_t perm = 0;
};

// Fetches and verifies what differs, building new entries in the staging directory. Changes
// nothing in the state.
class Planner {
 public:
  Planner(const StateTree& tree, const SourceDir& state, int staging, SyncSource& peer, SyncResult& result)
      : tree_(tree), state_(state), staging_(staging), peer_(peer), result_(result) {}

  core::Status syncDir(const std::string& path, const Hash256& expect);
  [[nodiscard]] const std::vector<Change>& changes() const { return changes_; }

 private:
  core::Result<std::vector<TreeEntry>> fetchListing(const std::string& path, const Hash256& expect);
  core::Result<std::vector<Hash256>> fetchCvs(const std::string& path, const TreeEntry& e);
  core::Status stage(const std::string& path, const TreeEntry& e, const TreeEntry* local);
  core::Status stageEntry(int dirfd, const std::string& name, const std::string& path, const TreeEntry& e,
                          const TreeEntry* local);
  core::Status stageFile(int dirfd, const std::string& name, const std::string& path, const TreeEntry& e,
                         const TreeEntry* local);
  core::Status stageDir(int dirfd, const std::string& name, const std::string& path, const TreeEntry& e);
  core::Status copyLocal(const std::string& from, int dirfd, const std::string& name, const TreeEntry& e);
  core::Result<UniqueFd> openLocal(const std::string& path, int flags) const;
  core::Result<std::string> readLocalLink(const std::string& path) const;
  void index(const std::string& path);
  const std::string* localWithHash(EntryKind kind, const Hash256& h);

  const StateTree& tree_;
  const SourceDir& state_;
  int staging_;
  SyncSource& peer_;
  SyncResult& result_;
  std::vector<Change> changes_;
  bool indexed_ = false;
  std::map<Hash256, std::string> localFiles_, localDirs_;  // hash → a local path holding it
};

core::Result<std::vector<TreeEntry>> Planner::fetchListing(const std::string& path, const Hash256& expect) {
  std::vector<TreeEntry> all;
  std::string after;
  for (;;) {
    auto page = peer_.listing(path, after);
    if (!page) return syncError(path, "listing: " + page.error().message);
    ++result_.listings;
    if (page->size() > kMaxEntriesPerPage) return syncError(path, "the peer sent a listing page too long");
    for (auto& e : *page) {
      const auto kind = static_cast<std::uint8_t>(e.kind);
      if (!isPlainName(e.name) || kind < 1 || kind > 4 || e.perm > 07777)
        return syncError(path, "the peer's listing holds a malformed entry");
      if (!(after < e.name))  // names are never empty: the first one is after ""
        return syncError(path, "the peer's listing is not sorted");
      after = e.name;
      all.push_back(std::move(e));
    }
    if (all.size() > kMaxSyncListing) return syncError(path, "the peer's listing is too long");
    if (page->size() < kMaxEntriesPerPage) break;
  }
  if (directoryHash(all) != expect)
    return syncError(path, "the peer's listing does not match the directory's hash");
  return all;
}

core::Result<std::vector<Hash256>> Planner::fetchCvs(const std::string& path, const TreeEntry& e) {
  const std::uint64_t n = (e.size + kBlockSize - 1) / kBlockSize;
  std::vector<Hash256> cvs;
  while (cvs.size() < n) {
    auto page = peer_.blockHashes(path, cvs.size());
    if (!page) return syncError(path, "block hashes: " + page.error().message);
    ++result_.blockHashPages;
    if (page->empty() || page->size() > kMaxCvsPerPage || page->size() > n - cvs.size())
      return syncError(path, "the peer sent a wrong number of block hashes");
    cvs.insert(cvs.end(), page->begin(), page->end());
  }
  auto restored = FileHash::restore(e.size, cvs, {});
  if (!restored) return syncError(path, restored.error().message);
  if (restored->hash() != e.hash)
    return syncError(path, "the peer's block hashes do not recombine to the file's hash");
  return cvs;
}

core::Result<UniqueFd> Planner::openLocal(const std::string& path, int flags) const {
  ParentRef parent;
  if (int rc = state_.parentOf(path, parent); rc < 0) return syncError(path, "resolving", -rc);
  UniqueFd fd(state_.openLeaf(parent, flags));
  if (!fd.valid()) return syncError(path, "opening", -fd.get());
  return fd;
}

core::Result<std::string> Planner::readLocalLink(const std::string& path) const {
  ParentRef parent;
  if (int rc = state_.parentOf(path, parent); rc < 0) return syncError(path, "resolving", -rc);
  std::string target(PATH_MAX, '\0');
  ssize_t len = ::readlinkat(parent.dirfd, parent.leaf, target.data(), target.size());
  if (len < 0) return syncError(path, "reading the link", errno);
  target.resize(static_cast<std::size_t>(len));
  return target;
}

void Planner::index(const std::string& path) {
  auto entries = tree_.listing(path);
  if (!entries) return;
  for (const auto& e : *entries) {
    const std::string p = join(path, e.name);
    if (e.kind == EntryKind::file) localFiles_.emplace(e.hash, p);
    if (e.kind == EntryKind::directory) {
      localDirs_.emplace(e.hash, p);
      index(p);
    }
  }
}

const std::string* Planner::localWithHash(EntryKind kind, const Hash256& h) {
  if (!indexed_) {
    indexed_ = true;
    index("/");
  }
  auto& m = kind == EntryKind::file ? localFiles_ : localDirs_;
  auto it = m.find(h);
  return it == m.end() ? nullptr : &it->second;
}

core::Status Planner::syncDir(const std::string& path, const Hash256& expect) {
  auto local = tree_.listing(path);
  if (!local) return syncError(path, local.error().message);
  SASHI_TRY_ASSIGN(remote, fetchListing(path, expect));
  std::size_t i = 0, j = 0;
  while (i < local->size() || j < remote.size()) {
    const TreeEntry* l = i < local->size() ? &(*local)[i] : nullptr;
    const TreeEntry* r = j < remote.size() ? &remote[j] : nullptr;
    if (r == nullptr || (l != nullptr && l->name < r->name)) {
      changes_.push_back({Change::Kind::remove, join(path, l->name), {}, 0});
      ++i;
      continue;
    }
    if (l == nullptr || r->name < l->name) {
      SASHI_TRY(stage(join(path, r->name), *r, nullptr));
      ++j;
      continue;
    }
    ++i, ++j;
    const std::string p = join(path, r->name);
    if (l->kind == r->kind && l->hash == r->hash) {
      if (l->perm == r->perm) continue;
      struct stat st {};
      ParentRef parent;
      if (int rc = state_.parentOf(p, parent); rc < 0) return syncError(p, "resolving", -rc);
      if (::fstatat(parent.dirfd, parent.leaf, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return syncError(p, "stat", errno);
      // A mode belongs to the inode: a hard-linked file gets a copy of its own instead.
      if (l->kind == EntryKind::file && st.st_nlink > 1)
        SASHI_TRY(stage(p, *r, l));
      else
        changes_.push_back({Change::Kind::mode, p, {}, r->perm});
    } else if (l->kind == EntryKind::directory && r->kind == EntryKind::directory) {
      SASHI_TRY(syncDir(p, r->hash));
      if (l->perm != r->perm) changes_.push_back({Change::Kind::mode, p, {}, r->perm});
    } else {
      SASHI_TRY(stage(p, *r, l));
    }
  }
  return {};
}

// Builds the peer's entry `e` for state path `path` in the staging directory; at commit it
// replaces what is there (`local`, if anything).
core::Status Planner::stage(const std::string& path, const TreeEntry& e, const TreeEntry* local) {
  const std::string name = "n" + std::to_string(changes_.size());
  SASHI_TRY(stageEntry(staging_, name, path, e, local));
  if (local != nullptr) changes_.push_back({Change::Kind::remove, path, {}, 0});
  changes_.push_back({Change::Kind::install, path, name, 0});
  // Moving a directory to another parent needs write permission on it: a read-only one gets its
  // mode once it is in place.
  if (e.kind == EntryKind::directory && (e.perm & S_IWUSR) == 0) {
    if (int rc = sync::chmodAt(staging_, name.c_str(), e.perm | S_IRWXU); rc < 0)
      return syncError(path, "staging", -rc);
    changes_.push_back({Change::Kind::mode, path, {}, e.perm});
  }
  return {};
}

core::Status Planner::stageEntry(int dirfd, const std::string& name, const std::string& path,
                                 const TreeEntry& e, const TreeEntry* local) {
  switch (e.kind) {
    case EntryKind::file:
      return stageFile(dirfd, name, path, e,
                       local != nullptr && local->kind == EntryKind::file ? local : nullptr);
    case EntryKind::directory:
      return stageDir(dirfd, name, path, e);
    case EntryKind::symlink: {
      auto target = peer_.symlinkTarget(path);
      if (!target) return syncError(path, "symlink: " + target.error().message);
      ++result_.symlinks;
      if (target->empty() || target->find('\0') != std::string::npos || hashOf(*target) != e.hash)
        return syncError(path, "the peer's symlink target does not match its hash");
      if (::symlinkat(target->c_str(), dirfd, name.c_str()) != 0) return syncError(path, "staging", errno);
      return {};
    }
    case EntryKind::fifo:
      if (e.hash != emptyHash()) return syncError(path, "a fifo's hash from the peer is wrong");
      if (::mkfifoat(dirfd, name.c_str(), 0600) != 0) return syncError(path, "staging", errno);
      if (int rc = sync::chmodAt(dirfd, name.c_str(), e.perm); rc < 0) return syncError(path, "staging", -rc);
      return {};
  }
  return syncError(path, "unknown kind");
}

core::Status Planner::stageFile(int dirfd, const std::string& name, const std::string& path,
                                const TreeEntry& e, const TreeEntry* local) {
  if (e.size > kMaxSyncFileSize) return syncError(path, "the peer's file is too large");
  UniqueFd fd(::openat(dirfd, name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
  if (!fd.valid()) return syncError(path, "staging", errno);
  auto finish = [&]() -> core::Status {
    if (::fchmod(fd.get(), e.perm) != 0) return syncError(path, "staging", errno);
    return {};
  };
  if (e.size == 0) {
    if (e.hash != emptyHash()) return syncError(path, "an empty file's hash from the peer is wrong");
    return finish();
  }
  if (const std::string* from = localWithHash(EntryKind::file, e.hash)) {
    SASHI_TRY_ASSIGN(src, openLocal(*from, O_RDONLY | O_NONBLOCK));
    if (int rc = sync::copyContent(src.get(), fd.get()); rc < 0)
      return syncError(path, "copying " + *from, -rc);
    ++result_.reused;
    return finish();
  }
  const std::uint64_t n = (e.size + kBlockSize - 1) / kBlockSize;
  std::vector<Hash256> cvs, localCvs;
  bool fromLocal = false;
  if (n > 1) {
    SASHI_TRY_ASSIGN(fetched, fetchCvs(path, e));
    cvs = std::move(fetched);
  }
  if (local != nullptr && n > 1) {
    // Start from the local file: only the blocks whose hash differs are fetched.
    SASHI_TRY_ASSIGN(src, openLocal(path, O_RDONLY | O_NONBLOCK));
    if (int rc = sync::copyContent(src.get(), fd.get()); rc < 0) return syncError(path, "copying", -rc);
    fromLocal = true;
    auto blocks = tree_.blocks(path);
    if (blocks) localCvs = std::move(*blocks);
  }
  if (::ftruncate(fd.get(), static_cast<off_t>(e.size)) != 0) return syncError(path, "staging", errno);
  for (std::uint64_t b = 0; b < n; ++b) {
    if (b < localCvs.size() && localCvs[b] == cvs[b]) continue;
    auto bytes = peer_.block(path, b);
    if (!bytes) return syncError(path, "block " + std::to_string(b) + ": " + bytes.error().message);
    ++result_.blocks;
    result_.bytes += bytes->size();
    const std::uint64_t len = std::min(kBlockSize, e.size - b * kBlockSize);
    const bool good = bytes->size() == len &&
                      (n == 1 ? crypto::blake3(*bytes) == e.hash : FileHash::blockCv(*bytes, b) == cvs[b]);
    if (!good)
      return syncError(path, "block " + std::to_string(b) + " from the peer does not match its hash");
    const bool zeros = std::all_of(bytes->begin(), bytes->end(), [](std::uint8_t c) { return c == 0; });
    if (zeros && !fromLocal) continue;  // already a hole
    if (int rc = sync::writeAt(fd.get(), b * kBlockSize, *bytes); rc < 0)
      return syncError(path, "staging", -rc);
  }
  return finish();
}

core::Status Planner::stageDir(int dirfd, const std::string& name, const std::string& path,
                               const TreeEntry& e) {
  if (const std::string* from = localWithHash(EntryKind::directory, e.hash)) {
    ++result_.reused;
    return copyLocal(*from, dirfd, name, e);
  }
  if (::mkdirat(dirfd, name.c_str(), 0700) != 0) return syncError(path, "staging", errno);
  UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub.valid()) return syncError(path, "staging", errno);
  SASHI_TRY_ASSIGN(entries, fetchListing(path, e.hash));
  for (const auto& c : entries) SASHI_TRY(stageEntry(sub.get(), c.name, join(path, c.name), c, nullptr));
  if (int rc = sync::chmodAt(dirfd, name.c_str(), e.perm); rc < 0) return syncError(path, "staging", -rc);
  return {};
}

// Copies the local entry at `from` (whose hash is e.hash) to `name` in `dirfd`, with e's mode.
core::Status Planner::copyLocal(const std::string& from, int dirfd, const std::string& name,
                                const TreeEntry& e) {
  switch (e.kind) {
    case EntryKind::file: {
      SASHI_TRY_ASSIGN(src, openLocal(from, O_RDONLY | O_NONBLOCK));
      UniqueFd fd(::openat(dirfd, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
      if (!fd.valid()) return syncError(from, "staging a copy", errno);
      if (int rc = sync::copyContent(src.get(), fd.get()); rc < 0) return syncError(from, "copying", -rc);
      break;
    }
    case EntryKind::directory: {
      auto entries = tree_.listing(from);
      if (!entries) return syncError(from, entries.error().message);
      if (::mkdirat(dirfd, name.c_str(), 0700) != 0) return syncError(from, "staging a copy", errno);
      UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub.valid()) return syncError(from, "staging a copy", errno);
      for (const auto& c : *entries) SASHI_TRY(copyLocal(join(from, c.name), sub.get(), c.name, c));
      break;
    }
    case EntryKind::symlink: {
      SASHI_TRY_ASSIGN(target, readLocalLink(from));
      if (::symlinkat(target.c_str(), dirfd, name.c_str()) != 0)
        return syncError(from, "staging a copy", errno);
      return {};
    }
    case EntryKind::fifo:
      if (::mkfifoat(dirfd, name.c_str(), 0600) != 0) return syncError(from, "staging a copy", errno);
      break;
  }
  if (int rc = sync::chmodAt(dirfd, name.c_str(), e.perm); rc < 0)
    return syncError(from, "staging a copy", -rc);
  return {};
}

// ---- commit ----

// One change made to the state, and how to undo it.
struct Step {
  bool isRename = true;
  std::string statePath;  // the state side of a rename, or what a mode change changed
  std::string staged;     // rename: the staging side
  bool intoState = true;  // rename: staging → state (install) or state → staging (remove)
  mode_t oldMode = 0;     // mode change
};

class Committer {
 public:
  Committer(const SourceDir& state, int staging, int failAt)
      : state_(state), staging_(staging), failAt_(failAt) {}

  core::Status apply(const std::vector<Change>& changes);
  core::Status undo();
  void mark(StateTree& tree) const {
    for (const auto& s : done_) {
      if (s.isRename)
        tree.markEntry(s.statePath);
      else
        tree.markMode(s.statePath);
    }
  }
  [[nodiscard]] std::size_t steps() const { return done_.size(); }
  [[nodiscard]] std::vector<std::string> paths() const {
    std::set<std::string> all;
    for (const auto& s : done_) all.insert(s.statePath);
    return {all.begin(), all.end()};
  }

 private:
  core::Status rename(const std::string& path, const std::string& staged, bool intoState);
  core::Status setMode(const std::string& path, mode_t mode, bool record);
  core::Result<mode_t> modeOf(const std::string& path) const;  // st_mode, type bits included
  core::Status injected(const std::string& path) {
    if (static_cast<int>(done_.size()) == failAt_)
      return syncError(path, "commit step failed (injected)", EIO);
    return {};
  }

  const SourceDir& state_;
  int staging_;
  int failAt_;
  std::vector<Step> done_;
};

core::Result<mode_t> Committer::modeOf(const std::string& path) const {
  struct stat st {};
  if (path == "/") {
    if (::fstat(state_.rootFd(), &st) != 0) return syncError(path, "stat", errno);
    return st.st_mode;
  }
  ParentRef parent;
  if (int rc = state_.parentOf(path, parent); rc < 0) return syncError(path, "resolving", -rc);
  if (::fstatat(parent.dirfd, parent.leaf, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return syncError(path, "stat", errno);
  return st.st_mode;
}

core::Status Committer::rename(const std::string& path, const std::string& staged, bool intoState) {
  SASHI_TRY(injected(path));
  ParentRef parent;
  if (int rc = state_.parentOf(path, parent); rc < 0) return syncError(path, "resolving", -rc);
  const int rc = intoState
                     ? ::renameat2(staging_, staged.c_str(), parent.dirfd, parent.leaf, RENAME_NOREPLACE)
                     : ::renameat2(parent.dirfd, parent.leaf, staging_, staged.c_str(), RENAME_NOREPLACE);
  if (rc != 0) return syncError(path, intoState ? "moving in" : "moving out", errno);
  done_.push_back({true, path, staged, intoState, 0});
  return {};
}

core::Status Committer::setMode(const std::string& path, mode_t mode, bool record) {
  if (record) SASHI_TRY(injected(path));
  SASHI_TRY_ASSIGN(old, modeOf(path));
  int rc = 0;
  if (path == "/") {
    rc = sync::chmodAt(state_.rootFd(), ".", mode);
  } else {
    ParentRef parent;
    if (int r = state_.parentOf(path, parent); r < 0) return syncError(path, "resolving", -r);
    rc = sync::chmodAt(parent.dirfd, parent.leaf, mode);
  }
  if (rc < 0) return syncError(path, "changing the mode", -rc);
  if (record) done_.push_back({false, path, {}, false, static_cast<mode_t>(old & 07777)});
  return {};
}

core::Status Committer::apply(const std::vector<Change>& changes) {
  // Directories whose names change must be writable while they do: widen them, narrow after.
  std::set<std::string> parents;
  for (const auto& c : changes)
    if (c.kind != Change::Kind::mode) parents.insert(parentOfPath(c.path));
  std::vector<std::pair<std::string, mode_t>> narrow;
  for (const auto& p : parents) {
    SASHI_TRY_ASSIGN(mode, modeOf(p));
    if ((mode & S_IWUSR) != 0 && (mode & S_IXUSR) != 0) continue;
    SASHI_TRY(setMode(p, (mode & 07777) | S_IWUSR | S_IXUSR, true));
    narrow.emplace_back(p, mode & 07777);
  }
  std::size_t trash = 0;
  for (const auto& c : changes) {
    if (c.kind == Change::Kind::remove) {
      // Likewise a read-only directory moving out (undone in reverse: moved back, then its mode).
      SASHI_TRY_ASSIGN(mode, modeOf(c.path));
      if ((mode & S_IFMT) == S_IFDIR && (mode & S_IWUSR) == 0)
        SASHI_TRY(setMode(c.path, (mode & 07777) | S_IWUSR, true));
      SASHI_TRY(rename(c.path, "t" + std::to_string(trash++), false));
    }
    if (c.kind == Change::Kind::install) SASHI_TRY(rename(c.path, c.staged, true));
  }
  for (const auto& [p, mode] : narrow) SASHI_TRY(setMode(p, mode, true));
  for (const auto& c : changes)
    if (c.kind == Change::Kind::mode) SASHI_TRY(setMode(c.path, c.perm, true));
  return {};
}

core::Status Committer::undo() {
  std::string failed;
  for (auto it = done_.rbegin(); it != done_.rend(); ++it) {
    core::Status st;
    if (it->isRename) {
      ParentRef parent;
      if (int rc = state_.parentOf(it->statePath, parent); rc < 0) {
        st = syncError(it->statePath, "resolving", -rc);
      } else {
        const char* staged = it->staged.c_str();
        const int rc2 = it->intoState
                            ? ::renameat2(parent.dirfd, parent.leaf, staging_, staged, RENAME_NOREPLACE)
                            : ::renameat2(staging_, staged, parent.dirfd, parent.leaf, RENAME_NOREPLACE);
        if (rc2 != 0) st = syncError(it->statePath, "undoing a rename", errno);
      }
    } else {
      st = setMode(it->statePath, it->oldMode, false);
    }
    if (!st && failed.empty()) failed = st.error().message;
  }
  if (!failed.empty()) return core::Error("undoing failed: " + failed);
  return {};
}

namespace fs = std::filesystem;

core::Result<std::string> stagingPath(const std::string& localDir, const SyncOptions& options) {
  std::error_code ec;
  fs::path state = fs::weakly_canonical(fs::absolute(localDir), ec);
  if (ec) return core::Error("sync: " + localDir + ": " + ec.message());
  fs::path staging = options.stagingDir.empty()
                         ? state.parent_path() / ("." + state.filename().string() + ".sync")
                         : fs::weakly_canonical(fs::absolute(options.stagingDir), ec);
  if (ec) return core::Error("sync: " + options.stagingDir + ": " + ec.message());
  const std::string s = staging.string(), d = state.string();
  if (s == d || s.starts_with(d + "/"))
    return core::Error("sync: the staging directory " + s + " is inside the state");
  return s;
}

}  // namespace

core::Result<SyncResult> syncTo(const std::string& localDir, StateTree& localTree,
                                const crypto::Hash256& targetRoot, SyncSource& peer,
                                const SyncOptions& options) {
  SyncResult result;
  if (localTree.dirty()) return core::Error("sync: the local tree has marks not yet refreshed");
  if (localTree.root() == targetRoot) return result;
  auto state = SourceDir::open(localDir);
  if (!state) return state.error();
  SASHI_TRY_ASSIGN(stagingDir, stagingPath(localDir, options));
  if (int rc = sync::removeTreeAt(AT_FDCWD, stagingDir.c_str()); rc < 0)  // left by an interrupted sync
    return core::Error("sync: removing " + stagingDir + ": " + std::strerror(-rc), -rc);
  if (::mkdir(stagingDir.c_str(), 0700) != 0) return core::Error::fromErrno("sync: creating " + stagingDir);
  struct Cleanup {
    std::string path;
    ~Cleanup() { (void)sync::removeTreeAt(AT_FDCWD, path.c_str()); }
  } cleanup{stagingDir};
  UniqueFd staging(::open(stagingDir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  struct stat a {
  }, b{};
  if (!staging.valid() || ::fstat(staging.get(), &a) != 0 || ::fstat(state->rootFd(), &b) != 0)
    return core::Error::fromErrno("sync: opening " + stagingDir);
  if (a.st_dev != b.st_dev)
    return core::Error("sync: the staging directory " + stagingDir + " is on another filesystem");

  Planner planner(localTree, *state, staging.get(), peer, result);
  SASHI_TRY(planner.syncDir("/", targetRoot));

  Committer commit(*state, staging.get(), options.failCommitAt);
  auto applied = commit.apply(planner.changes());
  if (!applied) {
    auto undone = commit.undo();  // the tree was not marked: it still holds the old root
    return core::Error(applied.error().message + "; " + (undone ? "undone" : undone.error().message),
                       applied.error().errnum);
  }
  commit.mark(localTree);
  auto root = localTree.refresh();
  if (root && *root == targetRoot) {
    result.steps = commit.steps();
    result.changed = commit.paths();
    return result;
  }
  const std::string why = root ? "the root after applying is " + core::toHexLower(*root) + ", not the target"
                               : root.error().message;
  auto undone = commit.undo();
  commit.mark(localTree);
  if (!localTree.refresh()) {
    auto rebuilt = StateTree::build(localDir);
    if (!rebuilt)
      return rebuilt.error().context("sync: " + why + "; undone, but the tree could not be rebuilt");
    localTree = std::move(*rebuilt);
  }
  if (!undone) return core::Error("sync: " + why + "; " + undone.error().message);
  return core::Error("sync: " + why + "; undone");
}

}  // namespace sashimono::statefs
