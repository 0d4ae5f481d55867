#pragma once
// SourceDir: the directory a state filesystem exposes, held as an O_PATH descriptor, and
// the only place where state paths become file descriptors.
//
// Resolution never leaves the source directory: the parent of a path is opened relative to
// the root descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
// | RESOLVE_NO_XDEV), or, where openat2 is missing, by walking one component at a time with
// openat(O_PATH | O_DIRECTORY | O_NOFOLLOW). The leaf is then used only with *at calls that
// do not follow it (AT_SYMLINK_NOFOLLOW, O_NOFOLLOW). So a symlink anywhere in a path is never
// followed by the daemon, a ".." never appears (StatePath refuses it), and a mount inside the
// source is never crossed.
//
// Thread-safety: all const methods may be called concurrently.
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/statefs/StatePath.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::statefs {

// A resolved parent directory plus the leaf name to use with *at calls.
// `dirfd` is either the root descriptor (borrowed) or `owned`.
struct ParentRef {
  int dirfd = -1;
  UniqueFd owned;
  char leaf[256] = {};  // NUL-terminated; empty when the path is the root itself
  [[nodiscard]] bool isRoot() const { return leaf[0] == '\0'; }
};

class SourceDir {
 public:
  enum class Resolver { kAuto, kWalk };  // kWalk forces the openat fallback (tests)

  // Opens `path` (must be an existing directory; symlinks in `path` itself are allowed,
  // it is the operator's choice) as the root of resolution.
  [[nodiscard]] static core::Result<SourceDir> open(const std::string& path, Resolver r = Resolver::kAuto);

  [[nodiscard]] int rootFd() const { return root_.get(); }

  // Resolves the parent directory of `statePath` ("/a/b" -> dir "a", leaf "b").
  // Returns 0 or -errno: -EINVAL for a malformed path, -ELOOP/-ENOTDIR when a component is a
  // symlink or not a directory, -EXDEV on a mount crossing, -ENOENT when missing.
  [[nodiscard]] int parentOf(std::string_view statePath, ParentRef& out) const noexcept;

  // Opens the leaf of a resolved parent ("." for the root) with open(2) `flags`/`mode`, never
  // following a final symlink (O_PATH opens the link itself, anything else fails with ELOOP)
  // and never crossing into a mount. Returns the new descriptor (O_CLOEXEC) or -errno.
  [[nodiscard]] int openLeaf(const ParentRef& parent, int flags, mode_t mode = 0) const noexcept;

 private:
  explicit SourceDir(UniqueFd root, bool walk) : root_(std::move(root)), walk_(walk) {}
  int openDir(std::string_view rel, UniqueFd& out) const noexcept;
  int walkDir(std::string_view rel, UniqueFd& out) const noexcept;

  UniqueFd root_;
  bool walk_ = false;
};

}  // namespace sashimono::statefs
