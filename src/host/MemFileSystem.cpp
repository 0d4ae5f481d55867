#include "sashimono/host/MemFileSystem.h"

#include <cerrno>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

namespace sashimono::host {

namespace {

std::string parentOf(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string childPrefix(const std::string& dir) { return dir == "/" ? dir : dir + "/"; }

}  // namespace

struct MemFileSystem::State {
  struct Node {
    bool dir = false;
    std::string content;
    mode_t mode = 0;
  };
  std::mutex mu;
  std::condition_variable unlocked;
  std::map<std::string, Node> nodes{{"/", Node{true, {}, 0755}}};
  std::set<std::string> locked;
  std::map<std::string, std::string> links;  // symlink path -> target

  // Callers hold mu.
  [[nodiscard]] bool isDir(const std::string& p) const {
    auto it = nodes.find(p);
    return it != nodes.end() && it->second.dir;
  }
};

namespace {

// Shares the state, so it may outlive the MemFileSystem.
class MemLock : public FileSystem::Lock {
 public:
  MemLock(std::shared_ptr<MemFileSystem::State> s, std::string path)
      : s_(std::move(s)), path_(std::move(path)) {}
  MemLock(const MemLock&) = delete;
  MemLock& operator=(const MemLock&) = delete;
  ~MemLock() override {
    {
      std::lock_guard g(s_->mu);
      s_->locked.erase(path_);
    }
    s_->unlocked.notify_all();
  }

 private:
  std::shared_ptr<MemFileSystem::State> s_;
  std::string path_;
};

}  // namespace

MemFileSystem::MemFileSystem() : s_(std::make_shared<State>()) {}

core::Status MemFileSystem::makeDir(const std::string& dir, mode_t mode) {
  std::lock_guard g(s_->mu);
  auto it = s_->nodes.find(dir);
  if (it == s_->nodes.end()) {
    if (!s_->isDir(parentOf(dir))) return core::Error::fromErrno("cannot create " + dir, ENOENT);
    it = s_->nodes.emplace(dir, State::Node{true, {}, mode}).first;
  }
  it->second.mode = mode;
  return {};
}

core::Result<std::vector<std::string>> MemFileSystem::listDir(const std::string& dir) {
  std::lock_guard g(s_->mu);
  auto it = s_->nodes.find(dir);
  if (it == s_->nodes.end()) return core::Error::fromErrno("cannot list " + dir, ENOENT);
  if (!it->second.dir) return core::Error::fromErrno("cannot list " + dir, ENOTDIR);
  const std::string prefix = childPrefix(dir);
  std::vector<std::string> out;
  for (it = s_->nodes.lower_bound(prefix);
       it != s_->nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    auto name = it->first.substr(prefix.size());
    if (!name.empty() && name.find('/') == std::string::npos) out.push_back(std::move(name));
  }
  return out;
}

core::Result<std::string> MemFileSystem::readFile(const std::string& path) {
  std::lock_guard g(s_->mu);
  auto it = s_->nodes.find(path);
  if (it == s_->nodes.end()) return core::Error::fromErrno("cannot read " + path, ENOENT);
  if (it->second.dir) return core::Error::fromErrno("cannot read " + path, EISDIR);
  return it->second.content;
}

core::Status MemFileSystem::writeFileAtomic(const std::string& path, const std::string& content, mode_t mode,
                                            bool /*durable*/) {
  std::lock_guard g(s_->mu);
  if (!s_->isDir(parentOf(path))) return core::Error::fromErrno("cannot write " + path + ".tmp", ENOENT);
  if (s_->isDir(path)) return core::Error::fromErrno("rename " + path + ".tmp to " + path, EISDIR);
  s_->nodes[path] = State::Node{false, content, mode};
  return {};
}

core::Status MemFileSystem::removeFile(const std::string& path) {
  std::lock_guard g(s_->mu);
  auto it = s_->nodes.find(path);
  if (it == s_->nodes.end()) return {};
  if (it->second.dir) return core::Error::fromErrno("cannot remove " + path, EISDIR);
  s_->nodes.erase(it);
  return {};
}

bool MemFileSystem::exists(const std::string& path) {
  std::lock_guard g(s_->mu);
  return s_->nodes.count(path) > 0 || s_->links.count(path) > 0;
}

core::Result<std::string> MemFileSystem::realPath(const std::string& path) {
  std::lock_guard g(s_->mu);
  std::vector<std::string> todo;  // components still to walk, last first
  auto push = [&todo](const std::string& p) {
    std::vector<std::string> parts;
    for (std::size_t at = 0; at < p.size();) {
      auto next = p.find('/', at);
      if (next == std::string::npos) next = p.size();
      if (next > at) parts.push_back(p.substr(at, next - at));
      at = next + 1;
    }
    todo.insert(todo.end(), parts.rbegin(), parts.rend());
  };
  push(path);
  std::string done;  // resolved so far ("" = "/")
  for (int hops = 0; !todo.empty();) {
    const std::string part = todo.back();
    todo.pop_back();
    if (part == ".") continue;
    if (part == "..") {
      done = done.substr(0, done.find_last_of('/') == std::string::npos ? 0 : done.find_last_of('/'));
      continue;
    }
    const std::string next = done + "/" + part;
    if (auto link = s_->links.find(next); link != s_->links.end()) {
      if (++hops > 40) return core::Error::fromErrno("cannot resolve " + path, ELOOP);
      if (!link->second.empty() && link->second[0] == '/') done.clear();
      push(link->second);
      continue;
    }
    if (s_->nodes.count(next) == 0) return core::Error::fromErrno("cannot resolve " + path, ENOENT);
    done = next;
  }
  return done.empty() ? std::string("/") : done;
}

void MemFileSystem::makeSymlink(const std::string& path, const std::string& target) {
  std::lock_guard g(s_->mu);
  s_->links[path] = target;
}

core::Result<std::unique_ptr<FileSystem::Lock>> MemFileSystem::lockExclusive(const std::string& path) {
  std::unique_lock g(s_->mu);
  if (!s_->isDir(parentOf(path))) return core::Error::fromErrno("cannot open " + path, ENOENT);
  if (s_->isDir(path)) return core::Error::fromErrno("cannot open " + path, EISDIR);
  s_->nodes.try_emplace(path, State::Node{false, {}, 0600});
  s_->unlocked.wait(g, [&] { return s_->locked.count(path) == 0; });
  s_->locked.insert(path);
  return std::unique_ptr<Lock>(std::make_unique<MemLock>(s_, path));
}

void MemFileSystem::makeDirs(const std::string& dir, mode_t mode) {
  std::lock_guard g(s_->mu);
  for (auto slash = dir.find('/', 1); slash != std::string::npos; slash = dir.find('/', slash + 1))
    s_->nodes.try_emplace(dir.substr(0, slash), State::Node{true, {}, 0755});
  s_->nodes[dir] = State::Node{true, {}, mode};
}

void MemFileSystem::removeTree(const std::string& path) {
  std::lock_guard g(s_->mu);
  s_->nodes.erase(path);
  const std::string prefix = childPrefix(path);
  auto it = s_->nodes.lower_bound(prefix);
  while (it != s_->nodes.end() && it->first.compare(0, prefix.size(), prefix) == 0) it = s_->nodes.erase(it);
  s_->links.erase(path);
  for (auto l = s_->links.lower_bound(prefix);
       l != s_->links.end() && l->first.compare(0, prefix.size(), prefix) == 0;)
    l = s_->links.erase(l);
  if (path == "/") s_->nodes["/"] = State::Node{true, {}, 0755};
}

std::optional<mode_t> MemFileSystem::mode(const std::string& path) const {
  std::lock_guard g(s_->mu);
  auto it = s_->nodes.find(path);
  if (it == s_->nodes.end()) return std::nullopt;
  return it->second.mode;
}

}  // namespace sashimono::host
