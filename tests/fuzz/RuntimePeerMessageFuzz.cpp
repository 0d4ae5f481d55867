// libFuzzer target: runtime::decodePeerMessage on arbitrary bytes (what a cluster peer sends on
// the peer port, docs/CLUSTER.md "Encoding").
// Invariants: no crash/UB and no allocation beyond the message's bounds; every refusal starts
// with "peer message: " or the name of the message type; a message that decodes passes
// checkPeerMessage, encodes back to exactly the same bytes (the encoding is canonical) and those
// decode again to an equal value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "FuzzFail.h"
#include "sashimono/runtime/PeerMessage.h"

using namespace sashimono;
using namespace sashimono::runtime;
using sashimono::fuzz::fail;

namespace {

bool knownPrefix(const std::string& message) {
  if (message.rfind("peer message: ", 0) == 0) return true;
  for (std::size_t t = 1; t <= kPeerTypeCount; ++t) {
    if (message.rfind(std::string(peerTypeName(static_cast<PeerType>(t))) + ": ", 0) == 0) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  core::ByteView in(data, size);
  auto m = decodePeerMessage(in);
  if (!m.ok()) {
    if (!knownPrefix(m.error().message)) fail("refusal without its prefix", in, m.error().message);
    return 0;
  }
  if (auto st = checkPeerMessage(*m); !st.ok())
    fail("an accepted message fails its checks", in, st.error().message);
  const core::Bytes bytes = encodePeerMessage(*m);
  if (!std::equal(bytes.begin(), bytes.end(), in.begin(), in.end()))
    fail("encoding is not canonical", in, core::toHexLower(bytes));
  auto again = decodePeerMessage(bytes);
  if (!again.ok()) fail("a re-encoded message does not decode", in, again.error().message);
  if (!(*again == *m)) fail("re-decoded message differs", in, peerTypeName(peerTypeOf(*m)));
  return 0;
}
