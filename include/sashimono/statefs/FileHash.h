#pragma once
// FileHash: a file's content hash kept per 64 KiB block, so that a write costs the blocks it
// touched and a few parent nodes, not a rehash of the file.
//
// The hash is BLAKE3 of the content — the value `b3sum` prints for the file — computed from
// BLAKE3's own tree: a 64 KiB block is 64 chunks, a complete subtree of that tree, so the
// chaining values of the blocks (crypto::blake3SubtreeCv) recombine into the file's hash.
// Why 64 KiB: it aligns with BLAKE3's tree (any power of two of chunks ≥ 1 would, and only
// those do); a 4 KiB write rehashes 64 KiB (~40 µs); the kept chaining values cost 32 bytes
// per 64 KiB (1 MiB of memory per GiB of state, levels included); and a peer that differs in
// a few places sends a few 64 KiB blocks, not the file.
//
// Above the blocks, levels of parents are kept (level k holds the complete subtrees of 2^k
// blocks), so a changed block recomputes one parent per level; the root folds the at most
// 64 complete subtrees along the file's right edge. A file of at most one block keeps no
// chaining values: its hash is BLAKE3 of its (≤ 64 KiB) content.
//
// A plain value; not thread-safe.
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::statefs {

inline constexpr std::uint64_t kBlockSize = 64 * 1024;

// Fills `buf` with the file's bytes at `offset` (exactly buf.size() of them). 0 or -errno.
using BlockReader = std::function<int(std::uint64_t offset, std::span<std::uint8_t> buf)>;
// Half-open byte ranges [first, second) that may have changed.
using ByteRanges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

class FileHash {
 public:
  FileHash();  // the empty file

  // Hashes a whole file of `size` bytes.
  [[nodiscard]] static core::Result<FileHash> compute(std::uint64_t size, const BlockReader& read);
  // Restores a file's hash from its block chaining values (as blockCvs() gave them) without
  // reading it; for a file of at most one block, from its hash. Errors when the count does
  // not fit the size.
  [[nodiscard]] static core::Result<FileHash> restore(std::uint64_t size,
                                                      std::vector<crypto::Hash256> blockCvs,
                                                      const crypto::Hash256& smallFileHash);

  // The file now has `size` bytes, and bytes in `changed` (plus, if the size changed, the
  // old last block and everything after it) may differ: rehashes those blocks only.
  [[nodiscard]] core::Status update(std::uint64_t size, const ByteRanges& changed, const BlockReader& read);

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] const crypto::Hash256& hash() const { return hash_; }
  [[nodiscard]] std::uint64_t blockCount() const { return (size_ + kBlockSize - 1) / kBlockSize; }
  // One chaining value per block; empty for a file of at most one block.
  [[nodiscard]] std::span<const crypto::Hash256> blockCvs() const;
  // The chaining value of one block as blockCvs() has it, from the block's bytes.
  [[nodiscard]] static crypto::Hash256 blockCv(std::span<const std::uint8_t> block, std::uint64_t index);

 private:
  core::Status rehashBlocks(std::vector<std::uint64_t> blocks, const BlockReader& read);
  void rebuildLevels(std::vector<std::uint64_t> dirty);
  [[nodiscard]] crypto::Hash256 rootFromLevels() const;

  std::uint64_t size_ = 0;
  std::vector<std::vector<crypto::Hash256>> levels_;  // levels_[0]: blocks (≥ 2 of them)
  crypto::Hash256 hash_{};
};

}  // namespace sashimono::statefs
