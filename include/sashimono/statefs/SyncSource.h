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
// TreeSyncSource answers listings and block hashes from a StateTree, and blocks and symlink
// targets from bytes it reads elsewhere, each checked against the tree before it is answered
// (a block against its chaining value, a small file's content or a link's target against its
// hash): it never serves bytes other than those its tree describes. LocalSyncSource reads them
// from the directory the tree hashes; the state filesystem's `sync answer` reads the committed
// bytes through a round's views (ControlSync.cpp). A state written meanwhile gives an error
// ("… changed since its hash"), not other bytes. Not thread-safe.
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

class TreeSyncSource : public SyncSource {
 public:
  core::Result<std::vector<TreeEntry>> listing(std::string_view path, std::string_view after) final;
  core::Result<std::vector<crypto::Hash256>> blockHashes(std::string_view path, std::uint64_t first) final;
  core::Result<core::Bytes> block(std::string_view path, std::uint64_t index) final;
  core::Result<std::string> symlinkTarget(std::string_view path) final;

 protected:
  // `tree` must outlive this object.
  explicit TreeSyncSource(const StateTree& tree) : tree_(&tree) {}
  // `length` bytes at `offset` of the file at `path` (the tree says it is a file that long).
  virtual core::Result<core::Bytes> readBytes(std::string_view path, std::uint64_t offset,
                                              std::size_t length) = 0;
  virtual core::Result<std::string> readTarget(std::string_view path) = 0;

 private:
  const StateTree* tree_;
};

class LocalSyncSource final : public TreeSyncSource {
 public:
  // `tree` must outlive this object and hash the directory at `dir`.
  [[nodiscard]] static core::Result<LocalSyncSource> open(const std::string& dir, const StateTree& tree);

 protected:
  core::Result<core::Bytes> readBytes(std::string_view path, std::uint64_t offset,
                                      std::size_t length) override;
  core::Result<std::string> readTarget(std::string_view path) override;

 private:
  LocalSyncSource(SourceDir dir, const StateTree& tree) : TreeSyncSource(tree), dir_(std::move(dir)) {}
  SourceDir dir_;
};

}  // namespace sashimono::statefs
