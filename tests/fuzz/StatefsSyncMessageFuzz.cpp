// libFuzzer target: statefs::decodeSyncRequest and decodeSyncResponse on arbitrary bytes (the
// messages a peer sends during a state sync).
// Invariants: no crash/UB and no allocation beyond the message's bounds; every refusal says
// "sync message: …"; a message either decoder accepts encodes back to exactly the same bytes
// (the encoding is canonical), which decode again to an equal value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "FuzzFail.h"
#include "sashimono/statefs/SyncMessage.h"

using namespace sashimono;
using namespace sashimono::statefs;
using sashimono::fuzz::fail;

namespace {

template <typename Decode, typename Encode>
void check(core::ByteView in, Decode decode, Encode encode, const char* kind) {
  auto v = decode(in);
  if (!v.ok()) {
    if (v.error().message.rfind("sync message: ", 0) != 0)
      fail("refusal without its prefix", in, v.error().message);
    return;
  }
  auto bytes = encode(*v);
  if (!bytes.ok())
    fail("an accepted message does not encode", in, std::string(kind) + ": " + bytes.error().message);
  if (!std::equal(bytes->begin(), bytes->end(), in.begin(), in.end()))
    fail("encoding is not canonical", in, std::string(kind) + ": " + core::toHexLower(*bytes));
  auto again = decode(*bytes);
  if (!again.ok() || !(*again == *v)) fail("re-decoded message differs", in, kind);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  core::ByteView in(data, size);
  check(in, decodeSyncRequest, encodeSyncRequest, "request");
  check(in, decodeSyncResponse, encodeSyncResponse, "response");
  return 0;
}
