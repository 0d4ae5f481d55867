#include "sashimono/runtime/InputContainer.h"

#include <cmath>
#include <string>
#include <string_view>

namespace sashimono::runtime {
namespace {
using core::Error;
using core::Result;

Error bad(const std::string& what) { return Error::withCode(kBadMsgFormat, "input container: " + what); }

// The one member named `name`: an error when it is missing or repeated.
Result<const Value*> field(const Object& o, std::string_view name) {
  const Value* found = nullptr;
  for (const auto& [k, v] : o) {
    if (k != name) continue;
    if (found != nullptr) return bad("field '" + std::string(name) + "': duplicate key");
    found = &v;
  }
  if (found == nullptr) return bad("field '" + std::string(name) + "': missing");
  return found;
}

Result<std::uint64_t> integer(const Object& o, std::string_view name, std::int64_t min) {
  auto v = field(o, name);
  if (!v) return v.error();
  const Value& x = **v;
  if (x.isDouble() && x.asDouble() >= 9223372036854775808.0 && std::floor(x.asDouble()) == x.asDouble())
    return bad("field '" + std::string(name) + "': out of range (at most 9223372036854775807)");
  if (!x.isInt()) {
    return bad("field '" + std::string(name) + "': expected an integer, got " + typeName(x.type()));
  }
  if (x.asInt() < min) {
    return bad("field '" + std::string(name) + "': " + std::to_string(x.asInt()) + " is below " +
               std::to_string(min));
  }
  return static_cast<std::uint64_t>(x.asInt());
}

}  // namespace

Result<InputContainer> parseInputContainer(Protocol p, core::ByteView container, const ParseLimits& limits) {
  auto parsed = parse(p, core::asString(container), limits);
  if (!parsed) return parsed.error().context("input container");
  const Value& root = *parsed;
  if (!root.isObject()) return bad(std::string("expected an object, got ") + typeName(root.type()));
  const Object& o = root.asObject();

  InputContainer c;
  auto input = field(o, "input");
  if (!input) return input.error();
  const Value& in = **input;
  if (in.isString()) {
    c.input = core::Bytes(in.asString().begin(), in.asString().end());
  } else if (p == Protocol::Bson && in.isBinary()) {
    c.input = in.asBinary();
  } else {
    return bad(std::string("field 'input': expected ") +
               (p == Protocol::Bson ? "binary or a string" : "a string") + ", got " + typeName(in.type()));
  }
  auto nonce = integer(o, "nonce", 1);
  if (!nonce) return nonce.error();
  c.nonce = *nonce;
  auto maxLedger = integer(o, "max_ledger_seq_no", 0);
  if (!maxLedger) return maxLedger.error();
  c.maxLedgerSeqNo = *maxLedger;
  return c;
}

}  // namespace sashimono::runtime
