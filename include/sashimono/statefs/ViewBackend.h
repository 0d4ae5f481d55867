#pragma once
// ViewBackend: the read-only filesystem of views (docs/STATEFS.md, "Read-only views"), served
// by the daemon at `statefs mount --views DIR` beside the main mount. Its top level holds one
// directory per open view, named by the view's id; under it, the last committed state, as
// RoundBackend reads it through the open round's journal and undo data (no copy).
//
// A view shows the state committed when it was opened, until the next commit: a commit ends it
// (its directory goes; a call through a handle opened in it fails with ESTALE). A rollback does
// not (the committed state is the same). Changes made outside a round (before a `begin`) are
// part of the state a view shows as they happen.
//
// Every change is refused with EROFS. Thread-safety: any thread.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "sashimono/statefs/RoundBackend.h"

namespace sashimono::statefs {

inline constexpr std::size_t kMaxViews = 64;

class ViewBackend final : public StateBackend {
 public:
  explicit ViewBackend(RoundBackend& rounds) : rounds_(rounds) {}

  // Opens a view of the committed state: its id, or an error when kMaxViews are open.
  [[nodiscard]] core::Result<std::uint64_t> open();
  // Closes a view; false when no such view is open.
  bool close(std::uint64_t id);
  [[nodiscard]] std::size_t openViews();

  int getattr(std::string_view path, struct stat& st) override;
  int fgetattr(Handle h, struct stat& st) override;
  int readlink(std::string_view path, char* buf, std::size_t size) override;
  int access(std::string_view path, int mask) override;
  int statfs(struct statvfs& st) override;
  int open(std::string_view path, int flags, Handle& out) override;
  int read(Handle h, char* buf, std::size_t size, off_t offset) override;
  // No descriptor: a view's bytes are the current file's with the round's saved blocks laid
  // over them (and its size the committed one), so only read() can answer them.
  int readFd(Handle) override { return -1; }
  int flush(Handle h) override;
  int release(Handle h) override;
  int opendir(std::string_view path, Handle& out) override;
  int readdir(Handle h, off_t offset, const DirFiller& fill) override;
  int releasedir(Handle h) override;

  int create(std::string_view, int, mode_t, Handle&) override { return -EROFS; }
  int write(Handle, const char*, std::size_t, off_t) override { return -EROFS; }
  int truncate(std::string_view, off_t) override { return -EROFS; }
  int ftruncate(Handle, off_t) override { return -EROFS; }
  int fallocate(Handle, int, off_t, off_t) override { return -EROFS; }
  int fsync(Handle, bool) override { return 0; }
  int fsyncdir(Handle, bool) override { return 0; }
  int mknod(std::string_view, mode_t, dev_t) override { return -EROFS; }
  int mkdir(std::string_view, mode_t) override { return -EROFS; }
  int unlink(std::string_view) override { return -EROFS; }
  int rmdir(std::string_view) override { return -EROFS; }
  int symlink(std::string_view, std::string_view) override { return -EROFS; }
  int rename(std::string_view, std::string_view, unsigned int) override { return -EROFS; }
  int link(std::string_view, std::string_view) override { return -EROFS; }
  int chmod(std::string_view, mode_t) override { return -EROFS; }
  int fchmod(Handle, mode_t) override { return -EROFS; }
  int chown(std::string_view, uid_t, gid_t) override { return -EROFS; }
  int fchown(Handle, uid_t, gid_t) override { return -EROFS; }
  int utimens(std::string_view, const struct timespec[2]) override { return -EROFS; }
  int futimens(Handle, const struct timespec[2]) override { return -EROFS; }

 private:
  // "/<id>/rest" → the view's epoch and the committed path "/rest"; -ENOENT for no open view,
  // 1 for the top level itself.
  int split(std::string_view path, std::uint64_t& epoch, std::string& rest);
  void prune();  // mu_ held: forgets views a commit ended

  RoundBackend& rounds_;
  std::mutex mu_;
  std::map<std::uint64_t, std::uint64_t> views_;  // id → epoch
  std::uint64_t next_ = 1;
};

}  // namespace sashimono::statefs
