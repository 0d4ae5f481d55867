#pragma once
// Internal to crypto: secp256k1 key derivation, ECDSA signing and verification with OpenSSL.
#include <array>
#include <cstdint>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::crypto::secp256k1 {

using Scalar = std::array<std::uint8_t, 32>;
using Point = std::array<std::uint8_t, 33>;

// ripple-keypairs' derivation from 16 bytes of seed entropy (account index 0).
core::Result<Scalar> derivePrivateKey(const std::array<std::uint8_t, 16>& entropy);
core::Result<Point> publicKey(const Scalar& priv);
// ECDSA over a 32-byte digest; DER, low-S.
core::Result<core::Bytes> sign(const Scalar& priv, core::ByteView digest32);
// Strict DER, canonical low-S, then the ECDSA check. Error codes "badKey" / "badSignature".
core::Status verify(core::ByteView pub33, core::ByteView digest32, core::ByteView der);

}  // namespace sashimono::crypto::secp256k1
