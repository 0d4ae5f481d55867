#include "sashimono/ledger/Manifest.h"

#include <algorithm>

#include "FlatObject.h"
#include "Serial.h"
#include "sashimono/crypto/NodeKeys.h"

namespace sashimono::ledger {
namespace {
using detail::FieldSpan;

constexpr std::pair<int, int> id(TypeCode t, int f) { return {static_cast<int>(t), f}; }
constexpr auto kVersion = id(TypeCode::kUInt16, 16);
constexpr auto kSequence = id(TypeCode::kUInt32, 4);
constexpr auto kPublicKey = id(TypeCode::kBlob, 1);
constexpr auto kSigningPubKey = id(TypeCode::kBlob, 3);
constexpr auto kSignature = id(TypeCode::kBlob, 6);
constexpr auto kDomain = id(TypeCode::kBlob, 7);
constexpr auto kMasterSignature = id(TypeCode::kBlob, 18);

core::Error malformed(const std::string& what) {
  return core::Error::withCode("malformed", "manifest: " + what);
}

bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isAlnum(char c) { return isAlpha(c) || (c >= '0' && c <= '9'); }

core::Result<crypto::PublicKey> keyOf(core::ByteView v, const char* field) {
  if (!crypto::hasKeyPrefix(v)) {
    return malformed(std::string(field) + " is not a public key (" + std::to_string(v.size()) + " bytes)");
  }
  crypto::PublicKey k{};
  std::copy(v.begin(), v.end(), k.begin());
  return k;
}

void putU32(core::Bytes& out, int field, std::uint32_t v) {
  detail::writeFieldId(out, static_cast<int>(TypeCode::kUInt32), field);
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void putBlob(core::Bytes& out, int field, core::ByteView v) {
  detail::writeFieldId(out, static_cast<int>(TypeCode::kBlob), field);
  detail::writeVlLength(out, v.size());
  out.insert(out.end(), v.begin(), v.end());
}
}  // namespace

bool isManifestDomain(std::string_view domain) {
  if (domain.size() < 4 || domain.size() > 128) return false;
  const auto lastDot = domain.rfind('.');
  if (lastDot == std::string_view::npos) return false;
  const std::string_view tld = domain.substr(lastDot + 1);
  if (tld.size() < 2 || tld.size() > 63 || !std::all_of(tld.begin(), tld.end(), isAlpha)) return false;
  std::string_view rest = domain.substr(0, lastDot);
  for (;;) {
    const auto dot = rest.find('.');
    const std::string_view label = rest.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return isAlnum(c) || c == '-'; })) return false;
    if (dot == std::string_view::npos) return true;
    rest = rest.substr(dot + 1);
  }
}

core::Result<Manifest> parseManifest(core::ByteView blob) {
  if (blob.empty()) return malformed("empty");
  if (blob.size() > kMaxManifestBytes) {
    return malformed(std::to_string(blob.size()) + " bytes (at most " + std::to_string(kMaxManifestBytes) +
                     ")");
  }
  auto fields = detail::readFlatObject(blob, 8);
  if (!fields) return malformed(fields.error().message);
  Manifest m;
  const FieldSpan* sequence = nullptr;
  const FieldSpan* master = nullptr;
  const FieldSpan* signing = nullptr;
  const FieldSpan* signature = nullptr;
  const FieldSpan* masterSignature = nullptr;
  for (const FieldSpan& f : *fields) {
    const core::ByteView v = blob.subspan(f.payload, f.end - f.payload);
    const auto fid = f.id();
    if (fid == kSequence) {
      sequence = &f;
      m.sequence = detail::readU32(v);
    } else if (fid == kVersion) {
      if (v[0] != 0 || v[1] != 0) return malformed("unknown Version " + std::to_string((v[0] << 8) | v[1]));
    } else if (fid == kPublicKey) {
      master = &f;
      SASHI_TRY_ASSIGN(k, keyOf(v, "PublicKey"));
      m.masterKey = k;
    } else if (fid == kSigningPubKey) {
      signing = &f;
      SASHI_TRY_ASSIGN(k, keyOf(v, "SigningPubKey"));
      m.signingKey = k;
    } else if (fid == kSignature) {
      signature = &f;
    } else if (fid == kMasterSignature) {
      masterSignature = &f;
    } else if (fid == kDomain) {
      m.domain = core::asString(v);
      if (!isManifestDomain(m.domain)) return malformed("Domain is not a domain name");
    } else {
      return malformed(std::string("unexpected field ") + f.def->name);
    }
  }
  if (sequence == nullptr) return malformed("no Sequence");
  if (master == nullptr) return malformed("no PublicKey");
  if (masterSignature == nullptr) return malformed("no MasterSignature");
  if (m.revoked()) {
    if (signing != nullptr || signature != nullptr) {
      return malformed("a revocation carries no SigningPubKey or Signature");
    }
  } else {
    if (signing == nullptr) return malformed("no SigningPubKey");
    if (signature == nullptr) return malformed("no Signature");
    if (*m.signingKey == m.masterKey) return malformed("SigningPubKey is the master key");
  }
  const core::Bytes message = detail::signingData(kPrefixManifest, blob, *fields);
  auto payload = [&](const FieldSpan* f) { return blob.subspan(f->payload, f->end - f->payload); };
  if (auto s = crypto::verify(m.masterKey, message, payload(masterSignature)); !s) {
    return core::Error::withCode("badSignature", "manifest: MasterSignature: " + s.error().message);
  }
  if (!m.revoked()) {
    if (auto s = crypto::verify(*m.signingKey, message, payload(signature)); !s) {
      return core::Error::withCode("badSignature", "manifest: Signature: " + s.error().message);
    }
  }
  const core::ByteView masterSig = payload(masterSignature);
  m.masterSignature.assign(masterSig.begin(), masterSig.end());
  if (signature != nullptr) {
    const core::ByteView sig = payload(signature);
    m.signature.assign(sig.begin(), sig.end());
  }
  m.raw.assign(blob.begin(), blob.end());
  return m;
}

core::Bytes serializeManifest(const ManifestFields& f) {
  // Canonical order: Sequence (2,4), PublicKey (7,1), SigningPubKey (7,3), Signature (7,6),
  // Domain (7,7), MasterSignature (7,18). The unsigned form (both signatures empty and absent)
  // is what the signatures cover, after "MAN\0".
  core::Bytes out;
  out.reserve(64 + 33 + 33 + 72 + f.domain.size() + f.masterSignature.size());
  putU32(out, kSequence.second, f.sequence);
  putBlob(out, kPublicKey.second, f.masterKey);
  if (f.signingKey) putBlob(out, kSigningPubKey.second, *f.signingKey);
  if (f.signature) putBlob(out, kSignature.second, *f.signature);
  if (!f.domain.empty()) putBlob(out, kDomain.second, core::asBytes(f.domain));
  if (!f.masterSignature.empty()) putBlob(out, kMasterSignature.second, f.masterSignature);
  return out;
}

core::Bytes makeManifest(const crypto::KeyPair& master, const crypto::KeyPair* signing,
                         std::uint32_t sequence, std::string_view domain) {
  ManifestFields f;
  f.masterKey = master.publicKey();
  f.sequence = sequence;
  if (signing != nullptr) f.signingKey = signing->publicKey();
  f.domain = std::string(domain);
  core::Bytes message(kPrefixManifest.begin(), kPrefixManifest.end());
  const core::Bytes unsignedFields = serializeManifest(f);
  message.insert(message.end(), unsignedFields.begin(), unsignedFields.end());
  if (signing != nullptr) f.signature = signing->sign(message);
  f.masterSignature = master.sign(message);
  return serializeManifest(f);
}

}  // namespace sashimono::ledger
