#pragma once
// How `lease` and `hosts` print: each answer is one JSON object (--json) or its members one per
// line ("key: value").
#include <cstdint>
#include <string>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/client/Replies.h"

namespace sashimono::cli {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void putStr(JsonWriter& w, const char* key, const std::string& v);
void putU64(JsonWriter& w, const char* key, std::uint64_t v);

// A reply as one JSON object: type, reply_hash, host_account, amount, result and its fields.
[[nodiscard]] std::string replyJson(const client::Reply& r);

// Prints a JSON object's members one per line ("key: value").
void printText(const std::string& json);

// Prints `json` as it is (--json) or as text.
void printAnswer(const std::string& json, bool asJson);

}  // namespace sashimono::cli
