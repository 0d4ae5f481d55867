#pragma once
// Instances in memory behind node::ProvisionerPort: the "OS" that survives a simulated crash of
// the node. Idempotent like the real one. Knobs: fail the next creates/destroys/deliveries.
#include <map>
#include <vector>

#include "sashimono/node/ProvisionerPort.h"

namespace sashimono::node::fakes {

class FakeProvisioner final : public ProvisionerPort {
 public:
  core::Result<protocol::InstanceInfo> provision(const crypto::Hash256& id, const protocol::AcquireRequest&,
                                                 const lease::InstanceSize&) override {
    ++provisionCalls;
    if (failCreates > 0) {
      --failCreates;
      return core::Error("fake: create failed");
    }
    if (auto it = instances.find(id); it != instances.end()) return it->second;
    protocol::InstanceInfo i;
    i.pubkey[0] = static_cast<std::uint8_t>(nextPort_);
    i.pubkey[1] = id[0];
    i.userPort = nextPort_++;
    i.peerPort = static_cast<std::uint16_t>(i.userPort + 1000);
    instances[id] = i;
    ++creates;
    return i;
  }
  core::Status destroy(const crypto::Hash256& id) override {
    if (failDestroys > 0) {
      --failDestroys;
      return core::Error("fake: destroy failed");
    }
    if (instances.erase(id)) ++destroys;
    return {};
  }
  core::Result<std::vector<crypto::Hash256>> list() override {
    std::vector<crypto::Hash256> out;
    for (const auto& [id, _] : instances) out.push_back(id);
    return out;
  }
  core::Status deliverCluster(const crypto::Hash256& id,
                              const std::vector<protocol::ClusterMember>& m) override {
    if (failDeliveries > 0) {
      --failDeliveries;
      return core::Error("fake: delivery failed");
    }
    clusters[id] = m;
    return {};
  }

  std::map<crypto::Hash256, protocol::InstanceInfo> instances;
  std::map<crypto::Hash256, std::vector<protocol::ClusterMember>> clusters;
  int failCreates = 0;
  int failDestroys = 0;
  int failDeliveries = 0;
  int creates = 0;
  int destroys = 0;
  int provisionCalls = 0;

 private:
  std::uint16_t nextPort_ = 26000;
};

}  // namespace sashimono::node::fakes
