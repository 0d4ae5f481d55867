#include "ExecMounts.h"

#include <sys/mount.h>

#include <algorithm>
#include <vector>

#include "sashimono/statefs/Mountinfo.h"

namespace sashimono::runtime::detail {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(sep, start), s.size());
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

unsigned long flagsOf(std::string_view options) {
  unsigned long f = 0;
  for (auto o : split(options, ',')) {
    if (o == "nosuid") f |= MS_NOSUID;
    if (o == "nodev") f |= MS_NODEV;
    if (o == "noexec") f |= MS_NOEXEC;
    if (o == "noatime") f |= MS_NOATIME;
    if (o == "nodiratime") f |= MS_NODIRATIME;
    if (o == "relatime") f |= MS_RELATIME;
    if (o == "strictatime") f |= MS_STRICTATIME;
  }
  return f;
}

bool under(std::string_view path, std::string_view dir) {  // path == dir or below it
  if (dir == "/") return true;
  return path.substr(0, dir.size()) == dir && (path.size() == dir.size() || path[dir.size()] == '/');
}

}  // namespace

std::vector<Remount> remountPlan(std::string_view mountinfo, std::string_view dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.remove_suffix(1);
  std::vector<Remount> below;
  Remount top{std::string(dir), 0};
  std::size_t holderLen = 0;
  for (auto line : split(mountinfo, '\n')) {
    const auto f = split(line, ' ');
    if (f.size() < 6) continue;
    const std::string mp = statefs::unescapeMountinfo(f[4]);
    const unsigned long flags = flagsOf(f[5]);
    if (under(dir, mp) && mp.size() >= holderLen) {  // the deepest mount holding dir (last wins)
      holderLen = mp.size();
      top.keepFlags = flags;
    }
    if (mp.size() > dir.size() && under(mp, dir)) {
      bool replaced = false;
      for (auto& b : below)
        if (b.path == mp) {
          b.keepFlags = flags;  // stacked: the later mount is the visible one
          replaced = true;
        }
      if (!replaced) below.push_back({mp, flags});
    }
  }
  std::vector<Remount> out{top};
  out.insert(out.end(), below.begin(), below.end());
  return out;
}

}  // namespace sashimono::runtime::detail
