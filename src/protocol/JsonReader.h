#pragma once
// The strict JSON reader behind every payload parser (docs/PROTOCOL.md §4), internal to protocol/.
//
// openPayload checks the size, parses UTF-8 JSON with one object at the top, and checks "v";
// JsonObject hands out an object's members one by one, rejects duplicate keys when opened and
// unknown fields when finished. The field readers check JSON type, length, pattern and range.
// Every error names its field ("field 'config.env.FOO': …") and carries a Reason in Error::code
// (bad_payload unless said otherwise). Pure functions, thread-safe.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/protocol/Reason.h"

namespace sashimono::protocol::json {

using rapidjson::Value;

// A bad_payload error naming the field at `path`.
core::Error bad(const std::string& path, const std::string& what);

// A JSON object whose members are taken one by one; finish() rejects whatever was not taken.
class JsonObject {
 public:
  // An error if `v` is not an object or has a duplicate key; `path` names it in errors ("" for
  // the payload itself).
  static core::Result<JsonObject> open(const Value& v, std::string path);
  // The path of member `name`: "name" at the top, "path.name" below.
  [[nodiscard]] std::string at(std::string_view name) const;
  // The member, marked as read; nullptr when absent.
  const Value* take(std::string_view name);
  // The member, marked as read; an error ("missing") when absent.
  core::Result<const Value*> need(std::string_view name);
  // An error ("unknown field") naming the first member not taken.
  [[nodiscard]] core::Status finish() const;
  [[nodiscard]] const Value& value() const { return *v_; }

 private:
  JsonObject(const Value& v, std::string path);
  const Value* v_;
  std::string path_;
  std::vector<bool> used_;
};

// Parses `json` into `doc` and checks "v" (bad_payload, or unsupported_version when it is not
// kPayloadVersion). On success the returned object refers into `doc`, with "v" taken.
core::Result<JsonObject> openPayload(rapidjson::Document& doc, std::string_view json, std::size_t limit);

core::Result<std::string> asString(const Value& v, const std::string& path, std::size_t maxLen);
core::Result<std::string> getString(JsonObject& o, std::string_view name, std::size_t maxLen);

// Checks a string with a validator from Patterns.h, naming the field on failure.
template <typename Fn>
core::Status checkPattern(const std::string& path, std::string_view s, Fn&& validator) {
  auto st = validator(s);
  if (!st) return bad(path, st.error().message);
  return {};
}

// An integer in [min, max]; out of range is a `rangeReason` error.
core::Result<std::uint64_t> asUint(const Value& v, const std::string& path, std::uint64_t min,
                                   std::uint64_t max, Reason rangeReason = Reason::badPayload);
core::Result<std::uint64_t> getUint(JsonObject& o, std::string_view name, std::uint64_t min,
                                    std::uint64_t max);
core::Result<std::uint16_t> asPort(const Value& v, const std::string& path);

core::Result<crypto::Hash256> getHash(JsonObject& o, std::string_view name);
core::Result<Ed25519Key> asKey(const Value& v, const std::string& path);
core::Result<Ed25519Key> getKey(JsonObject& o, std::string_view name);
core::Result<std::optional<Ed25519Key>> getOptionalKey(JsonObject& o, std::string_view name);
core::Result<Drops> getDrops(JsonObject& o, std::string_view name, Drops min = 0);

// An array member (error if missing or not an array).
core::Result<const Value*> getArray(JsonObject& o, std::string_view name);

}  // namespace sashimono::protocol::json
