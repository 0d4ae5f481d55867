#include "sashimono/ledger/DecodedTx.h"

#include <algorithm>

#include "Serial.h"
#include "sashimono/ledger/Codec.h"

namespace sashimono::ledger {
namespace {
using namespace detail;

constexpr std::pair<int, int> id(TypeCode t, int f) { return {static_cast<int>(t), f}; }

// Field ids used below (type code, field code), from definitions.json.
constexpr auto kTransactionType = id(TypeCode::kUInt16, 2);
constexpr auto kFlags = id(TypeCode::kUInt32, 2);
constexpr auto kSourceTag = id(TypeCode::kUInt32, 3);
constexpr auto kSequence = id(TypeCode::kUInt32, 4);
constexpr auto kDestinationTag = id(TypeCode::kUInt32, 14);
constexpr auto kLastLedgerSequence = id(TypeCode::kUInt32, 27);
constexpr auto kSetFlag = id(TypeCode::kUInt32, 33);
constexpr auto kClearFlag = id(TypeCode::kUInt32, 34);
constexpr auto kTicketSequence = id(TypeCode::kUInt32, 41);
constexpr auto kNetworkId = id(TypeCode::kUInt32, 1);
constexpr auto kAmount = id(TypeCode::kAmount, 1);
constexpr auto kFee = id(TypeCode::kAmount, 8);
constexpr auto kSendMax = id(TypeCode::kAmount, 9);
constexpr auto kDeliverMin = id(TypeCode::kAmount, 10);
constexpr auto kSigningPubKey = id(TypeCode::kBlob, 3);
constexpr auto kTxnSignature = id(TypeCode::kBlob, 4);
constexpr auto kAccount = id(TypeCode::kAccountId, 1);
constexpr auto kDestination = id(TypeCode::kAccountId, 3);
constexpr auto kMemos = id(TypeCode::kSTArray, 9);
constexpr auto kMemo = id(TypeCode::kSTObject, 10);
constexpr auto kMemoType = id(TypeCode::kBlob, 12);
constexpr auto kMemoData = id(TypeCode::kBlob, 13);
constexpr auto kMemoFormat = id(TypeCode::kBlob, 14);

Amount toAmount(core::ByteView v) {
  Amount a;
  if (v.size() == 8) {
    std::uint64_t raw = readU64(v);
    a.drops = raw & ((1ULL << 62) - 1);
    a.negative = ((raw >> 62) & 1) == 0;
  } else {
    a.native = false;
    std::copy(v.begin(), v.end(), a.issued.begin());
  }
  return a;
}

// The value bytes of a VL-encoded field (after its length prefix).
core::ByteView vlPayload(core::ByteView fieldValue) {
  std::size_t skip = fieldValue.empty() ? 0 : fieldValue[0] <= 192 ? 1 : fieldValue[0] <= 240 ? 2 : 3;
  return fieldValue.subspan(skip);
}

// Memos were already validated by readValue; this only checks the shape rippled requires
// (each element a Memo holding only MemoType/MemoData/MemoFormat) and copies the blobs.
core::Status readMemos(core::ByteView bytes, std::vector<Memo>& memos) {
  Reader r(bytes);
  for (;;) {
    auto elem = r.fieldId();
    if (!elem) return elem.error();
    if (elem->first == kArrayEndType && elem->second == 1) return {};
    if (*elem != kMemo) return malformed("Memos element is not a Memo");
    Memo m;
    for (;;) {
      auto f = r.fieldId();
      if (!f) return f.error();
      if (f->first == kObjectEndType && f->second == 1) break;
      if (*f != kMemoType && *f != kMemoData && *f != kMemoFormat) {
        return malformed("Memo may hold only MemoType, MemoData and MemoFormat");
      }
      auto len = r.vlLength("memo field");
      if (!len) return len.error();
      auto b = r.take(*len, "memo field");
      if (!b) return b.error();
      auto& slot = *f == kMemoType ? m.type : *f == kMemoData ? m.data : m.format;
      slot.emplace(b->begin(), b->end());
    }
    memos.push_back(std::move(m));
  }
}
}  // namespace

core::Result<DecodedTx> decodeTransaction(core::ByteView blob) {
  DecodedTx tx;
  tx.signingData.reserve(blob.size() + kPrefixTxSign.size());
  tx.signingData.assign(kPrefixTxSign.begin(), kPrefixTxSign.end());
  Reader r(blob);
  std::pair<int, int> prev{0, 0};
  bool haveType = false;
  bool haveAccount = false;
  bool haveFee = false;
  bool haveSequence = false;
  while (!r.atEnd()) {
    std::size_t fieldStart = r.pos();
    auto def = readFieldDef(r, prev, false);
    if (!def) return def.error();
    const FieldDef& f = **def;
    std::size_t valueStart = r.pos();
    auto s = readValue(r, f, 0, nullptr, nullptr);
    if (!s) return s.error();
    core::ByteView value = blob.subspan(valueStart, r.pos() - valueStart);
    if (f.isSigningField) {
      tx.signingData.insert(tx.signingData.end(), blob.begin() + static_cast<std::ptrdiff_t>(fieldStart),
                            blob.begin() + static_cast<std::ptrdiff_t>(r.pos()));
    }
    const std::pair<int, int> fid{f.typeCode, f.fieldCode};
    if (fid == kTransactionType) {
      tx.type = static_cast<std::uint16_t>((value[0] << 8) | value[1]);
      haveType = true;
    } else if (fid == kFlags) {
      tx.flags = readU32(value);
    } else if (fid == kSequence) {
      tx.sequence = readU32(value);
      haveSequence = true;
    } else if (fid == kSourceTag) {
      tx.sourceTag = readU32(value);
    } else if (fid == kDestinationTag) {
      tx.destinationTag = readU32(value);
    } else if (fid == kLastLedgerSequence) {
      tx.lastLedgerSequence = readU32(value);
    } else if (fid == kSetFlag) {
      tx.setFlag = readU32(value);
    } else if (fid == kClearFlag) {
      tx.clearFlag = readU32(value);
    } else if (fid == kTicketSequence) {
      tx.ticketSequence = readU32(value);
    } else if (fid == kNetworkId) {
      tx.networkId = readU32(value);
    } else if (fid == kAmount) {
      tx.amount = toAmount(value);
    } else if (fid == kSendMax) {
      tx.sendMax = toAmount(value);
    } else if (fid == kDeliverMin) {
      tx.deliverMin = toAmount(value);
    } else if (fid == kFee) {
      Amount a = toAmount(value);
      if (!a.native || a.negative) {
        return core::Error::withCode("temBAD_FEE", "Fee must be a non-negative XRP amount");
      }
      tx.fee = a.drops;
      haveFee = true;
    } else if (fid == kSigningPubKey) {
      core::ByteView p = vlPayload(value);
      tx.signingPubKey.assign(p.begin(), p.end());
    } else if (fid == kTxnSignature) {
      core::ByteView p = vlPayload(value);
      tx.signature.assign(p.begin(), p.end());
    } else if (fid == kAccount) {
      std::copy_n(value.begin() + 1, 20, tx.account.begin());
      haveAccount = true;
    } else if (fid == kDestination) {
      tx.destination.emplace();
      std::copy_n(value.begin() + 1, 20, tx.destination->begin());
    } else if (fid == kMemos) {
      auto m = readMemos(value, tx.memos);
      if (!m) return m.error();
    } else {
      tx.otherFields.push_back(&f);
    }
  }
  if (!haveType) return malformed("transaction has no TransactionType");
  if (!haveAccount) return malformed("transaction has no Account");
  if (!haveFee) return malformed("transaction has no Fee");
  if (!haveSequence) return malformed("transaction has no Sequence");
  tx.hash = transactionHash(blob);
  return tx;
}

core::Status verifySignature(const DecodedTx& tx) {
  if (tx.signingPubKey.empty()) {
    return core::Error::withCode("temBAD_SIGNATURE", "empty SigningPubKey (multi-signing is not supported)");
  }
  if (tx.signature.empty()) return core::Error::withCode("temBAD_SIGNATURE", "missing TxnSignature");
  auto ok = crypto::verify(tx.signingPubKey, tx.signingData, tx.signature);
  if (!ok) return core::Error::withCode("temBAD_SIGNATURE", "invalid signature: " + ok.error().message);
  if (crypto::accountIdOf(tx.signingPubKey) != tx.account) {
    return core::Error::withCode(
        "tefBAD_AUTH", "SigningPubKey does not belong to Account " + crypto::encodeAddress(tx.account));
  }
  return {};
}

}  // namespace sashimono::ledger
