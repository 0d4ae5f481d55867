#pragma once
// The nodes of a StateTree and the helpers its parts share (StateTree.cpp, StateTreeScan.cpp).
// Internal to the statefs module.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/statefs/StateTree.h"

namespace sashimono::statefs::detail {

struct Node {
  EntryKind kind = EntryKind::file;
  std::uint16_t perm = 0;
  ino_t ino = 0;
  Node* parent = nullptr;
  std::string name;
  crypto::Hash256 hash{};
  std::int64_t mtimeNs = 0, ctimeNs = 0;                  // as when it was last read
  std::int64_t hashedAtNs = 0;                            // files: the clock just before that read
  FileHash file;                                          // files
  std::map<std::string, std::unique_ptr<Node>> children;  // directories
};

inline std::int64_t nsOf(const struct timespec& t) {
  return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

inline std::int64_t nowNs() {
  struct timespec t {};
  ::clock_gettime(CLOCK_REALTIME, &t);
  return nsOf(t);
}

// Whether a later change to the file could leave (mtime, ctime, size) as they were read: the
// file was changed less than a clock tick (kRacyNs) before it was read.
inline bool racy(std::int64_t mtimeNs, std::int64_t ctimeNs, std::int64_t hashedAtNs) {
  return std::max(mtimeNs, ctimeNs) + kRacyNs > hashedAtNs;
}

inline core::Error sysError(const std::string& what, const std::string& path, int err) {
  return core::Error(what + " " + (path.empty() ? "/" : path) + ": " + std::strerror(err));
}

inline std::string childPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

inline std::string parentPath(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

inline std::size_t depthOf(const Node* n) {
  std::size_t d = 0;
  for (; n->parent != nullptr; n = n->parent) ++d;
  return d;
}

inline std::string pathOf(const Node* n) {
  std::vector<const std::string*> names;
  for (; n->parent != nullptr; n = n->parent) names.push_back(&n->name);
  if (names.empty()) return "/";
  std::string out;
  for (auto it = names.rbegin(); it != names.rend(); ++it) out += "/" + **it;
  return out;
}

inline TreeEntry entryOf(const Node& n) {
  TreeEntry e;
  e.name = n.name;
  e.kind = n.kind;
  e.perm = n.perm;
  e.size = n.kind == EntryKind::file ? n.file.size() : 0;
  e.hash = n.hash;
  return e;
}

inline std::optional<EntryKind> kindOf(mode_t mode) {
  if (S_ISREG(mode)) return EntryKind::file;
  if (S_ISDIR(mode)) return EntryKind::directory;
  if (S_ISLNK(mode)) return EntryKind::symlink;
  if (S_ISFIFO(mode)) return EntryKind::fifo;
  return std::nullopt;
}

inline BlockReader preadReader(int fd) {
  return [fd](std::uint64_t offset, std::span<std::uint8_t> buf) -> int {
    std::size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return -errno;
      }
      if (n == 0) return -EIO;  // shorter than its size: changed under us
      done += static_cast<std::size_t>(n);
    }
    return 0;
  };
}

// Names in a directory, sorted, without "." and "..".
inline core::Result<std::vector<std::string>> readNames(int dirfd, const std::string& path) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return sysError("opening", path, errno);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int e = errno;
    ::close(dup);
    return sysError("listing", path, e);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
    errno = 0;
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return sysError("listing", path, err);
  std::sort(names.begin(), names.end());
  return names;
}

// Marks in `tree` whatever differs between the directory open at `rootFd` and the nodes under
// `root` (StateTree::rescan; StateTreeScan.cpp).
core::Status rescanTree(const Node& root, int rootFd, StateTree& tree);

}  // namespace sashimono::statefs::detail
