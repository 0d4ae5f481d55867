#pragma once
// The devnet's ledger data: account roots, ledger headers, applied transactions, and the
// hashing rules for them. Plain values; no I/O.
#include <cstdint>
#include <string>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/devnet/Ter.h"

namespace sashimono::devnet {

// Today's XRPL defaults.
inline constexpr std::uint64_t kBaseFee = 10;                            // drops
inline constexpr std::uint64_t kReserveBase = 1'000'000;                 // 1 XRP
inline constexpr std::uint64_t kReserveIncrement = 200'000;              // 0.2 XRP per owned object
inline constexpr std::uint64_t kGenesisDrops = 100'000'000'000'000'000;  // 100,000,000,000 XRP
// network_id in server_info. Not above 1024, so transactions need no NetworkID field.
inline constexpr std::uint32_t kNetworkId = 0;
inline constexpr std::uint8_t kCloseTimeResolution = 10;
// Seconds between the Unix epoch and the XRPL ("Ripple") epoch 2000-01-01T00:00:00Z.
inline constexpr std::int64_t kRippleEpochOffset = 946684800;

inline std::uint64_t accountReserve(std::uint32_t ownerCount) {
  return kReserveBase + kReserveIncrement * ownerCount;
}

struct AccountRoot {
  crypto::AccountId id{};
  std::uint64_t balance = 0;
  std::uint32_t sequence = 0;
  std::uint32_t ownerCount = 0;
  std::uint32_t flags = 0;
  crypto::Hash256 previousTxnId{};
  std::uint32_t previousTxnLgrSeq = 0;  // 0: never touched by a transaction (genesis)
  bool operator==(const AccountRoot&) const = default;
};

// rippled's AccountRoot key: SHA512Half(0x0061 || account id).
crypto::Hash256 accountRootIndex(const crypto::AccountId& id);

struct LedgerHeader {
  std::uint32_t seq = 0;
  std::uint64_t totalDrops = 0;
  crypto::Hash256 parentHash{};
  crypto::Hash256 txHash{};
  crypto::Hash256 accountHash{};
  std::uint32_t parentCloseTime = 0;  // Ripple-epoch seconds
  std::uint32_t closeTime = 0;
  std::uint8_t closeTimeResolution = kCloseTimeResolution;
  std::uint8_t closeFlags = 0;
  std::uint32_t txCount = 0;
  crypto::Hash256 hash{};
};

// SHA512Half("LWR\0" seq totalDrops parentHash txHash accountHash parentCloseTime closeTime
// resolution flags), big-endian: rippled's ledger header hash.
crypto::Hash256 ledgerHash(const LedgerHeader& h);

struct AppliedTx {
  crypto::Hash256 hash{};
  core::Bytes blob;
  core::Bytes meta;
  std::uint32_t ledgerSeq = 0;
  std::uint32_t index = 0;  // TransactionIndex
  Ter result = Ter::tesSUCCESS;
  std::uint16_t type = 0;
  std::vector<crypto::AccountId> affected;  // for account_tx and account streams
};

struct ClosedLedger {
  LedgerHeader header;
  std::vector<AppliedTx> txs;
  std::vector<AccountRoot> modified;  // final state of every account changed in this ledger
};

// Root of a SHAMap-style radix-16 tree over (key, leaf hash) pairs: inner node =
// SHA512Half("MIN\0" + 16 child hashes, zero for empty), single item = its leaf hash.
// `leaves` must be sorted by key.
struct MapLeaf {
  crypto::Hash256 key;
  crypto::Hash256 hash;
};
crypto::Hash256 shaMapRoot(std::vector<MapLeaf>& leaves);

// Transaction tree leaf: SHA512Half("SND\0" + VL(tx) + VL(meta) + txid).
crypto::Hash256 txLeafHash(const AppliedTx& tx);

// Ripple-epoch seconds <-> ISO 8601 "2026-11-24T20:34:00Z" and rippled's human form
// "2026-Nov-24 20:34:00.000000000 UTC".
std::string closeTimeIso(std::uint32_t rippleSeconds);
std::string closeTimeHuman(std::uint32_t rippleSeconds);
std::uint32_t rippleNow();

}  // namespace sashimono::devnet
