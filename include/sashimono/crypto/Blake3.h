#pragma once
// BLAKE3 in hash mode (no key, no key derivation), as defined by the BLAKE3 specification
// (O'Connor, Aumasson, Neves, Wilcox-O'Hearn, 2020): 1 KiB chunks, a binary tree of parent
// nodes, 32-byte default output and extendable output (XOF). Hot Pocket's "H" is BLAKE3-256.
//
// Thread-safety: the free functions are pure and thread-safe. A Blake3 object is a plain value:
// copyable, no heap, no shared state; concurrent const calls on one object are safe, but
// update() must not race with any other call on the same object.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::crypto {

// Incremental hasher. Feeding the input in any split gives the same result as one update().
class Blake3 {
 public:
  Blake3();
  // Only the live part of the chaining-value stack is copied.
  Blake3(const Blake3& other);
  Blake3& operator=(const Blake3& other);

  Blake3& update(core::ByteView data);
  // The 32-byte hash of everything fed so far; the state is unchanged, so update() may go on.
  [[nodiscard]] Hash256 finalize() const;
  // The first out.size() bytes of the extendable output (any length, 0 included); the first
  // 32 bytes equal finalize(). The state is unchanged.
  void finalizeXof(std::span<std::uint8_t> out) const;

  static constexpr std::size_t kBlockLen = 64;
  static constexpr std::size_t kChunkLen = 1024;
  // 2^54 chunks of 1 KiB cover 2^64 bytes: the deepest possible tree.
  static constexpr std::size_t kMaxDepth = 54;

  // The chaining value of the subtree of BLAKE3's tree that covers `data`, which starts at chunk
  // `firstChunk` (1 KiB units) of the whole input: see blake3SubtreeCv.
  [[nodiscard]] static Hash256 subtreeCv(core::ByteView data, std::uint64_t firstChunk);

 private:
  using Cv = std::array<std::uint32_t, 8>;
  struct Output;

  // Compresses the buffered block as a non-final block of the current chunk.
  void compressBufferedBlock();
  // Closes the full current chunk: its chaining value is merged into the stack.
  void finishChunk();
  // Adds the chaining value of chunk number chunkCounter_ to the stack and starts the next chunk.
  void pushChunkCv(const Cv& chunkCv);
  // The last node: with `root`, the root of the input; without, a subtree's chaining value.
  [[nodiscard]] Output lastOutput(bool root) const;

  // Current chunk.
  Cv chunkCv_;
  std::uint64_t chunkCounter_ = 0;
  std::array<std::uint8_t, kBlockLen> block_;  // bytes [0, blockLen_) are live
  std::uint8_t blockLen_ = 0;
  std::uint8_t blocksCompressed_ = 0;
  // Chaining values of completed subtrees, left to right; entries [0, cvStackLen_) are live.
  std::uint8_t cvStackLen_ = 0;
  std::array<Cv, kMaxDepth> cvStack_;
};

Hash256 blake3(core::ByteView data);
// BLAKE3-256 of the concatenation of the parts, without copying them together.
Hash256 blake3(std::initializer_list<core::ByteView> parts);

// BLAKE3's tree, for hashing a large input incrementally (the state filesystem keeps one
// chaining value per 64 KiB block of a file and recombines them after a write).
//
// A subtree of the tree covers 2^k whole chunks starting at a multiple of 2^k, or, at the
// right edge of the input, the remaining chunks after such a start. blake3SubtreeCv gives its
// chaining value (32 bytes, little-endian words); `data` must be non-empty and be exactly that
// subtree's bytes, starting at chunk `firstChunk`, and must not be the whole input (whose
// root is blake3(data)). Two adjacent subtrees combine with blake3ParentCv, and the two
// children of the root with blake3ParentRoot, which gives blake3() of the whole input.
Hash256 blake3SubtreeCv(core::ByteView data, std::uint64_t firstChunk);
Hash256 blake3ParentCv(const Hash256& left, const Hash256& right);
Hash256 blake3ParentRoot(const Hash256& left, const Hash256& right);

}  // namespace sashimono::crypto
