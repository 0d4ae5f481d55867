#include "sashimono/ledger/ShaMap.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "sashimono/ledger/Codec.h"

namespace sashimono::ledger {

namespace {
constexpr std::size_t kBranches = 16;
constexpr std::size_t kHashSize = 32;

int nibble(const crypto::Hash256& key, int depth) {
  std::uint8_t byte = key[static_cast<std::size_t>(depth / 2)];
  return (depth % 2 == 0) ? (byte >> 4) : (byte & 0x0F);
}

// Inner node over [begin, end): sorted, distinct keys that agree on their first `depth` nibbles.
// Distinct 256-bit keys part before depth 64, so the recursion ends there.
crypto::Hash256 innerHash(const ShaMapItem* begin, const ShaMapItem* end, int depth) {
  std::array<std::uint8_t, kPrefixInnerNode.size() + kBranches * kHashSize> buf{};
  std::memcpy(buf.data(), kPrefixInnerNode.data(), kPrefixInnerNode.size());
  const ShaMapItem* it = begin;
  while (it != end) {
    const int branch = nibble(it->key, depth);
    const ShaMapItem* last = it + 1;
    while (last != end && nibble(last->key, depth) == branch) ++last;
    const crypto::Hash256 child = (last - it == 1) ? it->hash : innerHash(it, last, depth + 1);
    std::memcpy(buf.data() + kPrefixInnerNode.size() + static_cast<std::size_t>(branch) * kHashSize,
                child.data(), kHashSize);
    it = last;
  }
  return crypto::sha512Half(buf);
}

// rippled's VL length prefix: 1 byte up to 192, 2 up to 12480, 3 up to 918744.
std::size_t vlPrefix(std::size_t n, std::array<std::uint8_t, 3>& out) {
  if (n <= 192) {
    out[0] = static_cast<std::uint8_t>(n);
    return 1;
  }
  if (n <= 12480) {
    n -= 193;
    out[0] = static_cast<std::uint8_t>(193 + (n >> 8));
    out[1] = static_cast<std::uint8_t>(n & 0xFF);
    return 2;
  }
  n -= 12481;
  out[0] = static_cast<std::uint8_t>(241 + (n >> 16));
  out[1] = static_cast<std::uint8_t>((n >> 8) & 0xFF);
  out[2] = static_cast<std::uint8_t>(n & 0xFF);
  return 3;
}

std::string hex(const crypto::Hash256& h) { return core::toHex(h); }
}  // namespace

core::Result<crypto::Hash256> shaMapRoot(std::span<ShaMapItem> items) {
  if (items.empty()) return crypto::Hash256{};
  std::sort(items.begin(), items.end(),
            [](const ShaMapItem& a, const ShaMapItem& b) { return a.key < b.key; });
  auto dup = std::adjacent_find(items.begin(), items.end(),
                                [](const ShaMapItem& a, const ShaMapItem& b) { return a.key == b.key; });
  if (dup != items.end()) return core::Error::withCode("duplicateKey", "key " + hex(dup->key) + " twice");
  return innerHash(items.data(), items.data() + items.size(), 0);
}

crypto::Hash256 txLeafHash(const crypto::Hash256& txid, core::ByteView blob, core::ByteView meta) {
  if (blob.size() > kMaxLeafBlob || meta.size() > kMaxLeafBlob)
    throw std::invalid_argument("txLeafHash: blob or meta over " + std::to_string(kMaxLeafBlob) + " bytes");
  std::array<std::uint8_t, 3> vlBlob{};
  std::array<std::uint8_t, 3> vlMeta{};
  const std::size_t nb = vlPrefix(blob.size(), vlBlob);
  const std::size_t nm = vlPrefix(meta.size(), vlMeta);
  return crypto::sha512Half({core::ByteView(kPrefixTxNode), core::ByteView(vlBlob.data(), nb), blob,
                             core::ByteView(vlMeta.data(), nm), meta, core::ByteView(txid)});
}

core::Result<crypto::Hash256> transactionTreeRoot(std::span<const LedgerTxData> txs) {
  std::vector<ShaMapItem> items(txs.size());
  for (std::size_t i = 0; i < txs.size(); ++i) {
    const LedgerTxData& t = txs[i];
    items[i].key = t.id ? *t.id : transactionHash(t.blob);
    if (t.blob.size() > kMaxLeafBlob || t.meta.size() > kMaxLeafBlob)
      return core::Error::withCode("txTooLarge", "transaction " + hex(items[i].key) + ": blob of " +
                                                     std::to_string(t.blob.size()) + " bytes, meta of " +
                                                     std::to_string(t.meta.size()) + " bytes (at most " +
                                                     std::to_string(kMaxLeafBlob) + ")");
    items[i].hash = txLeafHash(items[i].key, t.blob, t.meta);
  }
  auto root = shaMapRoot(items);
  if (!root.ok()) return core::Error::withCode("duplicateTx", "transaction " + root.error().message);
  return root;
}

core::Status verifyLedger(const LedgerHeader& h, const crypto::Hash256& expectedHash,
                          std::span<const LedgerTxData> txs) {
  const std::string ledger = "ledger " + std::to_string(h.seq);
  const crypto::Hash256 got = ledgerHash(h);
  if (got != expectedHash)
    return core::Error::withCode(
        "headerMismatch", ledger + ": header hashes to " + hex(got) + ", expected " + hex(expectedHash));
  auto root = transactionTreeRoot(txs);
  if (!root.ok())
    return core::Error::withCode("txTreeMismatch", ledger + ": transactions are not a tree (" +
                                                       root.error().message + "), header transaction_hash " +
                                                       hex(h.txHash));
  if (*root != h.txHash)
    return core::Error::withCode("txTreeMismatch", ledger + ": " + std::to_string(txs.size()) +
                                                       " transactions hash to " + hex(*root) +
                                                       ", header transaction_hash " + hex(h.txHash));
  return {};
}

}  // namespace sashimono::ledger
