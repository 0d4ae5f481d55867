#include "sashimono/core/Base58.h"

#include <array>

namespace sashimono::core {
namespace {
constexpr std::array<std::int8_t, 128> makeIndex() {
  std::array<std::int8_t, 128> idx{};
  for (auto& v : idx) v = -1;
  for (std::size_t i = 0; i < kXrplAlphabet.size(); ++i)
    idx[static_cast<unsigned char>(kXrplAlphabet[i])] = static_cast<std::int8_t>(i);
  return idx;
}
constexpr auto kIndex = makeIndex();
}  // namespace

std::string base58Encode(ByteView data) {
  std::size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // Base-58 digits, least significant first; log(256)/log(58) < 1.37.
  std::vector<std::uint8_t> digits;
  digits.reserve((data.size() - zeros) * 138 / 100 + 1);
  for (std::size_t i = zeros; i < data.size(); ++i) {
    unsigned carry = data[i];
    for (auto& d : digits) {
      carry += static_cast<unsigned>(d) << 8;
      d = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, kXrplAlphabet[0]);
  out.reserve(zeros + digits.size());
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kXrplAlphabet[*it]);
  return out;
}

Result<Bytes> base58Decode(std::string_view text) {
  if (text.size() > kBase58MaxChars) {
    return Error("base58 text too long (" + std::to_string(text.size()) + " characters, limit " +
                 std::to_string(kBase58MaxChars) + ")");
  }
  std::size_t zeros = 0;
  while (zeros < text.size() && text[zeros] == kXrplAlphabet[0]) ++zeros;
  Bytes bytes;  // least significant first
  bytes.reserve(text.size());
  for (std::size_t i = zeros; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    int v = c < 128 ? kIndex[c] : -1;
    if (v < 0) {
      return Error("invalid base58 character '" + std::string(1, static_cast<char>(c)) + "' at offset " +
                   std::to_string(i));
    }
    unsigned carry = static_cast<unsigned>(v);
    for (auto& b : bytes) {
      carry += static_cast<unsigned>(b) * 58;
      b = static_cast<std::uint8_t>(carry & 0xFF);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xFF));
      carry >>= 8;
    }
  }
  Bytes out(zeros, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

}  // namespace sashimono::core
