#pragma once
// Whole-file reads and atomic replacement, for the small files the modules keep (records,
// configuration, patch.cfg).
#include <string>

#include "sashimono/core/Result.h"

namespace sashimono::core {

Result<std::string> readFile(const std::string& path);
// Writes via a fresh temp file `path.tmp` (O_EXCL|O_NOFOLLOW, so a planted symlink or hard link
// there is replaced, not written through) and rename, so readers see the old or the new content,
// never a mix. durable: fsync the file before the rename (survives power loss, not only a killed
// process).
Status writeFileAtomic(const std::string& path, const std::string& content, int mode, bool durable = false);

}  // namespace sashimono::core
