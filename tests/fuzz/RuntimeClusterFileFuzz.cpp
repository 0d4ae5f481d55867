// libFuzzer target: the JSON a cluster member's runtime takes from others than its users' wire
// protocol (docs/CLUSTER.md): the host's membership file (parseClusterFile), the owner's consensus
// change (parseUnlChange, an input's text) and a contract's peer_changeset (applyPeerChangeset).
// The first byte picks the parser, the rest is its text.
// Invariants: no crash/UB; a membership has at most 64 members, distinct keys and valid endpoints;
// a consensus change names a UNL (1..64 sorted distinct keys) or a threshold (1..100) or both; a
// changeset's result is sorted, distinct, at most 64 endpoints that parse and write back as they
// are; applying the same changeset to its own result changes nothing more when it only adds.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>

#include "FuzzFail.h"
#include "sashimono/runtime/ClusterFile.h"

using namespace sashimono;
using namespace sashimono::runtime;
using sashimono::fuzz::fail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  core::ByteView in(data, size);
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto m = parseClusterFile(text, "cluster.json");
      if (!m.ok()) {
        if (m.error().message.rfind("cluster.json", 0) != 0)
          fail("error without its source", in, m.error().message);
        return 0;
      }
      if (m->members.size() > kMaxClusterMembers)
        fail("too many members", in, std::to_string(m->members.size()));
      std::set<PubKey> keys;
      for (const auto& a : m->members) {
        if (!keys.insert(a.key).second) fail("a key twice", in, core::toHexLower(a.key));
        auto again = parsePeerEndpoint(endpointText(a));
        if (!again.ok() || again->host != a.host || again->port != a.port)
          fail("an endpoint does not write back", in, endpointText(a));
      }
      return 0;
    }
    case 1: {
      auto c = parseUnlChange(text);
      if (!c.ok()) return 0;
      if (!c->unl && !c->threshold) fail("a change of nothing", in, "");
      if (c->threshold && (*c->threshold < 1 || *c->threshold > 100))
        fail("threshold out of range", in, std::to_string(*c->threshold));
      if (c->unl) {
        if (c->unl->empty() || c->unl->size() > kMaxClusterMembers)
          fail("UNL size", in, std::to_string(c->unl->size()));
        if (!std::is_sorted(c->unl->begin(), c->unl->end()) ||
            std::adjacent_find(c->unl->begin(), c->unl->end()) != c->unl->end())
          fail("UNL not sorted and distinct", in, "");
      }
      return 0;
    }
    default: {
      const std::vector<std::string> start{"10.0.0.1:22860", "h:1"};
      auto r = applyPeerChangeset(start, text);
      if (!r.ok()) return 0;
      if (r->size() > kMaxContractPeers) fail("too many peers", in, std::to_string(r->size()));
      if (!std::is_sorted(r->begin(), r->end()) || std::adjacent_find(r->begin(), r->end()) != r->end())
        fail("peers not sorted and distinct", in, "");
      for (const auto& e : *r) {
        auto a = parsePeerEndpoint(e);
        if (!a.ok() || endpointText(*a) != e) fail("a peer does not write back", in, e);
      }
      return 0;
    }
  }
}
