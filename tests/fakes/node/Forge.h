#pragma once
// Forged and hostile transactions for node tests: payments with any memos, amounts, flags and
// signer (including one that does not own the Account), signatures altered after signing, and
// binary metadata with a result and a delivered amount. The JSON form is returned so that a test
// can bend any field before signing it with signJson.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "fakes/node/Tenant.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Signing.h"
#include "sashimono/protocol/Envelope.h"

namespace sashimono::node::fakes {

// A memo with raw (unhexed) fields, exactly as given: for malformed memos.
inline protocol::Memo rawMemo(std::string type, std::string format, core::Bytes data) {
  return protocol::Memo{std::move(type), std::move(format), std::move(data)};
}

// The memo a well-behaved developer sends: `request` sealed to the host's key.
inline protocol::Memo requestMemo(const protocol::Message& request, const crypto::KeyPair& host) {
  auto m = protocol::buildRequest(request, edKeyOf(host));
  if (!m) throw std::runtime_error("buildRequest: " + m.error().message);
  return *m;
}

// An unsigned Payment of `drops` from `account` to `destination` with `memos`.
inline rapidjson::Document paymentJson(const std::string& account, const std::string& destination,
                                       std::uint64_t drops, std::uint32_t sequence,
                                       const std::vector<protocol::Memo>& memos) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("TransactionType", "Payment", a);
  d.AddMember("Account", rapidjson::Value(account.c_str(), a), a);
  d.AddMember("Destination", rapidjson::Value(destination.c_str(), a), a);
  d.AddMember("Amount", rapidjson::Value(std::to_string(drops).c_str(), a), a);
  d.AddMember("Fee", "12", a);
  d.AddMember("Sequence", sequence, a);
  d.AddMember("Flags", 0u, a);
  if (!memos.empty()) {
    rapidjson::Value arr(rapidjson::kArrayType);
    for (const auto& m : memos) arr.PushBack(protocol::memoToJson(m, a), a);
    d.AddMember("Memos", arr, a);
  }
  return d;
}

// Replaces the Amount with an issued-currency amount.
inline void setIssuedAmount(rapidjson::Document& d, const std::string& value, const std::string& currency,
                            const std::string& issuer) {
  auto& a = d.GetAllocator();
  rapidjson::Value amt(rapidjson::kObjectType);
  amt.AddMember("value", rapidjson::Value(value.c_str(), a), a);
  amt.AddMember("currency", rapidjson::Value(currency.c_str(), a), a);
  amt.AddMember("issuer", rapidjson::Value(issuer.c_str(), a), a);
  d["Amount"] = amt;
}

// Signs with `key` (which need not own the Account) and returns the blob.
inline core::Bytes signJson(rapidjson::Document& d, const crypto::KeyPair& key) {
  auto blob = ledger::sign(d, d.GetAllocator(), key);
  if (!blob) throw std::runtime_error("sign: " + blob.error().message);
  return *blob;
}

// The same transaction with one byte of its TxnSignature flipped, re-encoded canonically (its
// hash is that of the new bytes, so the forgery is self-consistent).
inline core::Bytes withBadSignature(const core::Bytes& blob, std::size_t byte = 10) {
  auto d = ledger::decode(blob);
  if (!d || !d->HasMember("TxnSignature")) throw std::runtime_error("withBadSignature: not a signed tx");
  auto sig = core::fromHex((*d)["TxnSignature"].GetString());
  if (!sig || sig->size() <= byte) throw std::runtime_error("withBadSignature: bad TxnSignature");
  (*sig)[byte] ^= 0x01;
  const std::string hex = core::toHex(*sig);
  (*d)["TxnSignature"].SetString(hex.c_str(), static_cast<rapidjson::SizeType>(hex.size()),
                                 d->GetAllocator());
  auto out = ledger::encode(*d);
  if (!out) throw std::runtime_error("withBadSignature: " + out.error().message);
  return *out;
}

// Binary metadata: result, position in the ledger and, for XRP, the delivered amount.
inline core::Bytes forgedMeta(std::uint32_t index, const std::string& result,
                              std::optional<std::uint64_t> deliveredDrops) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("AffectedNodes", rapidjson::Value(rapidjson::kArrayType), a);
  d.AddMember("TransactionIndex", index, a);
  d.AddMember("TransactionResult", rapidjson::Value(result.c_str(), a), a);
  if (deliveredDrops)
    d.AddMember("DeliveredAmount", rapidjson::Value(std::to_string(*deliveredDrops).c_str(), a), a);
  auto b = ledger::encode(d);
  if (!b) throw std::runtime_error("forgedMeta: " + b.error().message);
  return *b;
}

}  // namespace sashimono::node::fakes
