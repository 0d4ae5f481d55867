#pragma once
// StateFs: serves a StateBackend as a FUSE filesystem (libfuse3, high-level path API).
//
// Why the high-level API: every request arrives with a state path, which is exactly what
// the backend — and the hashing a later issue adds, which keys its tree by path — wants;
// libfuse keeps the inode table, lookup counts and forget logic. Path resolution stays safe
// because SourceDir resolves every path beneath the source root without following symlinks.
// Handle-based calls (read/write/fsync/ftruncate) use the handle, not the path
// (nullpath_ok, hard_remove), so open-then-unlink works without hidden files.
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "sashimono/core/Result.h"
#include "sashimono/statefs/OwnerMap.h"
#include "sashimono/statefs/StateBackend.h"

struct fuse;

namespace sashimono::statefs {

inline constexpr const char* kFsName = "sashimono-statefs";
inline constexpr const char* kSubtype = "statefs";  // mountinfo shows "fuse.statefs"

struct MountOptions;
// Called once from a helper thread: ok when the mountpoint answers as a FUSE filesystem,
// or the error that stopped it from becoming usable.
using ReadyFn = std::function<void(const core::Status&)>;

// Tells the kernel that paths changed behind a served mount (a sync renames files into the source
// outside any FUSE request): it drops what it caches of them — attributes and page cache
// (fuse_invalidate_path; for a removed name, the next lookup asks and finds it gone — the root
// test checks it — but the kernel is not told about names explicitly).
// Any thread; calls while no mount is served do nothing. Never call it while a change through the
// mount may be waiting for something the caller holds (the kernel may wait for that change's
// pages): HashingBackend's exclusive section, for one.
class MountNotifier {
 public:
  void invalidate(const std::string& path);

 private:
  friend core::Status serve(const MountOptions& opts, StateBackend& backend, const ReadyFn& onReady);
  std::mutex mu_;
  struct fuse* fuse_ = nullptr;  // while serve() runs
};

struct MountOptions {
  std::string mountpoint;         // absolute path of an existing directory
  bool allowOther = false;        // let other users (the container) in; kernel checks modes
  double attrTimeout = 1.0;       // seconds the kernel may cache attributes
  double entryTimeout = 1.0;      // seconds the kernel may cache names
  double negativeTimeout = 0.0;   // seconds the kernel may cache "no such file"
  unsigned maxThreads = 4;        // FUSE worker threads
  std::optional<OwnerMap> owner;  // the owner presented for the daemon's files (OwnerMap.h)
  bool readOnly = false;          // mount option `ro` (the views mount)
  // Install the SIGTERM/SIGINT/SIGHUP handlers that end the session. A second mount of the same
  // process (the views) goes without: it ends when it is unmounted (unmount()).
  bool signals = true;
  MountNotifier* notifier = nullptr;  // attached while the mount is served
};

// Mounts, installs SIGTERM/SIGINT/SIGHUP handlers that unmount, calls onReady, and serves
// until the filesystem is unmounted (signal, `fusermount3 -u`, or `umount`). Blocks.
// Returns ok on a clean unmount. Sets the process umask to 0 (modes come from the caller).
// Not re-entrant: one StateFs::serve with `signals` per process at a time (libfuse signal handlers
// are global); others (without) may run beside it, on threads of their own.
[[nodiscard]] core::Status serve(const MountOptions& opts, StateBackend& backend, const ReadyFn& onReady);

// Unmounts a state filesystem (any FUSE mount) at `mountpoint`, falling back to a lazy
// unmount when it is busy. Refuses a mountpoint that is not a FUSE mount. Returns false
// when nothing was mounted there (not an error), true when it unmounted something.
[[nodiscard]] core::Result<bool> unmount(const std::string& mountpoint);

}  // namespace sashimono::statefs
