#pragma once
// Decisions as data: what the node must do after the book decided, in order. The node
// commits a Decision (with the lease changes) before it acts on any of its actions, acts on
// them in order, and reports each completion back (Book::provisioned / provisionFailed /
// reprovisioned / destroyed), whose Decision is committed and acted on in turn. Every action
// is safe to act on again after a crash (idempotent by lease id or by request id).
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sashimono/crypto/Hash.h"
#include "sashimono/lease/Lease.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::lease {

// Create the instance for a lease; report with provisioned() or provisionFailed(), or, when
// `again` (an active lease whose instance went missing: reconcile), with reprovisioned().
struct Provision {
  crypto::Hash256 leaseId{};
  crypto::AccountId owner{};
  protocol::AcquireRequest request;
  bool again = false;
  bool operator==(const Provision&) const = default;
};

// Remove the instance and everything it holds; report with destroyed() (also for orphans,
// where destroyed() is a no-op).
struct Destroy {
  crypto::Hash256 leaseId{};
  EndCause cause = EndCause::none;
  bool operator==(const Destroy&) const = default;
};

// Hand the instance its full, current cluster membership (retry until it succeeds).
struct DeliverCluster {
  crypto::Hash256 leaseId{};
  std::vector<protocol::ClusterMember> members;
  bool operator==(const DeliverCluster&) const = default;
};

// Send a Payment from the host account to `to` with one memo of `type` carrying `message`
// (sealed to `sealTo` when set, which it is exactly for the *.ok types). `amount` is the
// payment: the refund, or 1 drop when there is none. A refund is always carried by a reply.
struct Reply {
  crypto::AccountId to{};
  crypto::Hash256 answers{};  // the request's hash, or the lease id for sashimono.expired
  protocol::MessageType type = protocol::MessageType::error;
  protocol::Message message;
  std::optional<protocol::Ed25519Key> sealTo;
  ledger::Amount amount;                   // what the payment carries
  protocol::Drops refund = 0;              // the XRP refunded (0 when none, or an issued refund)
  std::optional<protocol::Reason> reason;  // for error replies
};

using Action = std::variant<Provision, Destroy, DeliverCluster, Reply>;

struct Decision {
  bool duplicate = false;                  // already handled: nothing to do, nothing to record
  std::optional<crypto::Hash256> handled;  // the request this decision answers, to record as handled
  std::vector<Lease> upserts;              // leases created or changed: persist
  std::vector<crypto::Hash256> removed;    // leases gone: delete
  std::vector<Action> actions;
  std::vector<std::string> warnings;  // for the owner's log (the book itself does not log)
};

}  // namespace sashimono::lease
