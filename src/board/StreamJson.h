#pragma once
// JSON access for the stream parsers (Stream.cpp, ValidationStream.cpp): members that may be
// missing or of the wrong type, and the error for a malformed stream message.
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "sashimono/core/Result.h"

namespace sashimono::board::streamjson {

inline core::Error bad(const std::string& what) {
  return core::Error::withCode("badStream", "malformed stream message: " + what);
}

// The member `name` of `o`, or null (also when `o` is not an object).
inline const rapidjson::Value* member(const rapidjson::Value& o, const char* name) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(name);
  return it == o.MemberEnd() ? nullptr : &it->value;
}

inline std::optional<std::string_view> asStr(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string_view(v->GetString(), v->GetStringLength());
}

}  // namespace sashimono::board::streamjson
