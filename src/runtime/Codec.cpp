#include "sashimono/runtime/Codec.h"

#include "CodecDetail.h"

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
namespace detail {

core::Error bad(std::string message) { return core::Error::withCode(kBadMsgFormat, std::move(message)); }

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

}  // namespace detail

namespace {
using core::Error;
using core::Result;
using detail::appendUtf8Sanitized;
using detail::bad;
using detail::kReplacement;
using detail::printable;
using detail::utf8Sequence;

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

Result<Value> parse(Protocol p, std::string_view bytes, const ParseLimits& limits) {
  if (p == Protocol::Bson) return parseBson(core::asBytes(bytes), limits);
  return parseJson(bytes, limits);
}

std::string renderJson(const Value& v) {
  std::string out;
  writeJson(out, v);
  return out;
}

std::string render(Protocol p, const Value& v) { return p == Protocol::Bson ? renderBson(v) : renderJson(v); }

}  // namespace sashimono::runtime
