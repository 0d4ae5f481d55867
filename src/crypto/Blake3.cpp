#include "sashimono/crypto/Blake3.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace sashimono::crypto {

namespace {

using Words = std::array<std::uint32_t, 16>;
using Cv = std::array<std::uint32_t, 8>;  // a chaining value

// The SHA-256 initial hash values: BLAKE3's IV, and the key in hash mode.
constexpr Cv kIv = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                    0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

// Domain flags (hash mode uses only these four).
constexpr std::uint32_t kChunkStart = 1u << 0;
constexpr std::uint32_t kChunkEnd = 1u << 1;
constexpr std::uint32_t kParent = 1u << 2;
constexpr std::uint32_t kRoot = 1u << 3;

constexpr int kRounds = 7;

// The message word permutation applied between rounds, unrolled into a per-round schedule so
// the compression function indexes the original message words instead of shuffling them.
constexpr std::array<std::uint8_t, 16> kPermutation = {2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8};
constexpr auto kSchedule = [] {
  std::array<std::array<std::uint8_t, 16>, kRounds> s{};
  for (std::uint8_t i = 0; i < 16; ++i) s[0][i] = i;
  for (int r = 1; r < kRounds; ++r) {
    for (int i = 0; i < 16; ++i) s[r][i] = s[r - 1][kPermutation[i]];
  }
  return s;
}();

inline std::uint32_t loadLe32(const std::uint8_t* p) {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint32_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  } else {
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
           std::uint32_t{p[3]} << 24;
  }
}

inline void storeLe32(std::uint8_t* p, std::uint32_t w) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(p, &w, sizeof w);
  } else {
    p[0] = static_cast<std::uint8_t>(w);
    p[1] = static_cast<std::uint8_t>(w >> 8);
    p[2] = static_cast<std::uint8_t>(w >> 16);
    p[3] = static_cast<std::uint8_t>(w >> 24);
  }
}

inline Words loadBlock(const std::uint8_t* p) {
  Words m;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(m.data(), p, Blake3::kBlockLen);
  } else {
    for (std::size_t i = 0; i < m.size(); ++i) m[i] = loadLe32(p + 4 * i);
  }
  return m;
}

// Four 32-bit words side by side (a GCC/Clang vector extension: SSE2 on x86-64, NEON on ARM,
// plain scalar code elsewhere). Each lane hashes a different chunk.
typedef std::uint32_t U32x4 __attribute__((vector_size(16)));

template <int N>
[[gnu::always_inline]] inline std::uint32_t rotr(std::uint32_t x) {
  return std::rotr(x, N);
}
template <int N>
[[gnu::always_inline]] inline U32x4 rotr(U32x4 x) {
  return (x >> N) | (x << (32 - N));
}

// The quarter-round G on state words A, B, C, D; W is one word or a vector of lanes.
template <std::size_t A, std::size_t B, std::size_t C, std::size_t D, class W>
[[gnu::always_inline]] inline void g(std::array<W, 16>& v, W mx, W my) {
  v[A] = v[A] + v[B] + mx;
  v[D] = rotr<16>(v[D] ^ v[A]);
  v[C] = v[C] + v[D];
  v[B] = rotr<12>(v[B] ^ v[C]);
  v[A] = v[A] + v[B] + my;
  v[D] = rotr<8>(v[D] ^ v[A]);
  v[C] = v[C] + v[D];
  v[B] = rotr<7>(v[B] ^ v[C]);
}

// One round: G on the columns, then on the diagonals, with the message words of round R.
template <int R, class W>
[[gnu::always_inline]] inline void round(std::array<W, 16>& v, const std::array<W, 16>& m) {
  constexpr const auto& s = kSchedule[R];
  g<0, 4, 8, 12>(v, m[s[0]], m[s[1]]);
  g<1, 5, 9, 13>(v, m[s[2]], m[s[3]]);
  g<2, 6, 10, 14>(v, m[s[4]], m[s[5]]);
  g<3, 7, 11, 15>(v, m[s[6]], m[s[7]]);
  g<0, 5, 10, 15>(v, m[s[8]], m[s[9]]);
  g<1, 6, 11, 12>(v, m[s[10]], m[s[11]]);
  g<2, 7, 8, 13>(v, m[s[12]], m[s[13]]);
  g<3, 4, 9, 14>(v, m[s[14]], m[s[15]]);
}

// All seven rounds, spelled out: a fold over an index sequence is not reliably inlined, and the
// state must stay in registers.
template <class W>
[[gnu::always_inline]] inline void rounds(std::array<W, 16>& v, const std::array<W, 16>& m) {
  static_assert(kRounds == 7);
  round<0>(v, m);
  round<1>(v, m);
  round<2>(v, m);
  round<3>(v, m);
  round<4>(v, m);
  round<5>(v, m);
  round<6>(v, m);
}

// The compression function up to (not including) the output feed-forward.
[[gnu::always_inline]] inline Words permuteState(const Cv& cv, const Words& m, std::uint64_t counter,
                                                 std::uint32_t blockLen, std::uint32_t flags) {
  Words v = {cv[0],
             cv[1],
             cv[2],
             cv[3],
             cv[4],
             cv[5],
             cv[6],
             cv[7],
             kIv[0],
             kIv[1],
             kIv[2],
             kIv[3],
             static_cast<std::uint32_t>(counter),
             static_cast<std::uint32_t>(counter >> 32),
             blockLen,
             flags};
  rounds(v, m);
  return v;
}

// Compression truncated to a chaining value: cv <- first 8 output words.
void compressInPlace(Cv& cv, const Words& m, std::uint64_t counter, std::uint32_t blockLen,
                     std::uint32_t flags) {
  Words v = permuteState(cv, m, counter, blockLen, flags);
  for (std::size_t i = 0; i < 8; ++i) cv[i] = v[i] ^ v[i + 8];
}

// Full 16-word compression output, for the root's extendable output.
Words compressXof(const Cv& cv, const Words& m, std::uint64_t counter, std::uint32_t blockLen,
                  std::uint32_t flags) {
  Words v = permuteState(cv, m, counter, blockLen, flags);
  for (std::size_t i = 0; i < 8; ++i) {
    v[i] ^= v[i + 8];
    v[i + 8] ^= cv[i];
  }
  return v;
}

Cv parentCv(const Cv& left, const Cv& right) {
  Words m;
  std::copy(left.begin(), left.end(), m.begin());
  std::copy(right.begin(), right.end(), m.begin() + 8);
  Cv cv = kIv;
  compressInPlace(cv, m, 0, Blake3::kBlockLen, kParent);
  return cv;
}

// Message words of the blocks at p, p + 1 KiB, p + 2 KiB, p + 3 KiB: word i of block j in lane j.
inline std::array<U32x4, 16> loadFourBlocks(const std::uint8_t* p) {
  constexpr std::size_t kChunk = Blake3::kChunkLen;
  std::array<U32x4, 16> m;
#if defined(__has_builtin) && __has_builtin(__builtin_shufflevector)
  if constexpr (std::endian::native == std::endian::little) {
    // Four 16-byte loads per group of four words, then a 4x4 transpose.
    for (std::size_t k = 0; k < 4; ++k) {
      std::array<U32x4, 4> r;
      for (std::size_t j = 0; j < 4; ++j) std::memcpy(&r[j], p + j * kChunk + 16 * k, 16);
      const U32x4 t0 = __builtin_shufflevector(r[0], r[1], 0, 4, 1, 5);
      const U32x4 t1 = __builtin_shufflevector(r[0], r[1], 2, 6, 3, 7);
      const U32x4 t2 = __builtin_shufflevector(r[2], r[3], 0, 4, 1, 5);
      const U32x4 t3 = __builtin_shufflevector(r[2], r[3], 2, 6, 3, 7);
      m[4 * k + 0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
      m[4 * k + 1] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
      m[4 * k + 2] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
      m[4 * k + 3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
    }
    return m;
  }
#endif
  for (std::size_t i = 0; i < m.size(); ++i) {
    m[i] = U32x4{loadLe32(p + 4 * i), loadLe32(p + kChunk + 4 * i), loadLe32(p + 2 * kChunk + 4 * i),
                 loadLe32(p + 3 * kChunk + 4 * i)};
  }
  return m;
}

// Hashes four whole chunks, in[0, 4 KiB), with chunk counters counter .. counter+3, into their
// chaining values: the scalar chunk loop run in four lanes at once.
std::array<Cv, 4> hashFourChunks(const std::uint8_t* in, std::uint64_t counter) {
  constexpr std::size_t kBlocks = Blake3::kChunkLen / Blake3::kBlockLen;
  std::array<U32x4, 8> cv;
  for (std::size_t i = 0; i < cv.size(); ++i) cv[i] = U32x4{} + kIv[i];
  U32x4 counterLo, counterHi;
  for (int lane = 0; lane < 4; ++lane) {
    counterLo[lane] = static_cast<std::uint32_t>(counter + lane);
    counterHi[lane] = static_cast<std::uint32_t>((counter + lane) >> 32);
  }
  for (std::size_t b = 0; b < kBlocks; ++b) {
    const std::array<U32x4, 16> m = loadFourBlocks(in + b * Blake3::kBlockLen);
    const std::uint32_t flags = (b == 0 ? kChunkStart : 0) | (b + 1 == kBlocks ? kChunkEnd : 0);
    std::array<U32x4, 16> v = {cv[0],
                               cv[1],
                               cv[2],
                               cv[3],
                               cv[4],
                               cv[5],
                               cv[6],
                               cv[7],
                               U32x4{} + kIv[0],
                               U32x4{} + kIv[1],
                               U32x4{} + kIv[2],
                               U32x4{} + kIv[3],
                               counterLo,
                               counterHi,
                               U32x4{} + static_cast<std::uint32_t>(Blake3::kBlockLen),
                               U32x4{} + flags};
    rounds(v, m);
    for (std::size_t i = 0; i < cv.size(); ++i) cv[i] = v[i] ^ v[i + 8];
  }
  std::array<Cv, 4> out;
  for (std::size_t lane = 0; lane < out.size(); ++lane) {
    for (std::size_t i = 0; i < cv.size(); ++i) out[lane][i] = cv[i][lane];
  }
  return out;
}

}  // namespace

// A node whose last compression is still pending: it gives a chaining value, or, with the
// root flag, the output bytes.
struct Blake3::Output {
  Cv inputCv;
  Words block;
  std::uint64_t counter;
  std::uint32_t blockLen;
  std::uint32_t flags;

  [[nodiscard]] Cv chainingValue() const {
    Cv cv = inputCv;
    compressInPlace(cv, block, counter, blockLen, flags);
    return cv;
  }
};

Blake3::Blake3() : chunkCv_(kIv) {}

Blake3::Blake3(const Blake3& other)
    : chunkCv_(other.chunkCv_),
      chunkCounter_(other.chunkCounter_),
      blockLen_(other.blockLen_),
      blocksCompressed_(other.blocksCompressed_),
      cvStackLen_(other.cvStackLen_) {
  std::copy_n(other.block_.begin(), blockLen_, block_.begin());
  std::copy_n(other.cvStack_.begin(), cvStackLen_, cvStack_.begin());
}

Blake3& Blake3::operator=(const Blake3& other) {
  if (this != &other) {
    chunkCv_ = other.chunkCv_;
    chunkCounter_ = other.chunkCounter_;
    blockLen_ = other.blockLen_;
    blocksCompressed_ = other.blocksCompressed_;
    cvStackLen_ = other.cvStackLen_;
    std::copy_n(other.block_.begin(), blockLen_, block_.begin());
    std::copy_n(other.cvStack_.begin(), cvStackLen_, cvStack_.begin());
  }
  return *this;
}

void Blake3::compressBufferedBlock() {
  compressInPlace(chunkCv_, loadBlock(block_.data()), chunkCounter_, kBlockLen,
                  blocksCompressed_ == 0 ? kChunkStart : 0);
  ++blocksCompressed_;
  blockLen_ = 0;
}

void Blake3::finishChunk() {
  Cv cv = chunkCv_;
  compressInPlace(cv, loadBlock(block_.data()), chunkCounter_, kBlockLen,
                  (blocksCompressed_ == 0 ? kChunkStart : 0) | kChunkEnd);
  pushChunkCv(cv);
}

void Blake3::pushChunkCv(const Cv& chunkCv) {
  // Lazy merging: each trailing zero bit of the new chunk count closes one complete subtree.
  // Only ever called with more input pending, so none of these parents can be the root.
  Cv cv = chunkCv;
  std::uint64_t totalChunks = chunkCounter_ + 1;
  while ((totalChunks & 1) == 0) {
    cv = parentCv(cvStack_[--cvStackLen_], cv);
    totalChunks >>= 1;
  }
  cvStack_[cvStackLen_++] = cv;
  chunkCv_ = kIv;
  ++chunkCounter_;
  blockLen_ = 0;
  blocksCompressed_ = 0;
}

Blake3& Blake3::update(core::ByteView data) {
  // Index of a chunk's last block: that block is never compressed without the chunk-end flag.
  constexpr std::uint8_t kLastBlock = kChunkLen / kBlockLen - 1;
  while (!data.empty()) {
    // A full buffered block is compressed only now that more input proves it is not the last.
    if (blockLen_ == kBlockLen) {
      if (blocksCompressed_ == kLastBlock) {
        finishChunk();
      } else {
        compressBufferedBlock();
      }
    }
    if (blockLen_ == 0 && blocksCompressed_ == 0) {
      // At a chunk boundary: whole chunks four at a time, while more input follows them.
      while (data.size() > 4 * kChunkLen) {
        for (const Cv& cv : hashFourChunks(data.data(), chunkCounter_)) pushChunkCv(cv);
        data = data.subspan(4 * kChunkLen);
      }
    }
    if (blockLen_ == 0) {
      // Whole blocks straight from the input, always keeping the chunk's last block and the
      // input's last block back for the buffer.
      while (data.size() > kBlockLen && blocksCompressed_ < kLastBlock) {
        compressInPlace(chunkCv_, loadBlock(data.data()), chunkCounter_, kBlockLen,
                        blocksCompressed_ == 0 ? kChunkStart : 0);
        ++blocksCompressed_;
        data = data.subspan(kBlockLen);
      }
    }
    const std::size_t take = std::min(kBlockLen - blockLen_, data.size());
    std::memcpy(block_.data() + blockLen_, data.data(), take);
    blockLen_ = static_cast<std::uint8_t>(blockLen_ + take);
    data = data.subspan(take);
  }
  return *this;
}

Blake3::Output Blake3::lastOutput(bool root) const {
  // The current chunk (possibly empty, possibly full) is the rightmost leaf.
  Output out{chunkCv_, {}, chunkCounter_, blockLen_, (blocksCompressed_ == 0 ? kChunkStart : 0) | kChunkEnd};
  std::array<std::uint8_t, kBlockLen> padded{};
  std::copy_n(block_.begin(), blockLen_, padded.begin());
  out.block = loadBlock(padded.data());
  // Fold the stack from the right; the last parent (or the lone chunk) is the root.
  for (std::size_t i = cvStackLen_; i > 0; --i) {
    const Cv right = out.chainingValue();
    const Cv& left = cvStack_[i - 1];
    std::copy(left.begin(), left.end(), out.block.begin());
    std::copy(right.begin(), right.end(), out.block.begin() + 8);
    out.inputCv = kIv;
    out.counter = 0;
    out.blockLen = kBlockLen;
    out.flags = kParent;
  }
  if (root) out.flags |= kRoot;
  return out;
}

Hash256 Blake3::finalize() const {
  const Output root = lastOutput(true);
  const Cv cv = root.chainingValue();
  Hash256 h;
  for (std::size_t i = 0; i < cv.size(); ++i) storeLe32(h.data() + 4 * i, cv[i]);
  return h;
}

void Blake3::finalizeXof(std::span<std::uint8_t> out) const {
  const Output root = lastOutput(true);
  // Output block t is the root compression with counter t.
  for (std::uint64_t t = 0; !out.empty(); ++t) {
    const Words v = compressXof(root.inputCv, root.block, t, root.blockLen, root.flags);
    std::array<std::uint8_t, kBlockLen> bytes;
    for (std::size_t i = 0; i < v.size(); ++i) storeLe32(bytes.data() + 4 * i, v[i]);
    const std::size_t n = std::min(out.size(), bytes.size());
    std::copy_n(bytes.begin(), n, out.begin());
    out = out.subspan(n);
  }
}

namespace {

Hash256 cvBytes(const Cv& cv) {
  Hash256 h;
  for (std::size_t i = 0; i < cv.size(); ++i) storeLe32(h.data() + 4 * i, cv[i]);
  return h;
}

Cv cvWords(const Hash256& h) {
  Cv cv;
  for (std::size_t i = 0; i < cv.size(); ++i) cv[i] = loadLe32(h.data() + 4 * i);
  return cv;
}

}  // namespace

Hash256 Blake3::subtreeCv(core::ByteView data, std::uint64_t firstChunk) {
  // The chunk counter is absolute (it enters every chunk compression); the lazy merging in
  // pushChunkCv counts from it too, which is right for an aligned subtree: fewer chunks than
  // its alignment are ever pushed, so no merge reaches below the subtree's own stack.
  Blake3 h;
  h.chunkCounter_ = firstChunk;
  h.update(data);
  return cvBytes(h.lastOutput(false).chainingValue());
}

Hash256 blake3SubtreeCv(core::ByteView data, std::uint64_t firstChunk) {
  return Blake3::subtreeCv(data, firstChunk);
}

Hash256 blake3ParentCv(const Hash256& left, const Hash256& right) {
  return cvBytes(parentCv(cvWords(left), cvWords(right)));
}

Hash256 blake3ParentRoot(const Hash256& left, const Hash256& right) {
  Words m;
  const Cv l = cvWords(left);
  const Cv r = cvWords(right);
  std::copy(l.begin(), l.end(), m.begin());
  std::copy(r.begin(), r.end(), m.begin() + 8);
  Cv cv = kIv;
  compressInPlace(cv, m, 0, Blake3::kBlockLen, kParent | kRoot);
  return cvBytes(cv);
}

Hash256 blake3(core::ByteView data) { return Blake3().update(data).finalize(); }

Hash256 blake3(std::initializer_list<core::ByteView> parts) {
  Blake3 h;
  for (const auto& p : parts) h.update(p);
  return h.finalize();
}

}  // namespace sashimono::crypto
