#pragma once
// Shared by the runtime codec tests (CodecTest: names, UTF-8, JSON; CodecBsonTest: BSON): hex
// helpers, an expected bad_msg_format error, little BSON builders for malformed documents, and a
// sample value holding every type.
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "sashimono/runtime/Codec.h"

namespace sashimono::runtime::testing {

using namespace std::string_literals;
using core::Result;

// Hex with optional spaces.
inline std::string unhex(std::string_view spaced) {
  std::string hex;
  for (char c : spaced)
    if (c != ' ') hex.push_back(c);
  auto b = core::fromHex(hex);
  EXPECT_TRUE(b.ok()) << hex;
  return b.ok() ? core::asString(*b) : std::string();
}
inline std::string hexOf(std::string_view s) { return core::toHexLower(core::asBytes(s)); }
// Compares as hex, spaces ignored: EXPECT_EQ(spaced(bytes), "0500 0000 00").
struct Spaced {
  std::string hex;
  friend bool operator==(const Spaced& a, std::string_view b) {
    std::string h;
    for (char c : b)
      if (c != ' ') h.push_back(c);
    return a.hex == h;
  }
  friend std::ostream& operator<<(std::ostream& os, const Spaced& s) { return os << s.hex; }
};
inline Spaced spaced(std::string_view bytes) { return Spaced{hexOf(bytes)}; }

inline Result<Value> bsonOf(std::string_view bytes, const ParseLimits& limits = {}) {
  return parseBson(core::asBytes(bytes), limits);
}

// Expects a bad_msg_format error whose message contains every fragment.
template <typename R>
void expectError(const R& r, std::initializer_list<std::string_view> fragments,
                 const std::string& input = "") {
  ASSERT_FALSE(r.ok()) << "accepted: " << input;
  EXPECT_EQ(r.error().code, kBadMsgFormat) << r.error().message;
  for (auto f : fragments) EXPECT_NE(r.error().message.find(f), std::string::npos) << r.error().message;
}

// Little BSON builders for malformed documents.
inline std::string le32(std::int32_t n) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>((static_cast<std::uint32_t>(n) >> (8 * i)) & 0xFF);
  return s;
}
// A document around `elements` with a correct length field and terminator.
inline std::string doc(const std::string& elements) {
  return le32(static_cast<std::int32_t>(elements.size() + 5)) + elements + '\0';
}
// One element's type and key.
inline std::string el(std::uint8_t type, std::string_view key) {
  return std::string(1, static_cast<char>(type)) + std::string(key) + '\0';
}
inline std::string bstr(const std::string& s) {
  return le32(static_cast<std::int32_t>(s.size() + 1)) + s + '\0';
}

// Every type, nesting, empty containers, unicode, binary with zero bytes.
inline Value sample() {
  Value v;
  v.set("null", Value());
  v.set("t", true);
  v.set("f", false);
  v.set("zero", 0);
  v.set("neg", -42);
  v.set("max", std::numeric_limits<std::int64_t>::max());
  v.set("min", std::numeric_limits<std::int64_t>::min());
  v.set("half", 0.5);
  v.set("pi", 3.141592653589793);
  v.set("tiny", 5e-324);
  v.set("huge", 1.7976931348623157e308);
  v.set("whole", 2.0);
  v.set("negzero", -0.0);
  v.set("big", 1e21);
  v.set("empty", "");
  v.set("unicode", "h\xC3\xA9llo \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x8E\x89");
  v.set("controls", "a\"b\\c\n\t\r\b\f\x01\x1f\x7f/"s);
  v.set("nul", "x\0y"s);
  v.set("bin", Value::binary(core::Bytes{0, 0, 1, 0xff, 0}));
  v.set("emptybin", Value::binary(core::Bytes{}));
  v.set("arr", Array{});
  v.set("obj", Object{});
  v.set("nested", Object{{"a", Array{1, Array{2, Object{{"b", Array{}}}}, "three"}}});
  v.set("dup", 1);
  v.set("dup", 2);
  v.set("", "empty key");
  v.set("k\xC3\xA9y", "unicode key");
  return v;
}

}  // namespace sashimono::runtime::testing
