#pragma once
// Validation of the paths the FUSE layer hands to a StateBackend. Pure logic, no I/O.
//
// A state path is absolute within the state filesystem: "/" or "/a/b/c". Every component
// must be a plain name: not empty, not "." or "..", no NUL, at most NAME_MAX bytes; the
// whole path at most PATH_MAX - 1 bytes. Anything else is refused, so a path can never
// name something outside the source directory by itself (symlinks are refused separately,
// at resolution time, see SourceDir).
#include <string_view>

namespace sashimono::statefs {

struct SplitPath {
  std::string_view parent;  // relative to the source root, no leading '/': "" (the root) or "a/b"
  std::string_view leaf;    // last component; "" when the path is the root itself
};

// Returns 0 and fills `out` (views into `path`), or -EINVAL (malformed) / -ENAMETOOLONG.
// Hot path: no allocation.
[[nodiscard]] int splitStatePath(std::string_view path, SplitPath& out) noexcept;

// True when `name` is a single plain component (see above).
[[nodiscard]] bool isPlainName(std::string_view name) noexcept;

}  // namespace sashimono::statefs
