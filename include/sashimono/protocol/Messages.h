#pragma once
// The typed payloads of every Sashimono message (docs/PROTOCOL.md §5–§6). Plain values;
// parsing and rendering are in Payload.h. A value produced by a successful parse satisfies
// every pattern and bound of the protocol, so the host can use its strings directly.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sashimono/crypto/Hash.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/protocol/Reason.h"

namespace sashimono::protocol {

// Integers in payloads stay below 2^53 so that JavaScript clients read them exactly.
inline constexpr std::uint64_t kMaxJsonInteger = (1ULL << 53) - 1;

enum class LogLevel { debug, info, warn, error };
std::string_view logLevelName(LogLevel l);  // "debug" | "info" | "warn" | "error"

struct EnvVar {
  std::string key;    // validateEnvKey
  std::string value;  // validateEnvValue
  bool operator==(const EnvVar&) const = default;
};

// Absolute bounds of the tenant config; a host narrows them with HostPolicy (Verdict.h).
inline constexpr std::uint32_t kMinRoundtimeMs = 1;
inline constexpr std::uint32_t kMaxRoundtimeMs = 3'600'000;
inline constexpr std::uint32_t kDefaultRoundtimeMs = 1000;
inline constexpr std::size_t kMaxEnvVars = 16;

struct TenantConfig {
  std::uint32_t roundtimeMs = kDefaultRoundtimeMs;  // consensus round time handed to the runtime
  LogLevel logLevel = LogLevel::info;
  std::vector<EnvVar> env;  // distinct keys, in the order given; at most kMaxEnvVars
  bool operator==(const TenantConfig&) const = default;
};

// ---- Requests (tenant → host, sealed) ----

struct AcquireRequest {
  std::string contractId;              // validateContractId
  std::string image;                   // validateImageName
  Ed25519Key owner{};                  // the instance owner's (HotPocket user) key
  std::optional<Ed25519Key> replyKey;  // key to seal replies to; required for secp256k1 accounts
  TenantConfig config;
  bool operator==(const AcquireRequest&) const = default;
};

struct ExtendRequest {
  crypto::Hash256 leaseId{};
  std::optional<Ed25519Key> replyKey;
  bool operator==(const ExtendRequest&) const = default;
};

struct TerminateRequest {
  crypto::Hash256 leaseId{};
  std::optional<Ed25519Key> replyKey;
  bool operator==(const TerminateRequest&) const = default;
};

inline constexpr std::size_t kMaxClusterMembers = 16;
struct ClusterMember {
  Ed25519Key pubkey{};  // the peer instance's key
  std::string peer;     // validateEndpoint
  bool operator==(const ClusterMember&) const = default;
};
enum class ClusterMode { replace, add };
struct ClusterRequest {
  crypto::Hash256 leaseId{};
  ClusterMode mode = ClusterMode::replace;
  std::vector<ClusterMember> members;  // 1..kMaxClusterMembers, distinct keys
  std::optional<Ed25519Key> replyKey;
  bool operator==(const ClusterRequest&) const = default;
};

// ---- Replies (host → tenant) ----

inline constexpr std::size_t kMaxGeneralPorts = 4;
struct InstanceInfo {
  Ed25519Key pubkey{};               // the instance's key
  std::string host;                  // validateHost: where the instance runs
  std::uint16_t userPort = 0;        // HotPocket user protocol
  std::uint16_t peerPort = 0;        // peer protocol between cluster members
  std::vector<std::uint16_t> ports;  // general ports, 0..kMaxGeneralPorts
  bool operator==(const InstanceInfo&) const = default;
};

struct AcquireOk {            // sealed
  crypto::Hash256 request{};  // == leaseId
  crypto::Hash256 leaseId{};
  InstanceInfo instance;
  std::uint64_t moments = 0;        // moments bought
  std::uint64_t momentSeconds = 0;  // the lease's moment length
  std::uint64_t expiry = 0;         // Unix seconds
  Drops price = 0;                  // the lease's price per moment
  Drops refund = 0;                 // remainder returned with this reply
  bool operator==(const AcquireOk&) const = default;
};

struct ExtendOk {  // sealed
  crypto::Hash256 request{};
  crypto::Hash256 leaseId{};
  std::uint64_t moments = 0;  // moments added
  std::uint64_t expiry = 0;   // new expiry, Unix seconds
  Drops refund = 0;
  bool operator==(const ExtendOk&) const = default;
};

struct TerminateOk {  // sealed
  crypto::Hash256 request{};
  crypto::Hash256 leaseId{};
  std::uint64_t moments = 0;  // unused whole moments refunded
  Drops refund = 0;           // request amount + moments × price
  bool operator==(const TerminateOk&) const = default;
};

struct ClusterOk {  // sealed
  crypto::Hash256 request{};
  crypto::Hash256 leaseId{};
  std::uint64_t members = 0;  // members the instance now knows
  bool operator==(const ClusterOk&) const = default;
};

// *.error and sashimono.error (plain JSON).
struct ErrorReply {
  crypto::Hash256 request{};
  std::optional<crypto::Hash256> leaseId;
  Reason reason = Reason::badPayload;
  std::string detail;  // validateDetail
  Drops refund = 0;    // XRP returned with this reply (0 when the refund is an issued amount)
  bool operator==(const ErrorReply&) const = default;
};

struct ExpiredNotice {  // plain JSON
  crypto::Hash256 leaseId{};
  std::uint64_t expiredAt = 0;  // Unix seconds: the lease's expiry
  bool operator==(const ExpiredNotice&) const = default;
};

// ---- Announcement (host → registry, plain JSON) ----

inline constexpr std::size_t kMaxAnnouncedImages = 8;
struct HostAnnouncement {
  std::string version;          // validateVersionString: the host software's version
  Ed25519Key key{};             // the host account's ed25519 key: requests are sealed to it
  std::string host;             // validateHost: domain or address announced to tenants
  std::uint64_t instances = 0;  // total instance slots
  std::uint64_t free = 0;       // free slots (≤ instances)
  std::uint64_t cpuMillis = 0;  // per instance: CPU in thousandths of a core
  std::uint64_t memoryMiB = 0;
  std::uint64_t swapMiB = 0;
  std::uint64_t diskMiB = 0;
  Drops price = 0;                     // per moment, ≥ 1
  std::uint64_t momentSeconds = 0;     // ≥ 1
  std::uint64_t maxMoments = 0;        // ≥ 1: most moments a lease can hold ahead
  std::vector<std::string> images;     // 1..kMaxAnnouncedImages image names
  std::uint64_t heartbeatSeconds = 0;  // ≥ 1: the next announcement comes within this
  std::uint64_t time = 0;              // Unix seconds when sent
  bool operator==(const HostAnnouncement&) const = default;
};

using Message = std::variant<AcquireRequest, ExtendRequest, TerminateRequest, ClusterRequest, AcquireOk,
                             ExtendOk, TerminateOk, ClusterOk, ErrorReply, ExpiredNotice, HostAnnouncement>;

}  // namespace sashimono::protocol
