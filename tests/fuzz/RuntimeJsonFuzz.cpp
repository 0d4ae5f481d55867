// libFuzzer target: runtime::parseJson on arbitrary text.
// Invariants: no crash/UB; every refusal carries the code bad_msg_format; a value it accepts renders
// (renderJson) to valid UTF-8 that parses back to an equal value and renders to the same text again;
// an accepted object also survives BSON: parseBson(renderBson(v)) == v (unless a key holds a NUL,
// which a BSON key cannot carry).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sashimono/runtime/Codec.h"

using namespace sashimono;
using namespace sashimono::runtime;

namespace {
[[noreturn]] void fail(const char* what, std::string_view a, const std::string& b) {
  std::fprintf(stderr, "%s\n  input:  %.*s\n  detail: %s\n", what, static_cast<int>(a.size()), a.data(),
               b.c_str());
  std::abort();
}

bool hasNulKey(const Value& v) {
  if (v.isArray()) {
    for (const auto& e : v.asArray())
      if (hasNulKey(e)) return true;
  } else if (v.isObject()) {
    for (const auto& [k, e] : v.asObject())
      if (k.find('\0') != std::string::npos || hasNulKey(e)) return true;
  }
  return false;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = parseJson(text);
  if (!v.ok()) {
    if (v.error().code != kBadMsgFormat) fail("error without bad_msg_format", text, v.error().message);
    return 0;
  }
  std::string rendered = renderJson(*v);
  if (!isValidUtf8(rendered)) fail("rendered JSON is not valid UTF-8", text, rendered);
  auto again = parseJson(rendered);
  if (!again.ok()) fail("rendered JSON does not parse", text, rendered + ": " + again.error().message);
  if (!(*again == *v)) fail("re-parsed value differs", text, rendered);
  if (renderJson(*again) != rendered) fail("rendering is not stable", text, rendered);
  if (v->isObject() && !hasNulKey(*v)) {
    std::string bson = renderBson(*v);
    auto b = parseBson(core::asBytes(bson));
    if (!b.ok()) fail("rendered BSON does not parse", text, b.error().message);
    if (!(*b == *v)) fail("BSON round trip differs", text, rendered);
  }
  return 0;
}
