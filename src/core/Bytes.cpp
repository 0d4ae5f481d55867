#include "sashimono/core/Bytes.h"

namespace sashimono::core {
namespace {
std::string hexWith(ByteView data, const char* digits) {
  std::string out;
  out.resize(data.size() * 2);
  for (std::size_t i = 0; i < data.size(); ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0xF];
  }
  return out;
}
// Hex digit values by character, -1 for any other: one load per digit (fromHex decodes whole
// ledgers of transactions a board sends).
constexpr std::array<std::int8_t, 256> kNibbles = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[static_cast<std::size_t>(c)] = static_cast<std::int8_t>(c - 'A' + 10);
  return t;
}();
int nibble(char c) { return kNibbles[static_cast<unsigned char>(c)]; }
}  // namespace

std::string toHex(ByteView data) { return hexWith(data, "0123456789ABCDEF"); }
std::string toHexLower(ByteView data) { return hexWith(data, "0123456789abcdef"); }

Result<Bytes> fromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Error("hex string has odd length " + std::to_string(hex.size()));
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if ((hi | lo) < 0)
      return Error("invalid hex character at offset " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

}  // namespace sashimono::core
