#pragma once
// File operations of syncTo (Sync.cpp): copying a file's content (reflink, else a copy that keeps
// holes), writing bytes, changing a mode without following a symlink, and removing a staged tree.
// Each returns 0 or -errno.
#include <sys/types.h>

#include <cstdint>
#include <span>

namespace sashimono::statefs::sync {

// Makes `dst` (empty, open for writing) a copy of `src`: FICLONE where the filesystem shares
// extents, else the data ranges (SEEK_DATA/SEEK_HOLE) copied with copy_file_range or pread/pwrite;
// the size is src's either way.
[[nodiscard]] int copyContent(int src, int dst) noexcept;
// pwrite of all of `bytes` at `offset`.
[[nodiscard]] int writeAt(int fd, std::uint64_t offset, std::span<const std::uint8_t> bytes) noexcept;
// chmod of the entry `name` in `dirfd`, never following it (a symlink: -EOPNOTSUPP).
[[nodiscard]] int chmodAt(int dirfd, const char* name, mode_t mode) noexcept;
// Removes `name` in `dirfd` and everything under it, making directories writable as needed.
[[nodiscard]] int removeTreeAt(int dirfd, const char* name) noexcept;

}  // namespace sashimono::statefs::sync
