// BSON: the subset Hot Pocket's user protocol uses (Codec.h), parsed with explicit bounds and
// rendered with int64 integers and generic binary.
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

#include "CodecDetail.h"
#include "sashimono/runtime/Codec.h"

namespace sashimono::runtime {
namespace {
using core::Error;
using core::Result;
using detail::appendUtf8Sanitized;
using detail::bad;
using detail::printable;

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

std::string renderBson(const Value& v) {
  if (!v.isObject())
    throw std::logic_error(std::string("renderBson: the top level must be an object, not ") +
                           typeName(v.type()));
  std::string out;
  bson::writeDocument(out, v);
  return out;
}

}  // namespace sashimono::runtime
