#include "sashimono/crypto/Base58Check.h"

#include <algorithm>

#include "sashimono/core/Base58.h"
#include "sashimono/crypto/Hash.h"

namespace sashimono::crypto {
namespace {
std::array<std::uint8_t, 4> checksum(core::ByteView payload) {
  auto h = sha256(sha256(payload));
  return {h[0], h[1], h[2], h[3]};
}
}  // namespace

std::string encodeBase58Check(core::ByteView payload) {
  core::Bytes buf(payload.begin(), payload.end());
  auto c = checksum(payload);
  buf.insert(buf.end(), c.begin(), c.end());
  return core::base58Encode(buf);
}

core::Result<core::Bytes> decodeBase58Check(std::string_view text) {
  auto raw = core::base58Decode(text);
  if (!raw) return raw.error();
  core::Bytes& b = *raw;
  if (b.size() < 5) return core::Error("base58check text too short (" + std::to_string(b.size()) + " bytes)");
  core::ByteView payload(b.data(), b.size() - 4);
  auto c = checksum(payload);
  if (!std::equal(c.begin(), c.end(), b.end() - 4)) return core::Error("base58check checksum mismatch");
  b.resize(b.size() - 4);
  return std::move(b);
}

}  // namespace sashimono::crypto
