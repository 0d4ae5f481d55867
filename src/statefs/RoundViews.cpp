// RoundBackend's reads of the committed state while a round writes (RoundBackend.h, "views").
// The committed state is the current one seen through the round's journal (names, modes) and
// its undo data (old blocks, old sizes): nothing is copied.
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "sashimono/statefs/RoundBackend.h"

namespace sashimono::statefs {

namespace {

// Opens `rel` beneath `base` without following any symlink (a final one is opened as O_PATH).
int openBeneath(int base, const std::string& rel, int flags) {
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;
  while (true) {
    long fd = ::syscall(SYS_openat2, base, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return static_cast<int>(fd);
    if (errno != EINTR && errno != EAGAIN) return -errno;
  }
}

std::string childOf(std::string_view dir, std::string_view name) {
  return (dir == "/" ? std::string() : std::string(dir)) + "/" + std::string(name);
}

int preadAll(int fd, char* buf, std::size_t size, std::uint64_t off) {
  std::size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, buf + got, size - got, static_cast<off_t>(off + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<int>(got);
}

}  // namespace

int RoundBackend::viewLocate(std::string_view path, UniqueFd& out, std::string* where) {
  const std::string loc = journal_.locate(path);
  // What is there now must be the committed object, not one the round created in its place.
  auto back = journal_.committedPathOf(loc);
  if (!back || *back != path) return -ENOENT;
  int fd = -1;
  if (loc[0] == '#') {
    if (log_.trashFd() < 0) return -ENOENT;
    fd = openBeneath(log_.trashFd(), loc.substr(1), O_PATH);
  } else {
    fd = openBeneath(source_.rootFd(), loc == "/" ? std::string(".") : loc.substr(1), O_PATH);
  }
  if (fd < 0) return fd;
  out.reset(fd);
  if (where != nullptr) *where = loc;
  return 0;
}

void RoundBackend::adjust(struct stat& st) const {
  if (S_ISREG(st.st_mode)) {
    if (auto it = tracked_.find(st.st_ino); it != tracked_.end()) {
      if (it->second.oldSize) st.st_size = static_cast<off_t>(*it->second.oldSize);
      if (st.st_nlink > 1) --st.st_nlink;  // the round's own link in files/
    }
  }
  if (auto m = journal_.committedMode(st.st_ino)) st.st_mode = (st.st_mode & ~07777U) | *m;
}

int RoundBackend::viewStat(std::uint64_t epoch, std::string_view path, struct stat& st) {
  std::lock_guard lock(mu_);
  if (epoch != epoch_.load()) return -ESTALE;
  UniqueFd fd;
  if (int rc = viewLocate(path, fd); rc != 0) return rc;
  if (::fstat(fd.get(), &st) != 0) return -errno;
  adjust(st);
  return 0;
}

int RoundBackend::viewFstat(const ViewFile& f, struct stat& st) {
  std::lock_guard lock(mu_);
  if (f.epoch != epoch_.load()) return -ESTALE;
  if (::fstat(f.fd.get(), &st) != 0) return -errno;
  adjust(st);
  return 0;
}

int RoundBackend::viewReadlink(std::uint64_t epoch, std::string_view path, char* buf, std::size_t size) {
  if (size == 0) return -EINVAL;
  std::lock_guard lock(mu_);
  if (epoch != epoch_.load()) return -ESTALE;
  UniqueFd fd;
  if (int rc = viewLocate(path, fd); rc != 0) return rc;
  ssize_t n = ::readlinkat(fd.get(), "", buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

int RoundBackend::viewList(std::uint64_t epoch, std::string_view path, std::vector<ViewEntry>& out) {
  std::lock_guard lock(mu_);
  if (epoch != epoch_.load()) return -ESTALE;
  UniqueFd at;
  std::string loc;
  if (int rc = viewLocate(path, at, &loc); rc != 0) return rc;
  int dfd = ::openat(at.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return -errno;
  DIR* dir = ::fdopendir(dfd);
  if (dir == nullptr) {
    ::close(dfd);
    return -errno;
  }
  std::set<std::string> names;
  for (const auto& n : journal_.movedChildren(path)) names.insert(n);
  while (struct dirent* e = ::readdir(dir)) {
    const std::string_view n(e->d_name);
    if (n == "." || n == "..") continue;
    auto c = journal_.committedPathOf(childOf(loc, n));
    if (!c) continue;
    const auto slash = c->rfind('/');
    const std::string_view parent =
        slash == 0 ? std::string_view("/") : std::string_view(*c).substr(0, slash);
    if (parent == path) names.insert(c->substr(slash + 1));
  }
  ::closedir(dir);
  out.clear();
  for (const auto& n : names) {
    const std::string child = childOf(path, n);
    UniqueFd fd;
    ViewEntry v{n, {}};
    if (viewLocate(child, fd) != 0 || ::fstat(fd.get(), &v.st) != 0) continue;
    adjust(v.st);
    out.push_back(std::move(v));
  }
  return 0;
}

int RoundBackend::viewOpen(std::uint64_t epoch, std::string_view path, ViewFile& out) {
  std::lock_guard lock(mu_);
  if (epoch != epoch_.load()) return -ESTALE;
  UniqueFd at;
  if (int rc = viewLocate(path, at); rc != 0) return rc;
  struct stat st {};
  if (::fstat(at.get(), &st) != 0) return -errno;
  if (S_ISDIR(st.st_mode)) return -EISDIR;
  if (!S_ISREG(st.st_mode)) return -EINVAL;
  const std::string self = "/proc/self/fd/" + std::to_string(at.get());
  int fd = ::open(self.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  out.fd.reset(fd);
  out.ino = st.st_ino;
  out.epoch = epoch;
  adjust(st);
  out.size = st.st_size;
  return 0;
}

int RoundBackend::viewRead(ViewFile& f, char* buf, std::size_t size, off_t offset) {
  std::lock_guard lock(mu_);
  if (f.epoch != epoch_.load()) return -ESTALE;
  if (offset < 0) return -EINVAL;
  const Tracked* t = nullptr;
  if (auto it = tracked_.find(f.ino); it != tracked_.end()) t = &it->second;
  std::uint64_t committedSize = 0;
  if (t != nullptr && t->oldSize) {
    committedSize = *t->oldSize;
  } else {
    struct stat st {};
    if (::fstat(f.fd.get(), &st) != 0) return -errno;
    committedSize = static_cast<std::uint64_t>(st.st_size);
  }
  const auto off = static_cast<std::uint64_t>(offset);
  if (off >= committedSize || size == 0) return 0;
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(size, committedSize - off));
  int got = preadAll(f.fd.get(), buf, n, off);
  if (got < 0) return got;
  std::memset(buf + got, 0, n - static_cast<std::size_t>(got));  // shorter now: the blocks below fill it
  if (t == nullptr) return static_cast<int>(n);
  for (std::uint64_t k = off / kUndoBlock; k <= (off + n - 1) / kUndoBlock; ++k) {
    auto b = t->blockAt.find(k);
    if (b == t->blockAt.end()) continue;
    const std::uint64_t blockStart = k * kUndoBlock;
    const std::uint64_t from = std::max(off, blockStart);
    const std::uint64_t to = std::min<std::uint64_t>(off + n, blockStart + b->second.second);
    if (from < to) {
      int r = preadAll(log_.logFd(), buf + (from - off), to - from, b->second.first + (from - blockStart));
      if (r < 0) return r;
    }
    // Bytes of the block past what was saved were past the file's end then: zeros.
    const std::uint64_t zeroFrom = std::max(from, blockStart + b->second.second);
    const std::uint64_t zeroTo = std::min<std::uint64_t>(off + n, blockStart + kUndoBlock);
    if (zeroFrom < zeroTo) std::memset(buf + (zeroFrom - off), 0, zeroTo - zeroFrom);
  }
  return static_cast<int>(n);
}

}  // namespace sashimono::statefs
