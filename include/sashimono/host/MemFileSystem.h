#pragma once
// FileSystem in memory, for unit tests of logic that keeps files (the Provisioner's records,
// through fakes of the other host interfaces). Starts empty but for "/"; as on Linux, a directory
// or file needs its parent directory to exist. Modes are kept, not enforced; durable is ignored.
//
// Thread-safety: any method from any thread. Locks may outlive the MemFileSystem.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/host/FileSystem.h"

namespace sashimono::host {

class MemFileSystem final : public FileSystem {
 public:
  MemFileSystem();
  core::Status makeDir(const std::string& dir, mode_t mode) override;
  core::Result<std::vector<std::string>> listDir(const std::string& dir) override;
  core::Result<std::string> readFile(const std::string& path) override;
  core::Status writeFileAtomic(const std::string& path, const std::string& content, mode_t mode,
                               bool durable) override;
  core::Status removeFile(const std::string& path) override;
  [[nodiscard]] bool exists(const std::string& path) override;
  // Follows the symlinks made by makeSymlink (the other methods do not).
  core::Result<std::string> realPath(const std::string& path) override;
  core::Result<std::unique_ptr<Lock>> lockExclusive(const std::string& path) override;

  // For fakes and tests, beyond the port:
  // Makes dir and every missing parent (mode 0755; dir itself gets mode).
  void makeDirs(const std::string& dir, mode_t mode = 0755);
  // Removes path and everything under it; nothing when it does not exist.
  void removeTree(const std::string& path);
  // A symlink at path to target (absolute, or relative to path's directory); replaces one there.
  void makeSymlink(const std::string& path, const std::string& target);
  // The mode of whatever is at path.
  [[nodiscard]] std::optional<mode_t> mode(const std::string& path) const;

  struct State;

 private:
  std::shared_ptr<State> s_;
};

}  // namespace sashimono::host
