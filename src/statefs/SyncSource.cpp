#include "sashimono/statefs/SyncSource.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/statefs/FileHash.h"

namespace sashimono::statefs {

namespace {

core::Error sysError(const std::string& what, std::string_view path, int err) {
  return core::Error(what + " " + std::string(path) + ": " + std::strerror(err), err);
}

core::Error changed(std::string_view path) {
  return core::Error(std::string(path) + ": changed since its hash was taken (not served)");
}

}  // namespace

core::Result<std::vector<TreeEntry>> TreeSyncSource::listing(std::string_view path, std::string_view after) {
  auto all = tree_->listing(path);
  if (!all) return all.error();
  auto from = std::upper_bound(all->begin(), all->end(), after,
                               [](std::string_view a, const TreeEntry& e) { return a < e.name; });
  const auto n = std::min<std::size_t>(kMaxEntriesPerPage, static_cast<std::size_t>(all->end() - from));
  return std::vector<TreeEntry>(std::make_move_iterator(from), std::make_move_iterator(from + n));
}

core::Result<std::vector<crypto::Hash256>> TreeSyncSource::blockHashes(std::string_view path,
                                                                       std::uint64_t first) {
  auto all = tree_->blocks(path);
  if (!all) return all.error();
  if (first >= all->size()) return std::vector<crypto::Hash256>{};
  const auto n = std::min<std::uint64_t>(kMaxCvsPerPage, all->size() - first);
  return std::vector<crypto::Hash256>(all->begin() + static_cast<std::ptrdiff_t>(first),
                                      all->begin() + static_cast<std::ptrdiff_t>(first + n));
}

core::Result<core::Bytes> TreeSyncSource::block(std::string_view path, std::uint64_t index) {
  auto e = tree_->entry(path);
  if (!e) return e.error();
  if (e->kind != EntryKind::file) return core::Error(std::string(path) + ": not a file");
  const std::uint64_t size = e->size;
  if (index > (size == 0 ? 0 : (size - 1) / kBlockSize))
    return core::Error(std::string(path) + ": no block " + std::to_string(index));
  const std::uint64_t offset = index * kBlockSize;
  auto bytes = readBytes(path, offset, static_cast<std::size_t>(std::min(kBlockSize, size - offset)));
  if (!bytes) return bytes.error();
  if (size <= kBlockSize) {  // the whole file: its hash
    if (crypto::blake3(*bytes) != e->hash) return changed(path);
    return bytes;
  }
  auto cvs = tree_->blocks(path);
  if (!cvs) return cvs.error();
  if (index >= cvs->size() || FileHash::blockCv(*bytes, index) != (*cvs)[index]) return changed(path);
  return bytes;
}

core::Result<std::string> TreeSyncSource::symlinkTarget(std::string_view path) {
  auto e = tree_->entry(path);
  if (!e) return e.error();
  if (e->kind != EntryKind::symlink) return core::Error(std::string(path) + ": not a symlink");
  auto target = readTarget(path);
  if (!target) return target.error();
  if (crypto::blake3(core::asBytes(*target)) != e->hash) return changed(path);
  return target;
}

core::Result<LocalSyncSource> LocalSyncSource::open(const std::string& dir, const StateTree& tree) {
  auto source = SourceDir::open(dir);
  if (!source) return source.error();
  return LocalSyncSource(std::move(*source), tree);
}

core::Result<core::Bytes> LocalSyncSource::readBytes(std::string_view path, std::uint64_t offset,
                                                     std::size_t length) {
  ParentRef parent;
  if (int rc = dir_.parentOf(path, parent); rc < 0) return sysError("resolving", path, -rc);
  if (parent.isRoot()) return core::Error(std::string(path) + ": not a file");
  UniqueFd fd(dir_.openLeaf(parent, O_RDONLY | O_NONBLOCK));
  if (!fd.valid()) return sysError("opening", path, -fd.get());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sysError("stat of", path, errno);
  if (!S_ISREG(st.st_mode)) return core::Error(std::string(path) + ": not a file");
  core::Bytes out(length);
  std::size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(fd.get(), out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sysError("reading", path, errno);
    if (n == 0) return changed(path);  // shorter than its size
    done += static_cast<std::size_t>(n);
  }
  return out;
}

core::Result<std::string> LocalSyncSource::readTarget(std::string_view path) {
  ParentRef parent;
  if (int rc = dir_.parentOf(path, parent); rc < 0) return sysError("resolving", path, -rc);
  if (parent.isRoot()) return core::Error(std::string(path) + ": not a symlink");
  std::string target(PATH_MAX, '\0');
  ssize_t len = ::readlinkat(parent.dirfd, parent.leaf, target.data(), target.size());
  if (len < 0) return sysError("reading the link", path, errno);
  target.resize(static_cast<std::size_t>(len));
  return target;
}

}  // namespace sashimono::statefs
