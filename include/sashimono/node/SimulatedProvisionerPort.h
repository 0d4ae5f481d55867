#pragma once
// Tenants simulated as files: one file per lease under a directory, holding the user port it
// was given. For `sashimono host run` without root (tools/run.sh as a normal user says so) and
// for tests of the node without root; never a host's production provisioner. Nothing runs:
// connecting to a simulated instance's port finds nobody.
//
// Thread-safety: one caller at a time (the node thread).
#include <cstdint>
#include <string>
#include <vector>

#include "sashimono/node/ProvisionerPort.h"

namespace sashimono::node {

class SimulatedProvisionerPort final : public ProvisionerPort {
 public:
  // Creates `dir` if needed; user ports are handed out from `firstPort` up, peer port = user + 1.
  SimulatedProvisionerPort(std::string dir, std::uint16_t firstPort);
  core::Result<protocol::InstanceInfo> provision(const crypto::Hash256& id, const protocol::AcquireRequest&,
                                                 const lease::InstanceSize&) override;
  core::Status destroy(const crypto::Hash256& id) override;
  core::Result<std::vector<crypto::Hash256>> list() override;
  core::Status deliverCluster(const crypto::Hash256&, const std::vector<protocol::ClusterMember>&) override;

 private:
  std::string dir_;
  std::uint16_t first_;
};

}  // namespace sashimono::node
