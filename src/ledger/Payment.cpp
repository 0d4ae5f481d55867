#include "sashimono/ledger/Payment.h"

#include <algorithm>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Signing.h"

namespace sashimono::ledger {

namespace {

constexpr std::uint64_t kMaxDrops = 100'000'000'000'000'000ULL;  // 10^17: all XRP there is

using Alloc = rapidjson::Document::AllocatorType;

rapidjson::Value text(const std::string& s, Alloc& a) {
  return rapidjson::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
}

core::Result<rapidjson::Value> amountJson(const Amount& amount, Alloc& a) {
  if (amount.native) {
    if (amount.negative) return core::Error("payment: a negative amount");
    if (amount.drops > kMaxDrops) return core::Error("payment: more drops than exist");
    return text(std::to_string(amount.drops), a);
  }
  // Issued: a blob holding only the Amount field (STAmount type 6, field 1 → header 0x61)
  // decodes to {"Amount": {value, currency, issuer}}.
  core::Bytes b{0x61};
  b.insert(b.end(), amount.issued.begin(), amount.issued.end());
  auto d = decode(b);
  if (!d) return d.error().context("issued amount");
  if (!d->HasMember("Amount")) return core::Error("issued amount did not decode");
  rapidjson::Value v;
  v.CopyFrom((*d)["Amount"], a);
  return v;
}

rapidjson::Value memoJson(const Memo& m, Alloc& a) {
  rapidjson::Value inner(rapidjson::kObjectType);
  if (m.type) inner.AddMember("MemoType", text(core::toHex(*m.type), a), a);
  if (m.format) inner.AddMember("MemoFormat", text(core::toHex(*m.format), a), a);
  if (m.data) inner.AddMember("MemoData", text(core::toHex(*m.data), a), a);
  rapidjson::Value wrapper(rapidjson::kObjectType);
  wrapper.AddMember("Memo", inner, a);
  return wrapper;
}

}  // namespace

core::Result<core::Bytes> signPayment(const Payment& p, const crypto::KeyPair& key) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  SASHI_TRY_ASSIGN(amount, amountJson(p.amount, a));
  d.AddMember("TransactionType", "Payment", a);
  d.AddMember("Account", text(key.address(), a), a);
  d.AddMember("Destination", text(crypto::encodeAddress(p.destination), a), a);
  d.AddMember("Amount", amount, a);
  d.AddMember("Fee", text(std::to_string(p.fee), a), a);
  d.AddMember("Sequence", p.sequence, a);
  if (p.lastLedgerSequence) d.AddMember("LastLedgerSequence", *p.lastLedgerSequence, a);
  d.AddMember("Flags", 0u, a);
  if (p.networkId) d.AddMember("NetworkID", *p.networkId, a);
  if (!p.memos.empty()) {
    rapidjson::Value memos(rapidjson::kArrayType);
    for (const auto& m : p.memos) memos.PushBack(memoJson(m, a), a);
    d.AddMember("Memos", memos, a);
  }
  return sign(d, a, key);
}

std::uint64_t paymentFee(std::uint64_t baseFee, std::uint64_t openLedgerFee, std::uint64_t floor,
                         std::uint64_t cap) {
  std::uint64_t f = std::max({baseFee, openLedgerFee, floor});
  if (cap != 0) f = std::min(f, std::max(cap, floor));
  return f;
}

}  // namespace sashimono::ledger
