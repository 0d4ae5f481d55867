#include "sashimono/node/HealPolicy.h"

#include <algorithm>
#include <set>

namespace sashimono::node {

const char* healthStateName(HealthState s) {
  switch (s) {
    case HealthState::healthy:
      return "healthy";
    case HealthState::healing:
      return "healing";
    case HealthState::failing:
      return "failing";
  }
  return "healthy";
}

void HealPolicy::observe(const crypto::Hash256& id, bool healthy, const std::string& detail,
                         std::int64_t now) {
  auto [it, fresh] = entries_.try_emplace(id);
  Entry& e = it->second;
  if (fresh) {
    e.healthySince = now;
    e.startedAt = now;
  }
  if (healthy) {
    e.starting = false;
    if (!e.healthy) {
      e.healthy = true;
      e.healthySince = now;
      e.detail.clear();
    }
    if (e.attempts > 0 && now - e.healthySince >= o_.stableForMs) e.attempts = 0;
    return;
  }
  if (e.starting && now - e.startedAt < o_.startGraceMs) return;  // still coming up
  e.starting = false;
  e.detail = detail;
  if (e.healthy) {
    e.healthy = false;
    e.unhealthySince = now;
    // The first failure after a stable spell is restarted at once; within a crash loop the
    // backoff of the last attempt still holds.
    if (e.attempts == 0) e.nextAttempt = now;
  }
}

std::vector<crypto::Hash256> HealPolicy::due(std::int64_t now) const {
  std::vector<std::pair<std::int64_t, crypto::Hash256>> ready;
  for (const auto& [id, e] : entries_)
    if (!e.healthy && now >= e.nextAttempt && !(e.starting && now - e.startedAt < o_.startGraceMs))
      ready.emplace_back(e.nextAttempt, id);
  std::sort(ready.begin(), ready.end());
  std::vector<crypto::Hash256> out;
  for (const auto& r : ready) {
    if (out.size() >= o_.maxRestartsPerPass) break;
    out.push_back(r.second);
  }
  return out;
}

void HealPolicy::restarted(const crypto::Hash256& id, bool ok, const std::string& detail, std::int64_t now) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  ++e.restarts;
  ++e.attempts;
  // Coming up again: judged once it serves, or after the grace. It stays unhealthy (and due at
  // its backoff) until a check sees it serve.
  e.starting = true;
  e.startedAt = now;
  std::int64_t wait = o_.firstBackoffMs;
  for (std::uint32_t i = 1; i < e.attempts && wait < o_.maxBackoffMs; ++i) wait *= 2;
  e.nextAttempt = now + std::min(wait, o_.maxBackoffMs);
  if (!ok) e.detail = detail;
}

void HealPolicy::keepOnly(const std::vector<crypto::Hash256>& ids) {
  const std::set<crypto::Hash256> keep(ids.begin(), ids.end());
  for (auto it = entries_.begin(); it != entries_.end();)
    it = keep.count(it->first) ? std::next(it) : entries_.erase(it);
}

std::vector<InstanceHealthView> HealPolicy::view(std::int64_t now) const {
  std::vector<InstanceHealthView> out;
  for (const auto& [id, e] : entries_) {
    InstanceHealthView v;
    v.leaseId = id;
    v.attempts = e.attempts;
    v.restarts = e.restarts;
    v.detail = e.detail;
    if (!e.healthy) {
      v.unhealthySinceMs = e.unhealthySince;
      v.state = now - e.unhealthySince > o_.reportAfterMs ? HealthState::failing : HealthState::healing;
    }
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace sashimono::node
