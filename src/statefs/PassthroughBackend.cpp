#include "sashimono/statefs/PassthroughBackend.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <mutex>
#include <string>

namespace sashimono::statefs {

namespace {

// Name to use with *at calls: "." stands for the root itself.
const char* nameOf(const ParentRef& p) { return p.isRoot() ? "." : p.leaf; }

int fdOf(Handle h) { return static_cast<int>(h); }

int ok(int rc) { return rc == 0 ? 0 : -errno; }

struct DirHandle {
  DIR* dir = nullptr;
  std::mutex mu;
  off_t offset = 0;
  struct dirent* pending = nullptr;  // read but not yet taken by the caller
  ~DirHandle() {
    if (dir != nullptr) ::closedir(dir);
  }
};

DirHandle* dirOf(Handle h) { return reinterpret_cast<DirHandle*>(static_cast<std::uintptr_t>(h)); }

// Opens `name` under `dirfd` without following a symlink and without blocking on a FIFO;
// refuses anything that is not a regular file (a FIFO or socket may appear there by a
// host-side race; the kernel never sends open for special files it knows about).
int openRegular(const SourceDir& source, const ParentRef& p, int flags, mode_t mode) {
  const bool wantNonblock = (flags & O_NONBLOCK) != 0;
  int fd = source.openLeaf(p, flags | O_NONBLOCK, mode);
  if (fd < 0) return fd;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    ::close(fd);
    return -e;
  }
  if (!wantNonblock) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace

int PassthroughBackend::openLeafPath(std::string_view path, UniqueFd& out) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  int fd = source_.openLeaf(p, O_PATH | O_NOFOLLOW);
  if (fd < 0) return fd;
  out.reset(fd);
  return 0;
}

// --- reads and handles ---------------------------------------------------------------

int PassthroughBackend::getattr(std::string_view path, struct stat& st) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  return ok(::fstatat(p.dirfd, nameOf(p), &st, AT_SYMLINK_NOFOLLOW));
}

int PassthroughBackend::fgetattr(Handle h, struct stat& st) { return ok(::fstat(fdOf(h), &st)); }

int PassthroughBackend::readlink(std::string_view path, char* buf, std::size_t size) {
  if (size == 0) return -EINVAL;
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EINVAL;
  ssize_t n = ::readlinkat(p.dirfd, p.leaf, buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

int PassthroughBackend::access(std::string_view path, int mask) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  return ok(::faccessat(p.dirfd, nameOf(p), mask, AT_SYMLINK_NOFOLLOW));
}

int PassthroughBackend::statfs(struct statvfs& st) { return ok(::fstatvfs(source_.rootFd(), &st)); }

int PassthroughBackend::open(std::string_view path, int flags, Handle& out) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EISDIR;
  int fd = openRegular(source_, p, flags & ~(O_CREAT | O_EXCL | O_NOCTTY), 0);
  if (fd < 0) return fd;
  out = static_cast<Handle>(fd);
  return 0;
}

int PassthroughBackend::read(Handle h, char* buf, std::size_t size, off_t offset) {
  ssize_t n = ::pread(fdOf(h), buf, size, offset);
  return n < 0 ? -errno : static_cast<int>(n);
}

int PassthroughBackend::readFd(Handle h) { return fdOf(h); }

int PassthroughBackend::flush(Handle h) {
  // close() of a duplicate reports deferred write errors (as NFS and friends do) without
  // closing the handle itself.
  int dup = ::dup(fdOf(h));
  if (dup < 0) return -errno;
  return ok(::close(dup));
}

int PassthroughBackend::release(Handle h) { return ok(::close(fdOf(h))); }

int PassthroughBackend::opendir(std::string_view path, Handle& out) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  int fd = source_.openLeaf(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  if (fd < 0) return fd;
  auto* d = new DirHandle;
  d->dir = ::fdopendir(fd);
  if (d->dir == nullptr) {
    int e = errno;
    ::close(fd);
    delete d;
    return -e;
  }
  out = static_cast<Handle>(reinterpret_cast<std::uintptr_t>(d));
  return 0;
}

int PassthroughBackend::readdir(Handle h, off_t offset, const DirFiller& fill) {
  DirHandle* d = dirOf(h);
  std::lock_guard lock(d->mu);
  if (offset != d->offset) {
    ::seekdir(d->dir, offset);
    d->pending = nullptr;
    d->offset = offset;
  }
  while (true) {
    if (d->pending == nullptr) {
      errno = 0;
      d->pending = ::readdir(d->dir);
      if (d->pending == nullptr) return errno == 0 ? 0 : -errno;
    }
    const struct dirent* e = d->pending;
    if (fill(DirEntry{e->d_name, e->d_ino, e->d_type, e->d_off})) return 0;  // full; keep it
    d->offset = e->d_off;
    d->pending = nullptr;
  }
}

int PassthroughBackend::releasedir(Handle h) {
  delete dirOf(h);
  return 0;
}

// --- writes --------------------------------------------------------------------------

int PassthroughBackend::create(std::string_view path, int flags, mode_t mode, Handle& out) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EISDIR;
  int fd = openRegular(source_, p, (flags | O_CREAT) & ~O_NOCTTY, mode & 07777);
  if (fd < 0) return fd;
  out = static_cast<Handle>(fd);
  return 0;
}

int PassthroughBackend::write(Handle h, const char* buf, std::size_t size, off_t offset) {
  ssize_t n = ::pwrite(fdOf(h), buf, size, offset);
  return n < 0 ? -errno : static_cast<int>(n);
}

int PassthroughBackend::writeFrom(Handle h, std::size_t size, off_t offset, const WriteSource& src) {
  long n = src.copy(src.context, fdOf(h), offset, size);
  return static_cast<int>(n);
}

int PassthroughBackend::truncate(std::string_view path, off_t size) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EISDIR;
  int fd = openRegular(source_, p, O_WRONLY, 0);
  if (fd < 0) return fd;
  UniqueFd guard(fd);
  return ok(::ftruncate(fd, size));
}

int PassthroughBackend::ftruncate(Handle h, off_t size) { return ok(::ftruncate(fdOf(h), size)); }

int PassthroughBackend::fallocate(Handle h, int mode, off_t offset, off_t length) {
  return ok(::fallocate(fdOf(h), mode, offset, length));
}

int PassthroughBackend::fsync(Handle h, bool dataOnly) {
  return ok(dataOnly ? ::fdatasync(fdOf(h)) : ::fsync(fdOf(h)));
}

int PassthroughBackend::fsyncdir(Handle h, bool dataOnly) {
  int fd = ::dirfd(dirOf(h)->dir);
  return ok(dataOnly ? ::fdatasync(fd) : ::fsync(fd));
}

int PassthroughBackend::mknod(std::string_view path, mode_t mode, dev_t) {
  if (!S_ISREG(mode) && !S_ISFIFO(mode)) return -EPERM;  // no devices, no sockets
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EEXIST;
  return ok(::mknodat(p.dirfd, p.leaf, mode & (S_IFMT | 07777), 0));
}

int PassthroughBackend::mkdir(std::string_view path, mode_t mode) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EEXIST;
  return ok(::mkdirat(p.dirfd, p.leaf, mode & 07777));
}

int PassthroughBackend::unlink(std::string_view path) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EBUSY;
  return ok(::unlinkat(p.dirfd, p.leaf, 0));
}

int PassthroughBackend::rmdir(std::string_view path) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  if (p.isRoot()) return -EBUSY;
  return ok(::unlinkat(p.dirfd, p.leaf, AT_REMOVEDIR));
}

int PassthroughBackend::symlink(std::string_view target, std::string_view linkPath) {
  // The target is stored, never followed by the daemon; the kernel resolves it for the
  // caller, in the caller's own view (inside the container).
  if (target.empty() || target.size() >= PATH_MAX || target.find('\0') != std::string_view::npos)
    return -EINVAL;
  ParentRef p;
  if (int rc = source_.parentOf(linkPath, p); rc != 0) return rc;
  if (p.isRoot()) return -EEXIST;
  std::string t(target);
  return ok(::symlinkat(t.c_str(), p.dirfd, p.leaf));
}

int PassthroughBackend::rename(std::string_view from, std::string_view to, unsigned int flags) {
  if ((flags & ~static_cast<unsigned>(RENAME_NOREPLACE | RENAME_EXCHANGE)) != 0) return -EINVAL;
  ParentRef a, b;
  if (int rc = source_.parentOf(from, a); rc != 0) return rc;
  if (int rc = source_.parentOf(to, b); rc != 0) return rc;
  if (a.isRoot() || b.isRoot()) return -EBUSY;
  if (flags == 0) return ok(::renameat(a.dirfd, a.leaf, b.dirfd, b.leaf));
  return ok(::renameat2(a.dirfd, a.leaf, b.dirfd, b.leaf, flags));
}

int PassthroughBackend::link(std::string_view from, std::string_view to) {
  ParentRef a, b;
  if (int rc = source_.parentOf(from, a); rc != 0) return rc;
  if (int rc = source_.parentOf(to, b); rc != 0) return rc;
  if (a.isRoot() || b.isRoot()) return -EPERM;
  return ok(::linkat(a.dirfd, a.leaf, b.dirfd, b.leaf, 0));  // no AT_SYMLINK_FOLLOW
}

int PassthroughBackend::chmod(std::string_view path, mode_t mode) {
  // fchmodat() would follow a final symlink; chmod the inode we hold instead, through its
  // /proc/self/fd entry (which names that exact inode, not a path).
  UniqueFd fd;
  if (int rc = openLeafPath(path, fd); rc != 0) return rc;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return -errno;
  if (S_ISLNK(st.st_mode)) return -EOPNOTSUPP;
  char proc[64];
  (void)std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd.get());
  return ok(::chmod(proc, mode & 07777));
}

int PassthroughBackend::fchmod(Handle h, mode_t mode) { return ok(::fchmod(fdOf(h), mode & 07777)); }

int PassthroughBackend::chown(std::string_view path, uid_t uid, gid_t gid) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  return ok(::fchownat(p.dirfd, nameOf(p), uid, gid, AT_SYMLINK_NOFOLLOW));
}

int PassthroughBackend::fchown(Handle h, uid_t uid, gid_t gid) { return ok(::fchown(fdOf(h), uid, gid)); }

int PassthroughBackend::utimens(std::string_view path, const struct timespec ts[2]) {
  ParentRef p;
  if (int rc = source_.parentOf(path, p); rc != 0) return rc;
  return ok(::utimensat(p.dirfd, nameOf(p), ts, AT_SYMLINK_NOFOLLOW));
}

int PassthroughBackend::futimens(Handle h, const struct timespec ts[2]) {
  return ok(::futimens(fdOf(h), ts));
}

}  // namespace sashimono::statefs
