// The "decide" stage for requests: one Decision per verdict (docs/PROTOCOL.md §9).
#include <algorithm>

#include "BookUtil.h"
#include "sashimono/lease/Book.h"
#include "sashimono/lease/Pricing.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::lease {

using detail::duplicate;
using detail::saturatingAdd;
using detail::xrp;
using protocol::Drops;
using protocol::Reason;

Decision Book::accepted(const crypto::Hash256& requestId) {
  handled_.insert(requestId);
  Decision d;
  d.handled = requestId;
  return d;
}

Decision Book::decide(const protocol::Verdict& verdict) {
  if (std::holds_alternative<protocol::Ignored>(verdict)) return Decision{};
  if (const auto* r = std::get_if<protocol::Refused>(&verdict)) {
    if (handled(r->id)) return duplicate();
    Decision d = accepted(r->id);
    protocol::ErrorReply e;
    e.request = r->id;
    e.reason = r->reason;
    e.detail = r->detail;
    d.actions.push_back(errorReply(r->from, r->replyType, std::move(e), r->refund));
    return d;
  }
  const auto& a = std::get<protocol::Accepted>(verdict);
  if (handled(a.id)) return duplicate();
  const UnixSeconds now = clock_.now();
  return std::visit(
      [&](const auto& req) -> Decision {
        using T = std::decay_t<decltype(req)>;
        if constexpr (std::is_same_v<T, protocol::AcquireRequest>)
          return acquire(a, req, now);
        else if constexpr (std::is_same_v<T, protocol::ExtendRequest>)
          return extend(a, req, now);
        else if constexpr (std::is_same_v<T, protocol::TerminateRequest>)
          return terminate(a, req, now);
        else
          return cluster(a, req, now);
      },
      a.request);
}

Decision Book::refuse(const protocol::Accepted& a, Reason reason, const std::string& detail,
                      std::optional<crypto::Hash256> leaseId) const {
  Decision d;
  d.handled = a.id;
  protocol::ErrorReply e;
  e.request = a.id;
  e.leaseId = leaseId;
  e.reason = reason;
  e.detail = detail;
  d.actions.push_back(errorReply(a.from, protocol::errorReplyFor(a.type()), std::move(e), xrp(a.amount)));
  return d;
}

Decision Book::acquire(const protocol::Accepted& a, const protocol::AcquireRequest& r, UnixSeconds now) {
  handled_.insert(a.id);
  if (a.amount < offer_.pricePerMoment) {
    return refuse(a, Reason::underpaid,
                  "Amount: " + protocol::formatDrops(a.amount) +
                      " drops is less than the price of one moment, " +
                      protocol::formatDrops(offer_.pricePerMoment),
                  std::nullopt);
  }
  if (freeSlots() == 0) return refuse(a, Reason::noCapacity, "no free instance slot", std::nullopt);
  if (!a.replyKey) return refuse(a, Reason::badPayload, "field 'replyKey': missing", std::nullopt);
  Purchase p = buyMoments(a.amount, offer_.pricePerMoment, offer_.maxMoments);
  Lease l;
  l.id = a.id;
  l.owner = a.from;
  l.replyKey = *a.replyKey;
  l.request = r;
  l.paid = a.amount;
  l.pricePerMoment = offer_.pricePerMoment;
  l.momentSeconds = offer_.momentSeconds;
  l.initialMoments = p.moments;
  l.moments = p.moments;
  l.acceptedAt = now;
  l.state = LeaseState::provisioning;
  Decision d;
  d.handled = a.id;
  d.upserts.push_back(l);
  d.actions.push_back(Provision{l.id, l.owner, l.request});
  leases_.emplace(l.id, std::move(l));
  return d;
}

std::optional<Decision> Book::checkLease(const protocol::Accepted& a, const crypto::Hash256& id,
                                         UnixSeconds now) const {
  auto it = leases_.find(id);
  if (it == leases_.end()) return refuse(a, Reason::unknownLease, "no live lease with this id", id);
  const Lease& l = it->second;
  if (l.owner != a.from) return refuse(a, Reason::notOwner, "the lease belongs to another account", id);
  if (l.state == LeaseState::provisioning)
    return refuse(a, Reason::unknownLease, "the lease is not active yet", id);
  if (l.state == LeaseState::ending || now >= l.expiresAt) {
    return refuse(a, Reason::unknownLease, "the lease has ended", id);
  }
  return std::nullopt;
}

Decision Book::extend(const protocol::Accepted& a, const protocol::ExtendRequest& r, UnixSeconds now) {
  handled_.insert(a.id);
  if (auto refusal = checkLease(a, r.leaseId, now)) return *refusal;
  Lease& l = leases_.at(r.leaseId);
  if (a.amount < l.pricePerMoment) {
    return refuse(a, Reason::underpaid,
                  "Amount: " + protocol::formatDrops(a.amount) +
                      " drops is less than the lease's price of one moment, " +
                      protocol::formatDrops(l.pricePerMoment),
                  r.leaseId);
  }
  std::uint64_t held = heldMoments(now, l.expiresAt, l.momentSeconds);
  std::uint64_t room = held >= offer_.maxMoments ? 0 : offer_.maxMoments - held;
  Purchase p = buyMoments(a.amount, l.pricePerMoment, room);
  auto newExpiry = addMoments(l.expiresAt, p.moments, l.momentSeconds);
  if (p.moments == 0 || !newExpiry) {
    return refuse(a, Reason::momentsLimit,
                  "the lease already holds " + std::to_string(held) + " of at most " +
                      std::to_string(offer_.maxMoments) + " moments",
                  r.leaseId);
  }
  l.moments += p.moments;
  l.expiresAt = *newExpiry;
  Decision d;
  d.handled = a.id;
  d.upserts.push_back(l);
  protocol::ExtendOk ok{a.id, l.id, p.moments, l.expiresAt, p.refund};
  d.actions.push_back(okReply(a.from, a.id, ok, a.replyKey.value_or(l.replyKey), p.refund));
  return d;
}

Decision Book::terminate(const protocol::Accepted& a, const protocol::TerminateRequest& r, UnixSeconds now) {
  handled_.insert(a.id);
  if (auto refusal = checkLease(a, r.leaseId, now)) return *refusal;
  Lease& l = leases_.at(r.leaseId);
  std::uint64_t unused = unusedMoments(now, l.expiresAt, l.momentSeconds);
  // unused ≤ moments bought, so unused × price ≤ what was paid for them.
  Drops back = protocol::mulDrops(l.pricePerMoment, unused).value_or(protocol::kMaxDrops);
  l.state = LeaseState::ending;
  l.endCause = EndCause::terminated;
  l.endRequest = a.id;
  l.endReplyKey = a.replyKey;
  l.endMoments = unused;
  l.endRefund = saturatingAdd(a.amount, back);
  Decision d;
  d.handled = a.id;
  d.upserts.push_back(l);
  d.actions.push_back(Destroy{l.id, EndCause::terminated});
  return d;
}

Decision Book::cluster(const protocol::Accepted& a, const protocol::ClusterRequest& r, UnixSeconds now) {
  handled_.insert(a.id);
  if (auto refusal = checkLease(a, r.leaseId, now)) return *refusal;
  Lease& l = leases_.at(r.leaseId);
  std::vector<protocol::ClusterMember> members =
      r.mode == protocol::ClusterMode::replace ? std::vector<protocol::ClusterMember>{} : l.cluster;
  for (const auto& m : r.members) {
    auto same =
        std::find_if(members.begin(), members.end(), [&](const auto& x) { return x.pubkey == m.pubkey; });
    if (same != members.end())
      *same = m;
    else
      members.push_back(m);
  }
  if (members.size() > kMaxClusterSize) {
    return refuse(a, Reason::configOutOfBounds,
                  "the cluster would have more than " + std::to_string(kMaxClusterSize) + " members",
                  r.leaseId);
  }
  l.cluster = std::move(members);
  Decision d;
  d.handled = a.id;
  d.upserts.push_back(l);
  d.actions.push_back(DeliverCluster{l.id, l.cluster});
  protocol::ClusterOk ok{a.id, l.id, l.cluster.size()};
  d.actions.push_back(okReply(a.from, a.id, ok, a.replyKey.value_or(l.replyKey), a.amount));
  return d;
}

}  // namespace sashimono::lease
