#include "sashimono/statefs/ViewBackend.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace sashimono::statefs {

namespace {

struct DirList {
  std::vector<RoundBackend::ViewEntry> entries;
};

DirList* dirOf(Handle h) { return reinterpret_cast<DirList*>(static_cast<std::uintptr_t>(h)); }
RoundBackend::ViewFile* fileOf(Handle h) {
  return reinterpret_cast<RoundBackend::ViewFile*>(static_cast<std::uintptr_t>(h));
}
template <typename T>
Handle handleOf(T* p) {
  return static_cast<Handle>(reinterpret_cast<std::uintptr_t>(p));
}

void topStat(struct stat& st) {
  st = {};
  st.st_mode = S_IFDIR | 0555;
  st.st_nlink = 2;
  st.st_uid = ::geteuid();
  st.st_gid = ::getegid();
}

}  // namespace

void ViewBackend::prune() {
  const auto now = rounds_.epoch();
  std::erase_if(views_, [now](const auto& v) { return v.second != now; });
}

core::Result<std::uint64_t> ViewBackend::open() {
  std::lock_guard lock(mu_);
  prune();
  if (views_.size() >= kMaxViews)
    return core::Error("too many open views (" + std::to_string(kMaxViews) + ")");
  const auto id = next_++;
  views_[id] = rounds_.epoch();
  return id;
}

bool ViewBackend::close(std::uint64_t id) {
  std::lock_guard lock(mu_);
  prune();
  return views_.erase(id) != 0;
}

std::size_t ViewBackend::openViews() {
  std::lock_guard lock(mu_);
  prune();
  return views_.size();
}

int ViewBackend::split(std::string_view path, std::uint64_t& epoch, std::string& rest) {
  if (path == "/") return 1;
  const auto slash = path.find('/', 1);
  const std::string_view idText =
      path.substr(1, slash == std::string_view::npos ? std::string_view::npos : slash - 1);
  std::uint64_t id = 0;
  auto [p, ec] = std::from_chars(idText.data(), idText.data() + idText.size(), id);
  if (ec != std::errc() || p != idText.data() + idText.size()) return -ENOENT;
  std::lock_guard lock(mu_);
  prune();
  auto it = views_.find(id);
  if (it == views_.end()) return -ENOENT;
  epoch = it->second;
  rest = slash == std::string_view::npos ? std::string("/") : std::string(path.substr(slash));
  return 0;
}

int ViewBackend::getattr(std::string_view path, struct stat& st) {
  std::uint64_t epoch = 0;
  std::string rest;
  int rc = split(path, epoch, rest);
  if (rc == 1) {
    topStat(st);
    return 0;
  }
  if (rc != 0) return rc;
  return rounds_.viewStat(epoch, rest, st);
}

int ViewBackend::fgetattr(Handle h, struct stat& st) { return rounds_.viewFstat(*fileOf(h), st); }

int ViewBackend::readlink(std::string_view path, char* buf, std::size_t size) {
  std::uint64_t epoch = 0;
  std::string rest;
  int rc = split(path, epoch, rest);
  if (rc == 1) return -EINVAL;
  if (rc != 0) return rc;
  return rounds_.viewReadlink(epoch, rest, buf, size);
}

int ViewBackend::access(std::string_view path, int mask) {
  if ((mask & W_OK) != 0) return -EROFS;
  struct stat st {};
  return getattr(path, st);
}

int ViewBackend::statfs(struct statvfs& st) { return rounds_.statfs(st); }

int ViewBackend::open(std::string_view path, int flags, Handle& out) {
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) != 0) return -EROFS;
  std::uint64_t epoch = 0;
  std::string rest;
  int rc = split(path, epoch, rest);
  if (rc == 1) return -EISDIR;
  if (rc != 0) return rc;
  auto* f = new (std::nothrow) RoundBackend::ViewFile;
  if (f == nullptr) return -ENOMEM;
  if ((rc = rounds_.viewOpen(epoch, rest, *f)) != 0) {
    delete f;
    return rc;
  }
  out = handleOf(f);
  return 0;
}

int ViewBackend::read(Handle h, char* buf, std::size_t size, off_t offset) {
  return rounds_.viewRead(*fileOf(h), buf, size, offset);
}

int ViewBackend::flush(Handle) { return 0; }

int ViewBackend::release(Handle h) {
  delete fileOf(h);
  return 0;
}

int ViewBackend::opendir(std::string_view path, Handle& out) {
  std::uint64_t epoch = 0;
  std::string rest;
  int rc = split(path, epoch, rest);
  if (rc < 0) return rc;
  auto* d = new (std::nothrow) DirList;
  if (d == nullptr) return -ENOMEM;
  if (rc == 1) {
    std::lock_guard lock(mu_);
    prune();
    for (const auto& [id, e] : views_) {
      RoundBackend::ViewEntry v{std::to_string(id), {}};
      topStat(v.st);
      v.st.st_ino = id;  // not 0: readdir(3) skips entries without an inode number
      d->entries.push_back(std::move(v));
    }
  } else if ((rc = rounds_.viewList(epoch, rest, d->entries)) != 0) {
    delete d;
    return rc;
  }
  out = handleOf(d);
  return 0;
}

int ViewBackend::readdir(Handle h, off_t offset, const DirFiller& fill) {
  auto* d = dirOf(h);
  for (auto i = static_cast<std::size_t>(offset); i < d->entries.size(); ++i) {
    const auto& e = d->entries[i];
    DirEntry de{e.name.c_str(), e.st.st_ino, static_cast<unsigned char>(IFTODT(e.st.st_mode)),
                static_cast<off_t>(i + 1)};
    if (fill(de)) break;
  }
  return 0;
}

int ViewBackend::releasedir(Handle h) {
  delete dirOf(h);
  return 0;
}

}  // namespace sashimono::statefs
