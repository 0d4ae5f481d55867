#include "sashimono/statefs/Mountinfo.h"

#include <fstream>
#include <sstream>

namespace sashimono::statefs {

std::string unescapeMountinfo(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
        s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

namespace {

std::vector<std::string_view> fields(std::string_view line) {
  std::vector<std::string_view> f;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ') ++j;
    if (j > i) f.push_back(line.substr(i, j - i));
    i = j;
  }
  return f;
}

bool toInt(std::string_view s, int& out) {
  if (s.empty() || s.size() > 9) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

}  // namespace

core::Result<std::vector<MountEntry>> parseMountinfo(std::string_view text) {
  std::vector<MountEntry> out;
  std::size_t lineNo = 0;
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++lineNo;
    if (line.empty()) continue;
    auto f = fields(line);
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    std::size_t sep = 6;
    while (sep < f.size() && f[sep] != "-") ++sep;
    MountEntry e;
    if (f.size() < 6 || sep + 2 >= f.size() || !toInt(f[0], e.mountId) || !toInt(f[1], e.parentId)) {
      return core::Error("mountinfo: malformed line " + std::to_string(lineNo) + ": " + std::string(line));
    }
    e.root = unescapeMountinfo(f[3]);
    e.mountPoint = unescapeMountinfo(f[4]);
    e.fsType = unescapeMountinfo(f[sep + 1]);
    e.source = unescapeMountinfo(f[sep + 2]);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<MountEntry> mountsAt(const std::vector<MountEntry>& all, std::string_view mountPoint) {
  std::vector<MountEntry> out;
  for (const auto& e : all) {
    if (e.mountPoint == mountPoint) out.push_back(e);
  }
  return out;
}

core::Result<std::vector<MountEntry>> readOwnMountinfo() {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return core::Error::fromErrno("mountinfo: cannot read /proc/self/mountinfo");
  std::stringstream ss;
  ss << in.rdbuf();
  return parseMountinfo(ss.str());
}

}  // namespace sashimono::statefs
