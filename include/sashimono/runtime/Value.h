#pragma once
// Value: the encoding-neutral message tree of the Hot Pocket user protocol. The protocol layer
// reads what a client sent and builds what the server sends as Values; Codec.h turns them into
// JSON or BSON and back (sheet 2.3).
//
// A Value is one of: null, bool, a signed 64-bit integer, a double, a string (UTF-8 text),
// binary (raw bytes: lowercase hex in JSON, BSON binary subtype 0), raw JSON (pre-encoded JSON
// text that renderJson inserts verbatim; BSON binary of its bytes), an array, or an object.
// Objects keep their members in order and may hold duplicate keys (find() returns the first).
//
// Values are plain data: copyable, movable, no sharing. Not thread-safe for concurrent writes;
// concurrent reads of an unchanged Value are fine. Accessors for the wrong type (asInt() on a
// string, set() on an array, ...) throw std::logic_error: that is a bug in the caller, never a
// property of received data; check type() / find() first.
// Copy, comparison, destruction and rendering recurse once per nesting level, so trees are
// expected to be as shallow as the parsers allow (ParseLimits::maxDepth).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sashimono/core/Bytes.h"

namespace sashimono::runtime {

class Value;
using Array = std::vector<Value>;
using Object = std::vector<std::pair<std::string, Value>>;  // ordered; duplicates allowed

namespace detail {
struct RawJsonText {
  std::string text;
  friend bool operator==(const RawJsonText&, const RawJsonText&) = default;
};
}  // namespace detail

class Value {
 public:
  // The order matches the storage; do not reorder.
  enum class Type { Null, Bool, Int, Double, String, Binary, RawJson, Array, Object };

  Value() = default;                                           // null
  Value(std::nullptr_t) {}                                     // NOLINT(google-explicit-constructor) null
  Value(bool b) : data_(b) {}                                  // NOLINT(google-explicit-constructor)
  Value(int n) : data_(static_cast<std::int64_t>(n)) {}        // NOLINT
  Value(unsigned n) : data_(static_cast<std::int64_t>(n)) {}   // NOLINT
  Value(long n) : data_(static_cast<std::int64_t>(n)) {}       // NOLINT (std::int64_t)
  Value(long long n) : data_(static_cast<std::int64_t>(n)) {}  // NOLINT
  Value(unsigned long) = delete;                               // may exceed int64: use Value::uint()
  Value(unsigned long long) = delete;                          // may exceed int64: use Value::uint()
  Value(double d) : data_(d) {}                                // NOLINT
  Value(std::string s) : data_(std::move(s)) {}                // NOLINT
  Value(std::string_view s) : data_(std::string(s)) {}         // NOLINT
  Value(const char* s) : data_(std::string(s)) {}              // NOLINT (not null)
  Value(Array a) : data_(std::move(a)) {}                      // NOLINT
  Value(Object o) : data_(std::move(o)) {}                     // NOLINT

  // Int when n ≤ INT64_MAX, else the nearest Double.
  static Value uint(std::uint64_t n);
  static Value binary(core::Bytes bytes);
  static Value binary(core::ByteView bytes);
  // Pre-encoded JSON text. renderJson inserts it verbatim (the caller vouches for it);
  // renderBson writes its bytes as binary subtype 0.
  static Value rawJson(std::string json);

  [[nodiscard]] Type type() const { return static_cast<Type>(data_.index()); }
  [[nodiscard]] bool isNull() const { return type() == Type::Null; }
  [[nodiscard]] bool isBool() const { return type() == Type::Bool; }
  [[nodiscard]] bool isInt() const { return type() == Type::Int; }
  [[nodiscard]] bool isDouble() const { return type() == Type::Double; }
  [[nodiscard]] bool isNumber() const { return isInt() || isDouble(); }
  [[nodiscard]] bool isString() const { return type() == Type::String; }
  [[nodiscard]] bool isBinary() const { return type() == Type::Binary; }
  [[nodiscard]] bool isRawJson() const { return type() == Type::RawJson; }
  [[nodiscard]] bool isArray() const { return type() == Type::Array; }
  [[nodiscard]] bool isObject() const { return type() == Type::Object; }

  [[nodiscard]] bool asBool() const;
  [[nodiscard]] std::int64_t asInt() const;
  // A Double, or an Int converted to double.
  [[nodiscard]] double asDouble() const;
  [[nodiscard]] const std::string& asString() const;
  [[nodiscard]] std::string& asString();
  [[nodiscard]] const core::Bytes& asBinary() const;
  [[nodiscard]] core::Bytes& asBinary();
  [[nodiscard]] const std::string& asRawJson() const;
  [[nodiscard]] const Array& asArray() const;
  [[nodiscard]] Array& asArray();
  [[nodiscard]] const Object& asObject() const;
  [[nodiscard]] Object& asObject();

  // The first member named `key` of an object; nullptr when absent or when this is no object.
  [[nodiscard]] const Value* find(std::string_view key) const;
  [[nodiscard]] Value* find(std::string_view key);

  // Appends a member (object) or an element (array); a null Value first becomes an empty object /
  // array. Returns the value just added (like std::vector::emplace_back); the reference is
  // invalidated by the next set()/push() on the same container.
  Value& set(std::string key, Value v);
  Value& push(Value v);

  // Deep, type-strict equality (Int 1 != Double 1.0); doubles compare by value, NaN equals NaN.
  friend bool operator==(const Value& a, const Value& b);

 private:
  std::variant<std::monostate, bool, std::int64_t, double, std::string, core::Bytes, detail::RawJsonText,
               Array, Object>
      data_;
};

// "null", "bool", "int", "double", "string", "binary", "raw json", "array", "object".
const char* typeName(Value::Type t);

}  // namespace sashimono::runtime
