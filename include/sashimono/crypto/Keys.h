#pragma once
// XRPL keys: family seeds, key pairs (ed25519 and secp256k1), signing and verification,
// account ids and r-addresses.
//
// Secrets (Seed entropy, KeyPair private keys) are wiped with sodium_memzero when the object
// is destroyed; copies are independent and each is wiped. All functions are thread-safe;
// a KeyPair may be shared between threads for signing (it is immutable).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::crypto {

enum class KeyType { ed25519, secp256k1 };
const char* keyTypeName(KeyType t);  // "ed25519" | "secp256k1"

using AccountId = std::array<std::uint8_t, 20>;
// 33 bytes: 0xED + 32 for ed25519, compressed SEC1 (0x02/0x03 + 32) for secp256k1.
using PublicKey = std::array<std::uint8_t, 33>;

// 16 bytes of entropy plus the key type it is meant for.
class Seed {
 public:
  Seed(KeyType type, const std::array<std::uint8_t, 16>& entropy) : type_(type), entropy_(entropy) {}
  Seed(const Seed&) = default;
  Seed& operator=(const Seed&) = default;
  ~Seed();

  [[nodiscard]] KeyType type() const { return type_; }
  [[nodiscard]] const std::array<std::uint8_t, 16>& entropy() const { return entropy_; }

 private:
  KeyType type_;
  std::array<std::uint8_t, 16> entropy_;
};

// New seed from the OS random source.
Seed generateSeed(KeyType type);
// "sEd…" for ed25519 (prefix 01 E1 4B), "s…" for secp256k1 (prefix 21).
std::string encodeSeed(const Seed& seed);
// Errors name what is wrong: bad base58 character, checksum mismatch, wrong length, unknown prefix.
core::Result<Seed> decodeSeed(std::string_view text);

class KeyPair {
 public:
  // ed25519: private key = SHA512Half(entropy), used as the libsodium seed.
  // secp256k1: ripple-keypairs' family-generator derivation (account index 0).
  static core::Result<KeyPair> fromSeed(const Seed& seed);
  static core::Result<KeyPair> fromSeed(std::string_view seedText);
  KeyPair(const KeyPair&) = default;
  KeyPair& operator=(const KeyPair&) = default;
  ~KeyPair();

  [[nodiscard]] KeyType type() const { return type_; }
  [[nodiscard]] const PublicKey& publicKey() const { return publicKey_; }
  [[nodiscard]] AccountId accountId() const;
  [[nodiscard]] std::string address() const;
  // The 33-byte private key as ripple-keypairs prints it ("ED" + 32 or "00" + 32), upper hex.
  // Only for tests and key export; the caller owns the wiping of the returned string.
  [[nodiscard]] std::string privateKeyHex() const;

  // ed25519 signs the message itself (64 bytes); secp256k1 signs SHA512Half(message) with
  // ECDSA, DER encoded, low-S. Never fails for a valid key pair.
  [[nodiscard]] core::Bytes sign(core::ByteView message) const;

  // ed25519 only: the 64-byte libsodium secret key (seed || public key), used by SealedBox.
  [[nodiscard]] const std::array<std::uint8_t, 64>& ed25519SecretKey() const { return secret_; }

 private:
  KeyPair() = default;
  KeyType type_ = KeyType::ed25519;
  PublicKey publicKey_{};
  // ed25519: libsodium secret key (32-byte seed || 32-byte public key).
  // secp256k1: the 32-byte private scalar in the first half, zeros after.
  std::array<std::uint8_t, 64> secret_{};
};

// Verifies `signature` over `message` with a 33-byte public key, dispatching on its prefix:
// 0xED → ed25519 over the message; 0x02/0x03 → secp256k1 ECDSA over SHA512Half(message),
// strict DER with canonical (low) S. Error codes: "badKey" (malformed key),
// "badSignature" (malformed or non-canonical encoding, or the signature does not verify).
core::Status verify(core::ByteView publicKey, core::ByteView message, core::ByteView signature);

// RIPEMD160(SHA256(publicKey)).
AccountId accountIdOf(core::ByteView publicKey);
// "r…" (base58check, prefix 0x00).
std::string encodeAddress(const AccountId& id);
core::Result<AccountId> decodeAddress(std::string_view address);

}  // namespace sashimono::crypto
