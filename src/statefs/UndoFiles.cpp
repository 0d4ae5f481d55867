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
  const unsigned flags = exchange ? RENAME_EXCHANGE : RENAME_NOREPLACE;
  return ::renameat2(fromDir, from, toDir, to, flags) == 0 ? 0 : -errno;
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
