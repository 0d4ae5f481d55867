#include "sashimono/runtime/Codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace sashimono::runtime {
namespace {
using core::Error;
using core::Result;

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

Error bad(std::string message) { return Error::withCode(kBadMsgFormat, std::move(message)); }

// ---- UTF-8 ----

// Length of the well-formed UTF-8 sequence that starts at s[i], or 0 when there is none.
std::size_t utf8Sequence(std::string_view s, std::size_t i) {
  auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  auto cont = [&](std::size_t k) { return k < s.size() && (at(k) & 0xC0) == 0x80; };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(i + 1) ? 2 : 0;
  if (i + 1 >= s.size()) return 0;
  const unsigned char c1 = at(i + 1);
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned char lo = c == 0xE0 ? 0xA0 : 0x80;  // no overlong forms
    const unsigned char hi = c == 0xED ? 0x9F : 0xBF;  // no surrogates
    return c1 >= lo && c1 <= hi && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned char lo = c == 0xF0 ? 0x90 : 0x80;  // no overlong forms
    const unsigned char hi = c == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return c1 >= lo && c1 <= hi && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

// Appends s with every byte that starts no well-formed sequence replaced by U+FFFD (and NUL too
// when replaceNul).
void appendUtf8Sanitized(std::string& out, std::string_view s, bool replaceNul) {
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t n = utf8Sequence(s, i);
    if (n == 0 || (replaceNul && s[i] == '\0')) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
}

// A key or other stranger-supplied text made safe and short for an error message.
std::string printable(std::string_view s) {
  constexpr std::size_t kMax = 64;
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    out.push_back(c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?');
  }
  if (s.size() > kMax) out += "...";
  return out;
}

// ---- JSON parsing ----

// floor(log10(|x|)) of a JSON number that is not zero, from its text (exponent clamped).
long long decimalMagnitude(std::string_view t) {
  std::size_t e = t.find_first_of("eE");
  std::string_view mantissa = t.substr(0, e);
  long long exp = 0;
  if (e != std::string_view::npos) {
    std::size_t i = e + 1;
    bool negative = false;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) negative = t[i++] == '-';
    for (; i < t.size(); ++i) exp = std::min(exp * 10 + (t[i] - '0'), 1'000'000'000LL);
    if (negative) exp = -exp;
  }
  if (!mantissa.empty() && mantissa[0] == '-') mantissa.remove_prefix(1);
  std::size_t dot = mantissa.find('.');
  std::string_view whole = mantissa.substr(0, dot);
  std::size_t firstDigit = whole.find_first_not_of('0');
  if (firstDigit != std::string_view::npos)
    return static_cast<long long>(whole.size() - firstDigit - 1) + exp;
  std::string_view fraction = dot == std::string_view::npos ? std::string_view() : mantissa.substr(dot + 1);
  firstDigit = fraction.find_first_not_of('0');
  if (firstDigit == std::string_view::npos) return 0;  // zero: never out of range
  return -static_cast<long long>(firstDigit + 1) + exp;
}

// A number as rapidjson validated it (RFC 8259 grammar): integers that fit int64 → Int, others →
// the correctly rounded Double; below the smallest subnormal → ±0 (as JSON.parse); beyond the
// largest double → nothing.
std::optional<Value> jsonNumber(std::string_view t) {
  const char* begin = t.data();
  const char* end = begin + t.size();
  if (t.find_first_of(".eE") == std::string_view::npos) {
    std::int64_t i = 0;
    auto r = std::from_chars(begin, end, i);
    if (r.ec == std::errc() && r.ptr == end) return Value(i);
  }
  double d = 0;
  auto r = std::from_chars(begin, end, d);
  if (r.ptr != end) return std::nullopt;
  if (r.ec == std::errc()) return Value(d);
  if (r.ec == std::errc::result_out_of_range && decimalMagnitude(t) < 0)
    return Value(t[0] == '-' ? -0.0 : 0.0);
  return std::nullopt;
}

// Builds a Value from rapidjson SAX events with an explicit stack (no recursion), enforcing the
// depth and value-count limits before anything is added.
class JsonBuilder {
 public:
  explicit JsonBuilder(const ParseLimits& limits) : limits_(limits) {}

  bool Null() { return scalar(Value()); }
  bool Bool(bool b) { return scalar(Value(b)); }
  // Numbers arrive as text (kParseNumbersAsStringsFlag): rapidjson's own conversion is not
  // correctly rounded by default and its full-precision path has undefined behaviour on inputs
  // such as "0e-185" (clz of 0); std::from_chars is exact.
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    auto v = jsonNumber(std::string_view(s, n));
    if (!v) return fail("number " + printable(std::string_view(s, n)) + " is out of range");
    return scalar(std::move(*v));
  }
  // (Not called with kParseNumbersAsStringsFlag; part of rapidjson's handler interface.)
  bool Int(int i) { return scalar(Value(i)); }
  bool Uint(unsigned u) { return scalar(Value(u)); }
  bool Int64(std::int64_t i) { return scalar(Value(i)); }
  bool Uint64(std::uint64_t u) { return scalar(Value::uint(u)); }
  bool Double(double d) { return scalar(Value(d)); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    std::string_view text(s, n);
    if (!isValidUtf8(text)) return fail("string is not valid UTF-8 (a lone surrogate escape?)");
    return scalar(Value(std::string(text)));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    std::string_view text(s, n);
    if (!isValidUtf8(text)) return fail("key is not valid UTF-8 (a lone surrogate escape?)");
    key_.assign(text);
    return true;
  }
  bool StartObject() { return open(Value(Object{})); }
  bool EndObject(rapidjson::SizeType) { return close(); }
  bool StartArray() { return open(Value(Array{})); }
  bool EndArray(rapidjson::SizeType) { return close(); }

  [[nodiscard]] const std::string& error() const { return error_; }
  Value takeRoot() { return std::move(root_); }

 private:
  struct Frame {
    Value container;
    std::string key;  // its key in the parent, when the parent is an object
  };

  bool fail(std::string what) {
    error_ = std::move(what);
    return false;
  }
  bool count() {
    if (++values_ > limits_.maxValues)
      return fail("more than " + std::to_string(limits_.maxValues) + " values");
    return true;
  }
  void place(Value v, std::string key) {
    if (frames_.empty()) {
      root_ = std::move(v);
      return;
    }
    Value& parent = frames_.back().container;
    if (parent.isArray())
      parent.asArray().push_back(std::move(v));
    else
      parent.asObject().emplace_back(std::move(key), std::move(v));
  }
  bool scalar(Value v) {
    if (!count()) return false;
    place(std::move(v), std::move(key_));
    return true;
  }
  bool open(Value container) {
    if (frames_.size() >= limits_.maxDepth)
      return fail("nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
    if (!count()) return false;
    frames_.push_back(Frame{std::move(container), std::move(key_)});
    return true;
  }
  bool close() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    place(std::move(f.container), std::move(f.key));
    return true;
  }

  const ParseLimits& limits_;
  std::vector<Frame> frames_;
  std::string key_;
  Value root_;
  std::size_t values_ = 0;
  std::string error_;
};

// ---- JSON rendering ----

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = utf8Sequence(s, i);
      if (n == 0) {
        out += kReplacement;
        ++i;
      } else {
        out.append(s, i, n);
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

void appendInt(std::string& out, std::int64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

void appendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest form that round-trips
  std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
  out += text;
  // "1" would parse back as an Int; "1.0" stays a Double.
  if (text.find_first_of(".e") == std::string_view::npos) out += ".0";
}

void writeJson(std::string& out, const Value& v) {
  switch (v.type()) {
    case Value::Type::Null:
      out += "null";
      return;
    case Value::Type::Bool:
      out += v.asBool() ? "true" : "false";
      return;
    case Value::Type::Int:
      appendInt(out, v.asInt());
      return;
    case Value::Type::Double:
      appendDouble(out, v.asDouble());
      return;
    case Value::Type::String:
      appendJsonString(out, v.asString());
      return;
    case Value::Type::Binary:
      out.push_back('"');
      out += core::toHexLower(v.asBinary());
      out.push_back('"');
      return;
    case Value::Type::RawJson:
      out += v.asRawJson();
      return;
    case Value::Type::Array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.asArray()) {
        if (!first) out.push_back(',');
        first = false;
        writeJson(out, e);
      }
      out.push_back(']');
      return;
    }
    case Value::Type::Object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.asObject()) {
        if (!first) out.push_back(',');
        first = false;
        appendJsonString(out, k);
        out.push_back(':');
        writeJson(out, e);
      }
      out.push_back('}');
      return;
    }
  }
}

// ---- BSON ----

namespace bson {
constexpr std::uint8_t kDouble = 0x01;
constexpr std::uint8_t kString = 0x02;
constexpr std::uint8_t kDocument = 0x03;
constexpr std::uint8_t kArray = 0x04;
constexpr std::uint8_t kBinary = 0x05;
constexpr std::uint8_t kBool = 0x08;
constexpr std::uint8_t kNull = 0x0A;
constexpr std::uint8_t kInt32 = 0x10;
constexpr std::uint8_t kInt64 = 0x12;
constexpr std::uint8_t kSubtypeGeneric = 0x00;
constexpr std::uint8_t kSubtypeOldBinary = 0x02;
constexpr std::size_t kMinDocument = 5;  // length + terminator

const char* unsupportedTypeName(std::uint8_t t) {
  switch (t) {
    case 0x06:
      return "undefined";
    case 0x07:
      return "ObjectId";
    case 0x09:
      return "datetime";
    case 0x0B:
      return "regex";
    case 0x0C:
      return "DBPointer";
    case 0x0D:
      return "JavaScript code";
    case 0x0E:
      return "symbol";
    case 0x0F:
      return "JavaScript code with scope";
    case 0x11:
      return "timestamp";
    case 0x13:
      return "decimal128";
    case 0x7F:
      return "MaxKey";
    case 0xFF:
      return "MinKey";
    default:
      return "unknown type";
  }
}

std::string hexByte(std::uint8_t b) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("0x") + kHex[b >> 4] + kHex[b & 0xF];
}

// ---- writing ----

void putU32(std::string& out, std::uint32_t x) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
}
void putU64(std::string& out, std::uint64_t x) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
}
// Writes, into the 4 bytes reserved at `start`, the number of bytes appended since then, counting the
// length field itself when `countSelf` (documents) or not (strings).
void patchLength(std::string& out, std::size_t start, bool countSelf) {
  std::size_t len = out.size() - start - (countSelf ? 0 : 4);
  if (len > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::logic_error("renderBson: element larger than 2 GiB");
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>((len >> (8 * i)) & 0xFF);
}

void writeDocument(std::string& out, const Value& v);

void writeBinary(std::string& out, std::string_view key, std::string_view bytes) {
  out.push_back(static_cast<char>(kBinary));
  appendUtf8Sanitized(out, key, true);
  out.push_back('\0');
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw std::logic_error("renderBson: binary larger than 2 GiB");
  putU32(out, static_cast<std::uint32_t>(bytes.size()));
  out.push_back(static_cast<char>(kSubtypeGeneric));
  out += bytes;
}

void writeElement(std::string& out, std::string_view key, const Value& v) {
  auto head = [&](std::uint8_t type) {
    out.push_back(static_cast<char>(type));
    appendUtf8Sanitized(out, key, true);
    out.push_back('\0');
  };
  switch (v.type()) {
    case Value::Type::Null:
      head(kNull);
      return;
    case Value::Type::Bool:
      head(kBool);
      out.push_back(v.asBool() ? '\1' : '\0');
      return;
    case Value::Type::Int:
      head(kInt64);
      putU64(out, static_cast<std::uint64_t>(v.asInt()));
      return;
    case Value::Type::Double: {
      head(kDouble);
      double d = v.asDouble();
      std::uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      putU64(out, bits);
      return;
    }
    case Value::Type::String: {
      head(kString);
      std::size_t start = out.size();
      out.append(4, '\0');
      appendUtf8Sanitized(out, v.asString(), false);
      out.push_back('\0');
      patchLength(out, start, false);
      return;
    }
    case Value::Type::Binary: {
      const auto& b = v.asBinary();
      writeBinary(out, key, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
      return;
    }
    case Value::Type::RawJson:
      writeBinary(out, key, v.asRawJson());
      return;
    case Value::Type::Array:
      head(kArray);
      writeDocument(out, v);
      return;
    case Value::Type::Object:
      head(kDocument);
      writeDocument(out, v);
      return;
  }
}

// An Object as a document, an Array as a document with keys "0", "1", …
void writeDocument(std::string& out, const Value& v) {
  std::size_t start = out.size();
  out.append(4, '\0');
  if (v.isArray()) {
    std::size_t i = 0;
    for (const auto& e : v.asArray()) writeElement(out, std::to_string(i++), e);
  } else {
    for (const auto& [k, e] : v.asObject()) writeElement(out, k, e);
  }
  out.push_back('\0');
  patchLength(out, start, true);
}

// ---- reading ----

class Reader {
 public:
  Reader(core::ByteView all, const ParseLimits& limits) : all_(all), limits_(limits) {}

  // Reads the document or array at [start, start + len); the caller checked that len ≥ 5, that
  // the length field says len and that the last byte is 0. `depth` counts this container.
  Result<Value> container(std::size_t start, std::size_t len, std::size_t depth, const std::string& path,
                          bool isArray) {
    const std::size_t end = start + len - 1;  // the terminating 0
    Value out = isArray ? Value(Array{}) : Value(Object{});
    std::size_t pos = start + 4;
    std::size_t index = 0;
    while (pos < end) {
      const std::size_t elementAt = pos;
      const std::uint8_t type = all_[pos++];
      if (type == 0) {
        return bad("bson: " + where(path) + "terminator at offset " + std::to_string(elementAt) +
                   " before the end of the document (declared length " + std::to_string(len) + ")");
      }
      const auto* keyBegin = all_.data() + pos;
      const auto* nul = static_cast<const std::uint8_t*>(std::memchr(keyBegin, 0, end - pos));
      if (nul == nullptr) {
        return bad("bson: " + where(path) + "element at offset " + std::to_string(elementAt) +
                   ": key is not NUL-terminated inside the document");
      }
      std::string key(reinterpret_cast<const char*>(keyBegin), static_cast<std::size_t>(nul - keyBegin));
      pos += key.size() + 1;
      auto fail = [&](const std::string& what) {
        return bad("bson: element '" + printable(path.empty() ? key : path + "." + key) + "' at offset " +
                   std::to_string(elementAt) + ": " + what);
      };
      if (!isValidUtf8(key)) return fail("key is not valid UTF-8");
      if (isArray && key != std::to_string(index))
        return fail("array key, expected '" + std::to_string(index) + "'");
      if (++values_ > limits_.maxValues)
        return bad("bson: more than " + std::to_string(limits_.maxValues) + " values");
      // Bytes left for this element's value (the document's terminator is not available).
      auto room = [&]() { return end - pos; };
      Value value;
      switch (type) {
        case kDouble: {
          if (room() < 8) return fail("double runs past the end of the document");
          std::uint64_t bits = u64(pos);
          double d = 0;
          std::memcpy(&d, &bits, sizeof d);
          value = Value(d);
          pos += 8;
          break;
        }
        case kString: {
          if (room() < 4) return fail("string length runs past the end of the document");
          std::int32_t n = i32(pos);
          pos += 4;
          if (n < 1) return fail("string length " + std::to_string(n) + " (must be at least 1)");
          if (static_cast<std::size_t>(n) > room())
            return fail("string length " + std::to_string(n) + " exceeds document");
          if (all_[pos + n - 1] != 0) return fail("string is not NUL-terminated");
          std::string s(reinterpret_cast<const char*>(all_.data() + pos), static_cast<std::size_t>(n) - 1);
          if (!isValidUtf8(s)) return fail("string is not valid UTF-8");
          value = Value(std::move(s));
          pos += n;
          break;
        }
        case kDocument:
        case kArray: {
          const char* what = type == kArray ? "array" : "embedded document";
          if (room() < 4) return fail(std::string(what) + " length runs past the end of the document");
          std::int32_t n = i32(pos);
          if (n < static_cast<std::int32_t>(kMinDocument))
            return fail(std::string(what) + " length " + std::to_string(n) + " (must be at least 5)");
          if (static_cast<std::size_t>(n) > room())
            return fail(std::string(what) + " length " + std::to_string(n) + " exceeds document");
          if (all_[pos + n - 1] != 0) return fail(std::string(what) + " does not end with a 0 byte");
          if (depth >= limits_.maxDepth)
            return fail("nesting deeper than " + std::to_string(limits_.maxDepth) + " levels");
          auto inner = container(pos, static_cast<std::size_t>(n), depth + 1,
                                 path.empty() ? key : path + "." + key, type == kArray);
          if (!inner) return inner.error();
          value = std::move(inner).value();
          pos += n;
          break;
        }
        case kBinary: {
          if (room() < 5) return fail("binary header runs past the end of the document");
          std::int32_t n = i32(pos);
          std::uint8_t subtype = all_[pos + 4];
          pos += 5;
          if (n < 0) return fail("binary length " + std::to_string(n) + " is negative");
          if (static_cast<std::size_t>(n) > room())
            return fail("binary length " + std::to_string(n) + " exceeds document");
          std::size_t dataAt = pos;
          std::size_t dataLen = static_cast<std::size_t>(n);
          if (subtype == kSubtypeOldBinary) {
            if (n < 4)
              return fail("old binary (subtype 2) of " + std::to_string(n) + " bytes has no inner length");
            std::int32_t inner = i32(pos);
            if (inner != n - 4) {
              return fail("old binary (subtype 2) inner length " + std::to_string(inner) +
                          " does not match " + std::to_string(n - 4));
            }
            dataAt += 4;
            dataLen -= 4;
          }
          value = Value::binary(all_.subspan(dataAt, dataLen));
          pos += n;
          break;
        }
        case kBool: {
          if (room() < 1) return fail("bool runs past the end of the document");
          std::uint8_t b = all_[pos++];
          if (b > 1) return fail("bool byte " + hexByte(b) + " (must be 0x00 or 0x01)");
          value = Value(b == 1);
          break;
        }
        case kNull:
          break;
        case kInt32:
          if (room() < 4) return fail("int32 runs past the end of the document");
          value = Value(static_cast<std::int64_t>(i32(pos)));
          pos += 4;
          break;
        case kInt64:
          if (room() < 8) return fail("int64 runs past the end of the document");
          value = Value(static_cast<std::int64_t>(u64(pos)));
          pos += 8;
          break;
        default:
          return fail(std::string("unsupported ") + unsupportedTypeName(type) + " (" + hexByte(type) + ")");
      }
      if (isArray)
        out.asArray().push_back(std::move(value));
      else
        out.asObject().emplace_back(std::move(key), std::move(value));
      ++index;
    }
    return out;
  }

  [[nodiscard]] std::int32_t i32(std::size_t at) const {
    std::uint32_t x = 0;
    for (int i = 0; i < 4; ++i) x |= static_cast<std::uint32_t>(all_[at + i]) << (8 * i);
    return static_cast<std::int32_t>(x);
  }
  [[nodiscard]] std::uint64_t u64(std::size_t at) const {
    std::uint64_t x = 0;
    for (int i = 0; i < 8; ++i) x |= static_cast<std::uint64_t>(all_[at + i]) << (8 * i);
    return x;
  }

 private:
  static std::string where(const std::string& path) {
    return path.empty() ? std::string() : "in '" + printable(path) + "': ";
  }

  core::ByteView all_;
  const ParseLimits& limits_;
  std::size_t values_ = 1;  // the top-level document; every element adds one
};
}  // namespace bson

}  // namespace

bool isValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = utf8Sequence(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

const char* protocolName(Protocol p) { return p == Protocol::Bson ? "bson" : "json"; }

std::optional<Protocol> parseProtocol(std::string_view name) {
  if (name == "json") return Protocol::Json;
  if (name == "bson") return Protocol::Bson;
  return std::nullopt;
}

Result<Value> parseJson(std::string_view text, const ParseLimits& limits) {
  if (text.size() > limits.maxBytes) {
    return bad("json: " + std::to_string(text.size()) + " bytes exceed the limit of " +
               std::to_string(limits.maxBytes));
  }
  // rapidjson's memory stream reads a NUL as the end of the input; a raw NUL is never valid JSON.
  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    return bad("json: NUL byte at offset " + std::to_string(nul));
  JsonBuilder builder(limits);
  // A plain memory stream: no byte-order mark is skipped (JSON.parse rejects one too).
  rapidjson::MemoryStream in(text.data(), text.size());
  rapidjson::Reader reader;
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult r = reader.Parse<kFlags | rapidjson::kParseIterativeFlag>(in, builder);
  if (r.IsError()) {
    std::string what = r.Code() == rapidjson::kParseErrorTermination && !builder.error().empty()
                           ? builder.error()
                           : std::string(rapidjson::GetParseError_En(r.Code()));
    return bad("json: " + what + " (offset " + std::to_string(r.Offset()) + ")");
  }
  return builder.takeRoot();
}

Result<Value> parseBson(core::ByteView document, const ParseLimits& limits) {
  const std::size_t size = document.size();
  if (size > limits.maxBytes) {
    return bad("bson: document of " + std::to_string(size) + " bytes exceeds the limit of " +
               std::to_string(limits.maxBytes));
  }
  if (size < bson::kMinDocument)
    return bad("bson: " + std::to_string(size) + " bytes are too short for a document (at least 5)");
  bson::Reader reader(document, limits);
  std::int32_t declared = reader.i32(0);
  if (declared < 0 || static_cast<std::size_t>(declared) != size) {
    return bad("bson: length field " + std::to_string(declared) + " does not match the " +
               std::to_string(size) + " bytes received");
  }
  if (document[size - 1] != 0) return bad("bson: document does not end with a 0 byte");
  if (limits.maxDepth < 1) return bad("bson: nesting deeper than 0 levels");
  if (limits.maxValues < 1) return bad("bson: more than 0 values");
  return reader.container(0, size, 1, std::string(), false);
}

Result<Value> parse(Protocol p, std::string_view bytes, const ParseLimits& limits) {
  if (p == Protocol::Bson) return parseBson(core::asBytes(bytes), limits);
  return parseJson(bytes, limits);
}

std::string renderJson(const Value& v) {
  std::string out;
  writeJson(out, v);
  return out;
}

std::string renderBson(const Value& v) {
  if (!v.isObject())
    throw std::logic_error(std::string("renderBson: the top level must be an object, not ") +
                           typeName(v.type()));
  std::string out;
  bson::writeDocument(out, v);
  return out;
}

std::string render(Protocol p, const Value& v) { return p == Protocol::Bson ? renderBson(v) : renderJson(v); }

}  // namespace sashimono::runtime
