#include "sashimono/devnet/Meta.h"

#include <algorithm>

namespace sashimono::devnet {

namespace {

class Writer {
 public:
  core::Bytes out;
  void header(int type, int field) {
    if (type < 16 && field < 16) {
      out.push_back(static_cast<std::uint8_t>((type << 4) | field));
    } else if (type < 16) {
      out.push_back(static_cast<std::uint8_t>(type << 4));
      out.push_back(static_cast<std::uint8_t>(field));
    } else if (field < 16) {
      out.push_back(static_cast<std::uint8_t>(field));
      out.push_back(static_cast<std::uint8_t>(type));
    } else {
      out.push_back(0);
      out.push_back(static_cast<std::uint8_t>(type));
      out.push_back(static_cast<std::uint8_t>(field));
    }
  }
  void u16(int field, std::uint16_t v) {
    header(1, field);
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
  }
  void u32(int field, std::uint32_t v) {
    header(2, field);
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void hash256(int field, const crypto::Hash256& h) {
    header(5, field);
    out.insert(out.end(), h.begin(), h.end());
  }
  void xrp(int field, std::uint64_t drops) {
    header(6, field);
    std::uint64_t v = drops | (std::uint64_t{1} << 62);
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void account(int field, const crypto::AccountId& id) {
    header(8, field);
    out.push_back(20);
    out.insert(out.end(), id.begin(), id.end());
  }
  void u8(int field, std::uint8_t v) {
    header(16, field);
    out.push_back(v);
  }
  void beginObject(int field) { header(14, field); }
  void endObject() { out.push_back(0xE1); }
  void beginArray(int field) { header(15, field); }
  void endArray() { out.push_back(0xF1); }
};

// Field codes (type, field) from the XRPL definitions.
constexpr int kLedgerEntryType = 1;    // UInt16
constexpr int kFlags = 2;              // UInt32
constexpr int kSequence = 4;           // UInt32
constexpr int kPreviousTxnLgrSeq = 5;  // UInt32
constexpr int kOwnerCount = 13;        // UInt32
constexpr int kTransactionIndex = 28;  // UInt32
constexpr int kPreviousTxnId = 5;      // Hash256
constexpr int kLedgerIndex = 6;        // Hash256
constexpr int kBalance = 2;            // Amount
constexpr int kDeliveredAmount = 18;   // Amount
constexpr int kAccount = 1;            // AccountID
constexpr int kCreatedNode = 3;        // STObject
constexpr int kModifiedNode = 5;       // STObject
constexpr int kPreviousFields = 6;     // STObject
constexpr int kFinalFields = 7;        // STObject
constexpr int kNewFields = 8;          // STObject
constexpr int kAffectedNodes = 8;      // STArray
constexpr int kTransactionResult = 3;  // UInt8
constexpr std::uint16_t kAccountRootType = 0x61;

void writeChange(Writer& w, const AccountChange& c, const crypto::Hash256& index) {
  const AccountRoot& a = c.after;
  if (!c.before) {
    w.beginObject(kCreatedNode);
    w.u16(kLedgerEntryType, kAccountRootType);
    w.hash256(kLedgerIndex, index);
    w.beginObject(kNewFields);
    if (a.flags != 0) w.u32(kFlags, a.flags);
    w.u32(kSequence, a.sequence);
    if (a.ownerCount != 0) w.u32(kOwnerCount, a.ownerCount);
    w.xrp(kBalance, a.balance);
    w.account(kAccount, a.id);
    w.endObject();
    w.endObject();
    return;
  }
  const AccountRoot& b = *c.before;
  w.beginObject(kModifiedNode);
  w.u16(kLedgerEntryType, kAccountRootType);
  if (b.previousTxnLgrSeq != 0) w.u32(kPreviousTxnLgrSeq, b.previousTxnLgrSeq);
  if (b.previousTxnLgrSeq != 0) w.hash256(kPreviousTxnId, b.previousTxnId);
  w.hash256(kLedgerIndex, index);
  bool changed = b.flags != a.flags || b.sequence != a.sequence || b.ownerCount != a.ownerCount ||
                 b.balance != a.balance;
  if (changed) {
    w.beginObject(kPreviousFields);
    if (b.flags != a.flags) w.u32(kFlags, b.flags);
    if (b.sequence != a.sequence) w.u32(kSequence, b.sequence);
    if (b.ownerCount != a.ownerCount) w.u32(kOwnerCount, b.ownerCount);
    if (b.balance != a.balance) w.xrp(kBalance, b.balance);
    w.endObject();
  }
  w.beginObject(kFinalFields);
  w.u32(kFlags, a.flags);
  w.u32(kSequence, a.sequence);
  w.u32(kOwnerCount, a.ownerCount);
  w.xrp(kBalance, a.balance);
  w.account(kAccount, a.id);
  w.endObject();
  w.endObject();
}

}  // namespace

core::Bytes writeMeta(std::uint32_t txIndex, Ter result, std::vector<AccountChange> changes,
                      std::optional<std::uint64_t> deliveredDrops) {
  Writer w;
  w.out.reserve(120 + 160 * changes.size());
  w.u32(kTransactionIndex, txIndex);
  if (deliveredDrops) w.xrp(kDeliveredAmount, *deliveredDrops);
  std::vector<std::pair<crypto::Hash256, const AccountChange*>> sorted;
  sorted.reserve(changes.size());
  for (const auto& c : changes) sorted.emplace_back(accountRootIndex(c.after.id), &c);
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  w.beginArray(kAffectedNodes);
  for (const auto& [index, c] : sorted) writeChange(w, *c, index);
  w.endArray();
  w.u8(kTransactionResult, static_cast<std::uint8_t>(terCode(result)));
  return std::move(w.out);
}

}  // namespace sashimono::devnet
