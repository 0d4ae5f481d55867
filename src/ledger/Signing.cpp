#include "sashimono/ledger/Signing.h"

#include "sashimono/ledger/Codec.h"

namespace sashimono::ledger {
namespace {
core::Error bad(const char* code, std::string msg) { return core::Error::withCode(code, std::move(msg)); }

core::Result<core::Bytes> hexMember(const rapidjson::Value& tx, const char* name) {
  auto it = tx.FindMember(name);
  if (it == tx.MemberEnd()) return bad("temMALFORMED", std::string("missing ") + name);
  if (!it->value.IsString()) return bad("temMALFORMED", std::string(name) + " is not a hex string");
  auto b = core::fromHex({it->value.GetString(), it->value.GetStringLength()});
  if (!b) return bad("temMALFORMED", std::string(name) + ": " + b.error().message);
  return b;
}
}  // namespace

core::Result<core::Bytes> sign(rapidjson::Value& tx, rapidjson::Document::AllocatorType& alloc,
                               const crypto::KeyPair& key) {
  if (!tx.IsObject()) return bad("temMALFORMED", "transaction is not a JSON object");
  tx.RemoveMember("TxnSignature");
  tx.RemoveMember("SigningPubKey");
  std::string pub = core::toHex(key.publicKey());
  tx.AddMember("SigningPubKey",
               rapidjson::Value(pub.data(), static_cast<rapidjson::SizeType>(pub.size()), alloc), alloc);
  auto signing = encodeForSigning(tx);
  if (!signing) return signing.error();
  std::string sig = core::toHex(key.sign(*signing));
  tx.AddMember("TxnSignature",
               rapidjson::Value(sig.data(), static_cast<rapidjson::SizeType>(sig.size()), alloc), alloc);
  return encode(tx);
}

core::Status verifySignature(const rapidjson::Value& tx) {
  if (!tx.IsObject()) return bad("temMALFORMED", "transaction is not a JSON object");
  auto pub = hexMember(tx, "SigningPubKey");
  if (!pub) return pub.error();
  if (pub->empty()) return bad("temBAD_SIGNATURE", "empty SigningPubKey (multi-signing is not supported)");
  auto sig = hexMember(tx, "TxnSignature");
  if (!sig) return sig.error();
  auto account = tx.FindMember("Account");
  if (account == tx.MemberEnd() || !account->value.IsString()) return bad("temMALFORMED", "missing Account");
  auto id = crypto::decodeAddress({account->value.GetString(), account->value.GetStringLength()});
  if (!id) return bad("temMALFORMED", id.error().message);
  auto signing = encodeForSigning(tx);
  if (!signing) return signing.error();
  auto ok = crypto::verify(*pub, *signing, *sig);
  if (!ok) return bad("temBAD_SIGNATURE", "invalid signature: " + ok.error().message);
  if (crypto::accountIdOf(*pub) != *id) {
    return bad("tefBAD_AUTH", "SigningPubKey does not belong to Account " +
                                  std::string(account->value.GetString(), account->value.GetStringLength()));
  }
  return {};
}

}  // namespace sashimono::ledger
