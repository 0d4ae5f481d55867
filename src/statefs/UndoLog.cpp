#include "sashimono/statefs/UndoLog.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "SyncFiles.h"
#include "UndoFiles.h"
#include "sashimono/core/Log.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::statefs {

namespace {

constexpr std::size_t kHeader = 12;                      // len(4) ‖ checksum(8)
constexpr std::uint32_t kMaxBody = 2 * kUndoBlock + 16;  // a block record and its fields
constexpr const char* kRound = "round";
constexpr const char* kDone = "done";  // a committed round being removed

std::uint64_t fnv1a(std::span<const std::uint8_t> b) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (auto c : b) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

void putN(std::vector<std::uint8_t>& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void putStr(std::vector<std::uint8_t>& out, const std::string& s) {
  putN(out, s.size(), 2);
  out.insert(out.end(), s.begin(), s.end());
}

struct Reader {
  std::span<const std::uint8_t> b;
  std::size_t pos = 0;
  bool ok = true;
  std::uint64_t n(int bytes) {
    if (b.size() - pos < static_cast<std::size_t>(bytes)) {
      ok = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | b[pos++];
    return v;
  }
  std::string str() {
    auto len = static_cast<std::size_t>(n(2));
    if (!ok || b.size() - pos < len) {
      ok = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(b.data() + pos), len);
    pos += len;
    return s;
  }
};

bool hasPath(UndoOp op) {
  return op == UndoOp::kCreated || op == UndoOp::kTrashed || op == UndoOp::kRenamed ||
         op == UndoOp::kExchanged || op == UndoOp::kPathMode;
}
bool hasId(UndoOp op) { return !hasPath(op) || op == UndoOp::kTrashed || op == UndoOp::kExchanged; }
bool hasValue(UndoOp op) {
  return op == UndoOp::kPathMode || op == UndoOp::kFileMode || op == UndoOp::kSize || op == UndoOp::kBlock ||
         op == UndoOp::kExchanged;
}

}  // namespace

std::string undoIdName(std::uint64_t id) { return std::to_string(id); }

std::vector<std::uint8_t> encodeUndoRecord(const UndoRecord& r) {
  std::vector<std::uint8_t> body;
  body.push_back(static_cast<std::uint8_t>(r.op));
  if (hasPath(r.op)) putStr(body, r.path);
  if (r.op == UndoOp::kRenamed || r.op == UndoOp::kExchanged) putStr(body, r.path2);
  if (hasId(r.op)) putN(body, r.id, 8);
  if (hasValue(r.op)) putN(body, r.value, 8);
  if (r.op == UndoOp::kBlock) {
    putN(body, r.data.size(), 4);
    body.insert(body.end(), r.data.begin(), r.data.end());
  }
  std::vector<std::uint8_t> out;
  out.reserve(kHeader + body.size());
  putN(out, body.size(), 4);
  putN(out, fnv1a(body), 8);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::optional<DecodedUndo> decodeUndoRecord(std::span<const std::uint8_t> bytes) {
  Reader h{bytes};
  const auto len = h.n(4);
  const auto sum = h.n(8);
  if (!h.ok || len == 0 || len > kMaxBody || bytes.size() - kHeader < len) return std::nullopt;
  auto body = bytes.subspan(kHeader, len);
  if (fnv1a(body) != sum) return std::nullopt;
  Reader r{body};
  DecodedUndo d;
  d.size = kHeader + len;
  auto op = static_cast<UndoOp>(r.n(1));
  if (op < UndoOp::kCreated || op > UndoOp::kBlock) return std::nullopt;
  d.record.op = op;
  if (hasPath(op)) d.record.path = r.str();
  if (op == UndoOp::kRenamed || op == UndoOp::kExchanged) d.record.path2 = r.str();
  if (hasId(op)) d.record.id = r.n(8);
  if (hasValue(op)) d.record.value = r.n(8);
  if (op == UndoOp::kBlock) {
    const auto n = static_cast<std::size_t>(r.n(4));
    if (!r.ok || n > kUndoBlock || body.size() - r.pos < n) return std::nullopt;
    d.record.data.assign(body.begin() + static_cast<std::ptrdiff_t>(r.pos),
                         body.begin() + static_cast<std::ptrdiff_t>(r.pos + n));
    r.pos += n;
  }
  if (!r.ok || r.pos != body.size()) return std::nullopt;
  return d;
}

// ---- replay ----------------------------------------------------------------------------

namespace {

core::Status replayOne(const UndoRecord& r, const SourceDir& source, int files, int trash, StateTree* marks) {
  auto fail = [&](const std::string& what, int err) {
    return core::Error("statefs: undo: " + what + ": " + std::strerror(err), err);
  };
  ParentRef p, q;
  switch (r.op) {
    case UndoOp::kCreated: {
      if (int rc = source.parentOf(r.path, p); rc != 0)
        return rc == -ENOENT ? core::Status{} : fail(r.path, -rc);
      if (p.isRoot()) return {};
      int rc = undo::removeEntry(p.dirfd, p.leaf);
      if (rc != 0 && rc != -ENOENT) return fail("removing " + r.path, -rc);
      if (marks != nullptr && rc == 0) marks->markEntry(r.path);
      return {};
    }
    case UndoOp::kTrashed: {
      if (int rc = source.parentOf(r.path, p); rc != 0) return fail(r.path, -rc);
      const std::string name = undoIdName(r.id);
      int rc = undo::moveBack(trash, name.c_str(), p.dirfd, p.leaf);
      if (rc != 0 && rc != -ENOENT && rc != -EEXIST) return fail("restoring " + r.path, -rc);
      if (marks != nullptr && rc == 0) marks->markEntry(r.path);
      return {};
    }
    case UndoOp::kRenamed:
    case UndoOp::kExchanged: {
      if (int rc = source.parentOf(r.path, p); rc != 0) return fail(r.path, -rc);
      if (int rc = source.parentOf(r.path2, q); rc != 0) return fail(r.path2, -rc);
      const bool exchange = r.op == UndoOp::kExchanged;
      if (exchange) {  // only while each name holds the other's inode: exchanging twice is no undo
        struct stat a {
        }, b{};
        if (::fstatat(p.dirfd, p.leaf, &a, AT_SYMLINK_NOFOLLOW) != 0 ||
            ::fstatat(q.dirfd, q.leaf, &b, AT_SYMLINK_NOFOLLOW) != 0 || a.st_ino != r.value ||
            b.st_ino != r.id)
          return {};
      }
      int rc = undo::moveBack(q.dirfd, q.leaf, p.dirfd, p.leaf, exchange);
      if (rc != 0 && rc != -ENOENT && rc != -EEXIST) return fail("renaming back " + r.path2, -rc);
      if (marks != nullptr && rc == 0) {
        if (exchange) {
          marks->markEntry(r.path);
          marks->markEntry(r.path2);
        } else {
          marks->markRename(r.path2, r.path);
        }
      }
      return {};
    }
    case UndoOp::kPathMode: {
      if (int rc = source.parentOf(r.path, p); rc != 0) return fail(r.path, -rc);
      const std::string self = "/proc/self/fd/" + std::to_string(p.dirfd);  // the root: an O_PATH descriptor
      int rc = p.isRoot() ? (::chmod(self.c_str(), static_cast<mode_t>(r.value)) == 0 ? 0 : -errno)
                          : sync::chmodAt(p.dirfd, p.leaf, static_cast<mode_t>(r.value));
      if (rc != 0 && rc != -ENOENT) return fail("chmod " + r.path, -rc);
      if (marks != nullptr && rc == 0) marks->markMode(r.path);
      return {};
    }
    case UndoOp::kFileMode:
    case UndoOp::kSize:
    case UndoOp::kBlock: {
      const std::string name = undoIdName(r.id);
      struct stat st {};
      if (::fstatat(files, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return {};  // the link was not made: nothing changed the file
        return fail("files/" + name, errno);
      }
      if (r.op == UndoOp::kFileMode) {
        if (int rc = sync::chmodAt(files, name.c_str(), static_cast<mode_t>(r.value)); rc != 0)
          return fail("chmod files/" + name, -rc);
        if (marks != nullptr) marks->markInodeMode(st.st_ino);
        return {};
      }
      UniqueFd fd(undo::openForce(files, name.c_str(), O_WRONLY));
      if (!fd.valid()) return fail("opening files/" + name, -fd.release());
      if (r.op == UndoOp::kSize) {
        if (::ftruncate(fd.get(), static_cast<off_t>(r.value)) != 0)
          return fail("truncating files/" + name, errno);
        if (marks != nullptr) marks->markTruncate(st.st_ino, r.value);
        return {};
      }
      const std::uint64_t off = r.value * kUndoBlock;
      if (int rc = sync::writeAt(fd.get(), off, r.data); rc != 0) return fail("writing files/" + name, -rc);
      if (marks != nullptr) marks->markData(st.st_ino, off, kUndoBlock);
      return {};
    }
  }
  return {};
}

}  // namespace

core::Status replayUndo(std::span<const std::uint8_t> logBytes, const SourceDir& source, int files, int trash,
                        StateTree* marks, const std::function<void(std::size_t)>& undone) {
  std::vector<std::size_t> starts;
  for (std::size_t pos = 0; pos < logBytes.size();) {
    auto d = decodeUndoRecord(logBytes.subspan(pos));
    if (!d) break;  // a torn tail: its change never started
    starts.push_back(pos);
    pos += d->size;
  }
  for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
    auto d = decodeUndoRecord(logBytes.subspan(*it));
    SASHI_TRY(replayOne(d->record, source, files, trash, marks));
    if (undone) undone(*it);
  }
  return {};
}

// ---- the round directory ---------------------------------------------------------------

core::Result<UndoLog> UndoLog::open(const std::string& dir, const SourceDir& source) {
  const bool made = ::mkdir(dir.c_str(), 0700) == 0;
  if (!made && errno != EEXIST) return core::Error::fromErrno("statefs: undo dir " + dir);
  auto opened = openIn(dir, source);
  if (!opened.ok() && made) ::rmdir(dir.c_str());  // leave nothing behind
  return opened;
}

core::Result<UndoLog> UndoLog::openIn(const std::string& dir, const SourceDir& source) {
  UndoLog u;
  u.dir_ = dir;
  u.source_ = &source;
  u.dirFd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!u.dirFd_.valid()) return core::Error::fromErrno("statefs: undo dir " + dir);
  struct stat a {
  }, b{};
  if (::fstat(u.dirFd_.get(), &a) != 0 || ::fstat(source.rootFd(), &b) != 0)
    return core::Error::fromErrno("statefs: undo dir " + dir);
  if (a.st_dev != b.st_dev)
    return core::Error("statefs: undo dir " + dir + " is not on the state's filesystem", EXDEV);
  if (::faccessat(u.dirFd_.get(), ".", W_OK | X_OK, AT_EACCESS) != 0)
    return core::Error::fromErrno("statefs: undo dir " + dir + " is not writable");
  // A committed round whose removal was interrupted.
  if (int rc = sync::removeTreeAt(u.dirFd_.get(), kDone); rc != 0 && rc != -ENOENT)
    return core::Error("statefs: removing " + dir + "/" + kDone + ": " + std::strerror(-rc), -rc);
  return u;
}

bool UndoLog::roundPresent() const {
  struct stat st {};
  return ::fstatat(dirFd_.get(), kRound, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

core::Status UndoLog::openRound() {
  const std::string round = dir_ + "/" + kRound;
  auto openDir = [&](const char* name, UniqueFd& out) -> core::Status {
    int r = ::openat(dirFd_.get(), kRound, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (r < 0) return core::Error::fromErrno("statefs: " + round);
    UniqueFd rd(r);
    out.reset(::openat(rd.get(), name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (!out.valid()) return core::Error::fromErrno("statefs: " + round + "/" + name);
    return {};
  };
  SASHI_TRY(openDir("files", files_));
  SASHI_TRY(openDir("trash", trash_));
  UniqueFd rd(::openat(dirFd_.get(), kRound, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!rd.valid()) return core::Error::fromErrno("statefs: " + round);
  log_.reset(::openat(rd.get(), "log", O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!log_.valid()) return core::Error::fromErrno("statefs: " + round + "/log");
  struct stat st {};
  if (::fstat(log_.get(), &st) != 0) return core::Error::fromErrno("statefs: " + round + "/log");
  end_ = durable_ = static_cast<std::uint64_t>(st.st_size);
  return {};
}

core::Status UndoLog::discardRound(const char* name) {
  log_.reset();
  files_.reset();
  trash_.reset();
  end_ = durable_ = 0;
  if (::renameat(dirFd_.get(), name, dirFd_.get(), kDone) != 0)
    return core::Error::fromErrno("statefs: " + dir_ + ": ending the round");
  if (::fsync(dirFd_.get()) != 0) return core::Error::fromErrno("statefs: " + dir_ + ": fsync");
  if (int rc = sync::removeTreeAt(dirFd_.get(), kDone); rc != 0)
    spdlog::warn("statefs: removing {}/{}: {}", dir_, kDone, std::strerror(-rc));  // retried at next open
  return {};
}

core::Status UndoLog::rollback(StateTree* marks) {
  if (!roundPresent()) return {};
  if (!log_.valid()) {
    if (auto st = openRound(); !st.ok()) {
      // A round directory without its log or its parts: begin() died before the log existed,
      // so no change was made.
      spdlog::warn("{}; discarding the incomplete round", st.error().message);
      return discardRound(kRound);
    }
  }
  struct stat st {};
  if (::fstat(log_.get(), &st) != 0) return core::Error::fromErrno("statefs: undo log");
  if (st.st_size > 0) {
    void* map = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ, MAP_PRIVATE, log_.get(), 0);
    if (map == MAP_FAILED) return core::Error::fromErrno("statefs: mapping the undo log");
    auto unmap = [&] { ::munmap(map, static_cast<std::size_t>(st.st_size)); };
    // After each step the log is cut to the record undone (no fsync: this orders the steps for
    // a process that dies mid-rollback, whose page cache survives it): a rollback that starts
    // again goes on from there instead of redoing steps whose redo could remove a restored name.
    const int logFd = log_.get();
    auto replayed = replayUndo({static_cast<const std::uint8_t*>(map), static_cast<std::size_t>(st.st_size)},
                               *source_, files_.get(), trash_.get(), marks,
                               [logFd](std::size_t at) { (void)::ftruncate(logFd, static_cast<off_t>(at)); });
    unmap();
    SASHI_TRY(replayed);
  }
  // The restored state is durable before the log that restores it goes.
  if (::syncfs(dirFd_.get()) != 0)  // the state's filesystem too (checked at open)
    return core::Error::fromErrno("statefs: syncfs after rollback");
  return discardRound(kRound);
}

core::Result<bool> UndoLog::resume() {
  if (!roundPresent()) return false;
  if (log_.valid()) return true;
  if (auto st = openRound(); !st.ok()) {
    spdlog::warn("{}; discarding the incomplete round", st.error().message);
    SASHI_TRY(discardRound(kRound));
    return false;
  }
  return true;
}

core::Status UndoLog::begin() {
  if (roundPresent()) return core::Error("statefs: a round is already open");
  // Changes made outside a round are part of the committed state the round starts from.
  if (::syncfs(dirFd_.get()) != 0) return core::Error::fromErrno("statefs: syncfs at begin");
  const char* building = "round.new";
  (void)sync::removeTreeAt(dirFd_.get(), building);
  auto made = [&](int rc, const std::string& what) -> core::Status {
    if (rc == 0) return {};
    return core::Error::fromErrno("statefs: " + dir_ + "/" + what);
  };
  SASHI_TRY(made(::mkdirat(dirFd_.get(), building, 0700), building));
  UniqueFd rd(::openat(dirFd_.get(), building, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (!rd.valid()) return core::Error::fromErrno("statefs: " + dir_ + "/" + building);
  SASHI_TRY(made(::mkdirat(rd.get(), "files", 0700), "files"));
  SASHI_TRY(made(::mkdirat(rd.get(), "trash", 0700), "trash"));
  UniqueFd log(::openat(rd.get(), "log", O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!log.valid()) return core::Error::fromErrno("statefs: " + dir_ + "/log");
  SASHI_TRY(made(::fsync(rd.get()), building));
  SASHI_TRY(made(::renameat(dirFd_.get(), building, dirFd_.get(), kRound), kRound));
  SASHI_TRY(made(::fsync(dirFd_.get()), "(fsync)"));
  return openRound();
}

core::Status UndoLog::commit() {
  if (!roundPresent()) return {};
  // The round's changes are durable before the log that could undo them goes: a power loss after
  // a commit must not leave a state that is neither the old nor the new one.
  if (::syncfs(dirFd_.get()) != 0) return core::Error::fromErrno("statefs: syncfs at commit");
  return discardRound(kRound);
}

int UndoLog::append(const UndoRecord& r, std::uint64_t* at) {
  if (!log_.valid()) return -EBADF;
  const auto bytes = encodeUndoRecord(r);
  if (int rc = sync::writeAt(log_.get(), end_, bytes); rc != 0) {
    (void)::ftruncate(log_.get(), static_cast<off_t>(end_));
    return rc;
  }
  if (at != nullptr) *at = end_;
  end_ += bytes.size();
  return 0;
}

int UndoLog::sync() {
  if (end_ == durable_) return 0;
  if (::fdatasync(log_.get()) != 0) {
    const int e = errno;
    (void)::ftruncate(log_.get(), static_cast<off_t>(durable_));
    end_ = durable_;
    return -e;
  }
  durable_ = end_;
  return 0;
}

int UndoLog::cutTo(std::uint64_t end) {
  if (end > end_) return -EINVAL;
  if (::ftruncate(log_.get(), static_cast<off_t>(end)) != 0 || ::fdatasync(log_.get()) != 0) return -errno;
  end_ = durable_ = end;
  return 0;
}

}  // namespace sashimono::statefs
