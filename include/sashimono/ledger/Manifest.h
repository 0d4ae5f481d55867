#pragma once
// Validator manifests: the signed statement by which a validator's long-lived MASTER key
// delegates to an EPHEMERAL signing key (the key its validations are signed with).
//
// A manifest is a serialized STObject (rippled's format):
//   Sequence         UInt32, required; 0xFFFFFFFF = the master key revoked itself
//   Version          UInt16, optional, must be 0
//   PublicKey        Blob, required: the master key (ed25519 or secp256k1, 33 bytes)
//   SigningPubKey    Blob: the ephemeral key; required, and absent in a revocation
//   Signature        Blob: by the ephemeral key; required, and absent in a revocation
//   Domain           Blob, optional: the operator's domain (4..128 characters, a DNS name)
//   MasterSignature  Blob, required: by the master key
// Both signatures cover "MAN\0" + every field but Signature and MasterSignature; ed25519 keys
// sign that message itself, secp256k1 keys its SHA512Half (crypto::verify dispatches). The
// ephemeral key must differ from the master key. Any other field is refused, as rippled's
// template refuses it.
//
// Pure functions, thread-safe.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::ledger {

inline constexpr std::array<std::uint8_t, 4> kPrefixManifest{0x4D, 0x41, 0x4E, 0x00};  // "MAN\0"
inline constexpr std::uint32_t kRevokedSequence = 0xFFFFFFFF;
// No well-formed manifest comes close (two keys, two signatures, a domain: under 400 bytes).
inline constexpr std::size_t kMaxManifestBytes = 1024;

struct Manifest {
  crypto::PublicKey masterKey{};
  std::uint32_t sequence = 0;
  std::optional<crypto::PublicKey> signingKey;  // absent in a revocation
  std::string domain;                           // empty when absent
  core::Bytes signature;                        // by the ephemeral key; empty in a revocation
  core::Bytes masterSignature;                  // by the master key
  core::Bytes raw;                              // the serialized manifest, as given

  [[nodiscard]] bool revoked() const { return sequence == kRevokedSequence; }
};

// Decodes and verifies a manifest: canonical encoding, the fields above, the master signature
// always and the ephemeral one unless revoked. Error codes: "malformed" (encoding, missing or
// unexpected fields, bad key, bad domain, over kMaxManifestBytes), "badSignature" (a signature
// does not verify, or is not a canonical encoding).
[[nodiscard]] core::Result<Manifest> parseManifest(core::ByteView blob);

// The fields of a manifest, as rippled's `manifests` stream lists them.
struct ManifestFields {
  crypto::PublicKey masterKey{};
  std::uint32_t sequence = 0;
  std::optional<crypto::PublicKey> signingKey;
  std::optional<core::Bytes> signature;
  std::string domain;  // empty: no Domain field
  core::Bytes masterSignature;
};
// The serialized manifest of those fields, in canonical order (no Version field). Nothing is
// checked: parseManifest does that.
[[nodiscard]] core::Bytes serializeManifest(const ManifestFields& fields);

// A signed manifest, for tests and the devnet's validator. `signing` null makes a revocation:
// pass kRevokedSequence as the sequence then (any other sequence gives a manifest that
// parseManifest refuses). `domain` is written as given (empty: no Domain field).
[[nodiscard]] core::Bytes makeManifest(const crypto::KeyPair& master, const crypto::KeyPair* signing,
                                       std::uint32_t sequence, std::string_view domain = {});

// True for a domain rippled accepts in a manifest: 4..128 characters, dot-separated labels of
// letters, digits and inner hyphens (at most 63 each), the last all letters (2..63).
[[nodiscard]] bool isManifestDomain(std::string_view domain);

}  // namespace sashimono::ledger
