#pragma once
// TreeStore: a StateTree persisted beside the state (an sqlite file outside the state
// directory), so that a restart does not rehash everything (docs/STATEFS.md, "Persisted tree").
//
// The store keeps, per file inode, the lstat the file was hashed at (size, mtime, ctime), the
// time it was hashed, its hash, and its block chaining values in parts of 64 blocks; and a
// `clean` flag. Directories, names and modes are not stored: load() always walks the directory
// (it must lstat everything anyway to trust nothing) and rebuilds every directory's hash.
//
//   load, store clean        a file whose (inode, size, mtime, ctime) match its row, and that was
//                            hashed at least kRacyNs after its last change, takes the stored
//                            hash; every other file is read.
//   load, store not clean    (the last user did not close it: a crash, a kill -9) every file is
//                            read, compared with its row, and the rows that were wrong counted.
//   load, store unusable     missing, not sqlite, corrupt, a newer schema: the reason is
//                            reported, the file replaced by a new store, every file read.
// In every case the root is the one StateTree::build gives. load() leaves the store marked not
// clean (durably) before it returns; save() after each round writes what changed since the last
// save (one transaction: the rows of the files that changed and, of a large file, only the parts
// its changed blocks fall in); save(tree, true) at an orderly stop marks it clean.
//
// Thread-safety: one thread at a time, the one that uses the tree (refresh, save).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sashimono/core/Result.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::statefs {

struct LoadReport {
  enum class Mode { fresh, clean, verified };
  Mode mode = Mode::fresh;
  std::string problem;            // fresh: why the store could not be used ("" if there was none)
  std::uint64_t files = 0;        // file inodes in the state
  std::uint64_t reused = 0;       // clean: hashes taken from the store
  std::uint64_t bytesHashed = 0;  // file content read
  std::uint64_t wrong = 0;        // verified: rows whose hash differed from the file's content
  std::uint64_t missing = 0;      // verified: files the store had no row for
  std::uint64_t stale = 0;        // rows of files no longer in the state (removed)
};
const char* loadModeName(LoadReport::Mode m);  // "fresh" | "clean" | "verified"
// One line for logs and the command: "verified 12 files (3 MiB read): 1 wrong, …".
std::string describe(const LoadReport& r);

// Bytes of file content read so far, of `total` (0 when not known in advance).
using LoadProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct LoadedTree;

class TreeStore {
 public:
  // The tree of the state directory `sourceDir`, from the store at `storePath` (created if
  // missing). Errors only when the state cannot be hashed (a missing directory, a socket in it)
  // or no store can be written at `storePath`; a store that cannot be read is replaced.
  [[nodiscard]] static core::Result<LoadedTree> load(const std::string& sourceDir,
                                                     const std::string& storePath,
                                                     const LoadProgress& progress = {});

  // Writes tree.changes() (after refresh()) and clears them. `clean`: the tree is complete
  // (no marks pending) and this is the last save before the process stops.
  [[nodiscard]] core::Status save(StateTree& tree, bool clean = false);

  TreeStore(TreeStore&&) noexcept;
  TreeStore& operator=(TreeStore&&) noexcept;
  ~TreeStore();

 private:
  struct Impl;
  explicit TreeStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct LoadedTree {
  TreeStore store;
  StateTree tree;
  LoadReport report;
};

}  // namespace sashimono::statefs
