#pragma once
// One lease as the book keeps it, and as the node persists it (every field is needed to
// rebuild the book after a restart).
//
//   provisioning ──provisioned()──▶ active ──terminate / expiry──▶ ending ──destroyed()──▶ (gone)
//        └────────provisionFailed()─────────────────────────────────▶ ending
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::lease {

enum class LeaseState { provisioning, active, ending };
enum class EndCause { none, terminated, expired, provisioningFailed, orphan };
const char* leaseStateName(LeaseState s);  // "provisioning" | "active" | "ending"
const char* endCauseName(EndCause c);  // "none" | "terminated" | "expired" | "provisioning_failed" | "orphan"

// Cluster membership kept for an instance (the union of its cluster requests).
inline constexpr std::size_t kMaxClusterSize = 64;

struct Lease {
  crypto::Hash256 id{};  // the acquire's transaction hash
  crypto::AccountId owner{};
  protocol::Ed25519Key replyKey{};  // key *.ok replies are sealed to
  protocol::AcquireRequest request;
  protocol::Drops paid = 0;            // the acquire's amount
  protocol::Drops pricePerMoment = 0;  // fixed for the lease's life
  std::uint64_t momentSeconds = 0;     // fixed for the lease's life
  std::uint64_t initialMoments = 0;    // bought by the acquire
  std::uint64_t moments = 0;           // bought in total (acquire + extends)
  UnixSeconds acceptedAt = 0;
  UnixSeconds startedAt = 0;                       // when provisioned; 0 before
  UnixSeconds expiresAt = 0;                       // 0 before provisioned
  std::optional<protocol::InstanceInfo> instance;  // set when provisioned
  std::vector<protocol::ClusterMember> cluster;
  LeaseState state = LeaseState::provisioning;
  // Set when ending: why, and the reply owed once the instance is destroyed.
  EndCause endCause = EndCause::none;
  crypto::Hash256 endRequest{};                     // the terminate request (terminated)
  std::optional<protocol::Ed25519Key> endReplyKey;  // the terminate's own replyKey, if any
  std::uint64_t endMoments = 0;                     // unused moments refunded (terminated)
  protocol::Drops endRefund = 0;                    // refund owed (terminated: amount + unused; failed: paid)
  std::string endDetail;                            // provisioning failure detail
  bool operator==(const Lease&) const = default;
};

}  // namespace sashimono::lease
