#pragma once
// The cluster file `sashimono cluster create` writes and the other `cluster` verbs read
// (docs/CLUSTER-CLI.md): the contract, the owner, and per member its lease, host and endpoints.
//   {"version":1,"contract_id":"…","image":"hotpocket","account":"r…","owner":"ED…",
//    "registry":"r…","members":[{"lease_id":"<64 hex>","host_account":"r…","host":"127.0.0.1",
//    "instance_key":"ED…","user_port":26000,"peer_port":22000,"expiry":1700000000,
//    "user_url":"wss://127.0.0.1:26000","peer":"127.0.0.1:22000"},…]}
// user_url and peer are derived (written for people and scripts, recomputed when read).
// Also the owner's UNL-change input (unlChangeInput). Pure functions and values.
#include <cstdint>
#include <string>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::cli {

struct ClusterMemberInfo {
  std::string leaseId;      // 64 hex, upper case
  std::string hostAccount;  // the host's r-address
  std::string host;         // where the instance runs (the acquire reply's host)
  protocol::Ed25519Key instanceKey{};
  std::uint16_t userPort = 0;
  std::uint16_t peerPort = 0;
  std::uint64_t expiry = 0;  // Unix seconds, from the last acquire or extend reply

  [[nodiscard]] std::string userUrl() const;  // wss://host:userPort (an IPv6 host in brackets)
  [[nodiscard]] std::string peer() const;     // host:peerPort, as sashimono.cluster names it
  [[nodiscard]] protocol::ClusterMember member() const { return {instanceKey, peer()}; }
};

struct ClusterDescription {
  std::string contractId;
  std::string image;
  std::string account;   // the paying account
  std::string owner;     // "ED…": the owner (reply) key of every instance
  std::string registry;  // where the hosts were found; may be empty
  std::vector<ClusterMemberInfo> members;

  // The members' sashimono.cluster entries, in order.
  [[nodiscard]] std::vector<protocol::ClusterMember> membership() const;
  // The index of the member with lease `leaseId` (any case), or members.size().
  [[nodiscard]] std::size_t find(const std::string& leaseId) const;
};

// The description as one JSON object (no newline).
[[nodiscard]] std::string renderCluster(const ClusterDescription& c);
// Errors name `source` and the field.
[[nodiscard]] core::Result<ClusterDescription> parseCluster(const std::string& json,
                                                            const std::string& source);
[[nodiscard]] core::Result<ClusterDescription> readClusterFile(const std::string& path);
// Replaces `path` atomically (temp file + rename), mode 0644.
[[nodiscard]] core::Status writeClusterFile(const std::string& path, const ClusterDescription& c);

// The owner's input that replaces the cluster's UNL from the next round on (the runtime's side:
// docs/CLUSTER.md): "sashimono.unl/1\n" then {"unl":["ed<64 hex>",…]}, the whole new UNL, sorted,
// lower case. The one place this encoding is written.
[[nodiscard]] core::Bytes unlChangeInput(const std::vector<protocol::Ed25519Key>& unl);

}  // namespace sashimono::cli
