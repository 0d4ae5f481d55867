#pragma once
// SyncSource: the peer side of a state sync — what a node that holds a state answers to a node
// that wants it. Every answer is a claim: the syncing side (syncTo, Sync.h) checks each one
// against hashes it already trusts before using it, so a source may be remote and hostile.
//
// Answers are paged so that each fits one bounded message (SyncMessage.h):
//   listing(path, after)      the entries of a directory with names > `after` ("" = from the
//                             start), sorted by name, at most kMaxEntriesPerPage of them; a page
//                             shorter than that is the last one.
//   blockHashes(path, first)  the file's block chaining values (FileHash::blockCvs) from block
//                             `first`, at most kMaxCvsPerPage; none for a file of at most one block.
//   block(path, index)        the bytes of one 64 KiB block (the last one may be shorter); block 0
//                             of a file of at most one block is its whole content.
//   symlinkTarget(path)       the target text of a symlink.
//
// LocalSyncSource answers from a StateTree and the directory it hashes (tests, and serving
// peers later). The tree must be current (refreshed) and the directory not written while it
// serves. Not thread-safe.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/statefs/SourceDir.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::statefs {

inline constexpr std::size_t kMaxEntriesPerPage = 4096;
inline constexpr std::size_t kMaxCvsPerPage = 16384;  // 1 GiB of file per page

class SyncSource {
 public:
  virtual ~SyncSource() = default;
  [[nodiscard]] virtual core::Result<std::vector<TreeEntry>> listing(std::string_view path,
                                                                     std::string_view after) = 0;
  [[nodiscard]] virtual core::Result<std::vector<crypto::Hash256>> blockHashes(std::string_view path,
                                                                               std::uint64_t first) = 0;
  [[nodiscard]] virtual core::Result<core::Bytes> block(std::string_view path, std::uint64_t index) = 0;
  [[nodiscard]] virtual core::Result<std::string> symlinkTarget(std::string_view path) = 0;
};

class LocalSyncSource : public SyncSource {
 public:
  // `tree` must outlive this object and hash the directory at `dir`.
  [[nodiscard]] static core::Result<LocalSyncSource> open(const std::string& dir, const StateTree& tree);

  core::Result<std::vector<TreeEntry>> listing(std::string_view path, std::string_view after) override;
  core::Result<std::vector<crypto::Hash256>> blockHashes(std::string_view path, std::uint64_t first) override;
  core::Result<core::Bytes> block(std::string_view path, std::uint64_t index) override;
  core::Result<std::string> symlinkTarget(std::string_view path) override;

 private:
  LocalSyncSource(SourceDir dir, const StateTree& tree) : dir_(std::move(dir)), tree_(&tree) {}
  SourceDir dir_;
  const StateTree* tree_;
};

}  // namespace sashimono::statefs
