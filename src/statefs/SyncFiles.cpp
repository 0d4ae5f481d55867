#include "SyncFiles.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::statefs::sync {

namespace {

int copyRange(int src, int dst, std::uint64_t from, std::uint64_t to) noexcept {
  auto off = static_cast<off_t>(from);
  while (static_cast<std::uint64_t>(off) < to) {
    loff_t in = off, out = off;
    ssize_t n = ::copy_file_range(src, &in, dst, &out, to - static_cast<std::uint64_t>(off), 0);
    if (n > 0) {
      off += n;
      continue;
    }
    if (n == 0) return -EIO;  // shorter than its size: changed under us
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) return -errno;
    // No in-kernel copy here: by hand.
    std::vector<std::uint8_t> buf(1 << 16);
    while (static_cast<std::uint64_t>(off) < to) {
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), to - off));
      ssize_t r = ::pread(src, buf.data(), want, off);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return -errno;
      if (r == 0) return -EIO;
      if (int rc = writeAt(dst, static_cast<std::uint64_t>(off), {buf.data(), static_cast<std::size_t>(r)});
          rc < 0)
        return rc;
      off += r;
    }
  }
  return 0;
}

}  // namespace

int copyContent(int src, int dst) noexcept {
  if (::ioctl(dst, FICLONE, src) == 0) return 0;
  struct stat st {};
  if (::fstat(src, &st) != 0) return -errno;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (::ftruncate(dst, st.st_size) != 0) return -errno;
  std::uint64_t pos = 0;
  while (pos < size) {
    off_t data = ::lseek(src, static_cast<off_t>(pos), SEEK_DATA);
    if (data < 0 && errno == ENXIO) break;                // only a hole from here on
    if (data < 0) return copyRange(src, dst, pos, size);  // no SEEK_DATA: copy everything
    off_t hole = ::lseek(src, data, SEEK_HOLE);
    if (hole < 0) return -errno;
    const auto end = std::min<std::uint64_t>(static_cast<std::uint64_t>(hole), size);
    if (int rc = copyRange(src, dst, static_cast<std::uint64_t>(data), end); rc < 0) return rc;
    pos = end;
  }
  return 0;
}

int writeAt(int fd, std::uint64_t offset, std::span<const std::uint8_t> bytes) noexcept {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

int chmodAt(int dirfd, const char* name, mode_t mode) noexcept {
  UniqueFd fd(::openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return -errno;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return -errno;
  if (S_ISLNK(st.st_mode)) return -EOPNOTSUPP;
  char proc[64];
  (void)std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd.get());
  return ::chmod(proc, mode & 07777) == 0 ? 0 : -errno;
}

int removeTreeAt(int dirfd, const char* name) noexcept {
  struct stat st {};
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return errno == ENOENT ? 0 : -errno;
  if (!S_ISDIR(st.st_mode)) return ::unlinkat(dirfd, name, 0) == 0 ? 0 : -errno;
  if ((st.st_mode & S_IRWXU) != S_IRWXU) {
    if (int rc = chmodAt(dirfd, name, (st.st_mode & 07777) | S_IRWXU); rc < 0) return rc;
  }
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  DIR* d = ::fdopendir(fd);
  if (d == nullptr) {
    int e = errno;
    ::close(fd);
    return -e;
  }
  std::vector<std::string> names;
  while (const dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
  int rc = 0;
  for (const auto& n : names)
    if (rc = removeTreeAt(::dirfd(d), n.c_str()); rc < 0) break;
  ::closedir(d);
  if (rc < 0) return rc;
  return ::unlinkat(dirfd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

}  // namespace sashimono::statefs::sync
