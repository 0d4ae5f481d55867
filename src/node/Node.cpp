#include "sashimono/node/Node.h"

#include <algorithm>
#include <atomic>
#include <span>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {

namespace {

std::string shortHex(const crypto::Hash256& h) { return core::toHex(h).substr(0, 16); }

}  // namespace

protocol::TxOutcome outcomeOf(const std::string& result, core::ByteView meta) {
  protocol::TxOutcome o;
  o.succeeded = result == "tesSUCCESS";
  if (meta.empty()) return o;
  auto d = ledger::decode(meta);
  if (!d || !d->IsObject()) return o;
  if (result.empty() && d->HasMember("TransactionResult") && (*d)["TransactionResult"].IsString())
    o.succeeded = std::string((*d)["TransactionResult"].GetString()) == "tesSUCCESS";
  if (d->HasMember("DeliveredAmount") && (*d)["DeliveredAmount"].IsString()) {
    auto drops = protocol::parseDrops((*d)["DeliveredAmount"].GetString());
    if (drops) o.delivered = ledger::Amount{true, *drops, false, {}};
  }
  return o;
}

std::string verdictSummary(const protocol::Verdict& v) {
  if (const auto* i = std::get_if<protocol::Ignored>(&v)) return "ignored: " + i->why;
  if (const auto* r = std::get_if<protocol::Refused>(&v))
    return std::string("refused: ") + std::string(protocol::reasonName(r->reason)) + ": " + r->detail;
  const auto& a = std::get<protocol::Accepted>(v);
  return std::string("accepted: ") + std::string(protocol::messageTypeName(a.type()));
}

Node::Node(NodeOptions options, NodeStore& store, BoardPort& board, ProvisionerPort& provisioner,
           const crypto::KeyPair& hostKey, const lease::Clock& clock)
    : options_(std::move(options)),
      store_(store),
      board_(board),
      provisioner_(provisioner),
      hostKey_(hostKey),
      clock_(clock),
      book_(options_.offer, clock),
      outbox_(store, board, hostKey, options_.outbox) {}

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
  // Actions interrupted by the last stop: provision again, destroy again (both idempotent).
  SASHI_TRY(execute(book_.resume()));
  // Drift between the book and what exists.
  auto existing = provisioner_.list();
  if (!existing) return existing.error().context("provisioner list");
  drift_ = book_.reconcile(*existing);
  if (!drift_.clean())
    spdlog::warn(
        "node: drift: {} orphan instances (destroying), {} leases without instance (provisioning), {} "
        "overcommitted",
        drift_.orphans.size(), drift_.missing.size(), drift_.overcommitted);
  SASHI_TRY(execute(drift_.actions));
  // Requests recorded but not decided when the node stopped.
  auto unfinished = store_.unfinishedRequests();
  if (!unfinished) return unfinished.error();
  for (auto& row : *unfinished) {
    std::vector<lease::Action> actions;
    auto verdict = classifyTx(row.hash, row.blob, row.result, row.meta);
    SASHI_TRY(process(row, false, std::move(verdict), actions));
    SASHI_TRY(execute(actions));
  }
  // Cluster memberships not yet delivered.
  auto pending = store_.clusterPending();
  if (!pending) return pending.error();
  for (const auto& id : *pending) {
    if (const auto* l = book_.find(id); l && l->state == lease::LeaseState::active) {
      if (provisioner_.deliverCluster(id, l->cluster).ok()) SASHI_TRY(store_.clusterDelivered(id));
    }
  }
  SASHI_TRY(announce());
  return store_.cursor();
}

core::Status Node::onTransaction(const board::BoardTx& tx) { return onTransactions(std::span(&tx, 1)); }

namespace {

// Actions that change what is provisioned: the batch is committed and they run before the next
// request is decided, so every request sees the book as a one-at-a-time node would.
bool changesInstances(const std::vector<lease::Action>& actions) {
  return std::any_of(actions.begin(), actions.end(), [](const lease::Action& a) {
    return std::holds_alternative<lease::Provision>(a) || std::holds_alternative<lease::Destroy>(a);
  });
}

}  // namespace

protocol::Verdict Node::classifyTx(const crypto::Hash256& hash, core::ByteView blob,
                                   const std::string& result, core::ByteView meta) const {
  if (ledger::transactionHash(blob) != hash) return protocol::Ignored{"blob does not match its hash"};
  auto decoded = ledger::decodeTransaction(blob);
  if (!decoded.ok()) return protocol::Ignored{"undecodable"};
  return protocol::classify(*decoded, outcomeOf(result, meta), hostKey_, options_.policy);
}

std::vector<protocol::Verdict> Node::classifyAll(std::span<const board::BoardTx> txs) const {
  // Pure work (decode, signature, unseal: ~0.2 ms each, mostly crypto): spread over the cores
  // for a large batch (a flood, a catch-up), so a good request behind many bad ones waits less.
  std::vector<protocol::Verdict> out(txs.size(), protocol::Verdict{protocol::Ignored{"not classified"}});
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers =
      txs.size() >= 32 ? std::min<std::size_t>(std::min(cores, options_.verifyThreads), txs.size() / 16) : 1;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t k = next++; k < txs.size(); k = next++)
      out[k] = classifyTx(txs[k].hash, txs[k].blob, txs[k].result, txs[k].meta);
  };
  std::vector<std::thread> helpers;
  for (std::size_t w = 1; w < workers; ++w) helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();
  return out;
}

core::Status Node::onTransactions(std::span<const board::BoardTx> txs) {
  auto verdicts = classifyAll(txs);
  std::size_t i = 0;
  while (i < txs.size()) {
    // Decide a run of requests in one store transaction (one fsync), up to and including the
    // first one that provisions or destroys; then act.
    std::vector<lease::Action> actions;
    {
      auto batch = store_.beginBatch();
      if (!batch) return batch.error();
      while (i < txs.size()) {
        SASHI_TRY(decide(txs[i], std::move(verdicts[i]), actions));
        ++i;
        if (changesInstances(actions)) break;
      }
      SASHI_TRY(batch->commit());
    }
    if (!actions.empty()) step("committed");
    SASHI_TRY(execute(actions));
  }
  return maybeAnnounce();
}

core::Status Node::decide(const board::BoardTx& tx, protocol::Verdict verdict,
                          std::vector<lease::Action>& actions) {
  auto state = store_.requestState(tx.hash);
  if (!state) return state.error();
  if (*state && **state != RequestState::seen && **state != RequestState::verified)
    return {};  // once by hash
  RequestRow row;
  row.hash = tx.hash;
  row.ledger = tx.ledgerIndex;
  row.blob = tx.blob;
  row.meta = tx.meta;
  row.result = tx.result;
  return process(row, !*state, std::move(verdict), actions);
}

core::Status Node::process(RequestRow& row, bool fresh, protocol::Verdict verdict,
                           std::vector<lease::Action>& actions) {
  const bool ignored = std::holds_alternative<protocol::Ignored>(verdict);
  if (fresh) {
    // What no account paid for (forged, misdirected, garbage) is remembered by hash only.
    if (ignored) {
      row.blob.clear();
      row.meta.clear();
    }
    SASHI_TRY(store_.recordSeen(row));
    step("seen");
  }
  const std::string summary = verdictSummary(verdict);
  SASHI_TRY(store_.markVerified(row.hash, summary));
  step("verified");
  if (!ignored) spdlog::info("node: request {} (ledger {}): {}", shortHex(row.hash), row.ledger, summary);
  lease::Decision d = book_.handle(verdict);
  if (d.duplicate) d = lease::Decision{};
  SASHI_TRY(record(d, row.hash, summary));
  for (auto& a : d.actions) actions.push_back(std::move(a));
  return {};
}

core::Status Node::record(const lease::Decision& d, std::optional<crypto::Hash256> request,
                          const std::string& verdict) {
  if (d.duplicate) return {};
  DecisionRecord rec;
  rec.request = request;
  rec.verdict = verdict;
  rec.upserts = d.upserts;
  rec.removed = d.removed;
  for (const auto& a : d.actions) {
    if (const auto* r = std::get_if<lease::Reply>(&a)) rec.outbox.push_back(outboxEntryFor(*r));
    if (const auto* c = std::get_if<lease::DeliverCluster>(&a)) rec.clusterPending.push_back(c->leaseId);
  }
  const bool empty = !rec.request && rec.upserts.empty() && rec.removed.empty() && rec.outbox.empty() &&
                     rec.clusterPending.empty();
  if (empty) return {};
  SASHI_TRY(store_.commitDecision(rec));  // record before acting
  if (!rec.outbox.empty()) newReplies_ = true;
  step("decided");
  return {};
}

core::Status Node::apply(lease::Decision d, std::optional<crypto::Hash256> request,
                         const std::string& verdict) {
  if (d.duplicate) return {};
  SASHI_TRY(record(d, request, verdict));
  SASHI_TRY(execute(d.actions));
  return maybeAnnounce();
}

core::Status Node::execute(const std::vector<lease::Action>& actions) {
  for (const auto& action : actions) {
    if (const auto* p = std::get_if<lease::Provision>(&action)) {
      auto info = provisioner_.provision(p->leaseId, p->request, book_.offer().size);
      step("provisioned");
      if (info) {
        protocol::InstanceInfo i = *info;
        if (i.host.empty()) i.host = options_.hostAddress;
        spdlog::info("node: lease {} provisioned (user port {})", shortHex(p->leaseId), i.userPort);
        if (const auto* l = book_.find(p->leaseId); l && l->state == lease::LeaseState::active) {
          // Provisioned again (its instance was missing at start-up): the reply already sent
          // stays as it was; the instance gets its cluster membership back.
          if (l->instance && l->instance->userPort != i.userPort)
            spdlog::warn("node: lease {} re-provisioned on user port {} (its reply said {})",
                         shortHex(p->leaseId), i.userPort, l->instance->userPort);
          if (!l->cluster.empty()) {
            if (auto st = provisioner_.deliverCluster(p->leaseId, l->cluster); !st)
              spdlog::warn("node: cluster delivery to re-provisioned lease {} failed: {}",
                           shortHex(p->leaseId), st.error().message);
          }
          continue;
        }
        SASHI_TRY(apply(book_.provisioned(p->leaseId, i), std::nullopt, {}));
      } else {
        spdlog::warn("node: lease {} provisioning failed: {}", shortHex(p->leaseId), info.error().message);
        SASHI_TRY(apply(book_.provisionFailed(p->leaseId, info.error().message), std::nullopt, {}));
      }
    } else if (const auto* x = std::get_if<lease::Destroy>(&action)) {
      auto st = provisioner_.destroy(x->leaseId);
      if (!st) {
        spdlog::warn("node: destroying lease {} failed (retried on the next tick): {}", shortHex(x->leaseId),
                     st.error().message);
        continue;
      }
      step("destroyed");
      spdlog::info("node: lease {} destroyed ({})", shortHex(x->leaseId), lease::endCauseName(x->cause));
      SASHI_TRY(apply(book_.destroyed(x->leaseId), std::nullopt, {}));
    } else if (const auto* c = std::get_if<lease::DeliverCluster>(&action)) {
      if (auto st = provisioner_.deliverCluster(c->leaseId, c->members); st.ok())
        SASHI_TRY(store_.clusterDelivered(c->leaseId));
      else
        spdlog::warn("node: cluster delivery to lease {} failed (retried): {}", shortHex(c->leaseId),
                     st.error().message);
    }
    // Replies are already in the outbox.
  }
  return {};
}

core::Status Node::onLedgerFinished(std::uint32_t ledger) {
  auto current = store_.cursor();
  if (!current) return current.error();
  if (*current && **current >= ledger) return {};
  SASHI_TRY(store_.setCursor(ledger));
  step("cursor");
  return {};
}

core::Status Node::tick() {
  SASHI_TRY(apply(book_.tick(), std::nullopt, {}));
  // Retries: destroys that failed (ending leases), provisions interrupted.
  std::vector<lease::Action> retry;
  for (auto& a : book_.resume())
    if (std::holds_alternative<lease::Destroy>(a)) retry.push_back(std::move(a));
  SASHI_TRY(execute(retry));
  auto pending = store_.clusterPending();
  if (!pending) return pending.error();
  for (const auto& id : *pending) {
    const auto* l = book_.find(id);
    if (!l) {
      SASHI_TRY(store_.clusterDelivered(id));
    } else if (l->state == lease::LeaseState::active && provisioner_.deliverCluster(id, l->cluster).ok()) {
      SASHI_TRY(store_.clusterDelivered(id));
    }
  }
  if (options_.registry && clock_.now() >= announcedAt_ + options_.heartbeatSeconds) SASHI_TRY(announce());
  return {};
}

core::Result<PumpReport> Node::pumpOutbox() {
  newReplies_ = false;
  return outbox_.pump();
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

std::string Node::statusJson(const std::string& boardJson) const {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("account");
  w.String(hostKey_.address().c_str());
  w.Key("instances");
  w.Uint(book_.offer().instances);
  w.Key("free");
  w.Uint(book_.freeSlots());
  w.Key("leases");
  w.Uint64(book_.liveLeases());
  w.Key("board");
  w.RawValue(boardJson.c_str(), boardJson.size(), rapidjson::kObjectType);
  w.EndObject();
  return sb.GetString();
}

}  // namespace sashimono::node
