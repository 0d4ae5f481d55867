#pragma once
// Validations: a validator's signed vote that a ledger (sequence, hash) is the one it built.
// rippled publishes the serialized validation (hex) in the `data` field of every message of the
// `validations` stream; this is its decoding and signature check.
//
// A validation is a flat serialized STObject. Required: Flags, LedgerSequence, SigningTime,
// LedgerHash, SigningPubKey (33-byte secp256k1 key), Signature. Optional, read when present:
// NetworkID, Cookie, ConsensusHash, ValidatedHash; other flat fields (CloseTime, LoadFee, fee
// votes, Amendments, ServerVersion, …) are accepted and covered by the signature but not read.
//
// The signature: rippled's STValidation verifies only secp256k1 keys, with ECDSA over
// SHA512Half("VAL\0" + every field but Signature) — crypto::verify with a secp256k1 key does
// exactly that. crypto::verify always demands a canonical (low-S, strict DER) signature, as
// rippled does when the validation sets vfFullyCanonicalSig (0x80000000, set by every rippled
// since 0.30); a validation without that flag and with a high-S signature is refused here.
//
// Pure functions, thread-safe.
#include <array>
#include <cstdint>
#include <optional>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::ledger {

inline constexpr std::array<std::uint8_t, 4> kPrefixValidation{0x56, 0x41, 0x4C, 0x00};  // "VAL\0"
inline constexpr std::uint32_t kValidationFull = 0x00000001;                             // vfFullValidation
inline constexpr std::uint32_t kValidationFullyCanonicalSig = 0x80000000;  // vfFullyCanonicalSig
// A validation is about 200 bytes; a flag ledger's carries amendment votes (32 bytes each).
inline constexpr std::size_t kMaxValidationBytes = 16384;

struct Validation {
  std::uint32_t flags = 0;
  std::uint32_t ledgerSequence = 0;
  std::uint32_t signingTime = 0;  // seconds since the Ripple epoch (2000-01-01)
  crypto::Hash256 ledgerHash{};
  std::optional<crypto::Hash256> consensusHash;
  std::optional<crypto::Hash256> validatedHash;
  std::optional<std::uint32_t> networkId;
  std::optional<std::uint64_t> cookie;
  crypto::PublicKey signingKey{};
  core::Bytes signature;
  core::Bytes raw;          // the serialized validation, as given
  core::Bytes signingData;  // "VAL\0" + every field but Signature: what the signature covers

  [[nodiscard]] bool full() const { return (flags & kValidationFull) != 0; }
};

// Structure only: canonical decoding (the codec's rules), the required fields present with the
// right sizes, a secp256k1 SigningPubKey, at most kMaxValidationBytes. Error code "malformed".
[[nodiscard]] core::Result<Validation> parseValidation(core::ByteView blob);

// The signature by signingKey over signingData. Error code "badSignature".
[[nodiscard]] core::Status verifyValidation(const Validation& v);

struct ValidationFields {
  std::uint32_t flags = kValidationFullyCanonicalSig | kValidationFull;
  std::uint32_t ledgerSequence = 0;
  std::uint32_t signingTime = 0;
  crypto::Hash256 ledgerHash{};
  std::optional<std::uint32_t> networkId;
  std::optional<std::uint64_t> cookie;
  std::optional<crypto::Hash256> consensusHash;
  std::optional<crypto::Hash256> validatedHash;
  std::optional<std::uint64_t> serverVersion;
};

// The serialized validation signed by `signingKey` (secp256k1 for rippled to accept it; an
// ed25519 key gives a validation that parseValidation refuses). For tests and the devnet.
[[nodiscard]] core::Bytes signValidation(const ValidationFields& fields, const crypto::KeyPair& signingKey);

}  // namespace sashimono::ledger
