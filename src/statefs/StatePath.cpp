#include "sashimono/statefs/StatePath.h"

#include <cerrno>
#include <climits>

namespace sashimono::statefs {

bool isPlainName(std::string_view name) noexcept {
  if (name.empty() || name.size() > NAME_MAX) return false;
  if (name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == '\0') return false;
  }
  return true;
}

int splitStatePath(std::string_view path, SplitPath& out) noexcept {
  if (path.empty() || path.front() != '/') return -EINVAL;
  if (path.size() >= PATH_MAX) return -ENAMETOOLONG;
  if (path == "/") {
    out = SplitPath{};
    return 0;
  }
  std::string_view rest = path.substr(1);
  std::size_t lastSlash = std::string_view::npos;
  std::size_t start = 0;
  while (true) {
    std::size_t end = rest.find('/', start);
    std::string_view comp =
        rest.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (comp.size() > NAME_MAX) return -ENAMETOOLONG;
    if (!isPlainName(comp)) return -EINVAL;
    if (end == std::string_view::npos) break;
    lastSlash = end;
    start = end + 1;
  }
  if (lastSlash == std::string_view::npos) {
    out.parent = {};
    out.leaf = rest;
  } else {
    out.parent = rest.substr(0, lastSlash);
    out.leaf = rest.substr(lastSlash + 1);
  }
  return 0;
}

}  // namespace sashimono::statefs
