#pragma once
// ProvisionerPort over host::Provisioner. A lease's tenant is named "l" + the first 16 hex
// digits of its id (lower case), and carries SASHIMONO_LEASE_ID=<id> in its environment, so
// list() maps tenants back to leases. Ports come from the tenant's forwards; the instance key is
// derived from the host seed and the lease id (the instance gets its public key in its
// environment as SASHIMONO_INSTANCE_KEY, ED + hex).
// Thread-safety: that of host::Provisioner (serialized by its lock).
#include <string>

#include "sashimono/crypto/Keys.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/node/ProvisionerPort.h"

namespace sashimono::node {

std::string tenantNameFor(const crypto::Hash256& leaseId);
// The instance's /run/sashimono/cluster.json: {"lease":"<hex id>","members":[{"key":"ED…",
// "peer":"host:port"},…]} (docs/NODE.md), replaced whole at each membership change.
std::string renderClusterFile(const crypto::Hash256& leaseId,
                              const std::vector<protocol::ClusterMember>& members);

class HostProvisionerPort final : public ProvisionerPort {
 public:
  // A lease's instance runs the image its request names (the node's policy has checked that
  // the host offers it); the provisioner finds it under its imagesDir.
  HostProvisionerPort(host::Provisioner& provisioner, const crypto::KeyPair& hostKey)
      : provisioner_(provisioner), hostKey_(hostKey) {}
  core::Result<protocol::InstanceInfo> provision(const crypto::Hash256& leaseId,
                                                 const protocol::AcquireRequest& request,
                                                 const lease::InstanceSize& size) override;
  core::Status destroy(const crypto::Hash256& leaseId) override;
  core::Result<std::vector<crypto::Hash256>> list() override;
  core::Status deliverCluster(const crypto::Hash256& leaseId,
                              const std::vector<protocol::ClusterMember>& members) override;

 private:
  host::Provisioner& provisioner_;
  const crypto::KeyPair& hostKey_;
};

}  // namespace sashimono::node
