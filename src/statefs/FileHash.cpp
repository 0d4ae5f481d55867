#include "sashimono/statefs/FileHash.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>

#include "sashimono/crypto/Blake3.h"

namespace sashimono::statefs {

namespace {

constexpr std::uint64_t kChunksPerBlock = kBlockSize / crypto::Blake3::kChunkLen;

void sortUnique(std::vector<std::uint64_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

core::Error readError(int rc, std::uint64_t offset) {
  return core::Error("reading at offset " + std::to_string(offset) + ": " + std::strerror(-rc));
}

}  // namespace

FileHash::FileHash() : hash_(crypto::blake3(core::ByteView{})) {}

crypto::Hash256 FileHash::blockCv(std::span<const std::uint8_t> block, std::uint64_t index) {
  return crypto::blake3SubtreeCv(core::ByteView(block.data(), block.size()), index * kChunksPerBlock);
}

std::span<const crypto::Hash256> FileHash::blockCvs() const {
  if (levels_.empty()) return {};
  return levels_[0];
}

core::Result<FileHash> FileHash::compute(std::uint64_t size, const BlockReader& read) {
  FileHash f;
  SASHI_TRY(f.update(size, {{0, size}}, read));
  return f;
}

core::Result<FileHash> FileHash::restore(std::uint64_t size, std::vector<crypto::Hash256> blockCvs,
                                         const crypto::Hash256& smallFileHash) {
  FileHash f;
  f.size_ = size;
  const std::uint64_t n = f.blockCount();
  if (n <= 1) {
    if (!blockCvs.empty()) return core::Error("a file of at most one block has no block hashes");
    f.hash_ = smallFileHash;
    return f;
  }
  if (blockCvs.size() != n)
    return core::Error("a file of " + std::to_string(size) + " bytes has " + std::to_string(n) +
                       " blocks, not " + std::to_string(blockCvs.size()));
  f.levels_.push_back(std::move(blockCvs));
  std::vector<std::uint64_t> all(n);
  for (std::uint64_t i = 0; i < n; ++i) all[i] = i;
  f.rebuildLevels(std::move(all));
  f.hash_ = f.rootFromLevels();
  return f;
}

core::Status FileHash::update(std::uint64_t size, const ByteRanges& changed, const BlockReader& read) {
  const std::uint64_t oldBlocks = blockCount();
  const std::uint64_t oldSize = size_;
  size_ = size;
  const std::uint64_t n = blockCount();
  if (n <= 1) {
    // Small file: its hash is the root of its own bytes.
    levels_.clear();
    std::vector<std::uint8_t> buf(size);
    if (size > 0) {
      if (int rc = read(0, buf); rc < 0) return readError(rc, 0);
    }
    hash_ = crypto::blake3(core::ByteView(buf.data(), buf.size()));
    return {};
  }
  std::vector<std::uint64_t> dirty;
  if (oldBlocks <= 1 || levels_.empty()) {
    dirty.resize(n);
    for (std::uint64_t i = 0; i < n; ++i) dirty[i] = i;
  } else {
    for (const auto& [first, last] : changed) {
      if (last <= first || first >= size) continue;
      const std::uint64_t end = std::min(last, size);
      for (std::uint64_t b = first / kBlockSize; b * kBlockSize < end; ++b) dirty.push_back(b);
    }
    if (size != oldSize) {
      // The old last block (partial, or now followed by more) and everything after it.
      for (std::uint64_t b = std::min(oldBlocks, n) - 1; b < n; ++b) dirty.push_back(b);
    }
    sortUnique(dirty);
  }
  if (levels_.empty()) levels_.resize(1);  // the levels above stay: rebuildLevels redoes the dirty parents
  levels_[0].resize(n);
  SASHI_TRY(rehashBlocks(dirty, read));
  rebuildLevels(std::move(dirty));
  hash_ = rootFromLevels();
  return {};
}

core::Status FileHash::rehashBlocks(std::vector<std::uint64_t> blocks, const BlockReader& read) {
  std::vector<std::uint8_t> buf(kBlockSize);
  for (std::uint64_t b : blocks) {
    const std::uint64_t offset = b * kBlockSize;
    const std::uint64_t len = std::min(kBlockSize, size_ - offset);
    std::span<std::uint8_t> block(buf.data(), len);
    if (int rc = read(offset, block); rc < 0) return readError(rc, offset);
    levels_[0][b] = blockCv(block, b);
  }
  return {};
}

void FileHash::rebuildLevels(std::vector<std::uint64_t> dirty) {
  for (std::size_t level = 0;; ++level) {
    const std::uint64_t parents = levels_[level].size() / 2;
    if (parents == 0) {
      levels_.resize(level + 1);
      return;
    }
    if (levels_.size() <= level + 1) levels_.emplace_back();
    const std::uint64_t had = levels_[level + 1].size();
    levels_[level + 1].resize(parents);
    std::vector<std::uint64_t> next;
    next.reserve(dirty.size());
    for (std::uint64_t i : dirty)
      if (i / 2 < parents) next.push_back(i / 2);
    for (std::uint64_t p = had; p < parents; ++p) next.push_back(p);
    sortUnique(next);
    const auto& below = levels_[level];
    auto& above = levels_[level + 1];
    for (std::uint64_t p : next) above[p] = crypto::blake3ParentCv(below[2 * p], below[2 * p + 1]);
    dirty = std::move(next);
  }
}

crypto::Hash256 FileHash::rootFromLevels() const {
  // The complete subtrees along the right edge: one per set bit of the block count, largest
  // (leftmost) first. A power of two is one subtree: the root is then its two halves' parent.
  const std::uint64_t n = levels_[0].size();
  std::vector<crypto::Hash256> parts;
  if (std::has_single_bit(n)) {
    const int k = std::countr_zero(n);
    parts = {levels_[k - 1][0], levels_[k - 1][1]};
  } else {
    std::uint64_t start = 0;
    for (int k = 63; k >= 0; --k) {
      const std::uint64_t span = std::uint64_t{1} << k;
      if ((n & span) == 0) continue;
      parts.push_back(levels_[k][start >> k]);
      start += span;
    }
  }
  crypto::Hash256 acc = parts.back();
  for (std::size_t i = parts.size() - 1; i-- > 0;)
    acc = i == 0 ? crypto::blake3ParentRoot(parts[i], acc) : crypto::blake3ParentCv(parts[i], acc);
  return acc;
}

}  // namespace sashimono::statefs
