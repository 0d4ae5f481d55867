#include "sashimono/runtime/Value.h"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace sashimono::runtime {
namespace {
[[noreturn]] void wrongType(const char* wanted, Value::Type have) {
  throw std::logic_error(std::string("runtime::Value: expected ") + wanted + ", have " + typeName(have));
}
}  // namespace

const char* typeName(Value::Type t) {
  switch (t) {
    case Value::Type::Null:
      return "null";
    case Value::Type::Bool:
      return "bool";
    case Value::Type::Int:
      return "int";
    case Value::Type::Double:
      return "double";
    case Value::Type::String:
      return "string";
    case Value::Type::Binary:
      return "binary";
    case Value::Type::RawJson:
      return "raw json";
    case Value::Type::Array:
      return "array";
    case Value::Type::Object:
      return "object";
  }
  return "unknown";
}

Value Value::uint(std::uint64_t n) {
  if (n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    return Value(static_cast<std::int64_t>(n));
  return Value(static_cast<double>(n));
}

Value Value::binary(core::Bytes bytes) {
  Value v;
  v.data_ = std::move(bytes);
  return v;
}

Value Value::binary(core::ByteView bytes) { return binary(core::Bytes(bytes.begin(), bytes.end())); }

Value Value::rawJson(std::string json) {
  Value v;
  v.data_ = detail::RawJsonText{std::move(json)};
  return v;
}

bool Value::asBool() const {
  if (!isBool()) wrongType("bool", type());
  return std::get<bool>(data_);
}

std::int64_t Value::asInt() const {
  if (!isInt()) wrongType("int", type());
  return std::get<std::int64_t>(data_);
}

double Value::asDouble() const {
  if (isInt()) return static_cast<double>(std::get<std::int64_t>(data_));
  if (!isDouble()) wrongType("double", type());
  return std::get<double>(data_);
}

const std::string& Value::asString() const {
  if (!isString()) wrongType("string", type());
  return std::get<std::string>(data_);
}

std::string& Value::asString() {
  if (!isString()) wrongType("string", type());
  return std::get<std::string>(data_);
}

const core::Bytes& Value::asBinary() const {
  if (!isBinary()) wrongType("binary", type());
  return std::get<core::Bytes>(data_);
}

core::Bytes& Value::asBinary() {
  if (!isBinary()) wrongType("binary", type());
  return std::get<core::Bytes>(data_);
}

const std::string& Value::asRawJson() const {
  if (!isRawJson()) wrongType("raw json", type());
  return std::get<detail::RawJsonText>(data_).text;
}

const Array& Value::asArray() const {
  if (!isArray()) wrongType("array", type());
  return std::get<Array>(data_);
}

Array& Value::asArray() {
  if (!isArray()) wrongType("array", type());
  return std::get<Array>(data_);
}

const Object& Value::asObject() const {
  if (!isObject()) wrongType("object", type());
  return std::get<Object>(data_);
}

Object& Value::asObject() {
  if (!isObject()) wrongType("object", type());
  return std::get<Object>(data_);
}

const Value* Value::find(std::string_view key) const {
  if (!isObject()) return nullptr;
  for (const auto& [k, v] : std::get<Object>(data_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

Value& Value::set(std::string key, Value v) {
  if (isNull()) data_ = Object{};
  if (!isObject()) wrongType("object (set)", type());
  auto& o = std::get<Object>(data_);
  o.emplace_back(std::move(key), std::move(v));
  return o.back().second;
}

Value& Value::push(Value v) {
  if (isNull()) data_ = Array{};
  if (!isArray()) wrongType("array (push)", type());
  auto& a = std::get<Array>(data_);
  a.push_back(std::move(v));
  return a.back();
}

bool operator==(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  if (a.isDouble()) {
    double x = std::get<double>(a.data_);
    double y = std::get<double>(b.data_);
    return x == y || (std::isnan(x) && std::isnan(y));
  }
  // Same alternative: variant compares it; Array/Object recurse into this operator.
  return a.data_ == b.data_;
}

}  // namespace sashimono::runtime
