#pragma once
// When the node restarts an instance that stopped serving (docs/OPERATIONS.md, "Heal"). Pure:
// the node reports what its checks saw and asks which instances to restart now.
//
// An instance starting (first seen, or just restarted) is not judged until it has served once or
// startGrace has passed. An instance seen unhealthy is then restarted at once; if it is still (or again)
// unhealthy, the next attempt waits 1 s, then 2, 4, … up to maxBackoff (a crash loop costs the host one
// restart per backoff, never a fork storm). Attempts are forgiven only after the instance has served for
// `stableFor` without a failure. An instance unhealthy for longer than reportAfter is `failing`:
// status and metrics say so, and the node keeps trying at the capped backoff.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/crypto/Hash.h"

namespace sashimono::node {

struct HealOptions {
  // An instance just provisioned or restarted may take a while to serve: until it is first seen
  // serving, failures within this long are not counted.
  std::int64_t startGraceMs = 30'000;
  std::int64_t firstBackoffMs = 1000;
  std::int64_t maxBackoffMs = 60'000;
  std::int64_t stableForMs = 30'000;
  std::int64_t reportAfterMs = 60'000;
  std::size_t maxRestartsPerPass = 2;  // per check pass, over all instances
};

enum class HealthState { healthy, healing, failing };
const char* healthStateName(HealthState s);  // "healthy" | "healing" | "failing"

struct InstanceHealthView {
  crypto::Hash256 leaseId{};
  HealthState state = HealthState::healthy;
  std::int64_t unhealthySinceMs = 0;  // when state != healthy
  std::uint32_t attempts = 0;         // restarts since it last served stably
  std::uint64_t restarts = 0;         // in all
  std::string detail;                 // what the last check found wrong
};

class HealPolicy {
 public:
  explicit HealPolicy(HealOptions options = {}) : o_(options) {}
  // One check of one instance at nowMs (monotonic milliseconds).
  void observe(const crypto::Hash256& leaseId, bool healthy, const std::string& detail, std::int64_t nowMs);
  // Instances to restart now (at most maxRestartsPerPass, longest waiting first); the caller
  // restarts them and reports each with restarted().
  [[nodiscard]] std::vector<crypto::Hash256> due(std::int64_t nowMs) const;
  void restarted(const crypto::Hash256& leaseId, bool ok, const std::string& detail, std::int64_t nowMs);
  // Instances no longer watched (their lease ended).
  void keepOnly(const std::vector<crypto::Hash256>& leaseIds);
  [[nodiscard]] std::vector<InstanceHealthView> view(std::int64_t nowMs) const;

 private:
  struct Entry {
    bool starting = true;
    std::int64_t startedAt = 0;
    bool healthy = true;
    std::int64_t unhealthySince = 0;
    std::int64_t healthySince = 0;
    std::int64_t nextAttempt = 0;
    std::uint32_t attempts = 0;
    std::uint64_t restarts = 0;
    std::string detail;
  };
  HealOptions o_;
  std::map<crypto::Hash256, Entry> entries_;
};

}  // namespace sashimono::node
