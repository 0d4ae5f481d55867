#pragma once
// syncTo: brings a local state directory to a root agreed with peers, fetching from a
// SyncSource only what differs, and verifying every answer against a hash already trusted
// before using it (docs/STATEFS.md, "Sync").
//
// Top-down from the root: equal hashes stop the walk; a directory's listing from the peer must
// hash (directoryHash) to the hash its parent gave it; names only local are removed, names only
// remote are fetched, differing ones are recursed into (directories) or rebuilt (files). A file's
// block hashes must recombine to its hash (FileHash::restore) and each fetched block must match
// its hash (FileHash::blockCv); only blocks whose hash differs from the local file's are fetched.
// A file or directory whose hash some local entry already has is copied from there instead.
//
// Nothing in the state changes until everything is fetched and verified: new entries are built
// in a staging directory (same filesystem, outside the state; reflinked with FICLONE where the
// filesystem can, else copied keeping holes), then moved in with renames, recording each step.
// The tree is then refreshed from the disk; if its root is not the target, or any step fails,
// the steps are undone in reverse and the error is returned: the local directory and tree are
// back at the root they had. (A crash in the middle of the renames is not undone: the next sync
// to the agreed root repairs it, fetching only what still differs.)
//
// Preconditions: `localTree` hashes `localDir` and has no pending marks; nothing writes to the
// state meanwhile. Not thread-safe.
#include <cstdint>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/statefs/StateTree.h"
#include "sashimono/statefs/SyncSource.h"

namespace sashimono::statefs {

// A file from a peer larger than this is refused before its block hashes are fetched (its
// block hashes alone would take 512 MiB of memory).
inline constexpr std::uint64_t kMaxSyncFileSize = std::uint64_t{1} << 40;
// A directory listing longer than this (over all its pages) is refused.
inline constexpr std::size_t kMaxSyncListing = std::size_t{1} << 20;

struct SyncOptions {
  // Where new entries are built: a directory path on the state's filesystem, outside the state,
  // that belongs to sync (created, and removed with anything in it, by syncTo). Empty: the
  // sibling ".<name>.sync" of the state directory.
  std::string stagingDir;
  // Tests: the commit fails as if its step number `failCommitAt` (from 0) had failed.
  int failCommitAt = -1;
};

struct SyncResult {
  std::uint64_t listings = 0;        // listing pages fetched
  std::uint64_t blockHashPages = 0;  // block-hash pages fetched
  std::uint64_t blocks = 0;          // blocks fetched (a small file's content counts as one)
  std::uint64_t bytes = 0;           // bytes of the blocks fetched
  std::uint64_t symlinks = 0;        // symlink targets fetched
  std::uint64_t reused = 0;          // files and directories copied from a local entry with their hash
  std::uint64_t steps = 0;           // commit steps (renames, mode changes)
  // The state paths the commit renamed in or out or gave another mode, each once, sorted (a
  // mount tells the kernel to drop what it caches of them: MountNotifier).
  std::vector<std::string> changed;
};

// Errors name the path that failed ("sync /a/b: block 3 does not match its hash").
[[nodiscard]] core::Result<SyncResult> syncTo(const std::string& localDir, StateTree& localTree,
                                              const crypto::Hash256& targetRoot, SyncSource& peer,
                                              const SyncOptions& options = {});

}  // namespace sashimono::statefs
