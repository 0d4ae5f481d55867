// The "act" stage: the actions of committed decisions, in order, through the ProvisionerPort.
// A completion (provisioned, provisioning failed, destroyed) goes back to the book (decide),
// is committed, and its own actions are acted on before the rest: one loop drains them all.
#include <chrono>
#include <deque>

#include <spdlog/spdlog.h>

#include "NodeUtil.h"
#include "sashimono/node/Node.h"
#include "sashimono/node/NodeMetrics.h"

namespace sashimono::node {

core::Status Node::act(std::vector<lease::Action> actions) {
  std::deque<lease::Action> work(std::make_move_iterator(actions.begin()),
                                 std::make_move_iterator(actions.end()));
  while (!work.empty()) {
    lease::Action action = std::move(work.front());
    work.pop_front();
    auto completion = actOne(action);
    if (!completion) return completion.error();
    if (!*completion || (*completion)->duplicate) continue;
    lease::Decision& d = **completion;
    for (const auto& w : d.warnings) spdlog::warn("node: {}", w);
    SASHI_TRY(commit(d, std::nullopt));
    // Depth first: the completion's actions come before the rest of the run's.
    work.insert(work.begin(), std::make_move_iterator(d.actions.begin()),
                std::make_move_iterator(d.actions.end()));
  }
  return maybeAnnounce();
}

core::Result<std::optional<lease::Decision>> Node::actOne(const lease::Action& action) {
  const auto started = std::chrono::steady_clock::now();
  const auto seconds = [&started] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  };
  if (const auto* p = std::get_if<lease::Provision>(&action)) {
    auto info = provisioner_.provision(p->leaseId, p->request, book_.offer().size);
    metrics_->observe(metric::kProvisionSeconds, {{"result", info ? "ok" : "failed"}}, seconds());
    step("provisioned");
    if (!info) {
      spdlog::warn("node: lease {} provisioning failed: {}", shortHex(p->leaseId), info.error().message);
      return std::optional{book_.provisionFailed(p->leaseId, info.error().message)};
    }
    protocol::InstanceInfo i = *info;
    if (i.host.empty()) i.host = options_.hostAddress;
    spdlog::info("node: lease {} provisioned (user port {})", shortHex(p->leaseId), i.userPort);
    return std::optional{p->again ? book_.reprovisioned(p->leaseId, i) : book_.provisioned(p->leaseId, i)};
  }
  if (const auto* x = std::get_if<lease::Destroy>(&action)) {
    auto st = provisioner_.destroy(x->leaseId);
    metrics_->observe(metric::kDestroySeconds, {{"result", st ? "ok" : "failed"}}, seconds());
    if (!st) {
      spdlog::warn("node: destroying lease {} failed (retried on the next tick): {}", shortHex(x->leaseId),
                   st.error().message);
      return std::optional<lease::Decision>{};
    }
    step("destroyed");
    spdlog::info("node: lease {} destroyed ({})", shortHex(x->leaseId), lease::endCauseName(x->cause));
    return std::optional{book_.destroyed(x->leaseId)};
  }
  if (const auto* c = std::get_if<lease::DeliverCluster>(&action)) {
    if (auto st = provisioner_.deliverCluster(c->leaseId, c->members); !st) {
      spdlog::warn("node: cluster delivery to lease {} failed (retried on the next tick): {}",
                   shortHex(c->leaseId), st.error().message);
      return std::optional<lease::Decision>{};
    }
    SASHI_TRY(store_.clusterDelivered(c->leaseId));
  }
  // A Reply is already in the outbox: the reply stage sends it.
  return std::optional<lease::Decision>{};
}

core::Status Node::actOnUnfinished() {
  auto pending = store_.clusterPending();
  if (!pending) return pending.error();
  lease::Unfinished owed = book_.unfinished(*pending);
  for (const auto& id : owed.settled) SASHI_TRY(store_.clusterDelivered(id));
  return act(std::move(owed.actions));
}

}  // namespace sashimono::node
