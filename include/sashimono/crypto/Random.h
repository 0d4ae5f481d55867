#pragma once
// The OS random source (libsodium randombytes_buf). Thread-safe.
#include <cstdint>
#include <span>

namespace sashimono::crypto {

void randomBytes(std::span<std::uint8_t> out);

// Initializes libsodium once (thread-safe, idempotent); every crypto entry point calls it.
// Throws std::runtime_error if libsodium cannot initialize (a start-up failure).
void ensureSodium();

}  // namespace sashimono::crypto
