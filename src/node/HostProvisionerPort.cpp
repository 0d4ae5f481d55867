#include "sashimono/node/HostProvisionerPort.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {

namespace {

constexpr std::string_view kLeaseEnv = "SASHIMONO_LEASE_ID=";

// The instance's ed25519 seed: SHA512Half(host secret ‖ "instance" ‖ lease id), first 16 bytes.
crypto::KeyPair instanceKey(const crypto::KeyPair& host, const crypto::Hash256& leaseId) {
  core::Bytes material(host.ed25519SecretKey().begin(), host.ed25519SecretKey().begin() + 32);
  const std::string_view tag = "instance";
  material.insert(material.end(), tag.begin(), tag.end());
  material.insert(material.end(), leaseId.begin(), leaseId.end());
  auto h = crypto::sha512Half(material);
  std::array<std::uint8_t, 16> entropy{};
  std::copy(h.begin(), h.begin() + 16, entropy.begin());
  return *crypto::KeyPair::fromSeed(crypto::Seed(crypto::KeyType::ed25519, entropy));
}

protocol::InstanceInfo infoOf(const host::TenantInfo& t, const crypto::KeyPair& key) {
  protocol::InstanceInfo i;
  std::copy(key.publicKey().begin() + 1, key.publicKey().end(), i.pubkey.begin());
  for (const auto& p : t.ports) {
    if (p.role == "user")
      i.userPort = p.hostPort;
    else if (p.role == "peer")
      i.peerPort = p.hostPort;
    else if (i.ports.size() < protocol::kMaxGeneralPorts)
      i.ports.push_back(p.hostPort);
  }
  return i;  // host: filled in by the node
}

}  // namespace

std::string tenantNameFor(const crypto::Hash256& leaseId) {
  return "l" + core::toHexLower(leaseId).substr(0, 16);
}

core::Result<protocol::InstanceInfo> HostProvisionerPort::provision(const crypto::Hash256& leaseId,
                                                                    const protocol::AcquireRequest& request,
                                                                    const lease::InstanceSize& size) {
  const std::string name = tenantNameFor(leaseId);
  auto key = instanceKey(hostKey_, leaseId);
  if (auto existing = provisioner_.inspect(name);
      existing.ok() && existing->state == "ready" && existing->running)
    return infoOf(*existing, key);
  (void)provisioner_.destroy(name);  // half-made: start over
  host::TenantSpec spec;
  spec.name = name;
  spec.image = request.image;
  spec.limits.cpuQuotaUs = size.cpuMillis * 100;  // per 100 ms period
  spec.limits.cpuPeriodUs = 100000;
  spec.limits.memoryBytes = size.memoryMiB << 20;
  spec.limits.swapBytes = size.swapMiB << 20;
  spec.diskBytes = size.diskMiB << 20;
  spec.env.push_back(std::string(kLeaseEnv) + core::toHex(leaseId));
  spec.env.push_back("SASHIMONO_CONTRACT_ID=" + request.contractId);
  spec.env.push_back("SASHIMONO_OWNER=" + protocol::formatEd25519Key(request.owner));
  spec.env.push_back("SASHIMONO_IMAGE=" + request.image);
  spec.env.push_back("SASHIMONO_INSTANCE_KEY=ED" + core::toHex(core::ByteView(key.publicKey()).subspan(1)));
  spec.env.push_back("SASHIMONO_ROUNDTIME_MS=" + std::to_string(request.config.roundtimeMs));
  for (const auto& e : request.config.env) spec.env.push_back(e.key + "=" + e.value);
  auto t = provisioner_.create(spec);
  if (!t) return t.error();
  return infoOf(*t, key);
}

core::Status HostProvisionerPort::destroy(const crypto::Hash256& leaseId) {
  return provisioner_.destroy(tenantNameFor(leaseId));
}

core::Result<std::vector<crypto::Hash256>> HostProvisionerPort::list() {
  auto names = provisioner_.list();
  if (!names) return names.error();
  std::vector<crypto::Hash256> out;
  for (const auto& n : *names) {
    auto t = provisioner_.inspect(n);
    if (!t) continue;
    for (const auto& e : t->spec.env) {
      if (e.rfind(kLeaseEnv, 0) != 0) continue;
      auto id = protocol::parseHash256(e.substr(kLeaseEnv.size()));
      if (id.ok() && tenantNameFor(*id) == n) out.push_back(*id);
    }
  }
  return out;
}

std::string renderClusterFile(const crypto::Hash256& leaseId,
                              const std::vector<protocol::ClusterMember>& members) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("lease");
  w.String(core::toHex(leaseId).c_str());
  w.Key("members");
  w.StartArray();
  for (const auto& m : members) {
    w.StartObject();
    w.Key("key");
    w.String(protocol::formatEd25519Key(m.pubkey).c_str());
    w.Key("peer");
    w.String(m.peer.c_str());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(sb.GetString()) + "\n";
}

core::Status HostProvisionerPort::deliverCluster(const crypto::Hash256& leaseId,
                                                 const std::vector<protocol::ClusterMember>& members) {
  return provisioner_.writeInfo(tenantNameFor(leaseId), "cluster.json", renderClusterFile(leaseId, members));
}

}  // namespace sashimono::node
