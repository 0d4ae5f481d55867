#pragma once
// RoundBackend: the StateBackend decorator that makes a round undoable (docs/STATEFS.md,
// "Rounds"). It sits between the HashingBackend and the PassthroughBackend:
//
//   StateFs → HashingBackend (marks the tree) → RoundBackend (undo log) → PassthroughBackend
//
// Outside a round it forwards every call. Inside one (begin() … commit()/rollback()), before a
// change reaches the state it makes durable in the UndoLog what undoes it:
//   create, mknod, mkdir, symlink, link   a `created` record (the name must not exist)
//   unlink, rmdir                         the entry is moved to the round's trash, not removed
//   rename over an existing entry         the target goes to the trash, then a `renamed` record
//   rename, RENAME_EXCHANGE               `renamed` / `exchanged`
//   chmod / fchmod                        the old mode (by path / by the file's link)
//   write(From), truncate, fallocate,     the file is linked into the round (once), then the old
//   O_TRUNC                               bytes of each 64 KiB block at its first change and the
//                                         old size at the first size change
// Files created in the round carry no data records (removing them undoes them). If the undo
// data cannot be saved (ENOSPC, EDQUOT, EIO…), the change is refused with that errno and the
// state is untouched. fallocate's collapse and insert range are refused (EOPNOTSUPP) in a round.
// Owners and times are not undone (they are not part of the state hash).
//
// Thread-safety: changes in a round are serialised by one mutex (the record and its change are
// one step); reads are never held. begin/commit/rollback must run while no change is in flight
// (HashingBackend::exclusive).
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/statefs/PassthroughBackend.h"
#include "sashimono/statefs/RoundJournal.h"
#include "sashimono/statefs/UndoLog.h"

namespace sashimono::statefs {

class RoundBackend final : public StateBackend {
 public:
  // `inner` and `source` (the directory `inner` serves) must outlive this backend. `log` must
  // hold no round (recover it first: UndoLog::rollback).
  RoundBackend(PassthroughBackend& inner, const SourceDir& source, UndoLog log);

  [[nodiscard]] bool inRound() const;
  [[nodiscard]] core::Status begin();
  // Takes up the round a stopped daemon left on disk (UndoLog::resume), for its owner to commit
  // (the round's ledger was stored) or roll back. Until then the round is `recovered`: changes
  // are refused (EROFS) and no view can be opened, since what the round changed is known only
  // to the log. False when there was no round to take up.
  [[nodiscard]] core::Result<bool> resume();
  [[nodiscard]] bool recovered() const { return recovered_.load(); }
  [[nodiscard]] core::Status commit();
  // Restores the state of begin(); `marks` is told what was restored.
  [[nodiscard]] core::Status rollback(StateTree* marks);
  [[nodiscard]] std::uint64_t undoBytes() const;
  // Changes of the open round refused for want of space (ENOSPC, EDQUOT: the change itself or
  // its undo data): a round that lost writes this way must not be committed (the control
  // protocol's `root` and `commit` refuse it; roll it back).
  [[nodiscard]] std::uint64_t spaceRefusals() const { return spaceRefusals_.load(); }
  // Incremented by every commit: a view belongs to one committed state (RoundViews.cpp).
  [[nodiscard]] std::uint64_t epoch() const { return epoch_.load(); }

  // ---- the committed state, read while a round writes (RoundViews.cpp) ----
  // Paths are committed state paths; each call holds the round's lock, so it sees the state
  // between two changes. -ESTALE when `epoch` is not the current one (a commit came between).
  struct ViewEntry {
    std::string name;
    struct stat st;
  };
  struct ViewFile {
    UniqueFd fd;     // the object now (in the state or in the trash)
    ino_t ino = 0;   // its inode
    off_t size = 0;  // its committed size
    std::uint64_t epoch = 0;
  };
  int viewStat(std::uint64_t epoch, std::string_view path, struct stat& st);
  int viewReadlink(std::uint64_t epoch, std::string_view path, char* buf, std::size_t size);
  int viewList(std::uint64_t epoch, std::string_view path, std::vector<ViewEntry>& out);
  int viewOpen(std::uint64_t epoch, std::string_view path, ViewFile& out);
  int viewRead(ViewFile& f, char* buf, std::size_t size, off_t offset);
  int viewFstat(const ViewFile& f, struct stat& st);

  int getattr(std::string_view path, struct stat& st) override;
  int fgetattr(Handle h, struct stat& st) override;
  int readlink(std::string_view path, char* buf, std::size_t size) override;
  int access(std::string_view path, int mask) override;
  int statfs(struct statvfs& st) override;
  int open(std::string_view path, int flags, Handle& out) override;
  int read(Handle h, char* buf, std::size_t size, off_t offset) override;
  int readFd(Handle h) override;  // the current bytes: what read() answers
  int flush(Handle h) override;
  int release(Handle h) override;
  int opendir(std::string_view path, Handle& out) override;
  int readdir(Handle h, off_t offset, const DirFiller& fill) override;
  int releasedir(Handle h) override;

  int create(std::string_view path, int flags, mode_t mode, Handle& out) override;
  int write(Handle h, const char* buf, std::size_t size, off_t offset) override;
  int writeFrom(Handle h, std::size_t size, off_t offset, const WriteSource& src) override;
  int truncate(std::string_view path, off_t size) override;
  int ftruncate(Handle h, off_t size) override;
  int fallocate(Handle h, int mode, off_t offset, off_t length) override;
  int fsync(Handle h, bool dataOnly) override;
  int fsyncdir(Handle h, bool dataOnly) override;
  int mknod(std::string_view path, mode_t mode, dev_t dev) override;
  int mkdir(std::string_view path, mode_t mode) override;
  int unlink(std::string_view path) override;
  int rmdir(std::string_view path) override;
  int symlink(std::string_view target, std::string_view linkPath) override;
  int rename(std::string_view from, std::string_view to, unsigned int flags) override;
  int link(std::string_view from, std::string_view to) override;
  int chmod(std::string_view path, mode_t mode) override;
  int fchmod(Handle h, mode_t mode) override;
  int chown(std::string_view path, uid_t uid, gid_t gid) override;
  int fchown(Handle h, uid_t uid, gid_t gid) override;
  int utimens(std::string_view path, const struct timespec ts[2]) override;
  int futimens(Handle h, const struct timespec ts[2]) override;

 private:
  struct Tracked {
    std::uint64_t id = 0;
    std::set<std::uint64_t> blocks;  // saved
    bool size = false;               // old size saved
    bool mode = false;               // old mode saved
    // For views: where each saved block's bytes are in the log (offset, length), the old size.
    std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::uint32_t>> blockAt;
    std::optional<std::uint64_t> oldSize;
  };
  // The object now at committed `path`: an O_PATH descriptor (-errno). mu_ held.
  int viewLocate(std::string_view path, UniqueFd& out, std::string* where = nullptr);
  void adjust(struct stat& st) const;  // the committed size, mode and link count
  [[nodiscard]] bool needsUndo(const struct stat& st) const;
  int track(int fd, const struct stat& st, Tracked*& out);
  // What a write of `size` bytes at `offset` needs saved first (saveRange), with mu_ held.
  int saveForWrite(Handle h, std::size_t size, off_t offset);
  // Saves the old bytes of the blocks in [offset, offset + length) and, when `sizeChanges`, the
  // old size, durably, before a change to the file behind `fd`.
  int saveRange(int fd, const struct stat& st, std::uint64_t offset, std::uint64_t length, bool sizeChanges);
  int truncateLocked(Handle h, off_t size);
  int created(std::string_view path);  // records a name about to be created; -EEXIST if it exists
  int trash(std::string_view path, std::uint64_t& id);
  int isEmptyDir(std::string_view path);  // 1, 0 or -errno
  int record(const UndoRecord& r);
  int noted(int rc);  // rc, counting a refusal for want of space
  // A change in a round (mu_ held): refused while the round is `recovered`, else `f()`, noted.
  template <typename F>
  int change(F&& f) {
    if (recovered_.load()) return -EROFS;
    return noted(f());
  }
  int journaled(int rc, JournalEntry e);  // rc, adding `e` to the journal when it is 0

  PassthroughBackend& inner_;
  const SourceDir& source_;
  std::mutex mu_;
  std::atomic<bool> round_{false};
  UndoLog log_;
  std::unordered_map<ino_t, Tracked> tracked_;
  std::unordered_set<ino_t> created_;
  RoundJournal journal_;
  std::atomic<std::uint64_t> epoch_{1};
  std::atomic<std::uint64_t> spaceRefusals_{0};  // in the open round
  std::atomic<bool> recovered_{false};           // the open round is one resume() took up
};

}  // namespace sashimono::statefs
