#pragma once
// Helpers shared by the JSON and BSON codecs (Codec.cpp, BsonCodec.cpp); not a public API.
#include <cstddef>
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"

namespace sashimono::runtime::detail {

inline constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// An error with code bad_msg_format (Codec.h).
core::Error bad(std::string message);
// Length of the well-formed UTF-8 sequence that starts at s[i], or 0 when there is none.
std::size_t utf8Sequence(std::string_view s, std::size_t i);
// Appends s with every ill-formed sequence replaced by U+FFFD (and NUL too when asked).
void appendUtf8Sanitized(std::string& out, std::string_view s, bool replaceNul);
// A short, printable rendering of s for error messages.
std::string printable(std::string_view s);

}  // namespace sashimono::runtime::detail
