#include "sashimono/ledger/Validation.h"

#include <algorithm>

#include "FlatObject.h"
#include "Serial.h"

namespace sashimono::ledger {
namespace {
using detail::FieldSpan;

constexpr std::pair<int, int> id(TypeCode t, int f) { return {static_cast<int>(t), f}; }
constexpr auto kNetworkId = id(TypeCode::kUInt32, 1);
constexpr auto kFlags = id(TypeCode::kUInt32, 2);
constexpr auto kLedgerSequence = id(TypeCode::kUInt32, 6);
constexpr auto kSigningTime = id(TypeCode::kUInt32, 9);
constexpr auto kCookie = id(TypeCode::kUInt64, 10);
constexpr auto kServerVersion = id(TypeCode::kUInt64, 11);
constexpr auto kLedgerHash = id(TypeCode::kHash256, 1);
constexpr auto kConsensusHash = id(TypeCode::kHash256, 23);
constexpr auto kValidatedHash = id(TypeCode::kHash256, 25);
constexpr auto kSigningPubKey = id(TypeCode::kBlob, 3);
constexpr auto kSignature = id(TypeCode::kBlob, 6);

// Generous: rippled's validation template has 20 fields.
constexpr std::size_t kMaxFields = 48;

core::Error malformed(const std::string& what) {
  return core::Error::withCode("malformed", "validation: " + what);
}

crypto::Hash256 hashOf(core::ByteView v) {
  crypto::Hash256 h{};
  std::copy(v.begin(), v.end(), h.begin());
  return h;
}

void putU32(core::Bytes& out, std::pair<int, int> f, std::uint32_t v) {
  detail::writeFieldId(out, f.first, f.second);
  for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(v >> s));
}
void putU64(core::Bytes& out, std::pair<int, int> f, std::uint64_t v) {
  detail::writeFieldId(out, f.first, f.second);
  detail::writeU64(out, v);
}
void putHash(core::Bytes& out, std::pair<int, int> f, const crypto::Hash256& h) {
  detail::writeFieldId(out, f.first, f.second);
  out.insert(out.end(), h.begin(), h.end());
}
void putBlob(core::Bytes& out, std::pair<int, int> f, core::ByteView v) {
  detail::writeFieldId(out, f.first, f.second);
  detail::writeVlLength(out, v.size());
  out.insert(out.end(), v.begin(), v.end());
}
}  // namespace

core::Result<Validation> parseValidation(core::ByteView blob) {
  if (blob.empty()) return malformed("empty");
  if (blob.size() > kMaxValidationBytes) {
    return malformed(std::to_string(blob.size()) + " bytes (at most " + std::to_string(kMaxValidationBytes) +
                     ")");
  }
  auto fields = detail::readFlatObject(blob, kMaxFields);
  if (!fields) return malformed(fields.error().message);
  Validation v;
  bool haveFlags = false, haveSeq = false, haveTime = false, haveHash = false, haveKey = false,
       haveSig = false;
  for (const FieldSpan& f : *fields) {
    const core::ByteView x = blob.subspan(f.payload, f.end - f.payload);
    const auto fid = f.id();
    if (fid == kFlags) {
      v.flags = detail::readU32(x);
      haveFlags = true;
    } else if (fid == kLedgerSequence) {
      v.ledgerSequence = detail::readU32(x);
      haveSeq = true;
    } else if (fid == kSigningTime) {
      v.signingTime = detail::readU32(x);
      haveTime = true;
    } else if (fid == kNetworkId) {
      v.networkId = detail::readU32(x);
    } else if (fid == kCookie) {
      v.cookie = detail::readU64(x);
    } else if (fid == kLedgerHash) {
      v.ledgerHash = hashOf(x);
      haveHash = true;
    } else if (fid == kConsensusHash) {
      v.consensusHash = hashOf(x);
    } else if (fid == kValidatedHash) {
      v.validatedHash = hashOf(x);
    } else if (fid == kSigningPubKey) {
      if (x.size() != 33 || (x[0] != 0x02 && x[0] != 0x03)) {
        return malformed("SigningPubKey is not a secp256k1 public key (" + std::to_string(x.size()) +
                         " bytes); rippled validations are signed with secp256k1 keys only");
      }
      std::copy(x.begin(), x.end(), v.signingKey.begin());
      haveKey = true;
    } else if (fid == kSignature) {
      v.signature.assign(x.begin(), x.end());
      haveSig = true;
    }
  }
  if (!haveFlags) return malformed("no Flags");
  if (!haveSeq) return malformed("no LedgerSequence");
  if (!haveTime) return malformed("no SigningTime");
  if (!haveHash) return malformed("no LedgerHash");
  if (!haveKey) return malformed("no SigningPubKey");
  if (!haveSig || v.signature.empty()) return malformed("no Signature");
  v.signingData = detail::signingData(kPrefixValidation, blob, *fields);
  v.raw.assign(blob.begin(), blob.end());
  return v;
}

core::Status verifyValidation(const Validation& v) {
  auto s = crypto::verify(v.signingKey, v.signingData, v.signature);
  if (!s) return core::Error::withCode("badSignature", "validation: " + s.error().message);
  return {};
}

core::Bytes signValidation(const ValidationFields& f, const crypto::KeyPair& signingKey) {
  // Canonical order: UInt32 (NetworkID 1, Flags 2, LedgerSequence 6, SigningTime 9), UInt64
  // (Cookie 10, ServerVersion 11), Hash256 (LedgerHash 1, ConsensusHash 23, ValidatedHash 25),
  // Blob (SigningPubKey 3, Signature 6).
  core::Bytes out;
  out.reserve(256);
  if (f.networkId) putU32(out, kNetworkId, *f.networkId);
  putU32(out, kFlags, f.flags);
  putU32(out, kLedgerSequence, f.ledgerSequence);
  putU32(out, kSigningTime, f.signingTime);
  if (f.cookie) putU64(out, kCookie, *f.cookie);
  if (f.serverVersion) putU64(out, kServerVersion, *f.serverVersion);
  putHash(out, kLedgerHash, f.ledgerHash);
  if (f.consensusHash) putHash(out, kConsensusHash, *f.consensusHash);
  if (f.validatedHash) putHash(out, kValidatedHash, *f.validatedHash);
  putBlob(out, kSigningPubKey, signingKey.publicKey());
  core::Bytes message(kPrefixValidation.begin(), kPrefixValidation.end());
  message.insert(message.end(), out.begin(), out.end());
  putBlob(out, kSignature, signingKey.sign(message));
  return out;
}

}  // namespace sashimono::ledger
