#pragma once
// Base64: standard alphabet, padded ("=" to a multiple of 4 characters), decoded strictly so
// that each value has exactly one encoding. Used for binary data in statefs control lines and
// for the manifests rippled hands out. Thread-safe, no state.
#include <cstddef>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"

namespace sashimono::core {

[[nodiscard]] constexpr std::size_t base64Size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }
[[nodiscard]] std::string encodeBase64(ByteView data);
// Refuses (with an error) anything but the canonical encoding: a length that is not a multiple
// of 4, a character outside the alphabet, misplaced padding, or unused bits that are not zero.
[[nodiscard]] Result<Bytes> decodeBase64(std::string_view text);

}  // namespace sashimono::core
