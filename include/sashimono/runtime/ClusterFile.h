#pragma once
// The cluster membership the host node hands an instance (docs/NODE.md): in a tenant the file
// /run/sashimono/cluster.json, replaced whole after every accepted `sashimono.cluster` request:
//   {"lease": "<hex id>", "members": [{"key": "ED…", "peer": "host:port"}, …]}
// `peer` is the member's peer endpoint: a name, an IPv4 literal or a bracketed IPv6 literal,
// then a port 1..65535. At most 64 members, distinct keys.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/PeerNetwork.h"

namespace sashimono::runtime {

inline constexpr std::size_t kMaxClusterMembers = 64;

struct ClusterMembership {
  std::string lease;
  std::vector<PeerAddress> members;  // in the file's order
  bool operator==(const ClusterMembership&) const = default;
};

// Errors name the source and the field ("cluster.json: members[2].peer: …").
core::Result<ClusterMembership> parseClusterFile(const std::string& json, const std::string& source);
// The owner's change of the consensus membership (an input, like a bundle upload):
// `kUnlInputPrefix` then JSON {"unl": ["ed<64 hex>", …], "threshold": P}, each field optional but
// not both: `unl` the whole new UNL, 1..kMaxClusterMembers distinct keys (sorted here);
// `threshold` patch.cfg's consensus.threshold, a percentage 1..100.
inline constexpr std::string_view kUnlInputPrefix = "sashimono.unl/1\n";
struct UnlChange {
  std::optional<std::vector<PubKey>> unl;
  std::optional<std::uint32_t> threshold;
};
core::Result<UnlChange> parseUnlChange(std::string_view json);

// "host:port" / "[v6]:port" → host (without brackets) and port.
core::Result<PeerAddress> parsePeerEndpoint(std::string_view text);
// The same endpoint written back ("[v6]:port" for an IPv6 host).
std::string endpointText(const PeerAddress& a);

// A contract's peer_changeset (fact sheet 3.6) on `current` (endpoints as endpointText writes
// them): {"type": "peer_changeset", "add": ["host:port", …], "remove": ["host:port", …] or "*"}
// ("add" required; "*" removes every endpoint first). The result is the new list, sorted, at most
// kMaxContractPeers; an endpoint that does not parse, a list over the limit or another message
// type is an error naming it, and changes nothing.
inline constexpr std::size_t kMaxContractPeers = 64;
core::Result<std::vector<std::string>> applyPeerChangeset(const std::vector<std::string>& current,
                                                          std::string_view json);

}  // namespace sashimono::runtime
