#pragma once
// rippled's SHAMap root hash (the radix-16 Merkle tree of a ledger's transactions and of its state),
// and the check that a ledger fetched from an untrusted board server is the ledger validators signed:
// its header hashes to the signed hash and its transactions hash to the header's transaction_hash,
// so a server can neither invent, alter, reorder nor hide a transaction.
//
// Tree rules (protocol facts): the key of an item picks its path, one nibble (4 bits, high first)
// per level. The root is always an inner node, even with a single item. Below the root, a branch
// holding one item is that item's leaf hash; a branch holding several is an inner node. Inner node
// hash = SHA512Half("MIN\0" + the 16 child hashes, zero for an empty branch); an empty map hashes
// to zero. Transaction leaf (tx with metadata) = SHA512Half("SND\0" + VL(tx blob) + VL(meta blob) +
// txid); its key is the txid = SHA512Half("TXN\0" + tx blob).
//
// Pure functions, thread-safe. Costs: per transaction one SHA-512 for its id (unless given) and one
// for its leaf, one per inner node (about n/15 of them), one allocation (the item array) per
// transactionTreeRoot; inner nodes are built on the stack.
#include <cstdint>
#include <optional>
#include <span>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/ledger/LedgerHeader.h"

namespace sashimono::ledger {

// Largest blob a VL length prefix can describe (rippled's limit; no leaf can hold more).
inline constexpr std::size_t kMaxLeafBlob = 918744;

struct ShaMapItem {
  crypto::Hash256 key{};
  crypto::Hash256 hash{};  // the leaf hash
};

// Root of the map holding `items`, given in any order (sorted here by key, in place). Two items
// with the same key are an Error with code "duplicateKey" (a map holds one item per key).
[[nodiscard]] core::Result<crypto::Hash256> shaMapRoot(std::span<ShaMapItem> items);

// Leaf hash of a transaction with metadata. blob.size() and meta.size() must be <= kMaxLeafBlob
// (throws std::invalid_argument otherwise: a caller's bug; transactionTreeRoot checks first).
[[nodiscard]] crypto::Hash256 txLeafHash(const crypto::Hash256& txid, core::ByteView blob,
                                         core::ByteView meta);

// One transaction of a ledger: the signed transaction and its metadata, canonical binary. Views:
// the caller owns the bytes.
struct LedgerTxData {
  core::ByteView blob;
  core::ByteView meta;
  // transactionHash(blob) when the caller computed it already (board::LedgerTxBlob::hash), which
  // saves one hash per transaction; computed here when absent. A wrong id cannot make a lie pass:
  // the leaf hash covers the id with the blob and the metadata, so the root then differs.
  std::optional<crypto::Hash256> id{};
};

// Root of the transaction tree of `txs` (any order), txids computed here from the blobs (or given).
// Errors: "duplicateTx" (two equal blobs: the same txid twice), "txTooLarge" (a blob or meta over
// kMaxLeafBlob), each naming the transaction.
[[nodiscard]] core::Result<crypto::Hash256> transactionTreeRoot(std::span<const LedgerTxData> txs);

// The ledger a board sent is the one validators signed:
//   "headerMismatch": ledgerHash(h) != expectedHash;
//   "txTreeMismatch": the transactions do not hash to h.txHash (or are not a possible tree: a
//                     duplicate or an oversized transaction).
// The messages give the ledger sequence and both hashes in hex.
[[nodiscard]] core::Status verifyLedger(const LedgerHeader& h, const crypto::Hash256& expectedHash,
                                        std::span<const LedgerTxData> txs);

}  // namespace sashimono::ledger
