#include "sashimono/statefs/FileHash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Blake3.h"

namespace sashimono::statefs {
namespace {

using testing::hex;

BlockReader readerOf(const std::vector<std::uint8_t>& data) {
  return [&data](std::uint64_t offset, std::span<std::uint8_t> buf) -> int {
    if (offset + buf.size() > data.size()) return -EIO;
    std::memcpy(buf.data(), data.data() + offset, buf.size());
    return 0;
  };
}

TEST(FileHashTest, EqualsBlake3OfTheContentAtEverySize) {
  std::mt19937_64 rng(1);
  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, kBlockSize - 1, kBlockSize, kBlockSize + 1,
                             2 * kBlockSize, 3 * kBlockSize - 7, 4 * kBlockSize, 5 * kBlockSize + 1,
                             8 * kBlockSize, 13 * kBlockSize + 4096, 16 * kBlockSize}) {
    std::vector<std::uint8_t> data(size);
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    auto f = FileHash::compute(size, readerOf(data));
    ASSERT_TRUE(f.ok()) << f.error().message;
    EXPECT_EQ(hex(f->hash()), hex(crypto::blake3(data))) << size;
    EXPECT_EQ(f->blockCvs().size(), f->blockCount() <= 1 ? 0u : f->blockCount()) << size;
    auto back = FileHash::restore(
        size, std::vector<crypto::Hash256>(f->blockCvs().begin(), f->blockCvs().end()), f->hash());
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(hex(back->hash()), hex(f->hash())) << size;
  }
}

// Random writes, extensions and truncations, each followed by an incremental update that
// names only what the operation touched: always the hash of the whole content.
TEST(FileHashTest, IncrementalUpdatesEqualARehash) {
  std::mt19937_64 rng(2);
  std::vector<std::uint8_t> data;
  FileHash f;
  for (int step = 0; step < 150; ++step) {
    ByteRanges changed;
    const int op = static_cast<int>(rng() % 4);
    if (op <= 1 || data.empty()) {  // write somewhere, possibly past the end
      const std::uint64_t at = rng() % (data.size() + 2 * kBlockSize);
      const std::uint64_t len = 1 + rng() % (op == 0 ? 4096 : 3 * kBlockSize);
      if (at + len > data.size()) data.resize(at + len);
      for (std::uint64_t i = 0; i < len; ++i) data[at + i] = static_cast<std::uint8_t>(rng());
      changed.emplace_back(at, at + len);
    } else if (op == 2) {  // truncate shorter
      data.resize(rng() % (data.size() + 1));
    } else {  // extend with zeros (a sparse tail)
      data.resize(data.size() + rng() % (2 * kBlockSize));
    }
    ASSERT_TRUE(f.update(data.size(), changed, readerOf(data)).ok());
    ASSERT_EQ(hex(f.hash()), hex(crypto::blake3(data))) << "step " << step << " size " << data.size();
  }
}

// The levels above the blocks are kept between updates: a file that grows and shrinks across
// powers of two of blocks, with small writes in between, still hashes as a rehash would.
TEST(FileHashTest, KeptLevelsFollowGrowthAndShrinkAcrossPowersOfTwo) {
  std::mt19937_64 rng(3);
  std::vector<std::uint8_t> data(70 * kBlockSize);
  for (auto& b : data) b = static_cast<std::uint8_t>(rng());
  auto f = FileHash::compute(data.size(), readerOf(data));
  ASSERT_TRUE(f.ok());
  for (std::uint64_t blocks : {std::uint64_t{70}, std::uint64_t{129}, std::uint64_t{128}, std::uint64_t{127},
                               std::uint64_t{64}, std::uint64_t{63}, std::uint64_t{2}, std::uint64_t{65}}) {
    ByteRanges changed;
    const std::uint64_t size = blocks * kBlockSize - (blocks % 3) * 1000;
    if (size > data.size()) changed.emplace_back(data.size(), size);
    const std::size_t old = data.size();
    data.resize(size);
    for (std::size_t i = old; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(rng());
    ASSERT_TRUE(f->update(data.size(), changed, readerOf(data)).ok());
    ASSERT_EQ(hex(f->hash()), hex(crypto::blake3(data))) << "resized to " << size;
    const std::uint64_t at = rng() % (data.size() - 4096);
    for (std::uint64_t i = at; i < at + 4096; ++i) data[i] = static_cast<std::uint8_t>(rng());
    ASSERT_TRUE(f->update(data.size(), {{at, at + 4096}}, readerOf(data)).ok());
    ASSERT_EQ(hex(f->hash()), hex(crypto::blake3(data))) << "4 KiB at " << at << " of " << size;
  }
}

TEST(FileHashTest, RestoreRefusesACountThatDoesNotFitTheSize) {
  std::vector<crypto::Hash256> cvs(3);
  EXPECT_FALSE(FileHash::restore(2 * kBlockSize, cvs, {}).ok());
  EXPECT_FALSE(FileHash::restore(10, cvs, {}).ok());
  EXPECT_TRUE(FileHash::restore(3 * kBlockSize, cvs, {}).ok());
}

TEST(FileHashTest, AReadErrorIsReported) {
  BlockReader failing = [](std::uint64_t, std::span<std::uint8_t>) { return -EIO; };
  auto f = FileHash::compute(5 * kBlockSize, failing);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("offset 0"), std::string::npos) << f.error().message;
}

}  // namespace
}  // namespace sashimono::statefs
