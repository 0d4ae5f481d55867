#pragma once
// Bounded logs in a directory that someone else (a tenant) may write to: every regular file
// `*.log` larger than maxBytes is copied whole to `<name>.1` (replacing the previous one) and
// truncated in place, so writers that append keep writing to it and a log never holds more than
// maxBytes plus what was written since the last pass (copy-truncate, as logrotate does).
//
// Root rotates files a tenant owns: every path is opened relative to a directory descriptor with
// O_NOFOLLOW (a symlink planted for `log`, `<name>.log` or `<name>.log.1` is refused, never
// followed), only regular files are touched, and the copy gets the log's owner and mode 0640.
#include <cstdint>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::host {

struct RotatedLog {
  std::string name;
  std::uint64_t bytes = 0;  // its size before the rotation
};

// `dir` is opened with O_NOFOLLOW from its parent; a missing directory rotates nothing.
core::Result<std::vector<RotatedLog>> rotateLogs(const std::string& dir, std::uint64_t maxBytes);

// The last `lines` lines of a file (at most maxBytes read from its end); "" when it is missing.
core::Result<std::string> tailFile(const std::string& path, std::size_t lines,
                                   std::uint64_t maxBytes = 1 << 20);

}  // namespace sashimono::host
