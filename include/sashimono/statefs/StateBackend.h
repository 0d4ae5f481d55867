#pragma once
// StateBackend: every operation of the state filesystem, by path or by open handle.
//
// The FUSE layer (StateFs) only translates requests into these calls, so every change to
// the state — data, names, modes, times — passes through one implementation. A later
// issue adds hashing and checkpoints by wrapping a backend (a decorator that forwards to a
// PassthroughBackend and records what changed), without touching the FUSE layer.
//
// Conventions (FUSE's, kept on purpose: this is the hot path, called per request):
//  - Paths are state paths ("/" or "/a/b", see StatePath.h); every method validates them.
//  - Methods return 0 (or a byte count) on success and -errno on failure; they never throw.
//  - A Handle is opaque to callers and valid from open/create/opendir until release/releasedir.
//    Handle-based calls do not need the path: a file may have been renamed or unlinked since.
// Thread-safety: implementations must accept concurrent calls from many FUSE worker
// threads, including concurrent calls on the same handle.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

namespace sashimono::statefs {

using Handle = std::uint64_t;

struct DirEntry {
  const char* name;
  ino_t ino;
  unsigned char type;  // DT_* value
  off_t nextOffset;    // pass back to readdir to continue after this entry
};
// Returns true when the caller's buffer is full: the entry was NOT taken and readdir must stop.
using DirFiller = std::function<bool(const DirEntry&)>;

// Where the bytes of a writeFrom come from: `copy(context, fd, offset, size)` puts up to `size`
// bytes at `offset` of the descriptor `fd` (pwrite or splice, never O_APPEND semantics) and
// answers how many it wrote, or -errno. A plain pointer pair: no allocation per write.
struct WriteSource {
  long (*copy)(void* context, int fd, off_t offset, std::size_t size);
  void* context;
};

class StateBackend {
 public:
  virtual ~StateBackend() = default;

  // --- reads and handles -------------------------------------------------------------
  virtual int getattr(std::string_view path, struct stat& st) = 0;  // does not follow a final symlink
  virtual int fgetattr(Handle h, struct stat& st) = 0;
  virtual int readlink(std::string_view path, char* buf, std::size_t size) = 0;  // NUL-terminates
  virtual int access(std::string_view path, int mask) = 0;
  virtual int statfs(struct statvfs& st) = 0;
  virtual int open(std::string_view path, int flags, Handle& out) = 0;        // never creates
  virtual int read(Handle h, char* buf, std::size_t size, off_t offset) = 0;  // bytes read
  // A descriptor whose bytes at any offset are exactly what read(h, …) answers, valid until
  // release(h), for the FUSE layer to splice from; -1 when there is none (then read() must be
  // used: a backend that composes what it answers, as the views do, never exposes one).
  virtual int readFd(Handle) { return -1; }
  virtual int flush(Handle h) = 0;
  virtual int release(Handle h) = 0;
  virtual int opendir(std::string_view path, Handle& out) = 0;
  virtual int readdir(Handle h, off_t offset, const DirFiller& fill) = 0;
  virtual int releasedir(Handle h) = 0;

  // --- writes: every change to the state goes through one of these ----------------------
  virtual int create(std::string_view path, int flags, mode_t mode, Handle& out) = 0;
  virtual int write(Handle h, const char* buf, std::size_t size, off_t offset) = 0;  // bytes written
  // write() whose bytes come from `src` (a splice from the FUSE device), with every rule of
  // write(): a decorator does what it does before write()'s bytes land (undo data) before it
  // calls `src`, and what it does after (marks) for the bytes `src` reports. -ENOSYS when the
  // backend cannot (then the caller copies the bytes and calls write()).
  virtual int writeFrom(Handle, std::size_t, off_t, const WriteSource&) { return -ENOSYS; }
  virtual int truncate(std::string_view path, off_t size) = 0;
  virtual int ftruncate(Handle h, off_t size) = 0;
  virtual int fallocate(Handle h, int mode, off_t offset, off_t length) = 0;
  virtual int fsync(Handle h, bool dataOnly) = 0;
  virtual int fsyncdir(Handle h, bool dataOnly) = 0;
  virtual int mknod(std::string_view path, mode_t mode, dev_t dev) = 0;  // regular files and FIFOs only
  virtual int mkdir(std::string_view path, mode_t mode) = 0;
  virtual int unlink(std::string_view path) = 0;
  virtual int rmdir(std::string_view path) = 0;
  virtual int symlink(std::string_view target, std::string_view linkPath) = 0;
  virtual int rename(std::string_view from, std::string_view to, unsigned int flags) = 0;  // RENAME_* flags
  virtual int link(std::string_view from, std::string_view to) = 0;
  virtual int chmod(std::string_view path, mode_t mode) = 0;
  virtual int fchmod(Handle h, mode_t mode) = 0;
  virtual int chown(std::string_view path, uid_t uid, gid_t gid) = 0;  // -1 leaves a value unchanged
  virtual int fchown(Handle h, uid_t uid, gid_t gid) = 0;
  virtual int utimens(std::string_view path, const struct timespec ts[2]) = 0;  // does not follow
  virtual int futimens(Handle h, const struct timespec ts[2]) = 0;
};

}  // namespace sashimono::statefs
