#pragma once
// base58check as the XRPL uses it: base58(payload || first 4 bytes of SHA256(SHA256(payload))),
// where the payload starts with a version prefix (0x00 account, 0x21 seed, 0x01E14B ed25519 seed).
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::crypto {

std::string encodeBase58Check(core::ByteView payload);
// Returns the payload (prefix included). Errors: bad character, too short, checksum mismatch.
core::Result<core::Bytes> decodeBase58Check(std::string_view text);

}  // namespace sashimono::crypto
