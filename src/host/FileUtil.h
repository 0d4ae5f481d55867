#pragma once
// Small file helpers private to the host module.
#include <string>

#include "sashimono/core/File.h"
#include "sashimono/core/Result.h"

namespace sashimono::host::detail {

using core::readFile;
using core::writeFileAtomic;
// Writes content to an existing file (e.g. a cgroup control file).
core::Status writeExisting(const std::string& path, const std::string& content);
bool exists(const std::string& path);

}  // namespace sashimono::host::detail
