#pragma once
// Node public keys as rippled prints them ("n…"): base58check of the 33-byte public key with
// version byte 0x1C (TokenType::NodePublic). Validators are named this way in validators.txt,
// in manifests (master and ephemeral keys) and in the validations stream. Both key types occur:
// ed25519 ("ED" + 32 bytes, most validator master keys) and compressed secp256k1 (every
// ephemeral validation signing key). Pure functions, thread-safe.
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::crypto {

inline constexpr std::uint8_t kNodePublicPrefix = 0x1C;

// True when the 33 bytes start as a key of either type (0xED, or 0x02/0x03). Says nothing of
// whether a secp256k1 point is on the curve: verify() reports that ("badKey").
[[nodiscard]] bool hasKeyPrefix(core::ByteView key);

std::string encodeNodePublic(const PublicKey& key);
// Errors name what is wrong: bad base58 character, checksum mismatch, not a node public key
// (wrong version byte or length), unknown key prefix.
[[nodiscard]] core::Result<PublicKey> decodeNodePublic(std::string_view text);

}  // namespace sashimono::crypto
