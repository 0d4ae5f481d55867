#pragma once
// Hash functions used by the XRP Ledger. All are pure and thread-safe.
#include <array>
#include <cstdint>
#include <initializer_list>

#include "sashimono/core/Bytes.h"

namespace sashimono::crypto {

using Hash256 = std::array<std::uint8_t, 32>;
using Hash160 = std::array<std::uint8_t, 20>;
using Hash512 = std::array<std::uint8_t, 64>;

Hash256 sha256(core::ByteView data);
Hash512 sha512(core::ByteView data);
// First 32 bytes of SHA-512: the XRPL's hash for signing data, ids and keys.
Hash256 sha512Half(core::ByteView data);
// SHA-512Half over the concatenation of the parts, without copying them together.
Hash256 sha512Half(std::initializer_list<core::ByteView> parts);
Hash160 ripemd160(core::ByteView data);

}  // namespace sashimono::crypto
