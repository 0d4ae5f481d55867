#include "sashimono/core/Base64.h"

#include <array>
#include <cstdint>

namespace sashimono::core {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> decodeTable() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto kDecode = decodeTable();

Error bad(const std::string& what) { return Error("base64: " + what); }

}  // namespace

std::string encodeBase64(ByteView data) {
  std::string out(base64Size(data.size()), '=');
  char* o = out.data();
  const std::uint8_t* in = data.data();
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3, o += 4) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    o[2] = kAlphabet[(v >> 6) & 63];
    o[3] = kAlphabet[v & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest > 0) {  // the padding is there already
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (rest == 2 ? std::uint32_t{in[i + 1]} << 8 : 0);
    o[0] = kAlphabet[(v >> 18) & 63];
    o[1] = kAlphabet[(v >> 12) & 63];
    if (rest == 2) o[2] = kAlphabet[(v >> 6) & 63];
  }
  return out;
}

Result<Bytes> decodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return bad("length " + std::to_string(text.size()) + " is not a multiple of 4");
  if (text.empty()) return Bytes{};
  const std::size_t pad = text.back() != '=' ? 0 : text[text.size() - 2] == '=' ? 2 : 1;
  Bytes out(text.size() / 4 * 3 - pad);
  std::uint8_t* o = out.data();
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t full = text.size() / 4 - 1;  // groups before the last, which may be padded
  for (std::size_t g = 0; g < full; ++g, in += 4, o += 3) {
    const int a = kDecode[in[0]], b = kDecode[in[1]], c = kDecode[in[2]], d = kDecode[in[3]];
    if ((a | b | c | d) < 0) {
      for (std::size_t k = 0; k < 4; ++k)
        if (kDecode[in[k]] < 0) return bad("unexpected character at " + std::to_string(g * 4 + k));
    }
    const std::uint32_t v = (static_cast<std::uint32_t>(a) << 18) | (static_cast<std::uint32_t>(b) << 12) |
                            (static_cast<std::uint32_t>(c) << 6) | static_cast<std::uint32_t>(d);
    o[0] = static_cast<std::uint8_t>(v >> 16);
    o[1] = static_cast<std::uint8_t>(v >> 8);
    o[2] = static_cast<std::uint8_t>(v);
  }
  // The last group: 4 - pad characters of the alphabet, then the padding (checked above).
  std::uint32_t v = 0;
  for (std::size_t k = 0; k < 4; ++k) {
    const int d = k < 4 - pad ? kDecode[in[k]] : 0;
    if (d < 0) return bad("unexpected character at " + std::to_string(full * 4 + k));
    v = (v << 6) | static_cast<std::uint32_t>(d);
  }
  if ((pad == 2 && (v & 0xffff) != 0) || (pad == 1 && (v & 0xff) != 0))
    return bad("unused bits are not zero");
  o[0] = static_cast<std::uint8_t>(v >> 16);
  if (pad < 2) o[1] = static_cast<std::uint8_t>(v >> 8);
  if (pad < 1) o[2] = static_cast<std::uint8_t>(v);
  return out;
}

}  // namespace sashimono::core
