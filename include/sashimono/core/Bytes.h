#pragma once
// Byte buffers and hex conversion.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::core {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Upper-case hex, as the XRPL uses.
std::string toHex(ByteView data);
std::string toHexLower(ByteView data);
// Accepts upper and lower case; fails on odd length or a non-hex character.
Result<Bytes> fromHex(std::string_view hex);

inline ByteView asBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string asString(ByteView b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

template <std::size_t N>
Bytes toBytes(const std::array<std::uint8_t, N>& a) {
  return Bytes(a.begin(), a.end());
}

}  // namespace sashimono::core
