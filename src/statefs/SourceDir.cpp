#include "sashimono/statefs/SourceDir.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace sashimono::statefs {

namespace {

constexpr std::uint64_t kResolveFlags =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

// The flags openat2 accepts; it fails with EINVAL on anything else, while the kernel's FUSE
// requests may carry internal bits (e.g. __FMODE_EXEC when a program is executed).
constexpr int kOpenFlags = O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC |
                           O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_PATH;

int openat2Raw(int dirfd, const char* rel, int flags, mode_t mode) noexcept {
  flags &= kOpenFlags;
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;  // openat2 refuses a stray mode
  how.resolve = kResolveFlags;
  for (int attempt = 0; attempt < 8; ++attempt) {
    long fd = ::syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EAGAIN && errno != EINTR) return -errno;  // EAGAIN: concurrent rename, retry
  }
  return -EAGAIN;
}

int openat2Dir(int dirfd, const char* rel) noexcept {
  return openat2Raw(dirfd, rel, O_PATH | O_DIRECTORY, 0);
}

bool openat2Works(int rootfd) {
  int fd = openat2Dir(rootfd, ".");
  if (fd >= 0) {
    ::close(fd);
    return true;
  }
  return fd != -ENOSYS && fd != -EPERM;  // EPERM: some seccomp profiles refuse unknown syscalls
}

}  // namespace

core::Result<SourceDir> SourceDir::open(const std::string& path, Resolver r) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return core::Error::fromErrno("statefs: cannot open source directory " + path);
  bool walk = r == Resolver::kWalk || !openat2Works(fd.get());
  return SourceDir(std::move(fd), walk);
}

int SourceDir::walkDir(std::string_view rel, UniqueFd& out) const noexcept {
  UniqueFd cur;
  int curfd = root_.get();
  char name[NAME_MAX + 1];
  std::size_t start = 0;
  while (start <= rel.size()) {
    std::size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    std::string_view comp = rel.substr(start, end - start);
    if (!isPlainName(comp)) return -EINVAL;
    std::memcpy(name, comp.data(), comp.size());  // comp is non-empty (isPlainName)
    name[comp.size()] = '\0';
    // O_NOFOLLOW with O_PATH would open a symlink itself; O_DIRECTORY then refuses it (ENOTDIR).
    int next = ::openat(curfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) return -errno;
    // Refuse crossing into another mount, like RESOLVE_NO_XDEV.
    struct stat a {
    }, b{};
    if (::fstat(curfd, &a) != 0 || ::fstat(next, &b) != 0) {
      int e = errno;
      ::close(next);
      return -e;
    }
    if (a.st_dev != b.st_dev) {
      ::close(next);
      return -EXDEV;
    }
    cur.reset(next);
    curfd = next;
    start = end + 1;
  }
  out = std::move(cur);
  return 0;
}

int SourceDir::openDir(std::string_view rel, UniqueFd& out) const noexcept {
  if (walk_) return walkDir(rel, out);
  char buf[PATH_MAX];
  if (rel.size() >= sizeof buf) return -ENAMETOOLONG;
  if (!rel.empty()) std::memcpy(buf, rel.data(), rel.size());
  buf[rel.size()] = '\0';
  int fd = openat2Dir(root_.get(), buf);
  if (fd < 0) return fd;
  out.reset(fd);
  return 0;
}

int SourceDir::openLeaf(const ParentRef& parent, int flags, mode_t mode) const noexcept {
  const char* name = parent.isRoot() ? "." : parent.leaf;
  if (!walk_) return openat2Raw(parent.dirfd, name, flags, mode);
  int fd = ::openat(parent.dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return -errno;
  struct stat a {
  }, b{};
  if (::fstat(parent.dirfd, &a) != 0 || ::fstat(fd, &b) != 0 || a.st_dev != b.st_dev) {
    ::close(fd);
    return -EXDEV;
  }
  return fd;
}

int SourceDir::parentOf(std::string_view statePath, ParentRef& out) const noexcept {
  SplitPath sp;
  if (int rc = splitStatePath(statePath, sp); rc != 0) return rc;
  if (!sp.leaf.empty()) std::memcpy(out.leaf, sp.leaf.data(), sp.leaf.size());
  out.leaf[sp.leaf.size()] = '\0';
  if (sp.parent.empty()) {
    out.owned.reset();
    out.dirfd = root_.get();
    return 0;
  }
  if (int rc = openDir(sp.parent, out.owned); rc != 0) return rc;
  out.dirfd = out.owned.get();
  return 0;
}

}  // namespace sashimono::statefs
