#include "sashimono/host/LogRotation.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace sashimono::host {

namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

core::Status copyAll(int from, int to) {
  if (::lseek(from, 0, SEEK_SET) < 0) return core::Error::fromErrno("seek");
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(from, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return core::Error::fromErrno("read");
    }
    if (n == 0) return {};
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return core::Error::fromErrno("write");
      }
      done += w;
    }
  }
}

core::Status rotateOne(int dirFd, const std::string& dir, const std::string& name) {
  Fd log(::openat(dirFd, name.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (log.fd < 0) return core::Error::fromErrno("opening " + dir + "/" + name);
  struct stat st {};
  if (::fstat(log.fd, &st) != 0 || !S_ISREG(st.st_mode))
    return core::Error(dir + "/" + name + " is not a file");
  const std::string tmp = name + ".1.tmp";
  (void)::unlinkat(dirFd, tmp.c_str(), 0);
  Fd copy(::openat(dirFd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640));
  if (copy.fd < 0) return core::Error::fromErrno("creating " + dir + "/" + tmp);
  auto st2 = copyAll(log.fd, copy.fd);
  if (st2 && ::fchown(copy.fd, st.st_uid, st.st_gid) != 0) st2 = core::Error::fromErrno("chown " + tmp);
  if (st2 && ::renameat(dirFd, tmp.c_str(), dirFd, (name + ".1").c_str()) != 0)
    st2 = core::Error::fromErrno("renaming " + tmp);
  if (!st2) {
    (void)::unlinkat(dirFd, tmp.c_str(), 0);
    return st2.error().context(dir + "/" + name);
  }
  if (::ftruncate(log.fd, 0) != 0) return core::Error::fromErrno("truncating " + dir + "/" + name);
  return {};
}

}  // namespace

core::Result<std::vector<RotatedLog>> rotateLogs(const std::string& dir, std::uint64_t maxBytes) {
  std::vector<RotatedLog> out;
  const auto slash = dir.find_last_of('/');
  const std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dir.substr(0, slash);
  const std::string base = slash == std::string::npos ? dir : dir.substr(slash + 1);
  Fd parentFd(::open(parent.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (parentFd.fd < 0)
    return errno == ENOENT
               ? out
               : core::Result<std::vector<RotatedLog>>(core::Error::fromErrno("opening " + parent));
  Fd dirFd(::openat(parentFd.fd, base.c_str(), O_DIRECTORY | O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (dirFd.fd < 0) {
    if (errno == ENOENT) return out;
    return core::Error::fromErrno("opening " + dir + " (a directory, not a link)");
  }
  const int listFd = ::dup(dirFd.fd);
  if (listFd < 0) return core::Error::fromErrno("dup");
  DIR* d = ::fdopendir(listFd);
  if (!d) {
    ::close(listFd);
    return core::Error::fromErrno("listing " + dir);
  }
  std::vector<std::string> names;
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (endsWith(n, ".log")) names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  for (const auto& n : names) {
    struct stat st {};
    if (::fstatat(dirFd.fd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
    if (static_cast<std::uint64_t>(st.st_size) <= maxBytes) continue;
    SASHI_TRY(rotateOne(dirFd.fd, dir, n));
    out.push_back({n, static_cast<std::uint64_t>(st.st_size)});
  }
  return out;
}

core::Result<std::string> tailFile(const std::string& path, std::size_t lines, std::uint64_t maxBytes) {
  Fd f(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (f.fd < 0) {
    if (errno == ENOENT) return std::string();
    return core::Error::fromErrno("opening " + path);
  }
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) return core::Error(path + " is not a file");
  if (lines == 0) return std::string();
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const std::uint64_t from = size > maxBytes ? size - maxBytes : 0;
  std::string text(static_cast<std::size_t>(size - from), '\0');
  const ssize_t n = ::pread(f.fd, text.data(), text.size(), static_cast<off_t>(from));
  if (n < 0) return core::Error::fromErrno("reading " + path);
  text.resize(static_cast<std::size_t>(n));
  std::size_t count = 0;
  std::size_t at = text.size();
  if (at > 0 && text[at - 1] == '\n') --at;
  while (at > 0) {
    const auto nl = text.rfind('\n', at - 1);
    if (nl == std::string::npos) {
      at = 0;
      break;
    }
    if (++count == lines) {
      at = nl + 1;
      break;
    }
    at = nl;
  }
  return text.substr(at);
}

}  // namespace sashimono::host
