#pragma once
// Strict patterns for every tenant-supplied string, checked before it reaches a program's argv,
// a path or a file. Pure functions; each failure says what was wrong.
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"

namespace sashimono::host {

// Tenant names: 1..20 chars of [a-z0-9-], starting with a letter, not ending with '-'.
// They become parts of user names (prefix + name + "_c" fits the 32-char limit), paths and
// cgroup names.
core::Status validateTenantName(std::string_view name);
// Image names (a rootfs under the images directory): 1..64 chars of [a-z0-9._-], starting
// with [a-z0-9], no "..".
core::Status validateImageName(std::string_view name);
// Environment entries: KEY=VALUE with KEY [A-Z_][A-Z0-9_]{0,63} and VALUE printable ASCII (≤ 1024).
core::Status validateEnvEntry(std::string_view entry);
// Command arguments for the container process: printable ASCII, 1..4096 chars.
core::Status validateArgument(std::string_view arg);
// Prefix of tenant user names: [a-z][a-z0-9-]{0,9}.
core::Status validateUserPrefix(std::string_view prefix);

}  // namespace sashimono::host
