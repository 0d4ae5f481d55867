// The lease book: state, restore, reconcile, the retry policy and completions. Requests are
// decided in BookRequests.cpp.
#include "sashimono/lease/Book.h"

#include <stdexcept>

#include "BookUtil.h"
#include "sashimono/lease/Pricing.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::lease {
using detail::duplicate;
using detail::xrp;
using protocol::Drops;
using protocol::MessageType;
using protocol::Reason;

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

Unfinished Book::unfinished(const std::vector<crypto::Hash256>& clusterPending) const {
  Unfinished u;
  u.actions = resume();
  for (const auto& id : clusterPending) {
    const Lease* l = find(id);
    if (l == nullptr)
      u.settled.push_back(id);
    else if (l->state == LeaseState::active)
      u.actions.push_back(DeliverCluster{id, l->cluster});
  }
  return u;
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
      r.actions.push_back(Provision{id, l.owner, l.request, true});
    }
  }
  if (leases_.size() > offer_.instances) r.overcommitted = leases_.size() - offer_.instances;
  return r;
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

Decision Book::reprovisioned(const crypto::Hash256& leaseId, const protocol::InstanceInfo& instance) {
  const Lease* l = find(leaseId);
  if (l == nullptr || l->state != LeaseState::active) return duplicate();
  Decision d;
  if (l->instance && l->instance->userPort != instance.userPort)
    d.warnings.push_back("lease " + protocol::formatHash256(leaseId).substr(0, 16) +
                         " re-provisioned on user port " + std::to_string(instance.userPort) +
                         " (its reply said " + std::to_string(l->instance->userPort) + ")");
  if (!l->cluster.empty()) d.actions.push_back(DeliverCluster{leaseId, l->cluster});
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
