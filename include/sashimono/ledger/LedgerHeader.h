#pragma once
// The XRPL ledger header and its hash, as rippled computes them. A board server can lie about
// anything it sends; a header that hashes to a hash a quorum of validators signed cannot be
// altered, and its transaction_hash then pins the ledger's transactions (ShaMap.h).
//
// Pure functions, thread-safe, no allocation except serializeHeader's result.
#include <cstddef>
#include <cstdint>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::ledger {

// rippled's default close-time resolution (seconds); what every mainnet ledger uses today.
inline constexpr std::uint8_t kDefaultCloseTimeResolution = 10;
// Size of the binary header (rippled's `ledger_data`): 4 + 8 + 3 × 32 + 4 + 4 + 1 + 1.
inline constexpr std::size_t kLedgerHeaderSize = 118;

struct LedgerHeader {
  std::uint32_t seq = 0;         // ledger_index
  std::uint64_t totalDrops = 0;  // total_coins
  crypto::Hash256 parentHash{};
  crypto::Hash256 txHash{};           // transaction_hash: root of the transaction tree
  crypto::Hash256 accountHash{};      // account_hash: root of the state tree
  std::uint32_t parentCloseTime = 0;  // Ripple-epoch seconds
  std::uint32_t closeTime = 0;
  std::uint8_t closeTimeResolution = kDefaultCloseTimeResolution;
  std::uint8_t closeFlags = 0;
  bool operator==(const LedgerHeader&) const = default;
};

// SHA512Half("LWR\0" + the binary header): the ledger hash validators sign.
[[nodiscard]] crypto::Hash256 ledgerHash(const LedgerHeader& h);

// The binary header, big-endian, in this order: seq u32, totalDrops u64, parentHash, txHash,
// accountHash, parentCloseTime u32, closeTime u32, closeTimeResolution u8, closeFlags u8
// (kLedgerHeaderSize bytes; what rippled's `ledger` command answers as `ledger_data` with
// binary: true).
[[nodiscard]] core::Bytes serializeHeader(const LedgerHeader& h);

// The inverse of serializeHeader. Input of any other length is an Error with code
// "badLedgerHeader" saying how long it was; every 118-byte input is a header (no field has
// invalid values), and serializeHeader(parseHeader(b)) == b.
[[nodiscard]] core::Result<LedgerHeader> parseHeader(core::ByteView data);

}  // namespace sashimono::ledger
