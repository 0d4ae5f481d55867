#pragma once
// What the node needs from the tenant provisioner, keyed by lease id (HostProvisionerPort
// adapts host::Provisioner; tests use fakes/node/FakeProvisioner.h).
//
// Contract: every call is idempotent. provision() of a lease whose instance exists returns its
// info (or recreates it); destroy() of a lease without an instance succeeds. Calls may block
// (fork/exec, useradd): the node makes them from its own thread, never the board's.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/lease/Offer.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::node {

// What one lease's instance uses now (metrics); what cannot be read is absent.
struct InstanceUsage {
  crypto::Hash256 leaseId{};
  std::optional<double> cpuSeconds;  // since the instance (re)started
  std::optional<std::uint64_t> memoryBytes;
  std::optional<std::uint64_t> diskBytes;
};

// What one lease's instance looks like now (the heal loop): the parts that do not serve, each as
// "part: what was seen"; empty when it serves.
struct InstanceHealth {
  crypto::Hash256 leaseId{};
  std::vector<std::string> failed;
  std::optional<double> diskUsedRatio;
  [[nodiscard]] bool ok() const { return failed.empty(); }
};

class ProvisionerPort {
 public:
  virtual ~ProvisionerPort() = default;
  [[nodiscard]] virtual core::Result<protocol::InstanceInfo> provision(
      const crypto::Hash256& leaseId, const protocol::AcquireRequest& request,
      const lease::InstanceSize& size) = 0;
  [[nodiscard]] virtual core::Status destroy(const crypto::Hash256& leaseId) = 0;
  // Lease ids of the instances that exist (in any state).
  [[nodiscard]] virtual core::Result<std::vector<crypto::Hash256>> list() = 0;
  [[nodiscard]] virtual core::Status deliverCluster(const crypto::Hash256& leaseId,
                                                    const std::vector<protocol::ClusterMember>& members) = 0;
  // The usage of the given leases' instances (those that exist); quick reads only. Default: none.
  [[nodiscard]] virtual std::vector<InstanceUsage> usage(std::span<const crypto::Hash256> leases) {
    (void)leases;
    return {};
  }
  // Checks the given leases' instances (quick: all at once, milliseconds). Default: none checked.
  [[nodiscard]] virtual std::vector<InstanceHealth> health(std::span<const crypto::Hash256> leases) {
    (void)leases;
    return {};
  }
  // Starts a lease's instance again on what it has (ports, keys, state kept). Default: cannot.
  [[nodiscard]] virtual core::Status heal(const crypto::Hash256& leaseId) {
    (void)leaseId;
    return core::Error("this provisioner cannot restart an instance");
  }
  // Housekeeping of the given leases' instances (their logs kept bounded); quick. Default: none.
  virtual void maintain(std::span<const crypto::Hash256> leases) { (void)leases; }
};

}  // namespace sashimono::node
