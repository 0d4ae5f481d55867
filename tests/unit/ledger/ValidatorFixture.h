#pragma once
// Shared helpers for the manifest / validation / validator-set tests: deterministic key pairs,
// hashes, and (fakes/ValidationVectors.h) the JS-generated vectors of
// tests/testdata/xrpl-validations.json.
#include <cstdint>
#include <stdexcept>
#include <string>

#include <rapidjson/document.h>

#include "fakes/ValidationVectors.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::testing {

// A key pair from 16 bytes of `fill`: the same keys in every run.
inline crypto::KeyPair keyPair(crypto::KeyType type, std::uint8_t fill) {
  std::array<std::uint8_t, 16> entropy{};
  entropy.fill(fill);
  auto k = crypto::KeyPair::fromSeed(crypto::Seed(type, entropy));
  if (!k.ok()) throw std::runtime_error("key derivation failed");
  return *k;
}

inline crypto::Hash256 hashOf(std::uint32_t n) {
  const std::string text = "ledger " + std::to_string(n);
  return crypto::sha512Half(core::asBytes(text));
}

inline core::Bytes hexBytes(const std::string& hex) {
  auto b = core::fromHex(hex);
  if (!b.ok()) throw std::runtime_error("bad hex in test: " + hex);
  return *b;
}

}  // namespace sashimono::testing
