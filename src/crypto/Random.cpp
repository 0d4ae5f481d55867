#include "sashimono/crypto/Random.h"

#include <stdexcept>

#include <sodium.h>

namespace sashimono::crypto {

void ensureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium failed to initialize");
}

void randomBytes(std::span<std::uint8_t> out) {
  ensureSodium();
  randombytes_buf(out.data(), out.size());
}

}  // namespace sashimono::crypto
