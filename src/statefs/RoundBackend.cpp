#include "sashimono/statefs/RoundBackend.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "UndoFiles.h"

namespace sashimono::statefs {

namespace {

int fdOf(Handle h) { return static_cast<int>(h); }
std::string str(std::string_view s) { return std::string(s); }

}  // namespace

RoundBackend::RoundBackend(PassthroughBackend& inner, const SourceDir& source, UndoLog log)
    : inner_(inner), source_(source), log_(std::move(log)) {}

bool RoundBackend::inRound() const { return round_.load(); }

std::uint64_t RoundBackend::undoBytes() const { return log_.logBytes(); }

core::Status RoundBackend::begin() {
  std::lock_guard lock(mu_);
  if (round_.load()) return core::Error("statefs: a round is already open");
  SASHI_TRY(log_.begin());
  spaceRefusals_.store(0);
  tracked_.clear();
  created_.clear();
  journal_.clear();
  round_.store(true);
  return {};
}

core::Result<bool> RoundBackend::resume() {
  std::lock_guard lock(mu_);
  if (round_.load()) return core::Error("statefs: a round is already open");
  auto taken = log_.resume();
  if (!taken.ok() || !*taken) return taken;
  spaceRefusals_.store(0);
  tracked_.clear();
  created_.clear();
  journal_.clear();
  recovered_.store(true);
  round_.store(true);
  return true;
}

core::Status RoundBackend::commit() {
  std::lock_guard lock(mu_);
  if (!round_.load()) return {};
  SASHI_TRY(log_.commit());
  recovered_.store(false);
  round_.store(false);
  tracked_.clear();
  created_.clear();
  journal_.clear();
  epoch_.fetch_add(1);  // views of the state before end here
  return {};
}

core::Status RoundBackend::rollback(StateTree* marks) {
  std::lock_guard lock(mu_);
  if (!round_.load()) return core::Error("statefs: no round is open");
  SASHI_TRY(log_.rollback(marks));
  recovered_.store(false);
  round_.store(false);
  tracked_.clear();
  created_.clear();
  journal_.clear();
  return {};
}

// ---- helpers (mu_ held) -------------------------------------------------------------------

int RoundBackend::noted(int rc) {
  if (rc == -ENOSPC || rc == -EDQUOT) spaceRefusals_.fetch_add(1);
  return rc;
}

int RoundBackend::journaled(int rc, JournalEntry e) {
  if (rc == 0) journal_.add(std::move(e));
  return rc;
}

int RoundBackend::record(const UndoRecord& r) {
  if (int rc = log_.append(r); rc != 0) return rc;
  return log_.sync();
}

bool RoundBackend::needsUndo(const struct stat& st) const {
  return S_ISREG(st.st_mode) && st.st_nlink > 0 && created_.count(st.st_ino) == 0;
}

int RoundBackend::track(int fd, const struct stat& st, Tracked*& out) {
  if (auto it = tracked_.find(st.st_ino); it != tracked_.end()) {
    out = &it->second;
    return 0;
  }
  Tracked t;
  t.id = log_.nextId();
  const std::string proc = "/proc/self/fd/" + std::to_string(fd);
  const std::string name = undoIdName(t.id);
  if (::linkat(AT_FDCWD, proc.c_str(), log_.filesFd(), name.c_str(), AT_SYMLINK_FOLLOW) != 0) return -errno;
  if (::fsync(log_.filesFd()) != 0) {
    const int e = errno;
    (void)::unlinkat(log_.filesFd(), name.c_str(), 0);
    return -e;
  }
  out = &tracked_.emplace(st.st_ino, std::move(t)).first->second;
  return 0;
}

int RoundBackend::saveRange(int fd, const struct stat& st, std::uint64_t offset, std::uint64_t length,
                            bool sizeChanges) {
  Tracked* t = nullptr;
  if (int rc = track(fd, st, t); rc != 0) return rc;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  std::vector<std::pair<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>>> saved;
  bool savedSize = false;
  if (sizeChanges && !t->size) {
    if (int rc = log_.append(UndoRecord::size(t->id, size)); rc != 0) return rc;
    savedSize = true;
  }
  if (length > 0 && offset < size) {
    const std::uint64_t last = std::min(offset + length, size) - 1;
    UniqueFd rd;
    std::vector<std::uint8_t> buf;
    for (std::uint64_t k = offset / kUndoBlock; k <= last / kUndoBlock; ++k) {
      if (t->blocks.count(k) != 0) continue;
      if (!rd.valid()) {
        const std::string name = undoIdName(t->id);
        int r = undo::openForce(log_.filesFd(), name.c_str(), O_RDONLY);
        if (r < 0) return r;
        rd.reset(r);
      }
      buf.resize(static_cast<std::size_t>(std::min(kUndoBlock, size - k * kUndoBlock)));
      std::size_t got = 0;
      while (got < buf.size()) {
        ssize_t n =
            ::pread(rd.get(), buf.data() + got, buf.size() - got, static_cast<off_t>(k * kUndoBlock + got));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
      }
      buf.resize(got);
      std::uint64_t at = 0;
      if (int rc = log_.append(UndoRecord::block(t->id, k, buf), &at); rc != 0) return rc;
      saved.push_back({k, {at + kUndoBlockDataOffset, static_cast<std::uint32_t>(buf.size())}});
    }
  }
  if (int rc = log_.sync(); rc != 0) return rc;
  for (const auto& [k, where] : saved) {
    t->blocks.insert(k);
    t->blockAt[k] = where;
  }
  if (savedSize) {
    t->size = true;
    t->oldSize = size;
  }
  return 0;
}

int RoundBackend::created(std::string_view path) {
  struct stat st {};
  int rc = inner_.getattr(path, st);
  if (rc == 0) return -EEXIST;
  if (rc != -ENOENT) return rc;
  return record(UndoRecord::created(str(path)));
}

int RoundBackend::trash(std::string_view path, std::uint64_t& id) {
  id = log_.nextId();
  if (int rc = record(UndoRecord::trashed(str(path), id)); rc != 0) return rc;
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EBUSY;
  const std::string name = undoIdName(id);
  if (int rc = undo::moveEntry(p.dirfd, p.leaf, log_.trashFd(), name.c_str()); rc != 0) return rc;
  journal_.add(JournalEntry{UndoOp::kTrashed, str(path), {}, id, 0, 0});
  return 0;
}

int RoundBackend::isEmptyDir(std::string_view path) {
  Handle d = 0;
  if (int rc = inner_.opendir(path, d); rc != 0) return rc;
  bool empty = true;
  int rc = inner_.readdir(d, 0, [&](const DirEntry& e) {
    const std::string_view n(e.name);
    if (n == "." || n == "..") return false;
    empty = false;
    return true;  // stop
  });
  (void)inner_.releasedir(d);
  return rc < 0 ? rc : (empty ? 1 : 0);
}

int RoundBackend::truncateLocked(Handle h, off_t size) {
  struct stat st {};
  if (::fstat(fdOf(h), &st) != 0) return -errno;
  if (size < 0) return -EINVAL;
  if (needsUndo(st) && size != st.st_size) {
    const auto to = static_cast<std::uint64_t>(size);
    const auto from = static_cast<std::uint64_t>(st.st_size);
    if (int rc = saveRange(fdOf(h), st, to, to < from ? from - to : 0, true); rc != 0) return rc;
  }
  return inner_.ftruncate(h, size);
}

// ---- reads: forwarded ---------------------------------------------------------------------

int RoundBackend::getattr(std::string_view path, struct stat& st) { return inner_.getattr(path, st); }
int RoundBackend::fgetattr(Handle h, struct stat& st) { return inner_.fgetattr(h, st); }
int RoundBackend::readlink(std::string_view path, char* buf, std::size_t size) {
  return inner_.readlink(path, buf, size);
}
int RoundBackend::access(std::string_view path, int mask) { return inner_.access(path, mask); }
int RoundBackend::statfs(struct statvfs& st) { return inner_.statfs(st); }
int RoundBackend::read(Handle h, char* buf, std::size_t size, off_t offset) {
  return inner_.read(h, buf, size, offset);
}
int RoundBackend::readFd(Handle h) { return inner_.readFd(h); }
int RoundBackend::flush(Handle h) { return inner_.flush(h); }
int RoundBackend::release(Handle h) { return inner_.release(h); }
int RoundBackend::opendir(std::string_view path, Handle& out) { return inner_.opendir(path, out); }
int RoundBackend::readdir(Handle h, off_t offset, const DirFiller& fill) {
  return inner_.readdir(h, offset, fill);
}
int RoundBackend::releasedir(Handle h) { return inner_.releasedir(h); }
int RoundBackend::fsync(Handle h, bool dataOnly) { return inner_.fsync(h, dataOnly); }
int RoundBackend::fsyncdir(Handle h, bool dataOnly) { return inner_.fsyncdir(h, dataOnly); }
int RoundBackend::chown(std::string_view path, uid_t uid, gid_t gid) { return inner_.chown(path, uid, gid); }
int RoundBackend::fchown(Handle h, uid_t uid, gid_t gid) { return inner_.fchown(h, uid, gid); }
int RoundBackend::utimens(std::string_view path, const struct timespec ts[2]) {
  return inner_.utimens(path, ts);
}
int RoundBackend::futimens(Handle h, const struct timespec ts[2]) { return inner_.futimens(h, ts); }

// ---- changes --------------------------------------------------------------------------------

int RoundBackend::open(std::string_view path, int flags, Handle& out) {
  if ((flags & O_TRUNC) == 0 || !round_.load()) return inner_.open(path, flags, out);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    if (int rc = inner_.open(path, flags & ~O_TRUNC, out); rc != 0) return rc;
    if (int rc = truncateLocked(out, 0); rc != 0) {
      (void)inner_.release(out);
      return rc;
    }
    return 0;
  });
}

int RoundBackend::create(std::string_view path, int flags, mode_t mode, Handle& out) {
  if (!round_.load()) return inner_.create(path, flags, mode, out);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat st {};
    int rc = inner_.getattr(path, st);
    if (rc == 0) {  // an existing file: an open (the kernel's view was stale)
      if ((flags & O_EXCL) != 0) return -EEXIST;
      if ((rc = inner_.open(path, flags & ~(O_CREAT | O_TRUNC), out)) != 0) return rc;
      if ((flags & O_TRUNC) != 0 && (rc = truncateLocked(out, 0)) != 0) (void)inner_.release(out);
      return rc;
    }
    if (rc != -ENOENT) return rc;
    if ((rc = record(UndoRecord::created(str(path)))) != 0) return rc;
    if ((rc = inner_.create(path, flags, mode, out)) != 0) return rc;
    journal_.add(JournalEntry{UndoOp::kCreated, str(path), {}, 0, 0, 0});
    if (::fstat(fdOf(out), &st) == 0) created_.insert(st.st_ino);
    return 0;
  });
}

int RoundBackend::saveForWrite(Handle h, std::size_t size, off_t offset) {
  struct stat st {};
  if (::fstat(fdOf(h), &st) != 0) return -errno;
  if (needsUndo(st) && size > 0) {
    const auto off = static_cast<std::uint64_t>(offset);
    const bool grows = off + size > static_cast<std::uint64_t>(st.st_size);
    if (int rc = saveRange(fdOf(h), st, off, size, grows); rc != 0) return rc;
  }
  return 0;
}

int RoundBackend::write(Handle h, const char* buf, std::size_t size, off_t offset) {
  if (!round_.load()) return inner_.write(h, buf, size, offset);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    if (int rc = saveForWrite(h, size, offset); rc != 0) return rc;
    return inner_.write(h, buf, size, offset);
  });
}

// The undo data of the whole range is durable before `src` puts the first byte in place; a
// source that stops short leaves saved blocks it did not change, which a rollback rewrites
// with the bytes they hold anyway.
int RoundBackend::writeFrom(Handle h, std::size_t size, off_t offset, const WriteSource& src) {
  if (!round_.load()) return inner_.writeFrom(h, size, offset, src);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    if (int rc = saveForWrite(h, size, offset); rc != 0) return rc;
    return inner_.writeFrom(h, size, offset, src);
  });
}

int RoundBackend::truncate(std::string_view path, off_t size) {
  if (!round_.load()) return inner_.truncate(path, size);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    Handle h = 0;
    if (int rc = inner_.open(path, O_WRONLY, h); rc != 0) return rc;
    int rc = truncateLocked(h, size);
    (void)inner_.release(h);
    return rc;
  });
}

int RoundBackend::ftruncate(Handle h, off_t size) {
  if (!round_.load()) return inner_.ftruncate(h, size);
  std::lock_guard lock(mu_);
  return change([&]() -> int { return truncateLocked(h, size); });
}

int RoundBackend::fallocate(Handle h, int mode, off_t offset, off_t length) {
  if (!round_.load()) return inner_.fallocate(h, mode, offset, length);
  if ((mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) != 0) return -EOPNOTSUPP;
  if (offset < 0 || length <= 0) return -EINVAL;
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat st {};
    if (::fstat(fdOf(h), &st) != 0) return -errno;
    if (needsUndo(st)) {
      const auto off = static_cast<std::uint64_t>(offset);
      const auto len = static_cast<std::uint64_t>(length);
      // Plain allocation changes no byte a reader sees; punching and zeroing do.
      const bool changesBytes = (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) != 0;
      const bool grows =
          (mode & FALLOC_FL_KEEP_SIZE) == 0 && off + len > static_cast<std::uint64_t>(st.st_size);
      if (changesBytes || grows) {
        if (int rc = saveRange(fdOf(h), st, off, changesBytes ? len : 0, grows); rc != 0) return rc;
      }
    }
    return inner_.fallocate(h, mode, offset, length);
  });
}

int RoundBackend::mknod(std::string_view path, mode_t mode, dev_t dev) {
  if (!round_.load()) return inner_.mknod(path, mode, dev);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    if (int rc = created(path); rc != 0) return rc;
    int rc = inner_.mknod(path, mode, dev);
    if (rc == 0) journal_.add(JournalEntry{UndoOp::kCreated, str(path), {}, 0, 0, 0});
    struct stat st {};
    if (rc == 0 && inner_.getattr(path, st) == 0) created_.insert(st.st_ino);
    return rc;
  });
}

int RoundBackend::mkdir(std::string_view path, mode_t mode) {
  if (!round_.load()) return inner_.mkdir(path, mode);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    if (int rc = created(path); rc != 0) return rc;
    return journaled(inner_.mkdir(path, mode), JournalEntry{UndoOp::kCreated, str(path), {}, 0, 0, 0});
  });
}

int RoundBackend::symlink(std::string_view target, std::string_view linkPath) {
  if (!round_.load()) return inner_.symlink(target, linkPath);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    if (int rc = created(linkPath); rc != 0) return rc;
    return journaled(inner_.symlink(target, linkPath),
                     JournalEntry{UndoOp::kCreated, str(linkPath), {}, 0, 0, 0});
  });
}

int RoundBackend::link(std::string_view from, std::string_view to) {
  if (!round_.load()) return inner_.link(from, to);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat st {};
    if (int rc = inner_.getattr(from, st); rc != 0) return rc;
    if (S_ISDIR(st.st_mode)) return -EPERM;
    if (int rc = created(to); rc != 0) return rc;
    return journaled(inner_.link(from, to), JournalEntry{UndoOp::kCreated, str(to), {}, 0, 0, 0});
  });
}

int RoundBackend::unlink(std::string_view path) {
  if (!round_.load()) return inner_.unlink(path);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat st {};
    if (int rc = inner_.getattr(path, st); rc != 0) return rc;
    if (S_ISDIR(st.st_mode)) return -EISDIR;
    std::uint64_t id = 0;
    return trash(path, id);
  });
}

int RoundBackend::rmdir(std::string_view path) {
  if (!round_.load()) return inner_.rmdir(path);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat st {};
    if (int rc = inner_.getattr(path, st); rc != 0) return rc;
    if (!S_ISDIR(st.st_mode)) return -ENOTDIR;
    if (path == "/") return -EBUSY;
    int empty = isEmptyDir(path);
    if (empty < 0) return empty;
    if (empty == 0) return -ENOTEMPTY;
    std::uint64_t id = 0;
    return trash(path, id);
  });
}

int RoundBackend::rename(std::string_view from, std::string_view to, unsigned int flags) {
  if (!round_.load() || (flags & RENAME_WHITEOUT) != 0) return inner_.rename(from, to, flags);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat a {
    }, b{};
    if (int rc = inner_.getattr(from, a); rc != 0) return rc;
    const int toRc = inner_.getattr(to, b);
    if (toRc != 0 && toRc != -ENOENT) return toRc;
    if ((flags & RENAME_EXCHANGE) != 0) {
      if (toRc != 0) return toRc;
      const auto mark = log_.logBytes();
      if (int rc = record(UndoRecord::exchanged(str(from), str(to), a.st_ino, b.st_ino)); rc != 0) return rc;
      int rc = inner_.rename(from, to, flags);
      if (rc != 0) (void)log_.cutTo(mark);  // exchanging back would not be harmless
      return journaled(rc, JournalEntry{UndoOp::kExchanged, str(from), str(to), 0, 0, 0});
    }
    const bool dirFrom = S_ISDIR(a.st_mode);
    if (to.size() > from.size() && to.substr(0, from.size()) == from && to[from.size()] == '/')
      return -EINVAL;
    std::uint64_t trashed = 0;
    if (toRc == 0) {
      if (a.st_ino == b.st_ino) return 0;  // two names of one file: rename does nothing
      if ((flags & RENAME_NOREPLACE) != 0) return -EEXIST;
      if (dirFrom && !S_ISDIR(b.st_mode)) return -ENOTDIR;
      if (!dirFrom && S_ISDIR(b.st_mode)) return -EISDIR;
      if (S_ISDIR(b.st_mode)) {
        int empty = isEmptyDir(to);
        if (empty < 0) return empty;
        if (empty == 0) return -ENOTEMPTY;
      }
      if (int rc = trash(to, trashed); rc != 0) return rc;
    }
    int rc = record(UndoRecord::renamed(str(from), str(to)));
    if (rc == 0) rc = inner_.rename(from, to, flags | RENAME_NOREPLACE);
    if (rc == 0) journal_.add(JournalEntry{UndoOp::kRenamed, str(from), str(to), 0, 0, 0});
    if (rc != 0 && trashed != 0) {  // put the target back; the records undo nothing now
      ParentRef p;
      const std::string name = undoIdName(trashed);
      if (source_.parentOf(to, p) == 0 && undo::moveBack(log_.trashFd(), name.c_str(), p.dirfd, p.leaf) == 0)
        journal_.add(JournalEntry{UndoOp::kRenamed, trashLocation(trashed), str(to), 0, 0, 0});
    }
    return rc;
  });
}

int RoundBackend::chmod(std::string_view path, mode_t mode) {
  if (!round_.load()) return inner_.chmod(path, mode);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat st {};
    if (int rc = inner_.getattr(path, st); rc != 0) return rc;
    if (int rc = record(UndoRecord::pathMode(str(path), st.st_mode & 07777U)); rc != 0) return rc;
    return journaled(inner_.chmod(path, mode),
                     JournalEntry{UndoOp::kPathMode, str(path), {}, 0, st.st_mode & 07777U, st.st_ino});
  });
}

int RoundBackend::fchmod(Handle h, mode_t mode) {
  if (!round_.load()) return inner_.fchmod(h, mode);
  std::lock_guard lock(mu_);
  return change([&]() -> int {
    struct stat st {};
    if (::fstat(fdOf(h), &st) != 0) return -errno;
    if (needsUndo(st)) {
      Tracked* t = nullptr;
      if (int rc = track(fdOf(h), st, t); rc != 0) return rc;
      if (!t->mode) {
        if (int rc = record(UndoRecord::fileMode(t->id, st.st_mode & 07777U)); rc != 0) return rc;
        t->mode = true;
        journal_.add(JournalEntry{UndoOp::kFileMode, {}, {}, 0, st.st_mode & 07777U, st.st_ino});
      }
    }
    return inner_.fchmod(h, mode);
  });
}

}  // namespace sashimono::statefs
