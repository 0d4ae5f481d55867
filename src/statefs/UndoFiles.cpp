#include "UndoFiles.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace sashimono::statefs::undo {

int removeEntry(int dirfd, const char* name) noexcept {
  if (::unlinkat(dirfd, name, 0) == 0) return 0;
  if (errno != EISDIR && errno != EPERM) return -errno;
  return ::unlinkat(dirfd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

int moveBack(int fromDir, const char* from, int toDir, const char* to, bool exchange) noexcept {
  return moveEntry(fromDir, from, toDir, to, exchange ? RENAME_EXCHANGE : RENAME_NOREPLACE);
}

int moveEntry(int fromDir, const char* from, int toDir, const char* to, unsigned flags) noexcept {
  if (::renameat2(fromDir, from, toDir, to, flags) == 0) return 0;
  if (errno != EACCES) return -errno;
  // Moving a directory to another parent rewrites its "..": it must be writable itself. The
  // daemon owns the state; a read-only directory is made writable for its move, then given its
  // mode back.
  struct stat st {};
  if (::fstatat(fromDir, from, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) return -EACCES;
  const mode_t mode = st.st_mode & 07777;
  if (::fchmodat(fromDir, from, mode | S_IWUSR, 0) != 0) return -EACCES;
  if (::renameat2(fromDir, from, toDir, to, flags) == 0) {
    (void)::fchmodat(toDir, to, mode, 0);
    return 0;
  }
  const int e = errno;
  (void)::fchmodat(fromDir, from, mode, 0);
  return -e;
}

int openForce(int dirfd, const char* name, int flags) noexcept {
  flags |= O_CLOEXEC | O_NOFOLLOW;
  int fd = ::openat(dirfd, name, flags);
  if (fd >= 0 || errno != EACCES) return fd >= 0 ? fd : -errno;
  struct stat st {};
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return -errno;
  if (!S_ISREG(st.st_mode)) return -EACCES;
  const mode_t mode = st.st_mode & 07777;
  if (::fchmodat(dirfd, name, mode | S_IRUSR | S_IWUSR, 0) != 0) return -EACCES;
  fd = ::openat(dirfd, name, flags);
  const int e = errno;
  (void)::fchmodat(dirfd, name, mode, 0);
  return fd >= 0 ? fd : -e;
}

}  // namespace sashimono::statefs::undo
