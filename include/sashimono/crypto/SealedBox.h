#pragma once
// Anonymous sealed boxes to an XRPL ed25519 account key: crypto_box_seal to the recipient's
// X25519 key derived with crypto_sign_ed25519_pk_to_curve25519. Thread-safe.
#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::crypto {

// Box overhead: the ephemeral public key and the MAC.
inline constexpr std::size_t kSealOverhead = 48;

// recipient: 32-byte ed25519 public key, or 33 bytes with the 0xED prefix.
// Errors: wrong key length/prefix, a key that is not a valid curve point.
core::Result<core::Bytes> seal(core::ByteView recipientPublicKey, core::ByteView plaintext);
// Errors: not an ed25519 key pair, box too short, authentication failure.
core::Result<core::Bytes> unseal(const KeyPair& recipient, core::ByteView box);

}  // namespace sashimono::crypto
