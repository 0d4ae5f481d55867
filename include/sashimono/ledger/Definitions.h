#pragma once
// XRPL binary-codec definitions: serialized types, fields, transaction types, ledger entry
// types and transaction result codes, with their protocol numbers (from ripple-binary-codec's
// definitions.json, generated into src/ledger/Definitions.inc by tools/gen-ledger-definitions.py).
// All lookups are over static tables: thread-safe, no allocation.
#include <cstdint>
#include <optional>
#include <string_view>

namespace sashimono::ledger {

// Serialized type codes.
enum class TypeCode : std::uint16_t {
  kUInt16 = 1,
  kUInt32 = 2,
  kUInt64 = 3,
  kHash128 = 4,
  kHash256 = 5,
  kAmount = 6,
  kBlob = 7,
  kAccountId = 8,
  kSTObject = 14,
  kSTArray = 15,
  kUInt8 = 16,
  kHash160 = 17,
  kPathSet = 18,
  kVector256 = 19,
};
// The type's name as definitions.json spells it ("UInt32", "AccountID", …), or nullptr.
const char* typeName(int typeCode);
// True when this codec can encode/decode values of the type.
bool isSupportedType(int typeCode);

struct FieldDef {
  const char* name;
  int typeCode;
  int fieldCode;
  bool isSerialized;    // false for JSON-only names such as "hash": skipped on encode
  bool isSigningField;  // false for TxnSignature, Signers: left out of signing data
  bool isVLEncoded;     // Blob, AccountID (and fields of those types)
};

const FieldDef* fieldByName(std::string_view name);
const FieldDef* fieldById(int typeCode, int fieldCode);

// Transaction types ("Payment" = 0, "AccountSet" = 3, …).
namespace txtype {
inline constexpr std::uint16_t kPayment = 0;
inline constexpr std::uint16_t kEscrowCreate = 1;
inline constexpr std::uint16_t kEscrowFinish = 2;
inline constexpr std::uint16_t kAccountSet = 3;
inline constexpr std::uint16_t kEscrowCancel = 4;
inline constexpr std::uint16_t kSetRegularKey = 5;
inline constexpr std::uint16_t kOfferCreate = 7;
inline constexpr std::uint16_t kOfferCancel = 8;
inline constexpr std::uint16_t kTicketCreate = 10;
inline constexpr std::uint16_t kSignerListSet = 12;
inline constexpr std::uint16_t kTrustSet = 20;
inline constexpr std::uint16_t kAccountDelete = 21;
}  // namespace txtype
std::optional<std::uint16_t> transactionTypeCode(std::string_view name);
const char* transactionTypeName(std::uint16_t code);  // nullptr when unknown

// Ledger entry types ("AccountRoot" = 0x61, …).
namespace entrytype {
inline constexpr std::uint16_t kAccountRoot = 0x61;
inline constexpr std::uint16_t kDirectoryNode = 0x64;
inline constexpr std::uint16_t kRippleState = 0x72;
inline constexpr std::uint16_t kTicket = 0x54;
inline constexpr std::uint16_t kOffer = 0x6f;
inline constexpr std::uint16_t kLedgerHashes = 0x68;
inline constexpr std::uint16_t kFeeSettings = 0x73;
}  // namespace entrytype
std::optional<std::uint16_t> ledgerEntryTypeCode(std::string_view name);
const char* ledgerEntryTypeName(std::uint16_t code);

// Transaction results: tes 0, tec 100..255, tef -199..-100, tel -399..-300, tem -299..-200,
// ter -99..-1. Only tes/tec are ever serialized (TransactionResult is a UInt8).
namespace ter {
inline constexpr int kTesSuccess = 0;
inline constexpr int kTecUnfundedPayment = 104;
inline constexpr int kTecNoDstInsufXrp = 125;
inline constexpr int kTecNoDst = 124;
inline constexpr int kTecInsufficientReserve = 141;
inline constexpr int kTecDstTagNeeded = 143;
inline constexpr int kTefPastSeq = -190;
inline constexpr int kTefMaxLedger = -187;
inline constexpr int kTefBadAuth = -196;
inline constexpr int kTemMalformed = -299;
inline constexpr int kTemBadAmount = -298;
inline constexpr int kTemBadFee = -295;
inline constexpr int kTemBadSignature = -282;
inline constexpr int kTemRedundant = -275;
inline constexpr int kTemDstIsSrc = -279;
inline constexpr int kTerPreSeq = -92;
inline constexpr int kTerNoAccount = -96;
inline constexpr int kTerInsufFeeB = -97;
inline constexpr int kTelInsufFeeP = -394;
}  // namespace ter
std::optional<int> transactionResultCode(std::string_view name);
const char* transactionResultName(int code);  // nullptr when unknown

}  // namespace sashimono::ledger
