#pragma once
// JSON and BSON for runtime::Value: the two encodings of Hot Pocket's user protocol after the
// handshake (sheet 2.3). Everything parsed here comes from strangers: parsing is strict and
// bounded (ParseLimits) and never crashes; every error says what and where, and carries the
// code kBadMsgFormat ("bad_msg_format", the rejection reason HP uses for unparseable messages).
//
// JSON (parseJson): any JSON value (RFC 8259), valid UTF-8 with no lone surrogates (also none
// from \u escapes), nothing but whitespace after it, no raw NUL byte. Integers that fit int64
// become Int; other integers and all numbers with a fraction or exponent become Double
// (correctly rounded; below the smallest subnormal → ±0 like JSON.parse; beyond the double range
// an error). Duplicate object keys are kept in order. Parsing is iterative (rapidjson SAX), so
// nesting never recurses on the stack; depth and value count are checked before a level is added.
//
// BSON (parseBson): exactly one document; its length field equals the buffer size. Accepted
// element types: double, string, document, array, binary (any subtype; subtype 2 has its inner
// length checked and stripped), bool, null, int32 and int64 (both → Int). Anything else
// (ObjectId, datetime, regex, timestamp, decimal128, …) is an error naming the type and key.
// Strings and keys must be valid UTF-8; array keys must be "0", "1", …
//
// Rendering never fails for a well-formed program: renderJson is compact JSON that JavaScript's
// JSON.parse accepts for any Value (strings holding invalid UTF-8 get U+FFFD per bad byte;
// doubles in their shortest round-trip form, integral ones with ".0" so they re-parse as Double;
// NaN/±inf → null; binary → lowercase hex string; raw JSON verbatim). renderBson writes
// Int as int64, Binary and RawJson as binary subtype 0; a NUL inside a key (impossible in BSON)
// becomes U+FFFD. Round trips: parseJson(renderJson(v)) == v for every v parseJson returned,
// and parseBson(renderBson(v)) == v for every v parseBson returned.
// Pure functions, thread-safe.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Value.h"

namespace sashimono::runtime {

inline constexpr const char* kBadMsgFormat = "bad_msg_format";

enum class Protocol { Json, Bson };
const char* protocolName(Protocol p);                          // "json" | "bson"
std::optional<Protocol> parseProtocol(std::string_view name);  // exactly "json" | "bson"

struct ParseLimits {
  std::size_t maxDepth = 32;         // nested arrays/objects; the top-level container counts 1
  std::size_t maxBytes = 16u << 20;  // size of the text / document
  std::size_t maxValues = 1u << 20;  // values in the whole tree (bounds memory per input byte)
};

[[nodiscard]] core::Result<Value> parseJson(std::string_view text, const ParseLimits& limits = {});
// One BSON document → an Object.
[[nodiscard]] core::Result<Value> parseBson(core::ByteView document, const ParseLimits& limits = {});
[[nodiscard]] core::Result<Value> parse(Protocol p, std::string_view bytes, const ParseLimits& limits = {});

std::string renderJson(const Value& v);
// The top level must be an Object: anything else throws std::logic_error (a bug in the caller).
std::string renderBson(const Value& v);
std::string render(Protocol p, const Value& v);

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool isValidUtf8(std::string_view s);

}  // namespace sashimono::runtime
