// libFuzzer target: runtime::parseBson on arbitrary bytes.
// Invariants: no crash/UB; every refusal carries the code bad_msg_format; a document it accepts
// renders (renderBson) to bytes that parse back to an equal value and render to the same bytes
// again (canonical from then on); its JSON rendering is valid UTF-8 that parseJson accepts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "FuzzFail.h"
#include "sashimono/runtime/Codec.h"

using namespace sashimono;
using namespace sashimono::runtime;
using sashimono::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  core::ByteView in(data, size);
  auto v = parseBson(in);
  if (!v.ok()) {
    if (v.error().code != kBadMsgFormat) fail("error without bad_msg_format", in, v.error().message);
    return 0;
  }
  if (!v->isObject()) fail("a document parsed to a non-object", in, "");
  std::string bytes = renderBson(*v);
  auto again = parseBson(core::asBytes(bytes));
  if (!again.ok()) fail("rendered BSON does not parse", in, again.error().message);
  if (!(*again == *v)) fail("re-parsed value differs", in, core::toHexLower(core::asBytes(bytes)));
  if (renderBson(*again) != bytes)
    fail("rendering is not stable", in, core::toHexLower(core::asBytes(bytes)));
  std::string json = renderJson(*v);
  if (!isValidUtf8(json)) fail("rendered JSON is not valid UTF-8", in, json);
  auto j = parseJson(json);
  if (!j.ok()) fail("rendered JSON does not parse", in, json + ": " + j.error().message);
  return 0;
}
