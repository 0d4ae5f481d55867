// The node's orchestration: start-up, the request path from admit to act (the stages are in
// Node.h and docs/NODE.md), the cursor, timers and announcements.
#include "sashimono/node/Node.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "NodeUtil.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/node/HostStatus.h"
#include "sashimono/node/NodeMetrics.h"

namespace sashimono::node {

namespace {

NodeOptions withFeeCeiling(NodeOptions o) {
  o.outbox.maxFee = o.fees.maxDrops;
  return o;
}

}  // namespace

Node::Node(NodeOptions options, NodeStore& store, BoardPort& board, ProvisionerPort& provisioner,
           const crypto::KeyPair& hostKey, const lease::Clock& clock)
    : options_(withFeeCeiling(std::move(options))),
      store_(store),
      board_(board),
      provisioner_(provisioner),
      hostKey_(hostKey),
      clock_(clock),
      book_(options_.offer, clock),
      outbox_(store, board, hostKey, options_.outbox),
      metrics_(options_.metrics),
      heal_(options_.heal),
      funds_(options_.fees, options_.outbox.minFee) {
  if (!metrics_) {
    metrics_ = std::make_shared<core::MetricsRegistry>();
    metric::declareNodeMetrics(*metrics_);
  }
  metrics_->set(metric::kBuildInfo, {{"version", kNodeVersion}}, 1);
  reportFunds();
}

void Node::step(std::string_view name) const {
  if (options_.onStep) options_.onStep(name);
}

core::Result<std::optional<std::uint32_t>> Node::start() {
  auto leases = store_.leases();
  if (!leases) return leases.error();
  auto handled = store_.handledRequests();
  if (!handled) return handled.error();
  SASHI_TRY(book_.restore(*leases, *handled));
  spdlog::info("node: restored {} leases, {} handled requests", leases->size(), handled->size());
  // What the last stop interrupted: provision again, destroy again (both idempotent), deliver
  // pending cluster memberships.
  SASHI_TRY(actOnUnfinished());
  // Drift between the book and what exists.
  auto existing = provisioner_.list();
  if (!existing) return existing.error().context("provisioner list");
  drift_ = book_.reconcile(*existing);
  if (!drift_.clean())
    spdlog::warn(
        "node: drift: {} orphan instances (destroying), {} leases without instance (provisioning), {} "
        "overcommitted",
        drift_.orphans.size(), drift_.missing.size(), drift_.overcommitted);
  SASHI_TRY(act(drift_.actions));
  // Requests an older version admitted but did not decide: through the path again.
  auto unfinished = store_.unfinishedRequests();
  if (!unfinished) return unfinished.error();
  std::vector<board::BoardTx> again;
  for (auto& row : *unfinished) {
    board::BoardTx tx;
    tx.hash = row.hash;
    tx.blob = std::move(row.blob);
    tx.meta = std::move(row.meta);
    tx.ledgerIndex = row.ledger;
    tx.result = std::move(row.result);
    again.push_back(std::move(tx));
  }
  if (!again.empty()) SASHI_TRY(onTransactions(again));
  SASHI_TRY(announce());
  return store_.cursor();
}

core::Status Node::onTransaction(const board::BoardTx& tx) { return onTransactions(std::span(&tx, 1)); }

namespace {

// Actions that change what is provisioned: the run is committed and they are acted on before
// the next request is decided, so every request sees the book as a one-at-a-time node would.
bool changesInstances(const std::vector<lease::Action>& actions) {
  return std::any_of(actions.begin(), actions.end(), [](const lease::Action& a) {
    return std::holds_alternative<lease::Provision>(a) || std::holds_alternative<lease::Destroy>(a);
  });
}

}  // namespace

core::Status Node::onTransactions(std::span<const board::BoardTx> txs) {
  // The node's own payments, from ledgers the board checked: the outbox's confirmations.
  if (board_.verifiesLedgers()) {
    auto confirmed = outbox_.confirmDelivered(txs);
    if (!confirmed) return confirmed.error();
    if (*confirmed > 0) spdlog::debug("node: {} payment(s) confirmed from checked ledgers", *confirmed);
  }
  auto admitted = admit(txs);
  if (!admitted) return admitted.error();
  auto verdicts = classify(*admitted);
  std::size_t i = 0;
  while (i < admitted->size()) {
    // Decide and commit a run of requests in one store transaction (one fsync), up to and
    // including the first one that provisions or destroys; then act.
    std::vector<lease::Action> actions;
    {
      auto run = store_.beginBatch();
      if (!run) return run.error();
      while (i < admitted->size()) {
        const board::BoardTx& tx = *(*admitted)[i];
        step("classified");
        RequestRow row = requestRow(tx, verdicts[i]);
        if (!std::holds_alternative<protocol::Ignored>(verdicts[i]))
          spdlog::info("node: request {} (ledger {}): {}", shortHex(tx.hash), tx.ledgerIndex, row.verdict);
        lease::Decision d = decide(verdicts[i]);
        SASHI_TRY(commit(d, std::move(row)));
        countRequest(verdicts[i], d);
        for (auto& a : d.actions) actions.push_back(std::move(a));
        ++i;
        if (changesInstances(actions)) break;
      }
      SASHI_TRY(run->commit());
    }
    if (!actions.empty()) step("committed");
    SASHI_TRY(act(std::move(actions)));
  }
  return maybeAnnounce();
}

core::Result<std::vector<const board::BoardTx*>> Node::admit(std::span<const board::BoardTx> txs) {
  std::vector<const board::BoardTx*> out;
  std::set<crypto::Hash256> inBatch;
  for (const auto& tx : txs) {
    auto state = store_.requestState(tx.hash);
    if (!state) return state.error();
    if (*state && **state != RequestState::admitted) continue;  // decided before: once by hash
    if (!inBatch.insert(tx.hash).second) continue;
    out.push_back(&tx);
    step("admitted");
  }
  return out;
}

lease::Decision Node::decide(const protocol::Verdict& verdict) {
  lease::Decision d = book_.decide(verdict);
  // A request the book handled before (a restore raced a delivery) is recorded, nothing more.
  if (d.duplicate) d = lease::Decision{};
  for (const auto& w : d.warnings) spdlog::warn("node: {}", w);
  return d;
}

core::Status Node::commit(const lease::Decision& d, std::optional<RequestRow> request) {
  if (d.duplicate) return {};
  DecisionRecord rec;
  rec.request = std::move(request);
  rec.upserts = d.upserts;
  rec.removed = d.removed;
  for (const auto& a : d.actions) {
    if (const auto* r = std::get_if<lease::Reply>(&a)) rec.outbox.push_back(outboxEntryFor(*r));
    if (const auto* c = std::get_if<lease::DeliverCluster>(&a)) rec.clusterPending.push_back(c->leaseId);
  }
  const bool empty = !rec.request && rec.upserts.empty() && rec.removed.empty() && rec.outbox.empty() &&
                     rec.clusterPending.empty();
  if (empty) return {};
  SASHI_TRY(store_.commitDecision(rec));  // commit before acting
  if (!rec.outbox.empty()) newReplies_ = true;
  step("decided");
  return {};
}

core::Status Node::onLedgerFinished(std::uint32_t ledger) {
  finishedLedger_ = std::max(finishedLedger_, ledger);
  auto current = store_.cursor();
  if (!current) return current.error();
  if (*current && **current >= ledger) return {};
  SASHI_TRY(store_.setCursor(ledger));
  step("cursor");
  return {};
}

core::Status Node::tick() {
  lease::Decision expiry = book_.tick();
  SASHI_TRY(commit(expiry, std::nullopt));
  SASHI_TRY(act(std::move(expiry.actions)));
  SASHI_TRY(actOnUnfinished());
  SASHI_TRY(maybeAnnounce());
  if (options_.registry && clock_.now() >= announcedAt_ + options_.heartbeatSeconds) SASHI_TRY(announce());
  checkHealth();
  watchFunds();
  refreshGauges();
  return {};
}

core::Result<PumpReport> Node::pumpOutbox() {
  newReplies_ = false;
  auto r = outbox_.pump();
  if (r) {
    if (r->resubmitted + r->resigned > 0)
      metrics_->add(metric::kOutboxRetries, {}, static_cast<double>(r->resubmitted + r->resigned));
    if (r->confirmed > 0) metrics_->add(metric::kRepliesConfirmed, {}, static_cast<double>(r->confirmed));
    if (r->fee) funds_.sawFee(*r->fee);
    funds_.sawWaiting(r->waitingForFee);
    reportFunds();
  }
  return r;
}

core::Status Node::maybeAnnounce() {
  if (!options_.registry || !announcedFree_) return {};
  if (*announcedFree_ == book_.freeSlots()) return {};
  return announce();
}

core::Status Node::announce() {
  if (!options_.registry) return {};
  protocol::HostAnnouncement a;
  a.version = kNodeVersion;
  std::copy(hostKey_.publicKey().begin() + 1, hostKey_.publicKey().end(), a.key.begin());
  a.host = options_.hostAddress;
  const auto& offer = book_.offer();
  a.instances = offer.instances;
  a.free = book_.freeSlots();
  a.cpuMillis = offer.size.cpuMillis;
  a.memoryMiB = offer.size.memoryMiB;
  a.swapMiB = offer.size.swapMiB;
  a.diskMiB = offer.size.diskMiB;
  a.price = offer.pricePerMoment;
  a.momentSeconds = offer.momentSeconds;
  a.maxMoments = offer.maxMoments;
  for (const auto& img : options_.policy.allowedImages)
    if (a.images.size() < protocol::kMaxAnnouncedImages) a.images.push_back(img);
  a.heartbeatSeconds = options_.heartbeatSeconds;
  a.time = clock_.now();
  SASHI_TRY(store_.addOutbox(outboxEntryFor(*options_.registry, a)));
  announcedFree_ = static_cast<std::uint32_t>(a.free);
  announcedAt_ = a.time;
  return {};
}

std::string Node::statusJson(const std::string& boardJson, const std::string& problemsJson,
                             bool stopped) const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  if (stopped) {
    w.Key("stopped");
    w.Bool(true);
  }
  w.Key("account");
  w.String(hostKey_.address().c_str());
  w.Key("version");
  w.String(kNodeVersion);
  w.Key("instances");
  w.Uint(book_.offer().instances);
  w.Key("free");
  w.Uint(book_.freeSlots());
  w.Key("leases");
  w.Uint64(book_.liveLeases());
  if (outboxSummary_) {
    w.Key("outbox");
    w.StartObject();
    w.Key("open");
    w.Uint64(outboxSummary_->open);
    w.Key("submitted");
    w.Uint64(outboxSummary_->signedOpen);
    w.Key("oldestAt");
    if (outboxSummary_->oldestAt)
      w.Int64(*outboxSummary_->oldestAt);
    else
      w.Null();
    w.EndObject();
  }
  // Instances the heal loop watches that are not healthy, or were restarted.
  // Instances the heal loop watches that are not healthy, or were restarted.
  const auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now().time_since_epoch())
                         .count();
  std::vector<InstanceHealthRow> rows;
  for (const auto& h : heal_.view(nowMs)) {
    if (h.state == HealthState::healthy && h.restarts == 0) continue;
    rows.push_back({core::toHex(h.leaseId), healthStateName(h.state),
                    h.state == HealthState::healthy ? 0 : (nowMs - h.unhealthySinceMs) / 1000, h.restarts,
                    h.detail});
  }
  const std::string health = renderHealthRows(rows);
  w.Key("health");
  w.RawValue(health.c_str(), health.size(), rapidjson::kArrayType);
  const std::string fees = renderFees(funds_.feesRow());
  w.Key("fees");
  w.RawValue(fees.c_str(), fees.size(), rapidjson::kObjectType);
  const std::string funds = renderFunds(funds_.fundsRow());
  w.Key("funds");
  w.RawValue(funds.c_str(), funds.size(), rapidjson::kObjectType);
  w.Key("board");
  w.RawValue(boardJson.c_str(), boardJson.size(), rapidjson::kObjectType);
  w.Key("problems");
  w.RawValue(problemsJson.c_str(), problemsJson.size(), rapidjson::kArrayType);
  w.EndObject();
  return sb.GetString();
}

}  // namespace sashimono::node
