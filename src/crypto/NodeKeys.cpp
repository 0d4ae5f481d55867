#include "sashimono/crypto/NodeKeys.h"

#include <algorithm>

#include "sashimono/crypto/Base58Check.h"

namespace sashimono::crypto {

bool hasKeyPrefix(core::ByteView key) {
  return key.size() == 33 && (key[0] == 0xED || key[0] == 0x02 || key[0] == 0x03);
}

std::string encodeNodePublic(const PublicKey& key) {
  core::Bytes payload;
  payload.reserve(1 + key.size());
  payload.push_back(kNodePublicPrefix);
  payload.insert(payload.end(), key.begin(), key.end());
  return encodeBase58Check(payload);
}

core::Result<PublicKey> decodeNodePublic(std::string_view text) {
  const std::string shown(text.substr(0, 80));
  auto p = decodeBase58Check(text);
  if (!p) return p.error().context("invalid node public key '" + shown + "'");
  if (p->size() != 34 || (*p)[0] != kNodePublicPrefix) {
    return core::Error("invalid node public key '" + shown + "': not a node public key (" +
                       std::to_string(p->size()) + " bytes, prefix " +
                       core::toHex(core::ByteView(p->data(), 1)) + ", want 34 bytes with prefix 1C)");
  }
  PublicKey key{};
  std::copy(p->begin() + 1, p->end(), key.begin());
  if (!hasKeyPrefix(key)) {
    return core::Error("invalid node public key '" + shown + "': key starts with " +
                       core::toHex(core::ByteView(key.data(), 1)) + ", not ED, 02 or 03");
  }
  return key;
}

}  // namespace sashimono::crypto
