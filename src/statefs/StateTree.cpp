#include "sashimono/statefs/StateTree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "TreeNode.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/statefs/SourceDir.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::statefs {

using namespace detail;

const char* entryKindName(EntryKind k) {
  switch (k) {
    case EntryKind::file:
      return "file";
    case EntryKind::directory:
      return "directory";
    case EntryKind::symlink:
      return "symlink";
    case EntryKind::fifo:
      return "fifo";
  }
  return "?";
}

crypto::Hash256 directoryHash(std::span<const TreeEntry> entries) {
  crypto::Blake3 h;
  for (const auto& e : entries) {
    const std::uint8_t meta[4] = {0, static_cast<std::uint8_t>(e.kind),
                                  static_cast<std::uint8_t>(e.perm >> 8),
                                  static_cast<std::uint8_t>(e.perm & 0xff)};
    h.update(core::ByteView(reinterpret_cast<const std::uint8_t*>(e.name.data()), e.name.size()));
    h.update(core::ByteView(meta, sizeof meta));
    h.update(e.hash);
  }
  return h.finalize();
}

struct StateTree::Impl {
  std::string path;
  SourceDir source;
  dev_t dev = 0;
  std::unique_ptr<Node> root;
  std::unordered_multimap<ino_t, Node*> files;
  Progress progress;
  KnownFiles known;
  TreeChanges changes;  // since the last save (TreeStore)
  std::uint64_t hashed = 0;

  mutable std::mutex mu;               // guards the marks
  std::map<std::string, bool> marked;  // path → the name may hold a new object
  std::vector<std::pair<std::string, std::string>> renames;
  std::map<ino_t, ByteRanges> data;

  explicit Impl(SourceDir s) : source(std::move(s)) {}

  void index(Node& n) {
    if (n.kind == EntryKind::file) files.emplace(n.ino, &n);
    for (auto& [_, c] : n.children) index(*c);
  }
  void changedWhole(ino_t ino) { changes.files[ino] = {{0, UINT64_MAX}}; }
  void unindex(Node& n) {
    if (n.kind == EntryKind::file) {
      changedWhole(n.ino);
      auto [b, e] = files.equal_range(n.ino);
      for (auto it = b; it != e; ++it)
        if (it->second == &n) {
          files.erase(it);
          break;
        }
    }
    for (auto& [_, c] : n.children) unindex(*c);
  }

  Node* find(std::string_view p) const {
    Node* n = root.get();
    std::size_t i = 1;
    while (n != nullptr && i < p.size()) {
      auto slash = p.find('/', i);
      std::string name(p.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i));
      auto it = n->children.find(name);
      n = it == n->children.end() ? nullptr : it->second.get();
      i = slash == std::string_view::npos ? p.size() : slash + 1;
    }
    return n;
  }

  // Opens the entry at state path `p` (never following it) with `flags`.
  core::Result<UniqueFd> openPath(const std::string& p, int flags) const {
    if (p == "/") {
      int fd = ::openat(source.rootFd(), ".", flags | O_CLOEXEC);
      if (fd < 0) return sysError("opening", p, errno);
      return UniqueFd(fd);
    }
    ParentRef parent;
    if (int rc = source.parentOf(p, parent); rc < 0) return sysError("resolving", p, -rc);
    int fd = source.openLeaf(parent, flags);
    if (fd < 0) return sysError("opening", p, -fd);
    return UniqueFd(fd);
  }

  // Builds the node for entry `name` of the directory open at `dirfd` (path `p`).
  core::Result<std::unique_ptr<Node>> buildEntry(int dirfd, const std::string& name, const std::string& p,
                                                 const struct stat& st) {
    auto kind = kindOf(st.st_mode);
    if (!kind) return core::Error(p + ": a socket or device cannot be part of the state");
    if (st.st_dev != dev) return core::Error(p + ": another filesystem is mounted inside the state");
    auto n = std::make_unique<Node>();
    n->kind = *kind;
    n->perm = static_cast<std::uint16_t>(st.st_mode & 07777);
    n->ino = st.st_ino;
    n->name = name;
    n->mtimeNs = nsOf(st.st_mtim);
    n->ctimeNs = nsOf(st.st_ctim);
    switch (*kind) {
      case EntryKind::file: {
        if (known) {
          if (auto k = known(st)) {
            n->file = std::move(k->hash);
            n->hash = n->file.hash();
            n->hashedAtNs = k->hashedAtNs;
            break;
          }
        }
        n->hashedAtNs = nowNs();
        int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) return sysError("opening", p, errno);
        UniqueFd f(fd);
        struct stat now {};
        if (::fstat(f.get(), &now) != 0) return sysError("stat of", p, errno);
        auto h = FileHash::compute(static_cast<std::uint64_t>(now.st_size), preadReader(f.get()));
        if (!h) return h.error().context(p);
        n->file = std::move(*h);
        n->hash = n->file.hash();
        n->mtimeNs = nsOf(now.st_mtim);
        n->ctimeNs = nsOf(now.st_ctim);
        changedWhole(n->ino);
        noteHashed(n->file.size());
        break;
      }
      case EntryKind::directory: {
        int fd = ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return sysError("opening", p, errno);
        UniqueFd d(fd);
        SASHI_TRY(buildDir(d.get(), *n, p));
        break;
      }
      case EntryKind::symlink: {
        std::string target(PATH_MAX, '\0');
        ssize_t len = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
        if (len < 0) return sysError("reading the link", p, errno);
        target.resize(static_cast<std::size_t>(len));
        n->hash = crypto::blake3(
            core::ByteView(reinterpret_cast<const std::uint8_t*>(target.data()), target.size()));
        break;
      }
      case EntryKind::fifo:
        n->hash = crypto::blake3(core::ByteView{});
        break;
    }
    return n;
  }

  core::Status buildDir(int dirfd, Node& dir, const std::string& p) {
    auto names = readNames(dirfd, p);
    if (!names) return names.error();
    for (const auto& name : *names) {
      const std::string cp = childPath(p, name);
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return sysError("stat of", cp, errno);
      auto child = buildEntry(dirfd, name, cp, st);
      if (!child) return child.error();
      (*child)->parent = &dir;
      dir.children.emplace(name, std::move(*child));
    }
    rehashDir(dir);
    return {};
  }

  static void rehashDir(Node& dir) {
    std::vector<TreeEntry> entries;
    entries.reserve(dir.children.size());
    for (const auto& [_, c] : dir.children) entries.push_back(entryOf(*c));
    dir.hash = directoryHash(entries);
  }

  void noteHashed(std::uint64_t bytes) {
    hashed += bytes;
    if (progress) progress(hashed);
  }

  // Moves the node at `from` to `to` in the tree, as rename(2) did on the source.
  void moveNode(const std::string& from, const std::string& to) {
    if (from == to || to.starts_with(from + "/")) return;
    Node* n = find(from);
    Node* newParent = find(parentPath(to));
    if (n == nullptr || n == root.get() || newParent == nullptr || newParent->kind != EntryKind::directory)
      return;
    Node* oldParent = n->parent;
    auto it = oldParent->children.find(n->name);
    std::unique_ptr<Node> moved = std::move(it->second);
    oldParent->children.erase(it);
    const std::string name = to.substr(to.rfind('/') + 1);
    if (auto old = newParent->children.find(name); old != newParent->children.end()) {
      unindex(*old->second);
      newParent->children.erase(old);
    }
    moved->name = name;
    moved->parent = newParent;
    newParent->children.emplace(name, std::move(moved));
  }

  // Lists the directory node `dir` (path `p`) again; new entries are built from scratch.
  core::Status relist(Node& dir, const std::string& p, const std::set<std::string>& replaced,
                      std::set<Node*>& fresh, std::set<ino_t>& resized,
                      std::map<ino_t, std::uint16_t>& perms) {
    auto fd = openPath(p, O_RDONLY | O_DIRECTORY);
    if (!fd) return fd.error();
    auto names = readNames(fd->get(), p);
    if (!names) return names.error();
    std::map<std::string, std::unique_ptr<Node>> next;
    for (const auto& name : *names) {
      const std::string cp = childPath(p, name);
      struct stat st {};
      if (::fstatat(fd->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return sysError("stat of", cp, errno);
      auto kind = kindOf(st.st_mode);
      auto old = dir.children.find(name);
      if (old != dir.children.end() && kind && old->second->ino == st.st_ino && old->second->kind == *kind &&
          *kind != EntryKind::symlink && replaced.count(name) == 0) {
        Node& keep = *old->second;
        const auto perm = static_cast<std::uint16_t>(st.st_mode & 07777);
        if (*kind == EntryKind::file) perms[keep.ino] = perm;  // for its other names (hard links)
        keep.perm = perm;
        if (*kind == EntryKind::file && keep.file.size() != static_cast<std::uint64_t>(st.st_size))
          resized.insert(keep.ino);
        next.emplace(name, std::move(old->second));
        continue;
      }
      auto child = buildEntry(fd->get(), name, cp, st);
      if (!child) return child.error();
      if ((*child)->kind == EntryKind::file) perms[(*child)->ino] = (*child)->perm;
      (*child)->parent = &dir;
      index(**child);
      fresh.insert(child->get());
      next.emplace(name, std::move(*child));
    }
    for (auto& [name, c] : dir.children)
      if (c) unindex(*c);
    dir.children = std::move(next);
    return {};
  }

  core::Status updateFile(Node& n, const ByteRanges& ranges) {
    const std::string p = pathOf(&n);
    auto fd = openPath(p, O_RDONLY | O_NONBLOCK);
    if (!fd) return fd.error();
    const std::int64_t hashedAt = nowNs();
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0) return sysError("stat of", p, errno);
    if (!S_ISREG(st.st_mode)) return core::Error(p + ": no longer a regular file");
    const auto size = static_cast<std::uint64_t>(st.st_size);
    n.perm = static_cast<std::uint16_t>(st.st_mode & 07777);  // an fchmod marks the inode only
    if (st.st_ino != n.ino) {
      // The name now holds another file than the tree thought: hash it whole.
      unindex(n);
      n.ino = st.st_ino;
      index(n);
      auto h = FileHash::compute(size, preadReader(fd->get()));
      if (!h) return h.error().context(p);
      n.file = std::move(*h);
      changedWhole(n.ino);
    } else {
      const std::uint64_t oldSize = n.file.size();
      if (auto st = n.file.update(size, ranges, preadReader(fd->get())); !st) return st.error().context(p);
      auto& c = changes.files[n.ino];
      c.insert(c.end(), ranges.begin(), ranges.end());
      if (const auto keep = std::min(oldSize, size);
          oldSize != size)  // as FileHash::update: from the old last block
        c.emplace_back(keep == 0 ? 0 : (keep - 1) / kBlockSize * kBlockSize, UINT64_MAX);
    }
    n.hash = n.file.hash();
    n.mtimeNs = nsOf(st.st_mtim);
    n.ctimeNs = nsOf(st.st_ctim);
    n.hashedAtNs = hashedAt;
    return {};
  }
};

StateTree::StateTree(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
StateTree::StateTree(StateTree&&) noexcept = default;
StateTree& StateTree::operator=(StateTree&&) noexcept = default;
StateTree::~StateTree() = default;

core::Result<StateTree> StateTree::build(const std::string& path, const Progress& progress,
                                         const KnownFiles& known) {
  auto source = SourceDir::open(path);
  if (!source) return source.error();
  auto impl = std::make_unique<Impl>(std::move(*source));
  impl->path = path;
  impl->progress = progress;
  impl->known = known;
  struct stat st {};
  if (::fstat(impl->source.rootFd(), &st) != 0) return sysError("stat of", path, errno);
  impl->dev = st.st_dev;
  auto fd = impl->openPath("/", O_RDONLY | O_DIRECTORY);
  if (!fd) return fd.error();
  impl->root = std::make_unique<Node>();
  impl->root->kind = EntryKind::directory;
  impl->root->ino = st.st_ino;
  if (auto st = impl->buildDir(fd->get(), *impl->root, "/"); !st) return st.error().context(path);
  impl->index(*impl->root);
  impl->progress = nullptr;
  impl->known = nullptr;
  if (!known) {
    impl->changes.files.clear();
    impl->changes.all = true;
  }
  return StateTree(std::move(impl));
}

const crypto::Hash256& StateTree::root() const { return impl_->root->hash; }

void StateTree::markEntry(std::string_view path) {
  std::lock_guard lock(impl_->mu);
  impl_->marked[std::string(path)] = true;
}

void StateTree::markMode(std::string_view path) {
  std::lock_guard lock(impl_->mu);
  impl_->marked.emplace(std::string(path), false);
}

void StateTree::markRename(std::string_view from, std::string_view to) {
  std::lock_guard lock(impl_->mu);
  // Marks made before the rename name the old paths: move them along.
  const std::string f(from);
  std::vector<std::pair<std::string, bool>> moved;
  for (auto it = impl_->marked.lower_bound(f); it != impl_->marked.end() && it->first.starts_with(f);) {
    if (it->first.size() == f.size() || it->first[f.size()] == '/') {
      moved.emplace_back(std::string(to) + it->first.substr(f.size()), it->second);
      it = impl_->marked.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [p, replaced] : moved) impl_->marked[p] = impl_->marked[p] || replaced;
  impl_->renames.emplace_back(f, std::string(to));
  impl_->marked.emplace(f, false);
  impl_->marked.emplace(std::string(to), false);
}

void StateTree::markData(ino_t ino, std::uint64_t offset, std::uint64_t length) {
  std::lock_guard lock(impl_->mu);
  auto& r = impl_->data[ino];
  if (!r.empty() && r.back().second == offset)
    r.back().second = offset + length;  // sequential writes: one range
  else
    r.emplace_back(offset, offset + length);
}

void StateTree::markTruncate(ino_t ino, std::uint64_t size) {
  std::lock_guard lock(impl_->mu);
  impl_->data[ino].emplace_back(size, UINT64_MAX);
}

core::Status StateTree::rescan() { return rescanTree(*impl_->root, impl_->source.rootFd(), *this); }

void StateTree::markInodeMode(ino_t ino) {
  std::lock_guard lock(impl_->mu);
  impl_->data[ino];  // no bytes: updateFile rereads the mode of each of its names
}

bool StateTree::dirty() const {
  std::lock_guard lock(impl_->mu);
  return !impl_->marked.empty() || !impl_->data.empty();
}

core::Result<crypto::Hash256> StateTree::refresh() {
  Impl& t = *impl_;
  std::map<std::string, bool> marked;  // path → the name may hold a new object
  std::vector<std::pair<std::string, std::string>> renames;
  std::map<ino_t, ByteRanges> data;
  {
    std::lock_guard lock(t.mu);
    marked.swap(t.marked);
    renames.swap(t.renames);
    data.swap(t.data);
  }
  for (const auto& [from, to] : renames) t.moveNode(from, to);

  // Directories to list again: the parents of marked entries, shallowest first.
  std::set<std::string> dirs;
  std::map<std::string, std::set<std::string>> replaced;  // directory → names that may hold new objects
  for (const auto& [p, isNew] : marked) {
    if (p == "/") {
      dirs.insert("/");
      continue;
    }
    const std::string d = parentPath(p);
    dirs.insert(d);
    if (isNew) replaced[d].insert(p.substr(p.rfind('/') + 1));
  }
  std::vector<std::string> order(dirs.begin(), dirs.end());
  std::stable_sort(order.begin(), order.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') < std::count(b.begin(), b.end(), '/');
  });
  std::set<Node*> fresh;
  std::set<Node*> changed;
  std::set<ino_t> resized;
  std::map<ino_t, std::uint16_t> perms;
  for (const auto& d : order) {
    Node* n = t.find(d);
    if (n == nullptr || n->kind != EntryKind::directory) continue;  // gone: its parent was listed
    bool inFresh = false;
    for (Node* a = n; a != nullptr; a = a->parent) inFresh = inFresh || fresh.count(a) != 0;
    if (inFresh) continue;  // built from scratch in this refresh
    static const std::set<std::string> kNone;
    auto r = replaced.find(d);
    auto st = t.relist(*n, d, r == replaced.end() ? kNone : r->second, fresh, resized, perms);
    if (!st) return st.error().context(t.path);
    changed.insert(n);
  }
  // A mode belongs to the inode: the other names of a hard-linked file change with it.
  for (const auto& [ino, perm] : perms) {
    auto [b, e] = t.files.equal_range(ino);
    for (auto it = b; it != e; ++it) {
      if (it->second->perm == perm) continue;
      it->second->perm = perm;
      changed.insert(it->second->parent);
    }
  }
  for (ino_t ino : resized) data[ino];
  for (auto& [ino, ranges] : data) {
    std::vector<Node*> nodes;
    auto [b, e] = t.files.equal_range(ino);
    for (auto it = b; it != e; ++it) nodes.push_back(it->second);
    for (Node* n : nodes) {
      if (fresh.count(n) != 0) continue;
      auto st = t.updateFile(*n, ranges);
      if (!st) return st.error().context(t.path);
      changed.insert(n->parent);
    }
  }
  // Every directory above a change, deepest first.
  std::set<Node*> above;
  for (Node* n : changed)
    for (Node* a = n; a != nullptr && above.insert(a).second; a = a->parent) {
    }
  std::vector<Node*> dirsByDepth(above.begin(), above.end());
  std::sort(dirsByDepth.begin(), dirsByDepth.end(),
            [](const Node* a, const Node* b) { return depthOf(a) > depthOf(b); });
  for (Node* d : dirsByDepth) Impl::rehashDir(*d);
  return t.root->hash;
}

core::Result<std::vector<TreeEntry>> StateTree::listing(std::string_view path) const {
  const Node* n = impl_->find(path);
  if (n == nullptr) return core::Error(std::string(path) + ": not in the state");
  if (n->kind != EntryKind::directory) return core::Error(std::string(path) + ": not a directory");
  std::vector<TreeEntry> out;
  out.reserve(n->children.size());
  for (const auto& [_, c] : n->children) out.push_back(entryOf(*c));
  return out;
}

core::Result<TreeEntry> StateTree::entry(std::string_view path) const {
  const Node* n = impl_->find(path);
  if (n == nullptr) return core::Error(std::string(path) + ": not in the state");
  return entryOf(*n);
}

core::Result<std::vector<crypto::Hash256>> StateTree::blocks(std::string_view path) const {
  const Node* n = impl_->find(path);
  if (n == nullptr) return core::Error(std::string(path) + ": not in the state");
  if (n->kind != EntryKind::file) return core::Error(std::string(path) + ": not a file");
  auto cvs = n->file.blockCvs();
  return std::vector<crypto::Hash256>(cvs.begin(), cvs.end());
}

const TreeChanges& StateTree::changes() const { return impl_->changes; }

void StateTree::clearChanges() { impl_->changes = {}; }

namespace {
FileRecord recordOf(const Node& n) {
  return FileRecord{
      .ino = n.ino, .mtimeNs = n.mtimeNs, .ctimeNs = n.ctimeNs, .hashedAtNs = n.hashedAtNs, .hash = &n.file};
}
}  // namespace

void StateTree::forEachFile(const std::function<void(const FileRecord&)>& f) const {
  const auto& files = impl_->files;
  for (auto it = files.begin(); it != files.end(); it = files.equal_range(it->first).second)
    f(recordOf(*it->second));
}

std::optional<FileRecord> StateTree::file(ino_t ino) const {
  auto it = impl_->files.find(ino);
  if (it == impl_->files.end()) return std::nullopt;
  return recordOf(*it->second);
}

}  // namespace sashimono::statefs
