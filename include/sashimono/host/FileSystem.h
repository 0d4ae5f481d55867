#pragma once
// The few file operations the Provisioner needs (its base and images directories), behind a
// port, as leveldb's Env: the Linux implementation does the syscalls; the in-memory one
// (MemFileSystem.h) lets the Provisioner's logic be unit-tested without a disk. Paths are
// absolute strings; errors name the path and carry an errno value (readFile of a missing file:
// errnum == ENOENT in both implementations).
//
// Thread-safety: both implementations may be used from several threads at once. lockExclusive
// blocks until no other holder of a lock on the same path remains (Linux: flock, so also across
// processes; in memory: within the one MemFileSystem).
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::host {

class FileSystem {
 public:
  // Held while it lives; released by its destructor.
  class Lock {
   public:
    virtual ~Lock() = default;
  };

  virtual ~FileSystem() = default;
  // Creates the directory if it does not exist (its parent must) and sets its mode either way.
  virtual core::Status makeDir(const std::string& dir, mode_t mode) = 0;
  // The entry names in dir, without "." and "..", in no particular order.
  virtual core::Result<std::vector<std::string>> listDir(const std::string& dir) = 0;
  virtual core::Result<std::string> readFile(const std::string& path) = 0;
  // Readers see the old or the new content, never a mix (temp file and rename); a symlink at path
  // is replaced, not followed. durable: on stable storage before it returns (fsync).
  virtual core::Status writeFileAtomic(const std::string& path, const std::string& content, mode_t mode,
                                       bool durable) = 0;
  // Ok when nothing is there.
  virtual core::Status removeFile(const std::string& path) = 0;
  // Anything at path (a dangling symlink too).
  [[nodiscard]] virtual bool exists(const std::string& path) = 0;
  // The path with every symlink resolved (realpath(3)); an error when something on it is missing.
  virtual core::Result<std::string> realPath(const std::string& path) = 0;
  // Creates the lock file (mode 0600) if needed and waits for an exclusive lock on it.
  virtual core::Result<std::unique_ptr<Lock>> lockExclusive(const std::string& path) = 0;
};

// The in-memory one is MemFileSystem.h.
std::unique_ptr<FileSystem> makeLinuxFileSystem();

}  // namespace sashimono::host
