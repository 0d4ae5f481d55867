#include "sashimono/devnet/Validator.h"

#include <array>
#include <cstring>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/crypto/Base58Check.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/devnet/ChainStore.h"
#include "sashimono/ledger/Codec.h"

namespace sashimono::devnet {

using core::Error;
using core::Result;

namespace {

constexpr std::array<std::uint8_t, 4> kPrefixManifest{'M', 'A', 'N', 0};
constexpr std::array<std::uint8_t, 4> kPrefixValidation{'V', 'A', 'L', 0};
constexpr const char* kMetaKey = "validator";

using Alloc = rapidjson::Document::AllocatorType;

void addHex(rapidjson::Value& obj, const char* name, core::ByteView bytes, Alloc& a) {
  std::string hex = core::toHex(bytes);
  obj.AddMember(rapidjson::StringRef(name), rapidjson::Value(hex.c_str(), a), a);
}

// ledger::encodeForSigning writes "STX\0" + the signing fields; the same fields under another
// hash prefix are the signing data of manifests and validations.
Result<core::Bytes> signingData(const rapidjson::Value& obj, const std::array<std::uint8_t, 4>& prefix) {
  auto bytes = ledger::encodeForSigning(obj);
  if (!bytes.ok()) return bytes.error();
  std::memcpy(bytes->data(), prefix.data(), prefix.size());
  return bytes;
}

rapidjson::Document manifestJson(const crypto::PublicKey& master, const crypto::PublicKey& signing,
                                 std::uint32_t sequence, std::string_view domain) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  addHex(d, "PublicKey", master, a);
  addHex(d, "SigningPubKey", signing, a);
  d.AddMember("Sequence", sequence, a);
  if (!domain.empty()) addHex(d, "Domain", core::asBytes(domain), a);
  return d;
}

rapidjson::Document validationJson(const SignedValidation& v) {
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("Flags", v.flags, a);
  d.AddMember("LedgerSequence", v.ledgerSeq, a);
  d.AddMember("SigningTime", v.signingTime, a);
  if (v.networkId != 0) d.AddMember("NetworkID", v.networkId, a);
  d.AddMember("Cookie", v.cookie, a);
  addHex(d, "LedgerHash", v.ledgerHash, a);
  addHex(d, "SigningPubKey", v.signingKey, a);
  return d;
}

Result<crypto::PublicKey> publicKeyMember(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return Error(std::string("manifest has no ") + name);
  auto bytes = core::fromHex({it->value.GetString(), it->value.GetStringLength()});
  if (!bytes.ok() || bytes->size() != 33)
    return Error(std::string("manifest ") + name + " is not a 33-byte key");
  crypto::PublicKey k{};
  std::memcpy(k.data(), bytes->data(), k.size());
  return k;
}

Result<core::Bytes> blobMember(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return Error(std::string("manifest has no ") + name);
  return core::fromHex({it->value.GetString(), it->value.GetStringLength()});
}

std::string stored(const std::string& masterSeed, const std::string& signingSeed, core::ByteView manifest) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("master_seed");
  w.String(masterSeed.c_str());
  w.Key("signing_seed");
  w.String(signingSeed.c_str());
  w.Key("manifest");
  w.String(core::toHex(manifest).c_str());
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
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

std::string encodeNodePublic(const crypto::PublicKey& key) {
  core::Bytes payload;
  payload.reserve(1 + key.size());
  payload.push_back(kNodePublicVersion);
  payload.insert(payload.end(), key.begin(), key.end());
  return crypto::encodeBase58Check(payload);
}

Result<crypto::PublicKey> decodeNodePublic(std::string_view text) {
  auto payload = crypto::decodeBase58Check(text);
  if (!payload.ok()) return payload.error().context("node public key");
  if (payload->empty() || (*payload)[0] != kNodePublicVersion)
    return Error("node public key: not a node public key (version byte is not 0x1C)");
  if (payload->size() != 34) return Error("node public key: expected 33 bytes after the version byte");
  const std::uint8_t first = (*payload)[1];
  if (first != 0xED && first != 0x02 && first != 0x03)
    return Error("node public key: neither an ed25519 (ED…) nor a compressed secp256k1 key");
  crypto::PublicKey k{};
  std::memcpy(k.data(), payload->data() + 1, k.size());
  return k;
}

std::string base64Encode(core::ByteView data) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t n = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) | data[i + 2];
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 0x3F]);
  }
  if (i < data.size()) {
    std::uint32_t n = std::uint32_t{data[i]} << 16;
    if (i + 1 < data.size()) n |= std::uint32_t{data[i + 1]} << 8;
    out.push_back(kAlphabet[(n >> 18) & 0x3F]);
    out.push_back(kAlphabet[(n >> 12) & 0x3F]);
    out.push_back(i + 1 < data.size() ? kAlphabet[(n >> 6) & 0x3F] : '=');
    out.push_back('=');
  }
  return out;
}

Result<core::Bytes> manifestSigningData(const crypto::PublicKey& master, const crypto::PublicKey& signing,
                                        std::uint32_t sequence, std::string_view domain) {
  return signingData(manifestJson(master, signing, sequence, domain), kPrefixManifest);
}

Result<ValidatorManifest> makeManifest(const crypto::KeyPair& master, const crypto::KeyPair& signing,
                                       std::uint32_t sequence, std::string_view domain) {
  ValidatorManifest m;
  m.masterKey = master.publicKey();
  m.signingKey = signing.publicKey();
  m.sequence = sequence;
  m.domain = std::string(domain);
  auto doc = manifestJson(m.masterKey, m.signingKey, sequence, domain);
  auto data = signingData(doc, kPrefixManifest);
  if (!data.ok()) return data.error().context("manifest");
  m.signature = signing.sign(*data);
  m.masterSignature = master.sign(*data);
  addHex(doc, "Signature", m.signature, doc.GetAllocator());
  addHex(doc, "MasterSignature", m.masterSignature, doc.GetAllocator());
  auto full = ledger::encode(doc);
  if (!full.ok()) return full.error().context("manifest");
  m.serialized = std::move(*full);
  return m;
}

Result<ValidatorManifest> parseManifest(core::ByteView serialized) {
  auto doc = ledger::decode(serialized);
  if (!doc.ok()) return doc.error().context("manifest");
  ValidatorManifest m;
  SASHI_TRY_ASSIGN(master, publicKeyMember(*doc, "PublicKey"));
  SASHI_TRY_ASSIGN(signing, publicKeyMember(*doc, "SigningPubKey"));
  m.masterKey = master;
  m.signingKey = signing;
  auto seq = doc->FindMember("Sequence");
  if (seq == doc->MemberEnd() || !seq->value.IsUint()) return Error("manifest has no Sequence");
  m.sequence = seq->value.GetUint();
  if (doc->HasMember("Domain")) {
    SASHI_TRY_ASSIGN(domain, blobMember(*doc, "Domain"));
    m.domain = core::asString(domain);
  }
  SASHI_TRY_ASSIGN(sig, blobMember(*doc, "Signature"));
  SASHI_TRY_ASSIGN(masterSig, blobMember(*doc, "MasterSignature"));
  m.signature = std::move(sig);
  m.masterSignature = std::move(masterSig);
  auto data = manifestSigningData(m.masterKey, m.signingKey, m.sequence, m.domain);
  if (!data.ok()) return data.error().context("manifest");
  if (auto st = crypto::verify(m.masterKey, *data, m.masterSignature); !st.ok())
    return Error("manifest: master signature does not verify: " + st.error().message);
  if (auto st = crypto::verify(m.signingKey, *data, m.signature); !st.ok())
    return Error("manifest: signature does not verify: " + st.error().message);
  m.serialized.assign(serialized.begin(), serialized.end());
  return m;
}

Result<core::Bytes> validationSigningData(const SignedValidation& v) {
  return signingData(validationJson(v), kPrefixValidation);
}

Validator::Validator(crypto::KeyPair master, crypto::KeyPair signing, ValidatorManifest manifest)
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
    SASHI_TRY_ASSIGN(manifest, makeManifest(master, signing, 1, {}));
    SASHI_TRY(store.setMeta(kMetaKey, stored(masterSeed, signingSeed, manifest.serialized)));
    Validator v(std::move(master), std::move(signing), std::move(manifest));
    v.masterSeed_ = std::move(masterSeed);
    v.signingSeed_ = std::move(signingSeed);
    return v;
  }

  const auto bad = [](const std::string& what) {
    return Error("the validator identity stored in the data directory is unreadable: " + what);
  };
  rapidjson::Document d;
  d.Parse((*text)->c_str(), (*text)->size());
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
  auto manifest = parseManifest(*bytes);
  if (!manifest.ok()) return bad(manifest.error().message);
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

Result<SignedValidation> Validator::sign(const LedgerHeader& ledger, std::uint32_t signingTime,
                                         std::uint32_t networkId) const {
  SignedValidation v;
  v.ledgerSeq = ledger.seq;
  v.ledgerHash = ledger.hash;
  v.signingTime = signingTime;
  v.networkId = networkId;
  v.cookie = cookie_;
  v.signingKey = manifest_.signingKey;
  v.masterKey = manifest_.masterKey;
  auto doc = validationJson(v);
  auto data = signingData(doc, kPrefixValidation);
  if (!data.ok()) return data.error().context("validation");
  v.signature = signing_.sign(*data);
  addHex(doc, "Signature", v.signature, doc.GetAllocator());
  auto full = ledger::encode(doc);
  if (!full.ok()) return full.error().context("validation");
  v.serialized = std::move(*full);
  return v;
}

core::Status Validator::rotate(ChainStore& store) {
  if (manifest_.sequence >= 0xFFFFFFFEu) return Error("the validator manifest sequence is exhausted");
  std::string signingSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
  SASHI_TRY_ASSIGN(signing, crypto::KeyPair::fromSeed(signingSeed));
  SASHI_TRY_ASSIGN(manifest, makeManifest(master_, signing, manifest_.sequence + 1, manifest_.domain));
  SASHI_TRY(store.setMeta(kMetaKey, stored(masterSeed_, signingSeed, manifest.serialized)));
  signing_ = std::move(signing);
  signingSeed_ = std::move(signingSeed);
  manifest_ = std::move(manifest);
  return {};
}

std::string renderValidationMessage(const SignedValidation& v, int apiVersion) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const char* k, const std::string& s) {
    w.Key(k);
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  str("cookie", std::to_string(v.cookie));
  str("data", core::toHex(v.serialized));
  w.Key("flags");
  w.Uint(v.flags);
  w.Key("full");
  w.Bool((v.flags & 1u) != 0);
  str("ledger_hash", core::toHex(v.ledgerHash));
  if (apiVersion >= 2) {
    w.Key("ledger_index");
    w.Uint(v.ledgerSeq);
  } else {
    str("ledger_index", std::to_string(v.ledgerSeq));
  }
  if (v.masterKey != v.signingKey) str("master_key", encodeNodePublic(v.masterKey));
  w.Key("network_id");
  w.Uint(v.networkId);
  str("signature", core::toHex(v.signature));
  w.Key("signing_time");
  w.Uint(v.signingTime);
  str("type", "validationReceived");
  str("validation_public_key", encodeNodePublic(v.signingKey));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

std::string renderManifestMessage(const ValidatorManifest& m) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const char* k, const std::string& s) {
    w.Key(k);
    w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
  };
  w.StartObject();
  if (!m.domain.empty()) str("domain", m.domain);
  str("manifest", core::toHex(m.serialized));
  str("master_key", encodeNodePublic(m.masterKey));
  str("master_signature", core::toHex(m.masterSignature));
  w.Key("seq");
  w.Uint(m.sequence);
  str("signature", core::toHex(m.signature));
  str("signing_key", encodeNodePublic(m.signingKey));
  str("type", "manifestReceived");
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace sashimono::devnet
