#pragma once
// The devnet's validator identity, as a rippled validator with a validator token has one: a
// MASTER key (ed25519 by default, or secp256k1) that never signs validations, an EPHEMERAL
// secp256k1 signing key, and a manifest in which the master delegates to the signing key.
//
// Wire formats (rippled's):
//   manifest   = STObject {PublicKey (master), SigningPubKey, Sequence, Domain?, Signature,
//                MasterSignature}; Signature (by the signing key) and MasterSignature (by the
//                master) are both over "MAN\0" + the fields without those two.
//   validation = STObject {Flags 0x80000001, LedgerSequence, SigningTime, Cookie, LedgerHash,
//                NetworkID? (when not 0), SigningPubKey, Signature}; Signature is ECDSA
//                (secp256k1) over SHA512Half("VAL\0" + the fields without Signature).
// Node public keys print as base58check with version byte 0x1C ("n…").
//
// The identity lives in the chain store's meta table under "validator" (the two seeds and the
// serialized manifest, in one value, so a rotation is stored whole or not at all).
//
// Thread-safety: a Validator is a plain value; the caller serializes rotate() against readers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/devnet/Chain.h"

namespace sashimono::devnet {

class ChainStore;

inline constexpr std::uint32_t kValidationFlags = 0x80000001;  // fully canonical | full validation
inline constexpr std::uint8_t kNodePublicVersion = 0x1C;

// "n…" for a 33-byte public key; decodeNodePublic errors name what is wrong (base58check,
// version byte, length, key prefix).
std::string encodeNodePublic(const crypto::PublicKey& key);
core::Result<crypto::PublicKey> decodeNodePublic(std::string_view text);
// Standard base64 with padding (the `manifest` command's form).
std::string base64Encode(core::ByteView data);

struct ValidatorManifest {
  crypto::PublicKey masterKey{};
  crypto::PublicKey signingKey{};
  std::uint32_t sequence = 0;
  std::string domain;           // empty: no Domain field
  core::Bytes signature;        // by the signing key
  core::Bytes masterSignature;  // by the master key
  core::Bytes serialized;       // the whole STObject
};

// "MAN\0" + the manifest fields without Signature and MasterSignature.
core::Result<core::Bytes> manifestSigningData(const crypto::PublicKey& master,
                                              const crypto::PublicKey& signing, std::uint32_t sequence,
                                              std::string_view domain);
core::Result<ValidatorManifest> makeManifest(const crypto::KeyPair& master, const crypto::KeyPair& signing,
                                             std::uint32_t sequence, std::string_view domain);
// Parses a serialized manifest and checks both signatures. Safe on arbitrary bytes.
core::Result<ValidatorManifest> parseManifest(core::ByteView serialized);

struct SignedValidation {
  std::uint32_t flags = kValidationFlags;
  std::uint32_t ledgerSeq = 0;
  crypto::Hash256 ledgerHash{};
  std::uint32_t signingTime = 0;  // Ripple epoch
  std::uint32_t networkId = 0;    // 0: no NetworkID field
  std::uint64_t cookie = 0;
  crypto::PublicKey signingKey{};
  crypto::PublicKey masterKey{};  // from the manifest; not in the STObject
  core::Bytes signature;
  core::Bytes serialized;  // the whole STObject
};

// "VAL\0" + the validation fields without Signature.
core::Result<core::Bytes> validationSigningData(const SignedValidation& v);

class Validator {
 public:
  // The identity stored in `store`, or a new one (master of `masterType`, default ed25519; a new
  // secp256k1 signing key; manifest sequence 1) stored there first. A stored master of another
  // type than an explicit `masterType` is an error.
  static core::Result<Validator> loadOrCreate(ChainStore& store, std::optional<crypto::KeyType> masterType);

  [[nodiscard]] const crypto::PublicKey& masterKey() const { return manifest_.masterKey; }
  [[nodiscard]] const crypto::PublicKey& signingKey() const { return manifest_.signingKey; }
  [[nodiscard]] crypto::KeyType masterType() const { return master_.type(); }
  [[nodiscard]] const ValidatorManifest& manifest() const { return manifest_; }
  // Chosen at random when the identity is loaded (rippled: at start-up); never 0.
  [[nodiscard]] std::uint64_t cookie() const { return cookie_; }

  // A full validation of `ledger`, signed by the current signing key.
  [[nodiscard]] core::Result<SignedValidation> sign(const LedgerHeader& ledger, std::uint32_t signingTime,
                                                    std::uint32_t networkId) const;
  // A new signing key under the next manifest sequence, stored in `store` before it is used.
  // On error nothing changed.
  core::Status rotate(ChainStore& store);

 private:
  Validator(crypto::KeyPair master, crypto::KeyPair signing, ValidatorManifest manifest);
  crypto::KeyPair master_;
  crypto::KeyPair signing_;
  std::string masterSeed_;
  std::string signingSeed_;
  ValidatorManifest manifest_;
  std::uint64_t cookie_ = 0;
};

// Stream messages (whole JSON texts), rippled's shapes:
//   {"type":"validationReceived","cookie":"<decimal>","data":"<hex STValidation>","flags":N,
//    "full":true,"ledger_hash":"…","ledger_index":"<seq>" (API v1; a number in v2),
//    "master_key":"n…","network_id":N,"signature":"…","signing_time":N,
//    "validation_public_key":"n…"}
//   {"type":"manifestReceived","manifest":"<hex>","master_key":"n…","master_signature":"…",
//    "seq":N,"signature":"…","signing_key":"n…","domain"?:"…"}
std::string renderValidationMessage(const SignedValidation& v, int apiVersion);
std::string renderManifestMessage(const ValidatorManifest& m);

}  // namespace sashimono::devnet
