// FileSystem on Linux syscalls.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>

#include "FileUtil.h"
#include "sashimono/host/FileSystem.h"

namespace sashimono::host {
namespace {

class FlockLock : public FileSystem::Lock {
 public:
  explicit FlockLock(int fd) : fd_(fd) {}
  FlockLock(const FlockLock&) = delete;
  FlockLock& operator=(const FlockLock&) = delete;
  ~FlockLock() override { ::close(fd_); }  // closing the only descriptor releases the flock

 private:
  int fd_;
};

class LinuxFileSystem : public FileSystem {
 public:
  core::Status makeDir(const std::string& dir, mode_t mode) override {
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST)
      return core::Error::fromErrno("cannot create " + dir);
    if (::chmod(dir.c_str(), mode) != 0) return core::Error::fromErrno("cannot chmod " + dir);
    return {};
  }

  core::Result<std::vector<std::string>> listDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (!d) return core::Error::fromErrno("cannot list " + dir);
    std::vector<std::string> out;
    errno = 0;
    while (auto* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(std::move(n));
      errno = 0;
    }
    const int e = errno;
    ::closedir(d);
    if (e != 0) return core::Error::fromErrno("cannot list " + dir, e);
    return out;
  }

  core::Result<std::string> readFile(const std::string& path) override { return detail::readFile(path); }

  core::Status writeFileAtomic(const std::string& path, const std::string& content, mode_t mode,
                               bool durable) override {
    return detail::writeFileAtomic(path, content, static_cast<int>(mode), durable);
  }

  core::Status removeFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return core::Error::fromErrno("cannot remove " + path);
    return {};
  }

  bool exists(const std::string& path) override { return detail::exists(path); }

  core::Result<std::string> realPath(const std::string& path) override {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) return core::Error::fromErrno("cannot resolve " + path);
    return std::string(buf);
  }

  core::Result<std::unique_ptr<Lock>> lockExclusive(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return core::Error::fromErrno("cannot open " + path);
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return core::Error::fromErrno("cannot lock " + path, e);
    }
    return std::unique_ptr<Lock>(std::make_unique<FlockLock>(fd));
  }
};

}  // namespace

std::unique_ptr<FileSystem> makeLinuxFileSystem() { return std::make_unique<LinuxFileSystem>(); }

}  // namespace sashimono::host
