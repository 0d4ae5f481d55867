#pragma once
// Small file helpers private to the host module.
#include <string>

#include "sashimono/core/Result.h"

namespace sashimono::host::detail {

core::Result<std::string> readFile(const std::string& path);
// Writes via a fresh temp file (O_EXCL|O_NOFOLLOW) and rename, so readers see the old or the new
// content, never a mix, and a planted symlink is replaced, not followed. durable: fsync the file
// before the rename (survives power loss, not only a killed process).
core::Status writeFileAtomic(const std::string& path, const std::string& content, int mode,
                             bool durable = false);
// Writes content to an existing file (e.g. a cgroup control file).
core::Status writeExisting(const std::string& path, const std::string& content);
bool exists(const std::string& path);

}  // namespace sashimono::host::detail
