#include "sashimono/crypto/Keys.h"

#include <algorithm>
#include <stdexcept>

#include <sodium.h>

#include "Secp256k1.h"
#include "sashimono/crypto/Base58Check.h"
#include "sashimono/crypto/Random.h"

namespace sashimono::crypto {
namespace {
constexpr std::array<std::uint8_t, 3> kEd25519SeedPrefix{0x01, 0xE1, 0x4B};
constexpr std::uint8_t kSecp256k1SeedPrefix = 0x21;
constexpr std::uint8_t kAccountPrefix = 0x00;
}  // namespace

const char* keyTypeName(KeyType t) { return t == KeyType::ed25519 ? "ed25519" : "secp256k1"; }

Seed::~Seed() { sodium_memzero(entropy_.data(), entropy_.size()); }

Seed generateSeed(KeyType type) {
  std::array<std::uint8_t, 16> e{};
  randomBytes(e);
  Seed s(type, e);
  sodium_memzero(e.data(), e.size());
  return s;
}

std::string encodeSeed(const Seed& seed) {
  core::Bytes payload;
  if (seed.type() == KeyType::ed25519) {
    payload.assign(kEd25519SeedPrefix.begin(), kEd25519SeedPrefix.end());
  } else {
    payload.push_back(kSecp256k1SeedPrefix);
  }
  payload.insert(payload.end(), seed.entropy().begin(), seed.entropy().end());
  std::string out = encodeBase58Check(payload);
  sodium_memzero(payload.data(), payload.size());
  return out;
}

core::Result<Seed> decodeSeed(std::string_view text) {
  auto payload = decodeBase58Check(text);
  if (!payload) return payload.error().context("invalid seed");
  core::Bytes& p = *payload;
  std::array<std::uint8_t, 16> e{};
  KeyType type;
  if (p.size() == 19 && std::equal(kEd25519SeedPrefix.begin(), kEd25519SeedPrefix.end(), p.begin())) {
    type = KeyType::ed25519;
    std::copy(p.begin() + 3, p.end(), e.begin());
  } else if (p.size() == 17 && p[0] == kSecp256k1SeedPrefix) {
    type = KeyType::secp256k1;
    std::copy(p.begin() + 1, p.end(), e.begin());
  } else {
    std::string why = p.size() == 19 || p.size() == 17
                          ? "unknown seed prefix " + core::toHex(core::ByteView(p.data(), p.size() - 16))
                          : "wrong seed length " + std::to_string(p.size()) + " bytes (expected 17 or 19)";
    sodium_memzero(p.data(), p.size());
    return core::Error("invalid seed: " + why);
  }
  sodium_memzero(p.data(), p.size());
  Seed s(type, e);
  sodium_memzero(e.data(), e.size());
  return s;
}

KeyPair::~KeyPair() { sodium_memzero(secret_.data(), secret_.size()); }

core::Result<KeyPair> KeyPair::fromSeed(const Seed& seed) {
  ensureSodium();
  KeyPair kp;
  kp.type_ = seed.type();
  if (seed.type() == KeyType::ed25519) {
    auto priv = sha512Half(seed.entropy());
    std::array<std::uint8_t, 32> pk{};
    int rc = crypto_sign_seed_keypair(pk.data(), kp.secret_.data(), priv.data());
    sodium_memzero(priv.data(), priv.size());
    if (rc != 0) return core::Error("ed25519 key derivation failed");
    kp.publicKey_[0] = 0xED;
    std::copy(pk.begin(), pk.end(), kp.publicKey_.begin() + 1);
    return kp;
  }
  auto priv = secp256k1::derivePrivateKey(seed.entropy());
  if (!priv) return priv.error();
  auto pub = secp256k1::publicKey(*priv);
  std::copy(priv->begin(), priv->end(), kp.secret_.begin());
  sodium_memzero(priv->data(), priv->size());
  if (!pub) return pub.error();
  kp.publicKey_ = *pub;
  return kp;
}

core::Result<KeyPair> KeyPair::fromSeed(std::string_view seedText) {
  auto seed = decodeSeed(seedText);
  if (!seed) return seed.error();
  return fromSeed(*seed);
}

AccountId KeyPair::accountId() const { return accountIdOf(publicKey_); }
std::string KeyPair::address() const { return encodeAddress(accountId()); }

std::string KeyPair::privateKeyHex() const {
  return (type_ == KeyType::ed25519 ? "ED" : "00") + core::toHex(core::ByteView(secret_.data(), 32));
}

core::Bytes KeyPair::sign(core::ByteView message) const {
  if (type_ == KeyType::ed25519) {
    core::Bytes sig(crypto_sign_BYTES);
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
    return sig;
  }
  secp256k1::Scalar priv{};
  std::copy_n(secret_.begin(), priv.size(), priv.begin());
  auto digest = sha512Half(message);
  auto sig = secp256k1::sign(priv, digest);
  sodium_memzero(priv.data(), priv.size());
  if (!sig) throw std::runtime_error("secp256k1 signing failed: " + sig.error().message);
  return std::move(sig).value();
}

core::Status verify(core::ByteView publicKey, core::ByteView message, core::ByteView signature) {
  if (publicKey.size() != 33) {
    return core::Error::withCode("badKey",
                                 "public key must be 33 bytes, got " + std::to_string(publicKey.size()));
  }
  if (publicKey[0] == 0xED) {
    ensureSodium();
    if (signature.size() != crypto_sign_BYTES) {
      return core::Error::withCode(
          "badSignature", "ed25519 signature must be 64 bytes, got " + std::to_string(signature.size()));
    }
    if (crypto_sign_verify_detached(signature.data(), message.data(), message.size(), publicKey.data() + 1) !=
        0) {
      return core::Error::withCode("badSignature", "ed25519 signature does not verify");
    }
    return {};
  }
  if (publicKey[0] == 0x02 || publicKey[0] == 0x03) {
    return secp256k1::verify(publicKey, sha512Half(message), signature);
  }
  return core::Error::withCode("badKey", "unknown public key type prefix " + core::toHex(publicKey.first(1)));
}

AccountId accountIdOf(core::ByteView publicKey) { return ripemd160(sha256(publicKey)); }

std::string encodeAddress(const AccountId& id) {
  core::Bytes payload{kAccountPrefix};
  payload.insert(payload.end(), id.begin(), id.end());
  return encodeBase58Check(payload);
}

core::Result<AccountId> decodeAddress(std::string_view address) {
  auto p = decodeBase58Check(address);
  if (!p) return p.error().context("invalid address '" + std::string(address) + "'");
  if (p->size() != 21 || (*p)[0] != kAccountPrefix) {
    return core::Error("invalid address '" + std::string(address) + "': not an account address (" +
                       std::to_string(p->size()) + " bytes, prefix " +
                       core::toHex(core::ByteView(p->data(), 1)) + ")");
  }
  AccountId id{};
  std::copy(p->begin() + 1, p->end(), id.begin());
  return id;
}

}  // namespace sashimono::crypto
