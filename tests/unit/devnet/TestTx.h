#pragma once
// Helpers for devnet unit tests: signed transactions built with the ledger codec.
#include <string>

#include <rapidjson/document.h>

#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/ledger/Signing.h"

namespace sashimono::devnet::test {

inline crypto::KeyPair key(const char* name) {
  std::array<std::uint8_t, 16> entropy{};
  for (std::size_t i = 0; i < entropy.size() && name[i] != 0; ++i)
    entropy[i] = static_cast<std::uint8_t>(name[i]);
  return *crypto::KeyPair::fromSeed(crypto::Seed(crypto::KeyType::ed25519, entropy));
}

struct TxSpec {
  std::string type = "Payment";
  std::string destination;
  std::string amount;  // drops; empty: no Amount
  std::uint64_t fee = 10;
  std::uint32_t sequence = 1;
  std::uint32_t lastLedger = 0;
  bool iou = false;
};

inline core::Bytes signedBlob(const crypto::KeyPair& k, const TxSpec& s) {
  rapidjson::Document d;
  d.SetObject();
  auto& al = d.GetAllocator();
  d.AddMember("TransactionType", rapidjson::Value(s.type.c_str(), al), al);
  d.AddMember("Account", rapidjson::Value(k.address().c_str(), al), al);
  if (!s.destination.empty()) d.AddMember("Destination", rapidjson::Value(s.destination.c_str(), al), al);
  if (s.iou) {
    rapidjson::Value amt(rapidjson::kObjectType);
    amt.AddMember("currency", "USD", al);
    amt.AddMember("value", "5", al);
    amt.AddMember("issuer", rapidjson::Value(k.address().c_str(), al), al);
    d.AddMember("Amount", amt, al);
  } else if (!s.amount.empty()) {
    d.AddMember("Amount", rapidjson::Value(s.amount.c_str(), al), al);
  }
  d.AddMember("Fee", rapidjson::Value(std::to_string(s.fee).c_str(), al), al);
  d.AddMember("Sequence", s.sequence, al);
  d.AddMember("Flags", 0, al);
  if (s.lastLedger != 0) d.AddMember("LastLedgerSequence", s.lastLedger, al);
  auto blob = ledger::sign(d, al, k);
  if (!blob.ok()) throw std::runtime_error("test tx: " + blob.error().message);
  return *blob;
}

inline ledger::DecodedTx decoded(const core::Bytes& blob) {
  auto t = ledger::decodeTransaction(blob);
  if (!t.ok()) throw std::runtime_error("test tx decode: " + t.error().message);
  return *t;
}

}  // namespace sashimono::devnet::test
