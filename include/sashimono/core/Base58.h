#pragma once
// Plain base58 with the XRP Ledger alphabet (rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz).
// No checksum here: base58check (double SHA-256) lives in crypto/Base58Check.h, since core has no hashing.
// Leading zero bytes map to leading 'r' characters and back. Thread-safe, no state.
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::core {

inline constexpr std::string_view kXrplAlphabet =
    "rpshnaf39wBUDNEGHJKLM4PQRST7VWXYZ2bcdeCg65jkm8oFqi1tuvAxyz";

std::string base58Encode(ByteView data);
// Fails on a character outside the alphabet (naming it and its offset) or on input longer than
// kBase58MaxChars (guards the quadratic decoder against hostile input).
inline constexpr std::size_t kBase58MaxChars = 1024;
Result<Bytes> base58Decode(std::string_view text);

}  // namespace sashimono::core
