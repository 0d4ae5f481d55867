#pragma once
// The one Payment builder: every Payment this program sends (the host node's replies and
// announcements, a developer's requests, `sashimono pay`) is built and signed here.
//
//   ledger::Payment p;
//   p.destination = hostAccountId;
//   p.amount = ledger::Amount{.drops = 1000};
//   p.fee = 12; p.sequence = info.sequence; p.lastLedgerSequence = current + 20;
//   p.memos.push_back(memo);
//   auto blob = ledger::signPayment(p, key);   // Account is key's account
//
// Flags is always 0 (no partial payments). Pure function, thread-safe.
#include <cstdint>
#include <optional>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/DecodedTx.h"

namespace sashimono::ledger {

struct Payment {
  crypto::AccountId destination{};
  Amount amount;  // XRP drops (native) or an issued amount (its 48 serialized bytes)
  std::uint64_t fee = 10;
  std::uint32_t sequence = 0;
  std::optional<std::uint32_t> lastLedgerSequence;  // absent: no expiry
  std::vector<Memo> memos;                          // each present field is written
  std::optional<std::uint32_t> networkId;           // NetworkID: set it with networkIdField()
};

// rippled's rule: transactions carry NetworkID exactly when the network's id (server_info
// `network_id`) is above 1024 (Xahau: 21337); at or below, the field makes them invalid.
[[nodiscard]] inline std::optional<std::uint32_t> networkIdField(std::optional<std::uint32_t> networkId) {
  if (networkId && *networkId > 1024) return networkId;
  return std::nullopt;
}

// The signed blob of `payment` from `key`'s account. Errors: a negative or out-of-range native
// amount, an issued amount that does not decode, encoding failures.
[[nodiscard]] core::Result<core::Bytes> signPayment(const Payment& payment, const crypto::KeyPair& key);

// The fee to offer: the larger of the open-ledger and base fees, at least `floor` drops and,
// when `cap` is non-zero, at most `cap`.
[[nodiscard]] std::uint64_t paymentFee(std::uint64_t baseFee, std::uint64_t openLedgerFee,
                                       std::uint64_t floor = 10, std::uint64_t cap = 0);

}  // namespace sashimono::ledger
