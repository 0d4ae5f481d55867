#pragma once
// Signed test transactions and metadata blobs for board tests.
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/board/Responses.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Signing.h"

namespace sashimono::board::fakes {

// A signed Payment of `drops` from `from` to `to` with `sequence` (and NetworkID when set).
inline core::Bytes signedPayment(const crypto::KeyPair& from, const std::string& to, std::uint64_t drops,
                                 std::uint32_t sequence, std::uint64_t fee = 10,
                                 std::optional<std::uint32_t> networkId = {}) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  std::string from_addr = from.address();
  std::string amount = std::to_string(drops);
  std::string feeText = std::to_string(fee);
  d.AddMember("TransactionType", "Payment", a);
  d.AddMember("Account", rapidjson::Value(from_addr.c_str(), a), a);
  d.AddMember("Destination", rapidjson::Value(to.c_str(), a), a);
  d.AddMember("Amount", rapidjson::Value(amount.c_str(), a), a);
  d.AddMember("Fee", rapidjson::Value(feeText.c_str(), a), a);
  d.AddMember("Sequence", sequence, a);
  d.AddMember("Flags", 0u, a);
  if (networkId) d.AddMember("NetworkID", *networkId, a);
  auto blob = ledger::sign(d, a, from);
  if (!blob.ok()) throw std::runtime_error("signedPayment: " + blob.error().message);
  return std::move(*blob);
}

// Metadata with a result and index (no affected nodes).
inline core::Bytes metaBlob(std::uint32_t index, const char* result = "tesSUCCESS") {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("AffectedNodes", rapidjson::Value(rapidjson::kArrayType), a);
  d.AddMember("TransactionIndex", index, a);
  d.AddMember("TransactionResult", rapidjson::StringRef(result), a);
  auto b = ledger::encode(d);
  if (!b.ok()) throw std::runtime_error("metaBlob: " + b.error().message);
  return std::move(*b);
}

inline crypto::KeyPair keyFromSeed(const std::string& seed) {
  auto k = crypto::KeyPair::fromSeed(seed);
  if (!k.ok()) throw std::runtime_error("keyFromSeed: " + k.error().message);
  return *k;
}

inline crypto::KeyPair newKey() {
  auto k = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  if (!k.ok()) throw std::runtime_error("newKey: " + k.error().message);
  return *k;
}

}  // namespace sashimono::board::fakes
