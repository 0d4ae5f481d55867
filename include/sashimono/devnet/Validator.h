#pragma once
// The devnet's validator identity, as a rippled validator with a validator token has one: a
// MASTER key (ed25519 by default, or secp256k1) that never signs validations, an EPHEMERAL
// secp256k1 signing key, and a manifest in which the master delegates to the signing key.
//
// The wire formats are ledger's: ledger/Manifest.h (makeManifest, parseManifest) and
// ledger/Validation.h (signValidation: Flags 0x80000001, LedgerSequence, SigningTime, Cookie,
// LedgerHash, NetworkID when not 0, SigningPubKey, Signature). Node public keys print with
// crypto/NodeKeys.h ("n…").
//
// The identity lives in the chain store's meta table under "validator" (the two seeds and the
// serialized manifest, in one value, so a rotation is stored whole or not at all).
//
// Thread-safety: a Validator is a plain value; the caller serializes rotate() against readers.
#include <cstdint>
#include <optional>
#include <string>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/devnet/Chain.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"

namespace sashimono::devnet {

class ChainStore;

class Validator {
 public:
  // The identity stored in `store`, or a new one (master of `masterType`, default ed25519; a new
  // secp256k1 signing key; manifest sequence 1) stored there first. A stored master of another
  // type than an explicit `masterType` is an error.
  static core::Result<Validator> loadOrCreate(ChainStore& store, std::optional<crypto::KeyType> masterType);

  [[nodiscard]] const crypto::PublicKey& masterKey() const { return manifest_.masterKey; }
  [[nodiscard]] const crypto::PublicKey& signingKey() const { return signing_.publicKey(); }
  [[nodiscard]] crypto::KeyType masterType() const { return master_.type(); }
  // Never a revocation: signingKey is always set, and is signingKey().
  [[nodiscard]] const ledger::Manifest& manifest() const { return manifest_; }
  // Chosen at random when the identity is loaded (rippled: at start-up); never 0.
  [[nodiscard]] std::uint64_t cookie() const { return cookie_; }

  // A full validation of `ledger` (NetworkID only when networkId is not 0, this cookie), signed
  // by the current signing key and read back with ledger::parseValidation.
  [[nodiscard]] core::Result<ledger::Validation> sign(const LedgerHeader& ledger, std::uint32_t signingTime,
                                                      std::uint32_t networkId) const;
  // A new signing key under the next manifest sequence, stored in `store` before it is used.
  // On error nothing changed.
  core::Status rotate(ChainStore& store);

 private:
  Validator(crypto::KeyPair master, crypto::KeyPair signing, ledger::Manifest manifest);
  crypto::KeyPair master_;
  crypto::KeyPair signing_;
  std::string masterSeed_;
  std::string signingSeed_;
  ledger::Manifest manifest_;
  std::uint64_t cookie_ = 0;
};

// Stream messages (whole JSON texts), rippled's shapes:
//   {"type":"validationReceived","cookie":"<decimal>","data":"<hex STValidation>","flags":N,
//    "full":true,"ledger_hash":"…","ledger_index":"<seq>" (API v1; a number in v2),
//    "master_key":"n…","network_id":N,"signature":"…","signing_time":N,
//    "validation_public_key":"n…"}
//   {"type":"manifestReceived","manifest":"<hex>","master_key":"n…","master_signature":"…",
//    "seq":N,"signature":"…","signing_key":"n…","domain"?:"…"}
// `masterKey` is the validator's (it is not in the validation); master_key is left out when it
// is the signing key itself.
std::string renderValidationMessage(const ledger::Validation& v, const crypto::PublicKey& masterKey,
                                    int apiVersion);
std::string renderManifestMessage(const ledger::Manifest& m);

}  // namespace sashimono::devnet
