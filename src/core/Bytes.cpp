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
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string toHex(ByteView data) { return hexWith(data, "0123456789ABCDEF"); }
std::string toHexLower(ByteView data) { return hexWith(data, "0123456789abcdef"); }

Result<Bytes> fromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) return Error("hex string has odd length " + std::to_string(hex.size()));
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return Error("invalid hex character at offset " + std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return out;
}

}  // namespace sashimono::core
