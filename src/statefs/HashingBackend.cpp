#include "sashimono/statefs/HashingBackend.h"

#include <fcntl.h>
#include <linux/falloc.h>

#include <cerrno>
#include <cstdint>
#include <mutex>

#include "sashimono/core/Log.h"

namespace sashimono::statefs {

struct HashingBackend::File {
  Handle inner;
  std::atomic<ino_t> ino{0};  // 0: not read yet
};

namespace {

constexpr std::uint64_t kToEnd = UINT64_MAX;

}  // namespace

HashingBackend::File& HashingBackend::fileOf(Handle h) {
  return *reinterpret_cast<File*>(static_cast<std::uintptr_t>(h));
}

HashingBackend::HashingBackend(StateBackend& inner, StateTree tree, TreeFactory rebuild)
    : inner_(inner), tree_(std::move(tree)), rebuild_(std::move(rebuild)) {}

std::shared_lock<std::shared_mutex> HashingBackend::changeLock() {
  { std::lock_guard gate(gate_); }  // waits while a refresh is waiting or running
  return std::shared_lock(changes_);
}

core::Result<crypto::Hash256> HashingBackend::refresh() {
  std::lock_guard gate(gate_);      // no new change starts ...
  std::unique_lock lock(changes_);  // ... and those running finish
  return refreshLocked();
}

core::Status HashingBackend::withTree(const std::function<core::Status(StateTree&)>& use) {
  std::lock_guard gate(gate_);
  std::unique_lock lock(changes_);
  auto root = refreshLocked();
  if (!root.ok()) return root.error();
  return use(tree_);
}

core::Result<crypto::Hash256> HashingBackend::exclusive(const std::function<core::Status(StateTree&)>& step) {
  std::lock_guard gate(gate_);
  std::unique_lock lock(changes_);
  if (auto st = step(tree_); !st.ok()) return st.error();
  return refreshLocked();
}

void HashingBackend::reading(const std::function<void(const StateTree&)>& use) {
  auto lock = changeLock();  // shared, as a change: excludes refresh only
  use(tree_);
}

core::Result<crypto::Hash256> HashingBackend::refreshLocked() {
  if (!lost_.load()) {
    auto root = tree_.refresh();
    if (root.ok()) return root;
    spdlog::warn("statefs: the hash tree could not be refreshed ({}); rebuilding it", root.error().message);
    if (!rebuild_) return root.error();
  } else if (!rebuild_) {
    return core::Error("statefs: a change could not be marked in the hash tree, and it cannot be rebuilt");
  }
  auto fresh = rebuild_();
  if (!fresh.ok()) return fresh.error().context("statefs: rebuilding the hash tree");
  tree_ = std::move(fresh).value();
  lost_.store(false);
  return tree_.root();
}

ino_t HashingBackend::inodeOf(File& f) {
  ino_t ino = f.ino.load(std::memory_order_relaxed);
  if (ino != 0) return ino;
  struct stat st {};
  if (inner_.fgetattr(f.inner, st) != 0 || st.st_ino == 0) {
    lost_.store(true);  // the change cannot be placed in the tree: trust none of it
    return 0;
  }
  f.ino.store(st.st_ino, std::memory_order_relaxed);
  return st.st_ino;
}

int HashingBackend::wrap(Handle inner, Handle& out) {
  auto* f = new (std::nothrow) File{inner};
  if (f == nullptr) {
    (void)inner_.release(inner);
    return -ENOMEM;
  }
  out = static_cast<Handle>(reinterpret_cast<std::uintptr_t>(f));
  return 0;
}

// --- reads and handles: forwarded, file handles unwrapped -----------------------------

int HashingBackend::getattr(std::string_view path, struct stat& st) { return inner_.getattr(path, st); }
int HashingBackend::fgetattr(Handle h, struct stat& st) { return inner_.fgetattr(fileOf(h).inner, st); }
int HashingBackend::readlink(std::string_view path, char* buf, std::size_t size) {
  return inner_.readlink(path, buf, size);
}
int HashingBackend::access(std::string_view path, int mask) { return inner_.access(path, mask); }
int HashingBackend::statfs(struct statvfs& st) { return inner_.statfs(st); }

int HashingBackend::open(std::string_view path, int flags, Handle& out) {
  flags &= ~O_APPEND;
  if ((flags & O_TRUNC) == 0) {  // (Linux truncates even with O_RDONLY)
    Handle h = 0;
    if (int rc = inner_.open(path, flags, h); rc != 0) return rc;
    return wrap(h, out);
  }
  auto lock = changeLock();  // O_TRUNC: opening changes the file
  Handle h = 0;
  if (int rc = inner_.open(path, flags, h); rc != 0) return rc;
  File probe{h};
  if (ino_t ino = inodeOf(probe); ino != 0) tree_.markTruncate(ino, 0);
  if (int rc = wrap(h, out); rc != 0) return rc;
  fileOf(out).ino.store(probe.ino.load());
  return 0;
}

int HashingBackend::read(Handle h, char* buf, std::size_t size, off_t offset) {
  return inner_.read(fileOf(h).inner, buf, size, offset);
}
int HashingBackend::readFd(Handle h) { return inner_.readFd(fileOf(h).inner); }
int HashingBackend::flush(Handle h) { return inner_.flush(fileOf(h).inner); }

int HashingBackend::release(Handle h) {
  File* f = &fileOf(h);
  int rc = inner_.release(f->inner);
  delete f;
  return rc;
}

int HashingBackend::opendir(std::string_view path, Handle& out) { return inner_.opendir(path, out); }
int HashingBackend::readdir(Handle h, off_t offset, const DirFiller& fill) {
  return inner_.readdir(h, offset, fill);
}
int HashingBackend::releasedir(Handle h) { return inner_.releasedir(h); }

// --- changes: forwarded, then marked --------------------------------------------------

int HashingBackend::create(std::string_view path, int flags, mode_t mode, Handle& out) {
  auto lock = changeLock();
  Handle h = 0;
  if (int rc = inner_.create(path, flags & ~O_APPEND, mode, h); rc != 0) return rc;
  tree_.markEntry(path);
  return wrap(h, out);
}

int HashingBackend::write(Handle h, const char* buf, std::size_t size, off_t offset) {
  File& f = fileOf(h);
  auto lock = changeLock();
  int n = inner_.write(f.inner, buf, size, offset);
  if (n > 0) markWritten(f, offset, n);
  return n;
}

int HashingBackend::writeFrom(Handle h, std::size_t size, off_t offset, const WriteSource& src) {
  File& f = fileOf(h);
  auto lock = changeLock();  // as write(): the bytes land and are marked under the change lock
  int n = inner_.writeFrom(f.inner, size, offset, src);
  if (n > 0) markWritten(f, offset, n);
  return n;
}

void HashingBackend::markWritten(File& f, off_t offset, int n) {
  if (ino_t ino = inodeOf(f); ino != 0)
    tree_.markData(ino, static_cast<std::uint64_t>(offset), static_cast<std::uint64_t>(n));
}

int HashingBackend::truncate(std::string_view path, off_t size) {
  auto lock = changeLock();
  Handle h = 0;
  if (int rc = inner_.open(path, O_WRONLY, h); rc != 0) return rc;
  File f{h};
  int rc = inner_.ftruncate(h, size);
  if (rc == 0) {
    if (ino_t ino = inodeOf(f); ino != 0) tree_.markTruncate(ino, static_cast<std::uint64_t>(size));
  }
  (void)inner_.release(h);
  return rc;
}

int HashingBackend::ftruncate(Handle h, off_t size) {
  File& f = fileOf(h);
  auto lock = changeLock();
  int rc = inner_.ftruncate(f.inner, size);
  if (rc == 0) {
    if (ino_t ino = inodeOf(f); ino != 0) tree_.markTruncate(ino, static_cast<std::uint64_t>(size));
  }
  return rc;
}

int HashingBackend::fallocate(Handle h, int mode, off_t offset, off_t length) {
  File& f = fileOf(h);
  auto lock = changeLock();
  int rc = inner_.fallocate(f.inner, mode, offset, length);
  if (rc == 0) {
    if (ino_t ino = inodeOf(f); ino != 0) {
      const auto off = static_cast<std::uint64_t>(offset);
      // Collapsing or inserting a range moves everything after it.
      const bool shifts = (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE)) != 0;
      tree_.markData(ino, off, shifts ? kToEnd - off : static_cast<std::uint64_t>(length));
    }
  }
  return rc;
}

int HashingBackend::fsync(Handle h, bool dataOnly) { return inner_.fsync(fileOf(h).inner, dataOnly); }
int HashingBackend::fsyncdir(Handle h, bool dataOnly) { return inner_.fsyncdir(h, dataOnly); }

int HashingBackend::mknod(std::string_view path, mode_t mode, dev_t dev) {
  auto lock = changeLock();
  int rc = inner_.mknod(path, mode, dev);
  if (rc == 0) tree_.markEntry(path);
  return rc;
}

int HashingBackend::mkdir(std::string_view path, mode_t mode) {
  auto lock = changeLock();
  int rc = inner_.mkdir(path, mode);
  if (rc == 0) tree_.markEntry(path);
  return rc;
}

int HashingBackend::unlink(std::string_view path) {
  auto lock = changeLock();
  int rc = inner_.unlink(path);
  if (rc == 0) tree_.markEntry(path);
  return rc;
}

int HashingBackend::rmdir(std::string_view path) {
  auto lock = changeLock();
  int rc = inner_.rmdir(path);
  if (rc == 0) tree_.markEntry(path);
  return rc;
}

int HashingBackend::symlink(std::string_view target, std::string_view linkPath) {
  auto lock = changeLock();
  int rc = inner_.symlink(target, linkPath);
  if (rc == 0) tree_.markEntry(linkPath);
  return rc;
}

int HashingBackend::rename(std::string_view from, std::string_view to, unsigned int flags) {
  auto lock = changeLock();
  int rc = inner_.rename(from, to, flags);
  if (rc != 0) return rc;
  if ((flags & RENAME_EXCHANGE) != 0) {
    tree_.markEntry(from);  // each name now holds what the other held
    tree_.markEntry(to);
  } else {
    tree_.markRename(from, to);
  }
  return 0;
}

int HashingBackend::link(std::string_view from, std::string_view to) {
  auto lock = changeLock();
  int rc = inner_.link(from, to);
  if (rc == 0) tree_.markEntry(to);
  return rc;
}

int HashingBackend::chmod(std::string_view path, mode_t mode) {
  auto lock = changeLock();
  int rc = inner_.chmod(path, mode);
  if (rc == 0) tree_.markMode(path);
  return rc;
}

int HashingBackend::fchmod(Handle h, mode_t mode) {
  File& f = fileOf(h);
  auto lock = changeLock();
  int rc = inner_.fchmod(f.inner, mode);
  if (rc == 0) {
    if (ino_t ino = inodeOf(f); ino != 0) tree_.markInodeMode(ino);
  }
  return rc;
}

// Owners and times are not part of the hash: forwarded without a mark.
int HashingBackend::chown(std::string_view path, uid_t uid, gid_t gid) {
  return inner_.chown(path, uid, gid);
}
int HashingBackend::fchown(Handle h, uid_t uid, gid_t gid) {
  return inner_.fchown(fileOf(h).inner, uid, gid);
}
int HashingBackend::utimens(std::string_view path, const struct timespec ts[2]) {
  return inner_.utimens(path, ts);
}
int HashingBackend::futimens(Handle h, const struct timespec ts[2]) {
  return inner_.futimens(fileOf(h).inner, ts);
}

}  // namespace sashimono::statefs
