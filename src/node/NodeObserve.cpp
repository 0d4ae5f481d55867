// What the node tells its owner about itself: request counters, the gauges refreshed every tick
// (NodeMetrics.h), the fees and the host account's funds, and a new offer or fee limits from a
// reloaded configuration.
#include <chrono>

#include <spdlog/spdlog.h>

#include "NodeUtil.h"

#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/node/Node.h"
#include "sashimono/node/NodeMetrics.h"
#include "sashimono/protocol/Reason.h"

namespace sashimono::node {

namespace {

constexpr std::int64_t kUsageIntervalSeconds = 5;
// Reserves change only by fee voting (on flag ledgers, every 256): read them now and then.
constexpr std::uint32_t kReserveEveryLedgers = 64;

// "acquire" for sashimono.acquire and sashimono.acquire.error; "other" for the rest.
std::string requestTypeLabel(protocol::MessageType t) {
  std::string_view n = protocol::messageTypeName(t);
  if (n.rfind(protocol::kTypePrefix, 0) == 0) n.remove_prefix(protocol::kTypePrefix.size());
  n = n.substr(0, n.find('.'));
  for (const char* known : {"acquire", "extend", "terminate", "cluster"})
    if (n == known) return known;
  return "other";
}

}  // namespace

void Node::countRequest(const protocol::Verdict& verdict, const lease::Decision& decision) {
  std::string type = "other";
  std::string outcome = "ignored";
  std::optional<protocol::Reason> reason;
  if (const auto* r = std::get_if<protocol::Refused>(&verdict)) {
    type = requestTypeLabel(r->replyType);
    outcome = "refused";
    reason = r->reason;
  } else if (const auto* a = std::get_if<protocol::Accepted>(&verdict)) {
    type = requestTypeLabel(a->type());
    outcome = "accepted";
    // The book may still refuse it (price, capacity, ownership): its reply says so.
    for (const auto& act : decision.actions) {
      const auto* reply = std::get_if<lease::Reply>(&act);
      if (reply && reply->reason && reply->answers == a->id) {
        outcome = "refused";
        reason = reply->reason;
      }
    }
  }
  metrics_->add(metric::kRequests, {{"type", type}, {"verdict", outcome}});
  if (reason) metrics_->add(metric::kRefusals, {{"reason", std::string(protocol::reasonName(*reason))}});
}

void Node::refreshGauges() {
  core::MetricsRegistry& m = *metrics_;
  m.set(metric::kInstances, book_.offer().instances);
  m.set(metric::kFree, book_.freeSlots());
  std::map<std::string, double> byState{{"provisioning", 0}, {"active", 0}, {"ending", 0}};
  std::vector<crypto::Hash256> ids;
  for (const auto& l : book_.leases()) {
    byState[lease::leaseStateName(l.state)] += 1;
    ids.push_back(l.id);
  }
  std::vector<std::pair<core::MetricLabels, double>> states;
  for (const auto& [s, n] : byState) states.push_back({{{"state", s}}, n});
  m.replace(metric::kLeases, std::move(states));
  const auto now = static_cast<std::int64_t>(clock_.now());
  if (auto s = store_.outboxSummary(); s.ok()) {
    outboxSummary_ = *s;
    m.set(metric::kRepliesPending, static_cast<double>(s->open));
    m.set(metric::kOldestReply,
          s->oldestAt ? static_cast<double>(std::max<std::int64_t>(0, now - *s->oldestAt)) : 0);
  }
  if (now - usageReadAt_ < kUsageIntervalSeconds) return;
  usageReadAt_ = now;
  provisioner_.maintain(ids);
  std::vector<std::pair<core::MetricLabels, double>> cpu, mem, disk;
  for (const auto& u : provisioner_.usage(ids)) {
    core::MetricLabels lease{{"lease", core::toHex(u.leaseId)}};
    if (u.cpuSeconds) cpu.push_back({lease, *u.cpuSeconds});
    if (u.memoryBytes) mem.push_back({lease, static_cast<double>(*u.memoryBytes)});
    if (u.diskBytes) disk.push_back({lease, static_cast<double>(*u.diskBytes)});
  }
  m.replace(metric::kTenantCpu, std::move(cpu));
  m.replace(metric::kTenantMemory, std::move(mem));
  m.replace(metric::kTenantDisk, std::move(disk));
}

void Node::checkHealth() {
  if (options_.healCheckMs <= 0) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  if (healCheckedAt_ >= 0 && now - healCheckedAt_ < options_.healCheckMs) return;
  healCheckedAt_ = now;
  std::vector<crypto::Hash256> ids;
  for (const auto& l : book_.leases())
    if (l.state == lease::LeaseState::active && l.instance) ids.push_back(l.id);
  heal_.keepOnly(ids);
  for (const auto& h : provisioner_.health(ids)) {
    std::string detail;
    for (const auto& f : h.failed) detail += (detail.empty() ? "" : "; ") + f;
    heal_.observe(h.leaseId, h.ok(), detail, now);
  }
  for (const auto& id : heal_.due(now)) {
    const auto view = heal_.view(now);
    std::string why;
    for (const auto& v : view)
      if (v.leaseId == id) why = v.detail;
    spdlog::warn("node: lease {}'s instance does not serve ({}); restarting it", shortHex(id), why);
    const auto began = std::chrono::steady_clock::now();
    auto st = provisioner_.heal(id);
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    metrics_->add(metric::kRestarts, {{"result", st ? "ok" : "failed"}});
    metrics_->observe(metric::kRestartSeconds, {{"result", st ? "ok" : "failed"}}, took);
    if (st)
      spdlog::info("node: lease {}'s instance restarted in {:.0f} ms", shortHex(id), took * 1000);
    else
      spdlog::error("node: restarting lease {}'s instance failed: {}", shortHex(id), st.error().message);
    const auto after = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    heal_.restarted(id, st.ok(), st ? "" : st.error().message, after);
  }
  std::map<std::string, double> byState{{"healthy", 0}, {"healing", 0}, {"failing", 0}};
  for (const auto& v : heal_.view(now)) byState[healthStateName(v.state)] += 1;
  std::vector<std::pair<core::MetricLabels, double>> states;
  for (const auto& [s, n] : byState) states.push_back({{{"state", s}}, n});
  metrics_->replace(metric::kHealth, std::move(states));
}

std::vector<InstanceHealthView> Node::health() const {
  return heal_.view(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

core::Status Node::reconfigure(const lease::Offer& offer) {
  const lease::Offer before = book_.offer();
  SASHI_TRY(book_.setOffer(offer));
  options_.offer = offer;
  if (before == offer) return {};
  spdlog::info("node: new offer: {} instances, {} drops per moment of {} s, at most {} moments",
               offer.instances, offer.pricePerMoment, offer.momentSeconds, offer.maxMoments);
  refreshGauges();
  return announce();
}

void Node::watchFunds() {
  if (finishedLedger_ == 0 || finishedLedger_ == fundsLedger_) return;
  fundsLedger_ = finishedLedger_;
  if (auto f = board_.fee(); f.ok())
    funds_.sawFee(*f);
  else
    spdlog::debug("node: fee: {}", f.error().message);
  if (reservesLedger_ == 0 || finishedLedger_ >= reservesLedger_ + kReserveEveryLedgers) {
    if (auto r = board_.reserves(); r.ok()) {
      funds_.sawReserves(*r);
      reservesLedger_ = finishedLedger_;
    } else {
      spdlog::debug("node: reserves: {}", r.error().message);
    }
  }
  if (auto a = board_.account(hostKey_.address()); a.ok())
    funds_.sawAccount(*a);
  else if (board::rpcErrorCode(a.error()) == board::RpcErrorCode::actNotFound)
    funds_.sawUnfunded();
  else
    spdlog::debug("node: host account: {}", a.error().message);
  reportFunds();
}

void Node::reportFunds() {
  for (const auto& n : funds_.update(static_cast<std::int64_t>(clock_.now()))) {
    switch (n.level) {
      case FundsNotice::Level::error:
        spdlog::error("node: {}", n.text);
        break;
      case FundsNotice::Level::warning:
        spdlog::warn("node: {}", n.text);
        break;
      case FundsNotice::Level::info:
        spdlog::info("node: {}", n.text);
        break;
    }
  }
  core::MetricsRegistry& m = *metrics_;
  m.set(metric::kFeeCeiling, static_cast<double>(funds_.limits().maxDrops));
  m.set(metric::kRepliesWaitingForFee, static_cast<double>(funds_.waiting()));
  if (const auto f = funds_.fee()) m.set(metric::kFeeOpenLedger, static_cast<double>(f->openLedger));
  if (const auto b = funds_.balance()) m.set(metric::kHostBalance, static_cast<double>(*b));
  if (const auto r = funds_.reserve()) m.set(metric::kHostReserve, static_cast<double>(*r));
  const auto spendable = funds_.spendable();
  const auto cost = funds_.replyCost();
  if (spendable) m.set(metric::kHostSpendable, static_cast<double>(*spendable));
  if (spendable && cost)
    m.set(metric::kHostAffordableReplies,
          static_cast<double>(std::max<std::int64_t>(0, *spendable) / static_cast<std::int64_t>(*cost)));
}

void Node::setFeeLimits(const FeeLimits& limits) {
  const FeeLimits before = funds_.limits();
  options_.fees = limits;
  options_.outbox.maxFee = limits.maxDrops;
  outbox_.setMaxFee(limits.maxDrops);
  funds_.setLimits(limits);
  if (before == limits) return;
  spdlog::info("node: fee ceiling {} drops, low-balance warning below {} replies", limits.maxDrops,
               limits.lowBalanceReplies);
  reportFunds();
}

}  // namespace sashimono::node
