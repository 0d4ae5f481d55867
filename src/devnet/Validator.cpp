#include "sashimono/devnet/Validator.h"

#include <array>
#include <cstring>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/devnet/ChainStore.h"

namespace sashimono::devnet {

using core::Error;
using core::Result;

namespace {

constexpr const char* kMetaKey = "validator";

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void putString(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string stored(const std::string& masterSeed, const std::string& signingSeed, core::ByteView manifest) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  putString(w, "master_seed", masterSeed);
  putString(w, "signing_seed", signingSeed);
  putString(w, "manifest", core::toHex(manifest));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

// ledger::makeManifest's bytes, read back: parseManifest checks both signatures and gives the
// fields the stream messages and the manifest command show.
Result<ledger::Manifest> signedManifest(const crypto::KeyPair& master, const crypto::KeyPair& signing,
                                        std::uint32_t sequence, std::string_view domain) {
  auto m = ledger::parseManifest(ledger::makeManifest(master, &signing, sequence, domain));
  if (!m.ok()) return m.error().context("the validator's new manifest");
  return m;
}

std::uint64_t newCookie() {
  std::uint64_t c = 0;
  while (c == 0) {
    std::array<std::uint8_t, 8> b{};
    crypto::randomBytes(b);
    std::memcpy(&c, b.data(), sizeof c);
  }
  return c;
}

}  // namespace

Validator::Validator(crypto::KeyPair master, crypto::KeyPair signing, ledger::Manifest manifest)
    : master_(std::move(master)),
      signing_(std::move(signing)),
      manifest_(std::move(manifest)),
      cookie_(newCookie()) {}

Result<Validator> Validator::loadOrCreate(ChainStore& store, std::optional<crypto::KeyType> masterType) {
  auto text = store.meta(kMetaKey);
  if (!text.ok()) return text.error();
  if (!*text) {
    const auto type = masterType.value_or(crypto::KeyType::ed25519);
    std::string masterSeed = crypto::encodeSeed(crypto::generateSeed(type));
    std::string signingSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
    SASHI_TRY_ASSIGN(master, crypto::KeyPair::fromSeed(masterSeed));
    SASHI_TRY_ASSIGN(signing, crypto::KeyPair::fromSeed(signingSeed));
    SASHI_TRY_ASSIGN(manifest, signedManifest(master, signing, 1, {}));
    SASHI_TRY(store.setMeta(kMetaKey, stored(masterSeed, signingSeed, manifest.raw)));
    Validator v(std::move(master), std::move(signing), std::move(manifest));
    v.masterSeed_ = std::move(masterSeed);
    v.signingSeed_ = std::move(signingSeed);
    return v;
  }

  const auto bad = [](const std::string& what) {
    return Error("the validator identity stored in the data directory is unreadable: " + what);
  };
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>((*text)->c_str(), (*text)->size());
  if (d.HasParseError() || !d.IsObject()) return bad("not a JSON object");
  auto str = [&d](const char* k) -> std::optional<std::string> {
    auto it = d.FindMember(k);
    if (it == d.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  auto masterSeed = str("master_seed");
  auto signingSeed = str("signing_seed");
  auto manifestHex = str("manifest");
  if (!masterSeed || !signingSeed || !manifestHex)
    return bad("missing master_seed, signing_seed or manifest");
  auto master = crypto::KeyPair::fromSeed(*masterSeed);
  if (!master.ok()) return bad("master seed: " + master.error().message);
  auto signing = crypto::KeyPair::fromSeed(*signingSeed);
  if (!signing.ok()) return bad("signing seed: " + signing.error().message);
  auto bytes = core::fromHex(*manifestHex);
  if (!bytes.ok()) return bad("manifest: " + bytes.error().message);
  auto manifest = ledger::parseManifest(*bytes);
  if (!manifest.ok()) return bad(manifest.error().message);
  if (manifest->revoked()) return bad("the manifest revokes the master key");
  if (manifest->masterKey != master->publicKey() || manifest->signingKey != signing->publicKey())
    return bad("the manifest is not for the stored keys");
  if (signing->type() != crypto::KeyType::secp256k1) return bad("the signing key is not secp256k1");
  if (masterType && *masterType != master->type()) {
    return Error(std::string("the data directory's validator master key is ") +
                 crypto::keyTypeName(master->type()) + ", not " + crypto::keyTypeName(*masterType) +
                 "; use a new data directory for another key type");
  }
  Validator v(std::move(*master), std::move(*signing), std::move(*manifest));
  v.masterSeed_ = std::move(*masterSeed);
  v.signingSeed_ = std::move(*signingSeed);
  return v;
}

Result<ledger::Validation> Validator::sign(const LedgerHeader& ledger, std::uint32_t signingTime,
                                           std::uint32_t networkId) const {
  ledger::ValidationFields f;  // flags: fully canonical signature, full validation
  f.ledgerSequence = ledger.seq;
  f.ledgerHash = ledger.hash;
  f.signingTime = signingTime;
  if (networkId != 0) f.networkId = networkId;
  f.cookie = cookie_;
  auto v = ledger::parseValidation(ledger::signValidation(f, signing_));
  if (!v.ok()) return v.error().context("the validator's validation");
  return v;
}

core::Status Validator::rotate(ChainStore& store) {
  if (manifest_.sequence >= ledger::kRevokedSequence - 1)
    return Error("the validator manifest sequence is exhausted");
  std::string signingSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
  SASHI_TRY_ASSIGN(signing, crypto::KeyPair::fromSeed(signingSeed));
  SASHI_TRY_ASSIGN(manifest, signedManifest(master_, signing, manifest_.sequence + 1, manifest_.domain));
  SASHI_TRY(store.setMeta(kMetaKey, stored(masterSeed_, signingSeed, manifest.raw)));
  signing_ = std::move(signing);
  signingSeed_ = std::move(signingSeed);
  manifest_ = std::move(manifest);
  return {};
}

std::string renderValidationMessage(const ledger::Validation& v, const crypto::PublicKey& masterKey,
                                    int apiVersion) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  putString(w, "cookie", std::to_string(v.cookie.value_or(0)));
  putString(w, "data", core::toHex(v.raw));
  w.Key("flags");
  w.Uint(v.flags);
  w.Key("full");
  w.Bool(v.full());
  putString(w, "ledger_hash", core::toHex(v.ledgerHash));
  if (apiVersion >= 2) {
    w.Key("ledger_index");
    w.Uint(v.ledgerSequence);
  } else {
    putString(w, "ledger_index", std::to_string(v.ledgerSequence));
  }
  if (masterKey != v.signingKey) putString(w, "master_key", crypto::encodeNodePublic(masterKey));
  w.Key("network_id");
  w.Uint(v.networkId.value_or(0));
  putString(w, "signature", core::toHex(v.signature));
  w.Key("signing_time");
  w.Uint(v.signingTime);
  putString(w, "type", "validationReceived");
  putString(w, "validation_public_key", crypto::encodeNodePublic(v.signingKey));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string renderManifestMessage(const ledger::Manifest& m) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  if (!m.domain.empty()) putString(w, "domain", m.domain);
  putString(w, "manifest", core::toHex(m.raw));
  putString(w, "master_key", crypto::encodeNodePublic(m.masterKey));
  putString(w, "master_signature", core::toHex(m.masterSignature));
  w.Key("seq");
  w.Uint(m.sequence);
  if (m.signingKey) {  // absent only in a revocation
    putString(w, "signature", core::toHex(m.signature));
    putString(w, "signing_key", crypto::encodeNodePublic(*m.signingKey));
  }
  putString(w, "type", "manifestReceived");
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace sashimono::devnet
