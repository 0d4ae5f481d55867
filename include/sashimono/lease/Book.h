#pragma once
// The lease book: capacity accounting, the lease state machine and the lease policy (what to
// redo after a restart or a failure), as pure logic. It is the "decide" stage of the node's
// request path (docs/NODE.md): admit → classify → decide → commit → act → reply.
//
// Feed it verdicts (protocol::classify) and completions; it answers with Decisions (Action.h).
// Requests are decided in BookRequests.cpp, completions and the policy in Book.cpp.
// A slot is taken from the moment an acquire is accepted until destroyed() confirms its
// instance is gone, so capacity never exceeds what may actually be provisioned.
//
// Idempotence: a request id decided before (decide) and a completion that does not match the
// lease's state (provisioned twice, destroyed twice) yield a Decision with duplicate = true and
// no actions. Restore the handled request ids at start-up for this to hold across restarts.
//
// Time comes from the injected Clock, read once per call. A lease is live while
// now < expiresAt; tick() ends the others.
//
// Not thread-safe: one owner (the node's lease strand) calls it.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/lease/Action.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/lease/Lease.h"
#include "sashimono/lease/Offer.h"
#include "sashimono/protocol/Verdict.h"

namespace sashimono::lease {

// What reconcile() found when comparing the book with the provisioner at start-up.
struct DriftReport {
  std::vector<crypto::Hash256> orphans;  // provisioned, but no live lease: destroy
  std::vector<crypto::Hash256> missing;  // active lease without an instance: provision again
  std::uint64_t overcommitted = 0;       // live leases beyond the offer's slots (offer shrank)
  std::vector<Action> actions;           // Destroy(orphan) for orphans, Provision{again} for missing
  [[nodiscard]] bool clean() const { return orphans.empty() && missing.empty() && overcommitted == 0; }
};

// What is still owed, at start-up and on every tick: the one retry rule of the node.
struct Unfinished {
  // Provision for provisioning leases (interrupted), Destroy for ending ones (interrupted or
  // failed), DeliverCluster for every pending delivery to an active lease.
  std::vector<Action> actions;
  // Pending deliveries that are owed to no one any more (the lease is gone): drop them.
  std::vector<crypto::Hash256> settled;
};

class Book {
 public:
  // The offer must pass validateOffer (throws std::invalid_argument otherwise: a start-up bug).
  // The clock must outlive the book.
  Book(Offer offer, const Clock& clock);

  // Start-up: the live leases and handled request ids the node persisted. Errors (book left
  // empty): duplicate lease ids, a lease whose fields contradict its state.
  [[nodiscard]] core::Status restore(std::vector<Lease> leases, const std::vector<crypto::Hash256>& handled);
  // Actions interrupted by a restart: Provision for provisioning leases, Destroy for ending ones.
  [[nodiscard]] std::vector<Action> resume() const;
  // resume() plus the cluster deliveries still pending (ids the node recorded): see Unfinished.
  // A delivery to a lease that is provisioning or ending waits (provisioned: the instance gets
  // its membership then; ending: it will not need it).
  [[nodiscard]] Unfinished unfinished(const std::vector<crypto::Hash256>& clusterPending) const;
  // Compares with the lease ids the provisioner reports as existing instances.
  [[nodiscard]] DriftReport reconcile(const std::vector<crypto::Hash256>& provisioned) const;

  // A verdict for one transaction: Ignored → an empty decision; Refused → an error reply with
  // the full refund; Accepted → per request type (docs/PROTOCOL.md §9).
  Decision decide(const protocol::Verdict& verdict);
  Decision provisioned(const crypto::Hash256& leaseId, const protocol::InstanceInfo& instance);
  Decision provisionFailed(const crypto::Hash256& leaseId, const std::string& detail);
  // An active lease's instance was created again (Provision{again}): the reply already sent
  // stays as it was (a warning when the new user port differs); the instance gets its cluster
  // membership back (a DeliverCluster, recorded as pending until it succeeds).
  Decision reprovisioned(const crypto::Hash256& leaseId, const protocol::InstanceInfo& instance);
  Decision destroyed(const crypto::Hash256& leaseId);
  // Ends every active lease whose expiry has come (Destroy, then the notice on destroyed()).
  Decision tick();
  // The earliest expiry among active leases: when tick() has something to do.
  [[nodiscard]] std::optional<UnixSeconds> nextExpiry() const;

  // Takes effect for new leases; existing leases keep their price and moment length. A smaller
  // instance count never ends live leases (free slots stay 0 until enough end).
  [[nodiscard]] core::Status setOffer(const Offer& offer);
  [[nodiscard]] const Offer& offer() const { return offer_; }
  [[nodiscard]] std::uint32_t freeSlots() const;
  [[nodiscard]] std::size_t liveLeases() const { return leases_.size(); }
  [[nodiscard]] const Lease* find(const crypto::Hash256& id) const;
  [[nodiscard]] std::vector<Lease> leases() const;
  [[nodiscard]] bool handled(const crypto::Hash256& requestId) const {
    return handled_.count(requestId) != 0;
  }

 private:
  Decision acquire(const protocol::Accepted& a, const protocol::AcquireRequest& r, UnixSeconds now);
  Decision extend(const protocol::Accepted& a, const protocol::ExtendRequest& r, UnixSeconds now);
  Decision terminate(const protocol::Accepted& a, const protocol::TerminateRequest& r, UnixSeconds now);
  Decision cluster(const protocol::Accepted& a, const protocol::ClusterRequest& r, UnixSeconds now);
  // The live lease `id` for a request from `from`, or the refusal decision to return.
  std::optional<Decision> checkLease(const protocol::Accepted& a, const crypto::Hash256& id,
                                     UnixSeconds now) const;
  Decision refuse(const protocol::Accepted& a, protocol::Reason reason, const std::string& detail,
                  std::optional<crypto::Hash256> leaseId) const;
  Decision accepted(const crypto::Hash256& requestId);

  Offer offer_;
  const Clock& clock_;
  std::map<crypto::Hash256, Lease> leases_;
  std::set<crypto::Hash256> handled_;
};

// Builders of the replies the book sends, exposed for the node and tests.
Reply okReply(const crypto::AccountId& to, const crypto::Hash256& answers, protocol::Message message,
              const protocol::Ed25519Key& sealTo, protocol::Drops refund);
Reply errorReply(const crypto::AccountId& to, protocol::MessageType type, protocol::ErrorReply message,
                 const ledger::Amount& amount);

}  // namespace sashimono::lease
