#pragma once
// Per-tenant disk limit: a preallocated ext4 image, attached to a loop device (autoclear) and
// mounted nodev,nosuid on the tenant's home. The kernel enforces the size: writes past it fail
// with ENOSPC. See docs/TENANTS.md for why this and not quotas.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/ProcessRunner.h"

namespace sashimono::host {

// Entries owned by fromUid get toUid, entries of group fromGid get toGid.
struct Reown {
  uid_t fromUid = 0;
  uid_t toUid = 0;
  gid_t fromGid = 0;
  gid_t toGid = 0;
};
// Walks dir (dir included) without following symlinks or leaving its filesystem and lchown's what
// `what` names, keeping a regular file's set-id bits. Path based: only for a tree no process of
// its owners can change meanwhile (the provisioner, before any tenant process runs). Returns how
// many entries changed.
core::Result<std::uint64_t> reownTree(const std::string& dir, const Reown& what);

struct MountEntry {
  std::string mountPoint;
  std::string fsType;
  std::string source;
};
// /proc/self/mountinfo content; mount points unescaped (\040 etc.).
std::vector<MountEntry> parseMountInfo(std::string_view text);

struct DiskSpace {
  std::uint64_t usedBytes = 0;
  std::uint64_t totalBytes = 0;
};

class Disks {
 public:
  virtual ~Disks() = default;
  // Creates (fallocate + mkfs.ext4, root dir owned by owner) the image when missing, attaches
  // and mounts it on mountPoint (created when missing). Idempotent when already mounted.
  virtual core::Status create(const std::string& image, const std::string& mountPoint, std::uint64_t bytes,
                              uid_t owner, gid_t group) = 0;
  // Creates dir when missing, then sets its owner and mode (lchown, chmod): used by root on a
  // freshly made tenant disk, before any tenant process exists.
  virtual core::Status ensureDir(const std::string& dir, mode_t mode, uid_t owner, gid_t group) = 0;
  // Writes a file atomically (temp file with O_EXCL|O_NOFOLLOW, fchown, fchmod, rename) in a
  // directory only root can write to (the tenant's info directory).
  virtual core::Status writeFile(const std::string& path, const std::string& content, mode_t mode,
                                 uid_t owner, gid_t group) = 0;
  // Removes a directory tree that holds no mount; ok when absent.
  virtual core::Status removeTree(const std::string& dir) = 0;
  // Mounts an existing image (after a reboot). Idempotent.
  virtual core::Status attach(const std::string& image, const std::string& mountPoint) = 0;
  // Unmounts everything at or under mountPoint, detaches loop devices backed by image,
  // removes image and the mount point. ok when absent.
  virtual core::Status remove(const std::string& image, const std::string& mountPoint) = 0;
  // Mount points at or under dir, deepest first.
  virtual core::Result<std::vector<std::string>> mountsUnder(const std::string& dir) = 0;
  // Loop devices whose backing file is under dir (for leak checks and reconcile).
  virtual core::Result<std::vector<std::string>> loopDevicesUnder(const std::string& dir) = 0;
  // reownTree (below): how many entries were given to the new owner.
  virtual core::Result<std::uint64_t> reown(const std::string& dir, const Reown& what) = 0;
  // Used and total bytes of the filesystem mounted on mountPoint (statvfs); an error when nothing
  // is mounted there.
  virtual core::Result<DiskSpace> space(const std::string& mountPoint) {
    return core::Error("disk space of " + mountPoint + ": not available");
  }
};

std::unique_ptr<Disks> makeLinuxDisks(ProcessRunner& runner);

// Mount points at or under dir, deepest first, from /proc/self/mountinfo.
core::Result<std::vector<std::string>> mountsUnder(const std::string& dir);
// Detaches (MNT_DETACH) each mount at or under dir, deepest first.
core::Status unmountUnder(const std::string& dir);

}  // namespace sashimono::host
