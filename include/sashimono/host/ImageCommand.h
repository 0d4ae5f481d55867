#pragma once
// An image's default command: the `cmd` file next to its rootfs (written by tools/build-image.sh),
// one argument per line; empty lines are skipped. Pure.
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::host {

// The argument vector, or an error that names the line: no argument at all, an argument that
// validateArgument refuses (e.g. a control character, such as the '\r' of a CRLF file), or more
// arguments than a TenantSpec may hold (64).
core::Result<std::vector<std::string>> parseImageCommand(std::string_view text);

}  // namespace sashimono::host
