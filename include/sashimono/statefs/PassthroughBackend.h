#pragma once
// PassthroughBackend: a StateBackend that maps every operation 1:1 onto the source
// directory, resolving paths only through SourceDir (so nothing outside it is reachable and
// no symlink is followed by the daemon). File handles are file descriptors; directory
// handles own a DIR stream. Thread-safe: holds no mutable state besides per-handle locks.
#include "sashimono/statefs/SourceDir.h"
#include "sashimono/statefs/StateBackend.h"

namespace sashimono::statefs {

class PassthroughBackend final : public StateBackend {
 public:
  explicit PassthroughBackend(SourceDir source) : source_(std::move(source)) {}
  [[nodiscard]] const SourceDir& source() const { return source_; }

  int getattr(std::string_view path, struct stat& st) override;
  int fgetattr(Handle h, struct stat& st) override;
  int readlink(std::string_view path, char* buf, std::size_t size) override;
  int access(std::string_view path, int mask) override;
  int statfs(struct statvfs& st) override;
  int open(std::string_view path, int flags, Handle& out) override;
  int read(Handle h, char* buf, std::size_t size, off_t offset) override;
  int readFd(Handle h) override;  // the source file's descriptor
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
  // Opens the leaf of `path` itself as O_PATH | O_NOFOLLOW (the root when path is "/").
  int openLeafPath(std::string_view path, UniqueFd& out);

  SourceDir source_;
};

}  // namespace sashimono::statefs
