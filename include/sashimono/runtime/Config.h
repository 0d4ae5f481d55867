#pragma once
// The runtime's configuration, in two files.
//
// instance.json — written by the host node at provisioning (or by `sashimono dev`), read-only for
// the runtime, never readable by the contract: who the instance is and what the host allows.
//   {"contract_id": "…", "owner": "ed…", "key_file": "instance.key", "unl": ["ed…"],
//    "user": {"listen": "0.0.0.0", "port": 8080, "tls": "self-signed"|"files"|"off",
//             "cert_file": "…", "key_file": "…", "max_connections": 256, "max_connections_per_host": 32,
//             "max_bytes_per_msg": 10485760, "max_bytes_per_min": 67108864, "max_bad_msgs_per_min": 30,
//             "concurrent_read_requests": 4, "idle_timeout_ms": 120000},
//    "contract": {"roundtime_ms": 1000, "environment": {"K": "V"}, "log_level": "info"},
//    "round_limits": {"user_input_bytes": …, "user_output_bytes": …, "npl_output_bytes": …,
//                     "proc_cpu_seconds": …, "proc_mem_bytes": …, "proc_ofd_count": …,
//                     "proc_count": …, "exec_timeout": …},
//    "run_as": {"uid": 1000, "gid": 1000}, "log": {"max_bytes_per_file": 5242880, "max_files": 10},
//    "statefs_control": "/run/statefs/statefs.sock", "statefs_views": "/run/views",
//    "peer": {"listen": "0.0.0.0", "port": 22860}, "cluster_file": "/run/sashimono/cluster.json"}
//   statefs_control: the state filesystem's control socket (a tenant; absolute): each round runs
//   between its `begin` and `commit` (or `rollback`), and the state hash is the commit's root.
//   Without it the runtime hashes the contract fs itself.
//   statefs_views: where the state filesystem's read-only views are (absolute; needs
//   statefs_control): a read request runs on the view `view open` answers. Without it (or when
//   views turn out to be unavailable) reads run on the contract fs remounted read-only.
//   peer: the peer port of a cluster member (docs/CLUSTER.md); absent: none (a cluster of one);
//   port 0 picks a free one. cluster_file: the membership the node hands the instance
//   (ClusterFile.h), watched while the instance runs; absent or empty: none.
//   key_file holds the instance's private key as Hot Pocket writes it ("ed" + 128 hex).
//   round_limits are the host's ceilings (0 = none): a contract may ask for less, never more.
//
// patch.cfg — the contract's own settings, Hot Pocket's format (fact sheet 3.7), a sibling of
// the state directory; the contract may rewrite it (hotpocket-nodejs-contract's updateConfig).
// Our additions live in "sashimono":
//   {"periodic_rounds": false, "expose_private_key": false, "busy_round_ms": 50}.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/Ledger.h"

namespace sashimono::runtime {

struct RoundLimits {
  std::uint64_t userInputBytes = 0;
  std::uint64_t userOutputBytes = 0;
  std::uint64_t nplOutputBytes = 0;
  std::uint64_t procCpuSeconds = 0;
  std::uint64_t procMemBytes = 0;
  std::uint64_t procOfdCount = 0;
  std::uint64_t procCount = 0;  // ours: RLIMIT_NPROC for the contract (not in Hot Pocket)
  std::uint64_t execTimeoutMs = 300000;
  bool operator==(const RoundLimits&) const = default;
};

// Each limit of `asked` capped by the host's `ceiling` (0 = no limit on either side).
RoundLimits capLimits(const RoundLimits& asked, const RoundLimits& ceiling);

struct UserPortConfig {
  std::string listen = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string tls = "self-signed";  // self-signed | files | off
  std::string certFile, keyFile;    // tls = files
  std::size_t maxConnections = 256;
  std::size_t maxConnectionsPerHost = 32;
  std::size_t maxBytesPerMsg = 10u << 20;
  std::uint64_t maxBytesPerMin = 64ull << 20;
  std::uint64_t maxBadMsgsPerMin = 30;
  std::size_t concurrentReadRequests = 4;
  std::uint64_t idleTimeoutMs = 120000;
};

struct PeerPortConfig {
  bool enabled = false;
  std::string listen = "0.0.0.0";
  std::uint16_t port = 0;
};

struct InstanceConfig {
  std::string contractId;
  std::optional<PubKey> owner;
  std::string keyFile;  // absolute after load
  std::vector<PubKey> unl;
  UserPortConfig user;
  std::uint64_t roundTimeMs = 1000;
  std::vector<std::pair<std::string, std::string>> environment;
  std::string logLevel = "info";
  RoundLimits roundLimits;  // host ceilings
  std::optional<std::pair<uid_t, gid_t>> runAs;
  std::string statefsControl;  // absolute path of the statefs control socket; empty: none
  std::string statefsViews;    // absolute path of the statefs views mount; empty: none
  std::uint64_t logMaxBytesPerFile = 5u << 20;
  std::uint64_t logMaxFiles = 10;
  PeerPortConfig peer;
  std::string clusterFile;  // absolute path; empty: none
};

core::Result<InstanceConfig> loadInstanceConfig(const std::string& path);
core::Result<InstanceConfig> parseInstanceConfig(const std::string& json, const std::string& source,
                                                 const std::string& baseDir);
std::string renderInstanceConfig(const InstanceConfig& c);

struct ContractConfig {
  std::string version = "1.0";
  std::vector<PubKey> unl;
  std::string binPath;  // empty: no contract deployed (the bootstrap contract runs)
  std::string binArgs;
  std::vector<std::pair<std::string, std::string>> environment;
  std::uint64_t maxInputLedgerOffset = 10;
  std::string consensusMode = "public";
  std::uint64_t roundTimeMs = 1000;
  std::uint64_t stageSlice = 25;
  std::uint64_t threshold = 80;
  std::string nplMode = "public";
  RoundLimits roundLimits;
  bool periodicRounds = false;
  bool exposePrivateKey = false;
  // While inputs keep waiting, rounds start at most this often (docs/RUNTIME.md, Rounds): a
  // client's max_ledger_seq_no window (lcl + 10) then spans at least 10 × this under load.
  std::uint64_t busyRoundMs = 50;
};

// Parses patch.cfg text; errors name the field. Unknown fields are kept out of the struct
// but tolerated (a contract's own tooling may add some).
core::Result<ContractConfig> parseContractConfig(const std::string& json, const std::string& source);
// Hot Pocket's layout, 4-space indent.
std::string renderContractConfig(const ContractConfig& c);

}  // namespace sashimono::runtime
