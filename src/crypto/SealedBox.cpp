#include "sashimono/crypto/SealedBox.h"

#include <sodium.h>

#include "sashimono/crypto/Random.h"

namespace sashimono::crypto {

core::Result<core::Bytes> seal(core::ByteView recipientPublicKey, core::ByteView plaintext) {
  ensureSodium();
  core::ByteView pk = recipientPublicKey;
  if (pk.size() == 33) {
    if (pk[0] != 0xED) return core::Error("seal: recipient key is not an ed25519 (ED-prefixed) key");
    pk = pk.subspan(1);
  }
  if (pk.size() != 32) {
    return core::Error("seal: recipient key must be 32 or 33 bytes, got " +
                       std::to_string(recipientPublicKey.size()));
  }
  std::array<std::uint8_t, crypto_box_PUBLICKEYBYTES> x{};
  if (crypto_sign_ed25519_pk_to_curve25519(x.data(), pk.data()) != 0) {
    return core::Error("seal: recipient key is not a valid ed25519 point");
  }
  core::Bytes out(plaintext.size() + crypto_box_SEALBYTES);
  if (crypto_box_seal(out.data(), plaintext.data(), plaintext.size(), x.data()) != 0) {
    return core::Error("seal: crypto_box_seal failed");
  }
  return out;
}

core::Result<core::Bytes> unseal(const KeyPair& recipient, core::ByteView box) {
  ensureSodium();
  if (recipient.type() != KeyType::ed25519) return core::Error("unseal: recipient key pair is not ed25519");
  if (box.size() < crypto_box_SEALBYTES) {
    return core::Error("unseal: box too short (" + std::to_string(box.size()) + " bytes, minimum " +
                       std::to_string(crypto_box_SEALBYTES) + ")");
  }
  std::array<std::uint8_t, crypto_box_SECRETKEYBYTES> xsk{};
  std::array<std::uint8_t, crypto_box_PUBLICKEYBYTES> xpk{};
  if (crypto_sign_ed25519_sk_to_curve25519(xsk.data(), recipient.ed25519SecretKey().data()) != 0 ||
      crypto_sign_ed25519_pk_to_curve25519(xpk.data(), recipient.publicKey().data() + 1) != 0) {
    sodium_memzero(xsk.data(), xsk.size());
    return core::Error("unseal: key conversion to X25519 failed");
  }
  core::Bytes out(box.size() - crypto_box_SEALBYTES);
  int rc = crypto_box_seal_open(out.data(), box.data(), box.size(), xpk.data(), xsk.data());
  sodium_memzero(xsk.data(), xsk.size());
  if (rc != 0) return core::Error("unseal: authentication failed (wrong recipient or corrupted box)");
  return out;
}

}  // namespace sashimono::crypto
