#include "sashimono/lease/Book.h"

#include <algorithm>
#include <stdexcept>

#include "sashimono/lease/Pricing.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::lease {
namespace {
using protocol::Drops;
using protocol::MessageType;
using protocol::Reason;

ledger::Amount xrp(Drops d) {
  ledger::Amount a;
  a.native = true;
  a.drops = d;
  return a;
}

// Refunds are at most what the host was paid; saturate rather than overflow in any case.
Drops saturatingAdd(Drops a, Drops b) { return protocol::addDrops(a, b).value_or(protocol::kMaxDrops); }

Decision duplicate() {
  Decision d;
  d.duplicate = true;
  return d;
}
}  // namespace

Reply okReply(const crypto::AccountId& to, const crypto::Hash256& answers, protocol::Message message,
              const protocol::Ed25519Key& sealTo, Drops refund) {
  Reply r;
  r.to = to;
  r.answers = answers;
  r.type = protocol::defaultTypeOf(message);
  r.message = std::move(message);
  r.sealTo = sealTo;
  r.refund = refund;
  r.amount = xrp(refund > 0 ? refund : 1);
  return r;
}

Reply errorReply(const crypto::AccountId& to, MessageType type, protocol::ErrorReply message,
                 const ledger::Amount& amount) {
  Reply r;
  r.to = to;
  r.answers = message.request;
  r.type = type;
  r.reason = message.reason;
  message.detail = protocol::sanitizeDetail(message.detail);
  if (amount.native) {
    message.refund = amount.drops;
    r.refund = amount.drops;
    r.amount = xrp(amount.drops > 0 ? amount.drops : 1);
  } else {
    message.refund = 0;
    r.refund = 0;
    r.amount = amount;
  }
  r.message = std::move(message);
  return r;
}

Book::Book(Offer offer, const Clock& clock) : offer_(offer), clock_(clock) {
  if (auto st = validateOffer(offer_); !st) throw std::invalid_argument(st.error().message);
}

core::Status Book::setOffer(const Offer& offer) {
  SASHI_TRY(validateOffer(offer));
  offer_ = offer;
  return {};
}

std::uint32_t Book::freeSlots() const {
  return leases_.size() >= offer_.instances ? 0
                                            : offer_.instances - static_cast<std::uint32_t>(leases_.size());
}

const Lease* Book::find(const crypto::Hash256& id) const {
  auto it = leases_.find(id);
  return it == leases_.end() ? nullptr : &it->second;
}

std::vector<Lease> Book::leases() const {
  std::vector<Lease> out;
  out.reserve(leases_.size());
  for (const auto& [id, l] : leases_) out.push_back(l);
  return out;
}

core::Status Book::restore(std::vector<Lease> leases, const std::vector<crypto::Hash256>& handled) {
  std::map<crypto::Hash256, Lease> byId;
  for (auto& l : leases) {
    std::string id = protocol::formatHash256(l.id);
    if (byId.count(l.id) != 0) return core::Error("restore: lease " + id + " appears twice");
    if (l.pricePerMoment < 1 || l.momentSeconds < 1)
      return core::Error("restore: lease " + id + ": no price or moment length");
    if (l.state == LeaseState::provisioning && (l.instance || l.expiresAt != 0)) {
      return core::Error("restore: lease " + id + " is provisioning but has an instance or expiry");
    }
    if (l.state == LeaseState::active && (!l.instance || l.expiresAt == 0)) {
      return core::Error("restore: lease " + id + " is active without an instance or expiry");
    }
    if (l.state == LeaseState::ending && l.endCause == EndCause::none) {
      return core::Error("restore: lease " + id + " is ending without a cause");
    }
    byId.emplace(l.id, std::move(l));
  }
  leases_ = std::move(byId);
  handled_ = std::set<crypto::Hash256>(handled.begin(), handled.end());
  for (const auto& [id, l] : leases_) handled_.insert(id);  // the acquire was handled
  return {};
}

std::vector<Action> Book::resume() const {
  std::vector<Action> out;
  for (const auto& [id, l] : leases_) {
    if (l.state == LeaseState::provisioning) out.push_back(Provision{id, l.owner, l.request});
    if (l.state == LeaseState::ending) out.push_back(Destroy{id, l.endCause});
  }
  return out;
}

DriftReport Book::reconcile(const std::vector<crypto::Hash256>& provisioned) const {
  DriftReport r;
  std::set<crypto::Hash256> present(provisioned.begin(), provisioned.end());
  for (const auto& id : present) {
    if (leases_.count(id) == 0) {
      r.orphans.push_back(id);
      r.actions.push_back(Destroy{id, EndCause::orphan});
    }
  }
  for (const auto& [id, l] : leases_) {
    if (l.state == LeaseState::active && present.count(id) == 0) {
      r.missing.push_back(id);
      r.actions.push_back(Provision{id, l.owner, l.request});
    }
  }
  if (leases_.size() > offer_.instances) r.overcommitted = leases_.size() - offer_.instances;
  return r;
}

Decision Book::accepted(const crypto::Hash256& requestId) {
  handled_.insert(requestId);
  Decision d;
  d.handled = requestId;
  return d;
}

Decision Book::handle(const protocol::Verdict& verdict) {
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

Decision Book::provisioned(const crypto::Hash256& leaseId, const protocol::InstanceInfo& instance) {
  auto it = leases_.find(leaseId);
  if (it == leases_.end() || it->second.state != LeaseState::provisioning) return duplicate();
  Lease& l = it->second;
  const UnixSeconds now = clock_.now();
  l.state = LeaseState::active;
  l.instance = instance;
  l.startedAt = now;
  // initialMoments × momentSeconds ≤ maxMoments × momentSeconds < 2^53 (validateOffer).
  l.expiresAt = addMoments(now, l.initialMoments, l.momentSeconds).value_or(protocol::kMaxJsonInteger);
  Decision d;
  d.upserts.push_back(l);
  Drops refund = l.paid - l.initialMoments * l.pricePerMoment;
  protocol::AcquireOk ok{
      l.id, l.id, instance, l.initialMoments, l.momentSeconds, l.expiresAt, l.pricePerMoment, refund};
  d.actions.push_back(okReply(l.owner, l.id, ok, l.replyKey, refund));
  return d;
}

Decision Book::provisionFailed(const crypto::Hash256& leaseId, const std::string& detail) {
  auto it = leases_.find(leaseId);
  if (it == leases_.end() || it->second.state != LeaseState::provisioning) return duplicate();
  Lease& l = it->second;
  l.state = LeaseState::ending;
  l.endCause = EndCause::provisioningFailed;
  l.endRefund = l.paid;
  l.endDetail = protocol::sanitizeDetail(detail);
  Decision d;
  d.upserts.push_back(l);
  d.actions.push_back(Destroy{l.id, EndCause::provisioningFailed});
  return d;
}

Decision Book::destroyed(const crypto::Hash256& leaseId) {
  auto it = leases_.find(leaseId);
  if (it == leases_.end() || it->second.state != LeaseState::ending) return duplicate();
  Lease l = std::move(it->second);
  leases_.erase(it);
  Decision d;
  d.removed.push_back(l.id);
  switch (l.endCause) {
    case EndCause::terminated: {
      protocol::TerminateOk ok{l.endRequest, l.id, l.endMoments, l.endRefund};
      d.actions.push_back(
          okReply(l.owner, l.endRequest, ok, l.endReplyKey.value_or(l.replyKey), l.endRefund));
      break;
    }
    case EndCause::expired: {
      Reply r;
      r.to = l.owner;
      r.answers = l.id;
      r.type = MessageType::expired;
      r.message = protocol::ExpiredNotice{l.id, l.expiresAt};
      r.amount = xrp(1);
      d.actions.push_back(std::move(r));
      break;
    }
    case EndCause::provisioningFailed: {
      protocol::ErrorReply e;
      e.request = l.id;
      e.leaseId = l.id;
      e.reason = Reason::provisioningFailed;
      e.detail = l.endDetail;
      d.actions.push_back(errorReply(l.owner, MessageType::acquireError, std::move(e), xrp(l.endRefund)));
      break;
    }
    case EndCause::none:
    case EndCause::orphan:
      break;
  }
  return d;
}

Decision Book::tick() {
  const UnixSeconds now = clock_.now();
  Decision d;
  for (auto& [id, l] : leases_) {
    if (l.state == LeaseState::active && now >= l.expiresAt) {
      l.state = LeaseState::ending;
      l.endCause = EndCause::expired;
      d.upserts.push_back(l);
      d.actions.push_back(Destroy{id, EndCause::expired});
    }
  }
  return d;
}

std::optional<UnixSeconds> Book::nextExpiry() const {
  std::optional<UnixSeconds> next;
  for (const auto& [id, l] : leases_) {
    if (l.state == LeaseState::active && (!next || l.expiresAt < *next)) next = l.expiresAt;
  }
  return next;
}

}  // namespace sashimono::lease
