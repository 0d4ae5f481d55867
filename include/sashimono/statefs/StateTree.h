#pragma once
// StateTree: the hash tree of a state directory, and its root, the state hash.
//
//   file       BLAKE3 of its content (FileHash: kept per 64 KiB block)
//   symlink    BLAKE3 of its target text (never followed)
//   fifo       BLAKE3 of nothing
//   directory  BLAKE3 of its entries sorted by name (bytewise), each encoded as
//                name ‖ 0x00 ‖ kind (1 file, 2 directory, 3 symlink, 4 fifo)
//                     ‖ permission bits (mode & 07777, 2 bytes big-endian) ‖ child hash (32)
//   root       the hash of the state directory itself (its own mode is not part of it)
//
// Owners, times and inode numbers are not part of the hash (they differ between hosts that
// agree on a state); permission bits are (a contract may depend on them). Sockets and
// devices cannot be created through the state filesystem; found in a directory they are
// refused (an error names the path). Hard links are ordinary: each name hashes the content.
//
// Incremental use: the state filesystem marks what each operation may have changed (mark*),
// and refresh() rereads only that from the source directory: the listings of marked
// directories, the marked byte ranges of files (by inode number, so a write through a handle
// whose file was renamed or linked elsewhere still lands), and rehashes the directories
// above. refresh() trusts nothing but what it reads: a mark that was not needed costs a
// reread, a listing is compared entry by entry (inode, kind, size) with what the tree holds.
// Renames move subtrees in the tree so that a moved directory is not rehashed.
//
// Persistence (the tree saved beside the state, so that a restart does not rehash it) is
// TreeStore's: see TreeStore.h.
//
// Thread-safety: mark* may be called from any thread at any time (they only record); build,
// refresh and the readers need one thread at a time and no writes to the source meanwhile
// (the round is closed when the runtime asks for the root).
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/statefs/FileHash.h"

namespace sashimono::statefs {

enum class EntryKind : std::uint8_t { file = 1, directory = 2, symlink = 3, fifo = 4 };
const char* entryKindName(EntryKind k);  // "file" | "directory" | "symlink" | "fifo"

struct TreeEntry {
  std::string name;
  EntryKind kind = EntryKind::file;
  std::uint16_t perm = 0;  // mode & 07777
  std::uint64_t size = 0;  // files: bytes; others 0
  crypto::Hash256 hash{};
  bool operator==(const TreeEntry&) const = default;
};

// The hash of a directory whose entries are `entries` (sorted by name, as listing() gives).
crypto::Hash256 directoryHash(std::span<const TreeEntry> entries);

// Called during long work with the bytes of file content hashed so far.
using Progress = std::function<void(std::uint64_t bytesHashed)>;

// A timestamp is trusted to tell that a file changed only if the file was read at least this
// long after its last change (mtime, ctime): file times advance by clock ticks (≤ 10 ms), so a
// change made within the same tick as the read could leave them as they were ("racy" in git).
inline constexpr std::int64_t kRacyNs = 20'000'000;

// What the tree knows of one file (each inode once, whatever its names): its hash and the
// lstat it was read at. For the persisted tree (TreeStore).
struct FileRecord {
  ino_t ino = 0;
  std::int64_t mtimeNs = 0, ctimeNs = 0;
  std::int64_t hashedAtNs = 0;  // CLOCK_REALTIME just before it was read
  const FileHash* hash = nullptr;
};

// A file's hash known from elsewhere (the persisted tree), for build() to use instead of reading
// the file: given the file's lstat, the hash and when it was read, or nothing.
struct KnownHash {
  FileHash hash;
  std::int64_t hashedAtNs = 0;
};
using KnownFiles = std::function<std::optional<KnownHash>(const struct stat& st)>;

// The files whose hash may differ from what the persisted tree holds since clearChanges(): by
// inode, the byte ranges that may differ ({0, UINT64_MAX} for a file read whole, or one no name
// holds any more). `all`: everything (a tree built from scratch).
struct TreeChanges {
  bool all = false;
  std::map<ino_t, ByteRanges> files;
};

// The bytes of all regular files under `path` (symlinks not followed): the total of a build's
// progress. An estimate: the directory may change meanwhile.
[[nodiscard]] core::Result<std::uint64_t> stateBytes(const std::string& path);

class StateTree {
 public:
  // Hashes the directory at `path` from scratch, never following a symlink inside it. With
  // `known`, a file whose hash it gives is not read (TreeStore::load).
  [[nodiscard]] static core::Result<StateTree> build(const std::string& path, const Progress& progress = {},
                                                     const KnownFiles& known = {});
  StateTree(StateTree&&) noexcept;
  StateTree& operator=(StateTree&&) noexcept;
  ~StateTree();

  [[nodiscard]] const crypto::Hash256& root() const;

  // ---- marks (any thread) ----
  // The name `path` (a state path: "/a/b") was created or removed (create, mknod, mkdir,
  // symlink, link, unlink, rmdir): its directory is listed again, and what the name holds is
  // hashed anew even if its inode number is the one the tree knew (inodes are reused).
  void markEntry(std::string_view path);
  // The mode of what `path` names changed (chmod): its directory is listed again.
  void markMode(std::string_view path);
  // `from` was renamed to `to` (replacing what was there).
  void markRename(std::string_view from, std::string_view to);
  // Bytes [offset, offset + length) of the file with inode `ino` were written (write,
  // fallocate of any mode).
  void markData(ino_t ino, std::uint64_t offset, std::uint64_t length);
  // The file with inode `ino` was truncated or extended to `size` bytes: everything from
  // there on may have changed.
  void markTruncate(ino_t ino, std::uint64_t size);
  // The mode of the file with inode `ino` changed (fchmod: a handle, no name): every name the
  // tree has for it takes the mode the file has at refresh.
  void markInodeMode(ino_t ino);
  [[nodiscard]] bool dirty() const;
  // Without marks (no filesystem in front of the directory: `sashimono dev`, tests): walks the
  // directory, lstat's every entry and marks what differs from the tree — a name added or gone,
  // another inode or kind, a mode, a file's size, mtime or ctime (the whole file; and a file read
  // within kRacyNs of its last change). A refresh() then applies the marks.
  [[nodiscard]] core::Status rescan();

  // Applies the marks: rereads what they name and recomputes the root. On error the tree is
  // unusable for incremental work (build a new one).
  [[nodiscard]] core::Result<crypto::Hash256> refresh();

  // ---- readers (sync, `statefs hash --json`) ----
  // The entries of the directory at `path`, sorted by name.
  [[nodiscard]] core::Result<std::vector<TreeEntry>> listing(std::string_view path) const;
  // The entry at `path` (the root: a directory named "").
  [[nodiscard]] core::Result<TreeEntry> entry(std::string_view path) const;
  // The block chaining values of the file at `path` (empty for a file of at most one block).
  [[nodiscard]] core::Result<std::vector<crypto::Hash256>> blocks(std::string_view path) const;

  // ---- the persisted tree (TreeStore) ----
  // What changed since the last clearChanges() (refresh() records it; build() sets `all`, or
  // with `known`, lists the files it read).
  [[nodiscard]] const TreeChanges& changes() const;
  void clearChanges();
  // Each file once (hard links: one inode), in no particular order.
  void forEachFile(const std::function<void(const FileRecord&)>& f) const;
  // The file with inode `ino`, if a name in the tree holds it.
  [[nodiscard]] std::optional<FileRecord> file(ino_t ino) const;

 private:
  struct Impl;
  explicit StateTree(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sashimono::statefs
