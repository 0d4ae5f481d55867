#pragma once
// ProvisionerPort over host::Provisioner. A lease's tenant is named "l" + the first 16 hex
// digits of its id (lower case), and carries SASHIMONO_LEASE_ID=<id> in its environment, so
// list() maps tenants back to leases. Ports come from the tenant's forwards; the instance key is
// derived from the host seed and the lease id (the instance gets its public key in its
// environment as SASHIMONO_INSTANCE_KEY, ED + hex).
// An image with the runtime profile (host/ImageProfile.h) runs the instance runtime, which reads
// /run/sashimono/instance.json (instanceConfigFor) and instance.key (the instance's private key,
// instanceKeyText): both are placed before its container starts, readable by the runtime only.
// Thread-safety: that of host::Provisioner (serialized by its lock).
#include <chrono>
#include <string>

#include "sashimono/crypto/Keys.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/ProvisionerPort.h"
#include "sashimono/runtime/Config.h"

namespace sashimono::node {

std::string tenantNameFor(const crypto::Hash256& leaseId);
// The most a tenant's log (rootlesskit.log, instance.log) holds before it is rotated; one previous
// copy is kept (<name>.log.1). Both live on the tenant's own disk.
inline constexpr std::uint64_t kTenantLogBytes = 8ull << 20;
// How long the heal loop watches a user port for a close (a forward whose backend is gone).
inline constexpr std::chrono::milliseconds kUserPortProbe{50};
// The instance's ed25519 key pair: derived from the host's secret and the lease id.
crypto::KeyPair instanceKeyFor(const crypto::KeyPair& hostKey, const crypto::Hash256& leaseId);
// instance.json of a runtime instance (docs/RUNTIME.md): the request's contract id and owner, its
// config (round time, environment, log level), the user port inside the container (8080; the
// host's forwarded port is in the reply), a self-signed TLS certificate, the host's round-limit
// ceilings, and the contract run as uid/gid 1000.
runtime::InstanceConfig instanceConfigFor(const protocol::AcquireRequest& request,
                                          const RuntimeCeilings& ceilings);
// instance.key: Hot Pocket's private key text, "ed" + 128 lower-case hex digits (0xED, then the
// 64-byte libsodium secret key) and a newline. A secret: the caller wipes it (sodium_memzero).
std::string instanceKeyText(const crypto::KeyPair& key);
// The instance's /run/sashimono/cluster.json: {"lease":"<hex id>","members":[{"key":"ED…",
// "peer":"host:port"},…]} (docs/NODE.md), replaced whole at each membership change.
std::string renderClusterFile(const crypto::Hash256& leaseId,
                              const std::vector<protocol::ClusterMember>& members);

class HostProvisionerPort final : public ProvisionerPort {
 public:
  // A lease's instance runs the image its request names (the node's policy has checked that
  // the host offers it); the provisioner finds it under its imagesDir.
  HostProvisionerPort(host::Provisioner& provisioner, const crypto::KeyPair& hostKey,
                      RuntimeCeilings ceilings = {})
      : provisioner_(provisioner), hostKey_(hostKey), ceilings_(ceilings) {}
  core::Result<protocol::InstanceInfo> provision(const crypto::Hash256& leaseId,
                                                 const protocol::AcquireRequest& request,
                                                 const lease::InstanceSize& size) override;
  core::Status destroy(const crypto::Hash256& leaseId) override;
  core::Result<std::vector<crypto::Hash256>> list() override;
  core::Status deliverCluster(const crypto::Hash256& leaseId,
                              const std::vector<protocol::ClusterMember>& members) override;
  std::vector<InstanceUsage> usage(std::span<const crypto::Hash256> leases) override;
  // The tenant's daemons (Provisioner::health) and its user port (probed on the host address,
  // all tenants at once).
  std::vector<InstanceHealth> health(std::span<const crypto::Hash256> leases) override;
  core::Status heal(const crypto::Hash256& leaseId) override;
  // Rotates each tenant's logs (host/LogRotation.h) over kTenantLogBytes.
  void maintain(std::span<const crypto::Hash256> leases) override;

 private:
  host::Provisioner& provisioner_;
  const crypto::KeyPair& hostKey_;
  RuntimeCeilings ceilings_;
};

}  // namespace sashimono::node
