#include "sashimono/devnet/Chain.h"

#include <array>
#include <chrono>
#include <ctime>

#include "sashimono/ledger/Codec.h"

namespace sashimono::devnet {

namespace {
void put32(core::Bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(core::Bytes& b, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void putVl(core::Bytes& b, std::size_t n) {
  if (n <= 192) {
    b.push_back(static_cast<std::uint8_t>(n));
  } else if (n <= 12480) {
    n -= 193;
    b.push_back(static_cast<std::uint8_t>(193 + (n >> 8)));
    b.push_back(static_cast<std::uint8_t>(n & 0xFF));
  } else {
    n -= 12481;
    b.push_back(static_cast<std::uint8_t>(241 + (n >> 16)));
    b.push_back(static_cast<std::uint8_t>((n >> 8) & 0xFF));
    b.push_back(static_cast<std::uint8_t>(n & 0xFF));
  }
}

crypto::Hash256 subtree(std::vector<MapLeaf>::iterator begin, std::vector<MapLeaf>::iterator end, int depth) {
  if (end - begin == 1) return begin->hash;
  core::Bytes buf(ledger::kPrefixInnerNode.begin(), ledger::kPrefixInnerNode.end());
  buf.reserve(4 + 16 * 32);
  auto it = begin;
  for (int nibble = 0; nibble < 16; ++nibble) {
    auto first = it;
    auto nib = [depth](const MapLeaf& l) {
      std::uint8_t byte = l.key[static_cast<std::size_t>(depth / 2)];
      return (depth % 2 == 0) ? (byte >> 4) : (byte & 0xF);
    };
    while (it != end && nib(*it) == nibble) ++it;
    crypto::Hash256 child{};
    if (it != first) child = subtree(first, it, depth + 1);
    buf.insert(buf.end(), child.begin(), child.end());
  }
  return crypto::sha512Half(buf);
}
}  // namespace

crypto::Hash256 accountRootIndex(const crypto::AccountId& id) {
  std::array<std::uint8_t, 2> space{0x00, 0x61};
  return crypto::sha512Half({core::ByteView(space), core::ByteView(id)});
}

crypto::Hash256 ledgerHash(const LedgerHeader& h) {
  core::Bytes b(ledger::kPrefixLedger.begin(), ledger::kPrefixLedger.end());
  put32(b, h.seq);
  put64(b, h.totalDrops);
  b.insert(b.end(), h.parentHash.begin(), h.parentHash.end());
  b.insert(b.end(), h.txHash.begin(), h.txHash.end());
  b.insert(b.end(), h.accountHash.begin(), h.accountHash.end());
  put32(b, h.parentCloseTime);
  put32(b, h.closeTime);
  b.push_back(h.closeTimeResolution);
  b.push_back(h.closeFlags);
  return crypto::sha512Half(b);
}

crypto::Hash256 shaMapRoot(std::vector<MapLeaf>& leaves) {
  if (leaves.empty()) return {};
  return subtree(leaves.begin(), leaves.end(), 0);
}

crypto::Hash256 txLeafHash(const AppliedTx& tx) {
  core::Bytes b(ledger::kPrefixTxNode.begin(), ledger::kPrefixTxNode.end());
  b.reserve(tx.blob.size() + tx.meta.size() + 48);
  putVl(b, tx.blob.size());
  b.insert(b.end(), tx.blob.begin(), tx.blob.end());
  putVl(b, tx.meta.size());
  b.insert(b.end(), tx.meta.begin(), tx.meta.end());
  b.insert(b.end(), tx.hash.begin(), tx.hash.end());
  return crypto::sha512Half(b);
}

namespace {
std::tm utc(std::uint32_t rippleSeconds) {
  std::time_t t = static_cast<std::time_t>(rippleSeconds) + kRippleEpochOffset;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}
}  // namespace

std::string closeTimeIso(std::uint32_t rippleSeconds) {
  std::tm tm = utc(rippleSeconds);
  char buf[32];
  (void)std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string closeTimeHuman(std::uint32_t rippleSeconds) {
  std::tm tm = utc(rippleSeconds);
  char buf[48];
  (void)std::strftime(buf, sizeof buf, "%Y-%b-%d %H:%M:%S.000000000 UTC", &tm);
  return buf;
}

std::uint32_t rippleNow() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto s = std::chrono::duration_cast<std::chrono::seconds>(now).count();
  return static_cast<std::uint32_t>(s - kRippleEpochOffset);
}

}  // namespace sashimono::devnet
