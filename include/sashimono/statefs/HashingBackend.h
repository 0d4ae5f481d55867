#pragma once
// HashingBackend: the StateBackend decorator that keeps the hash tree of the state. It forwards
// every call to an inner backend (the PassthroughBackend, or the RoundBackend that makes rounds
// undoable in front of it) and, when a change succeeds, marks
// in a StateTree what the change may have touched, so that the root after a round costs what
// the round wrote (docs/STATEFS.md, "The hash tree in the filesystem"):
//
//   create, mknod, mkdir, symlink, unlink, rmdir   markEntry(path)
//   link                                           markEntry(new name)
//   rename                                         markRename(from, to); RENAME_EXCHANGE:
//                                                  markEntry(from) and markEntry(to)
//   chmod                                          markMode(path)
//   fchmod                                         markInodeMode(inode of the handle)
//   write, writeFrom                               markData(inode, offset, bytes written)
//   fallocate                                      markData(inode, offset, length); collapse
//                                                  and insert range: from offset to the end
//   truncate, ftruncate, open with O_TRUNC         markTruncate(inode, size)
//   chown, utimens, reads, fsync                   nothing (not part of the hash)
//
// Handles: open and create return a handle of this class that holds the inner handle and
// the file's inode number, read once (fgetattr of the inner handle) at the first change made
// through it, so a write costs no extra system call and a read-only open none at all. The
// inode follows the file through renames and unlinks; the tree maps it to every name it has.
// Directory handles are the inner ones, unchanged. Files are opened without O_APPEND: the
// kernel resolves an append to the file's end before the request arrives (FUSE always does),
// and a descriptor in append mode would put the bytes somewhere other than the offset marked.
// A path truncate opens the file and truncates the handle, so the inode marked is the one
// truncated even if the name is replaced meanwhile.
//
// Thread-safety: as StateBackend. Changes (the inner call and its mark) hold a shared lock;
// refresh() holds it exclusively, so the root it answers is the state at one instant: changes
// wait while it is computed, reads do not; a stream of changes cannot starve it.
#include <atomic>
#include <functional>
#include <mutex>
#include <shared_mutex>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/statefs/StateBackend.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::statefs {

class HashingBackend final : public StateBackend {
 public:
  // Creates the tree of the state from scratch when marks cannot be trusted any more.
  using TreeFactory = std::function<core::Result<StateTree>()>;

  // `inner` must outlive this backend; `tree` must describe the state `inner` serves.
  // `rebuild` (optional) is used when refresh() fails or a handle's inode could not be read.
  HashingBackend(StateBackend& inner, StateTree tree, TreeFactory rebuild = {});

  // Applies the marks and returns the root: the state hash. Blocks changes meanwhile. When the
  // tree cannot be refreshed incrementally it is rebuilt with `rebuild` (error without one).
  [[nodiscard]] core::Result<crypto::Hash256> refresh();
  // refresh(), then `use(tree)` while changes are still blocked (persisting the tree at an
  // orderly stop: TreeStore::save). The refresh's error is returned without calling `use`.
  [[nodiscard]] core::Status withTree(const std::function<core::Status(StateTree&)>& use);
  // Runs `step` while no change is in flight (the exclusion refresh() uses), giving it the tree to
  // mark what it changes, then refreshes and answers the root. A round's begin, commit and
  // rollback run here. An error of `step` is answered as is (the tree is refreshed anyway at the
  // next refresh: the marks `step` made stay).
  [[nodiscard]] core::Result<crypto::Hash256> exclusive(const std::function<core::Status(StateTree&)>& step);
  // Runs `use(tree)` while no refresh can run; changes go on (they only mark). The tree is as
  // of the last refresh: serving its hashes (`sync answer`) while a round writes.
  void reading(const std::function<void(const StateTree&)>& use);

  int getattr(std::string_view path, struct stat& st) override;
  int fgetattr(Handle h, struct stat& st) override;
  int readlink(std::string_view path, char* buf, std::size_t size) override;
  int access(std::string_view path, int mask) override;
  int statfs(struct statvfs& st) override;
  int open(std::string_view path, int flags, Handle& out) override;
  int read(Handle h, char* buf, std::size_t size, off_t offset) override;
  int readFd(Handle h) override;
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
  struct File;
  static File& fileOf(Handle h);
  // The inode of the file behind `f` (0 when it cannot be read: the tree is then rebuilt).
  ino_t inodeOf(File& f);
  void markWritten(File& f, off_t offset, int n);  // with the change lock held
  int wrap(Handle inner, Handle& out);
  std::shared_lock<std::shared_mutex> changeLock();
  core::Result<crypto::Hash256> refreshLocked();  // with gate_ and changes_ held

  StateBackend& inner_;
  StateTree tree_;
  TreeFactory rebuild_;
  // Shared by a change and its mark, exclusive for refresh. The gate keeps a stream of changes
  // from starving refresh (a reader-preferring lock alone would let them).
  std::mutex gate_;
  std::shared_mutex changes_;
  std::atomic<bool> lost_{false};  // a change could not be marked: rebuild at the next refresh
};

}  // namespace sashimono::statefs
