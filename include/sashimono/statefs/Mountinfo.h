#pragma once
// Parsing /proc/<pid>/mountinfo text (proc(5)). Pure logic: parse content, not paths.
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::statefs {

struct MountEntry {
  int mountId = 0;
  int parentId = 0;
  std::string root;        // unescaped
  std::string mountPoint;  // unescaped (\040 -> ' ', \011, \012, \134)
  std::string fsType;      // e.g. "fuse.statefs"
  std::string source;
};

// A mountinfo field with its escapes (\ooo octal: space, tab, newline, backslash) undone.
[[nodiscard]] std::string unescapeMountinfo(std::string_view field);

// Fails on a malformed line, saying which.
[[nodiscard]] core::Result<std::vector<MountEntry>> parseMountinfo(std::string_view text);

// The entries mounted exactly at `mountPoint`, in mount order (last = topmost).
[[nodiscard]] std::vector<MountEntry> mountsAt(const std::vector<MountEntry>& all,
                                               std::string_view mountPoint);

// Reads and parses /proc/self/mountinfo.
[[nodiscard]] core::Result<std::vector<MountEntry>> readOwnMountinfo();

}  // namespace sashimono::statefs
