#pragma once
// The hot path: a signed transaction blob decoded straight into typed fields, without a JSON
// DOM, for the devnet's submit loop and the host node's request check.
//
//   auto tx = ledger::decodeTransaction(blob);          // parse + canonical checks + hash
//   if (!tx) reject(tx.error());                        // code "temMALFORMED"
//   if (auto s = ledger::verifySignature(*tx); !s) ...  // "temBAD_SIGNATURE" / "tefBAD_AUTH"
//
// decodeTransaction walks every field with the same rules as decode() (so a blob it accepts is
// exactly one that decode() accepts), fills the common fields below, lists the other fields it
// saw in `otherFields`, and prepares `signingData` (the blob minus TxnSignature, prefixed with
// "STX\0") and `hash`. For any other field use decode() on the same blob.
// Pure functions, thread-safe.
#include <cstdint>
#include <optional>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Definitions.h"

namespace sashimono::ledger {

struct Amount {
  bool native = true;
  std::uint64_t drops = 0;  // native only: magnitude, 0 .. 10^17
  bool negative = false;    // native only: never valid in a transaction; callers reject it
  // Issued currency only: the 48 serialized bytes (8 value, 20 currency, 20 issuer).
  std::array<std::uint8_t, 48> issued{};
};

struct Memo {
  std::optional<core::Bytes> type;
  std::optional<core::Bytes> data;
  std::optional<core::Bytes> format;
};

struct DecodedTx {
  std::uint16_t type = 0;  // see txtype::
  crypto::AccountId account{};
  std::uint64_t fee = 0;  // drops (Fee must be XRP)
  std::uint32_t sequence = 0;
  std::uint32_t flags = 0;  // 0 when absent
  std::optional<crypto::AccountId> destination;
  std::optional<Amount> amount;
  std::optional<Amount> sendMax;
  std::optional<Amount> deliverMin;
  std::optional<std::uint32_t> lastLedgerSequence;
  std::optional<std::uint32_t> sourceTag;
  std::optional<std::uint32_t> destinationTag;
  std::optional<std::uint32_t> ticketSequence;
  std::optional<std::uint32_t> networkId;
  std::optional<std::uint32_t> setFlag;    // AccountSet
  std::optional<std::uint32_t> clearFlag;  // AccountSet
  core::Bytes signingPubKey;               // empty for multi-signed
  core::Bytes signature;                   // empty when absent
  std::vector<Memo> memos;
  std::vector<const FieldDef*> otherFields;  // fields present but not listed above
  crypto::Hash256 hash{};                    // transactionHash(blob)
  core::Bytes signingData;                   // "STX\0" + signing fields
};

// Errors (code "temMALFORMED"): anything decode() rejects, a missing TransactionType, Account,
// Fee or Sequence, an unknown transaction type, a non-XRP Fee.
[[nodiscard]] core::Result<DecodedTx> decodeTransaction(core::ByteView blob);

// Same checks and codes as the JSON verifySignature in Signing.h.
[[nodiscard]] core::Status verifySignature(const DecodedTx& tx);

}  // namespace sashimono::ledger
