#include "sashimono/runtime/StateHash.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "sashimono/crypto/Blake3.h"

namespace sashimono::runtime {

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

std::int64_t ns(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

core::Result<Hash> hashFile(int fd) {
  crypto::Blake3 h;
  std::vector<std::uint8_t> buf(1 << 16);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return core::Error::fromErrno("reading a state file");
    }
    if (n == 0) break;
    h.update(core::ByteView(buf.data(), static_cast<std::size_t>(n)));
  }
  return h.finalize();
}

}  // namespace

core::Result<Hash> StateHasher::hash(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return core::Error::fromErrno("opening " + dir);
  seen_.clear();
  auto r = hashDir(fd, "", 0);  // takes ownership of fd
  cache_.swap(seen_);
  seen_.clear();
  return r;
}

core::Result<Hash> StateHasher::hashDir(int dirfd, const std::string& path, int depth) {
  DIR* d = ::fdopendir(dirfd);
  if (d == nullptr) {
    ::close(dirfd);
    return core::Error::fromErrno("listing the state at '" + path + "'");
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  crypto::Blake3 h;
  core::Status status;
  for (const auto& n : names) {
    struct stat st {};
    if (::fstatat(::dirfd(d), n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone meanwhile
    std::string child = path + "/" + n;
    std::uint8_t kind = 0;
    Hash ch{};
    if (S_ISREG(st.st_mode)) {
      kind = 1;
      auto it = cache_.find(child);
      if (it != cache_.end() && it->second.ino == st.st_ino &&
          it->second.size == static_cast<std::uint64_t>(st.st_size) && it->second.mtimeNs == ns(st.st_mtim) &&
          it->second.ctimeNs == ns(st.st_ctim)) {
        ch = it->second.hash;
      } else {
        Fd f(::openat(::dirfd(d), n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (f.fd < 0) {
          status = core::Error::fromErrno("opening the state file '" + child + "'");
          break;
        }
        auto fh = hashFile(f.fd);
        if (!fh) {
          status = fh.error();
          break;
        }
        ch = *fh;
      }
      seen_[child] = Cached{static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_size),
                            ns(st.st_mtim), ns(st.st_ctim), ch};
    } else if (S_ISDIR(st.st_mode)) {
      kind = 2;
      if (depth > 256) {
        status = core::Error("the state is nested deeper than 256 directories");
        break;
      }
      int sub = ::openat(::dirfd(d), n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) {
        status = core::Error::fromErrno("opening the state directory '" + child + "'");
        break;
      }
      auto sh = hashDir(sub, child, depth + 1);
      if (!sh) {
        status = sh.error();
        break;
      }
      ch = *sh;
    } else if (S_ISLNK(st.st_mode)) {
      kind = 3;
      std::string target(4096, '\0');
      ssize_t len = ::readlinkat(::dirfd(d), n.c_str(), target.data(), target.size());
      if (len < 0) continue;
      target.resize(static_cast<std::size_t>(len));
      ch = crypto::blake3(core::asBytes(target));
    } else {
      continue;
    }
    h.update(core::asBytes(n));
    std::array<std::uint8_t, 3> meta{0, kind, static_cast<std::uint8_t>((st.st_mode & 0111) != 0 ? 1 : 0)};
    h.update(meta);
    h.update(ch);
  }
  ::closedir(d);
  if (!status) return status.error();
  return h.finalize();
}

}  // namespace sashimono::runtime
