#pragma once
// The XRPL binary codec: transaction / ledger-object / metadata JSON ⇄ canonical binary.
//
// JSON follows rippled and ripple-binary-codec: UInt8/16/32 as numbers (TransactionType,
// LedgerEntryType and TransactionResult as their names), UInt64 as hex strings, Hash*/Blob as
// hex, AccountID as an r-address, XRP amounts as a decimal string of drops, issued amounts as
// {"value","currency","issuer"}, STObject as an object, STArray as [{"Wrapper": {...}}, …],
// Vector256 as an array of hex hashes.
//
// Encoding sorts fields canonically by (type code, field code). Field names that the
// definitions know but that are never serialized (e.g. "hash") are skipped; any other unknown
// name, an unsupported type (e.g. PathSet), a wrong JSON type or an out-of-range value is an
// error naming the field. Decoding accepts only canonical input (strictly ascending fields,
// minimal length prefixes, canonical amounts) so that decode → encode reproduces the bytes; it
// is safe on arbitrary bytes: all lengths are checked and nesting is limited to kMaxDepth.
//
// Thread-safe: no shared state.
#include <array>
#include <cstdint>

#include <rapidjson/document.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::ledger {

// Hash prefixes (rippled HashPrefix).
inline constexpr std::array<std::uint8_t, 4> kPrefixTxSign{0x53, 0x54, 0x58, 0x00};     // "STX\0"
inline constexpr std::array<std::uint8_t, 4> kPrefixTxId{0x54, 0x58, 0x4E, 0x00};       // "TXN\0"
inline constexpr std::array<std::uint8_t, 4> kPrefixTxNode{0x53, 0x4E, 0x44, 0x00};     // "SND\0"
inline constexpr std::array<std::uint8_t, 4> kPrefixLeafNode{0x4D, 0x4C, 0x4E, 0x00};   // "MLN\0"
inline constexpr std::array<std::uint8_t, 4> kPrefixInnerNode{0x4D, 0x49, 0x4E, 0x00};  // "MIN\0"
inline constexpr std::array<std::uint8_t, 4> kPrefixLedger{0x4C, 0x57, 0x52, 0x00};     // "LWR\0"

// Maximum nesting of STObject/STArray accepted by decode and encode.
inline constexpr int kMaxDepth = 10;

// All serialized fields of a JSON object.
[[nodiscard]] core::Result<core::Bytes> encode(const rapidjson::Value& json);
// "STX\0" + the signing fields only (no TxnSignature, no Signers).
[[nodiscard]] core::Result<core::Bytes> encodeForSigning(const rapidjson::Value& tx);
// Canonical binary → JSON, in canonical field order.
[[nodiscard]] core::Result<rapidjson::Document> decode(core::ByteView blob);
// SHA512Half("TXN\0" + blob): the transaction id.
crypto::Hash256 transactionHash(core::ByteView txBlob);

}  // namespace sashimono::ledger
