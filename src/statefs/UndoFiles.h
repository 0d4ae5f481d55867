#pragma once
// File operations of the undo log (UndoLog.cpp, RoundBackend.cpp). Each returns 0 (or a
// descriptor) or -errno, and never follows a symlink.
#include <sys/types.h>

namespace sashimono::statefs::undo {

// Removes the entry `name` in `dirfd`: a directory (empty) or anything else.
[[nodiscard]] int removeEntry(int dirfd, const char* name) noexcept;
// Renames `fromDir/from` to `toDir/to` without replacing anything (RENAME_NOREPLACE), or
// exchanges the two (RENAME_EXCHANGE).
[[nodiscard]] int moveBack(int fromDir, const char* from, int toDir, const char* to,
                           bool exchange = false) noexcept;
// renameat2 with `flags`; a directory that may not be moved because it is read-only (EACCES)
// is made writable for the move and given its mode back.
[[nodiscard]] int moveEntry(int fromDir, const char* from, int toDir, const char* to,
                            unsigned flags = 0) noexcept;
// Opens the regular file `name` in `dirfd` with `flags` (O_CLOEXEC | O_NOFOLLOW added); when its
// mode keeps its owner out (the daemon owns the state), the owner's read and write bits are
// added for the open and the mode is put back.
[[nodiscard]] int openForce(int dirfd, const char* name, int flags) noexcept;

}  // namespace sashimono::statefs::undo
