// StateTree::rescan's walk, and stateBytes: what a directory holds, compared with the tree by
// metadata only (no file is read here).
#include <filesystem>

#include "TreeNode.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::statefs {

namespace detail {

namespace {

core::Status scanDir(const Node& dir, int fd, const std::string& p, StateTree& tree) {
  auto names = readNames(fd, p);
  if (!names) return names.error();
  for (const auto& name : *names) {
    const std::string cp = childPath(p, name);
    auto it = dir.children.find(name);
    struct stat st {};
    if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return sysError("stat of", cp, errno);
      tree.markEntry(cp);  // gone meanwhile
      continue;
    }
    const auto kind = kindOf(st.st_mode);
    if (it == dir.children.end() || !kind || *kind != it->second->kind || st.st_ino != it->second->ino) {
      tree.markEntry(cp);  // new, or another object (refresh refuses sockets and devices)
      continue;
    }
    const Node& n = *it->second;
    if ((st.st_mode & 07777) != n.perm) tree.markMode(cp);
    switch (n.kind) {
      case EntryKind::file:
        if (static_cast<std::uint64_t>(st.st_size) != n.file.size() || nsOf(st.st_mtim) != n.mtimeNs ||
            nsOf(st.st_ctim) != n.ctimeNs || racy(n.mtimeNs, n.ctimeNs, n.hashedAtNs))
          tree.markData(n.ino, 0, UINT64_MAX);
        break;
      case EntryKind::directory: {
        int sub = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0) return sysError("opening", cp, errno);
        UniqueFd d(sub);
        SASHI_TRY(scanDir(n, d.get(), cp, tree));
        break;
      }
      case EntryKind::symlink:
      case EntryKind::fifo:
        // A symlink's target never changes in place; a new one (even on a reused inode) has a
        // new ctime.
        if (nsOf(st.st_ctim) != n.ctimeNs) tree.markEntry(cp);
        break;
    }
  }
  for (const auto& [name, _] : dir.children)
    if (!std::binary_search(names->begin(), names->end(), name)) tree.markEntry(childPath(p, name));
  return {};
}

}  // namespace

core::Status rescanTree(const Node& root, int rootFd, StateTree& tree) {
  int fd = ::openat(rootFd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return sysError("opening", "/", errno);
  UniqueFd d(fd);
  return scanDir(root, d.get(), "/", tree);
}

}  // namespace detail

core::Result<std::uint64_t> stateBytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::uint64_t total = 0;
  fs::recursive_directory_iterator it(path, fs::directory_options::none, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    auto st = it->symlink_status(ec);
    if (ec) break;
    if (fs::is_regular_file(st)) total += it->file_size(ec);
    if (ec) break;
  }
  if (ec) return core::Error("measuring " + path + ": " + ec.message());
  return total;
}

}  // namespace sashimono::statefs
