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
#include "sashimono/ledger/LedgerHeader.h"

namespace sashimono::devnet {

// Today's XRPL defaults.
inline constexpr std::uint64_t kBaseFee = 10;                            // drops
inline constexpr std::uint64_t kReserveBase = 1'000'000;                 // 1 XRP
inline constexpr std::uint64_t kReserveIncrement = 200'000;              // 0.2 XRP per owned object
inline constexpr std::uint64_t kGenesisDrops = 100'000'000'000'000'000;  // 100,000,000,000 XRP
// network_id in server_info. Not above 1024, so transactions need no NetworkID field.
inline constexpr std::uint32_t kNetworkId = 0;
inline constexpr std::uint8_t kCloseTimeResolution = ledger::kDefaultCloseTimeResolution;
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

// A closed devnet ledger's header: the XRPL header (ledger/LedgerHeader.h, hashed by
// ledger::ledgerHash) plus what the devnet keeps beside it.
struct LedgerHeader : ledger::LedgerHeader {
  std::uint32_t txCount = 0;
  crypto::Hash256 hash{};  // ledgerHash(*this) once closed
};
using ledger::ledgerHash;

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

// The transaction tree (rippled's SHAMap, ledger/ShaMap.h) of a ledger's applied transactions.
crypto::Hash256 txTreeRoot(const std::vector<AppliedTx>& txs);

// Ripple-epoch seconds <-> ISO 8601 "2026-11-24T20:34:00Z" and rippled's human form
// "2026-Nov-24 20:34:00.000000000 UTC".
std::string closeTimeIso(std::uint32_t rippleSeconds);
std::string closeTimeHuman(std::uint32_t rippleSeconds);
std::uint32_t rippleNow();

}  // namespace sashimono::devnet
