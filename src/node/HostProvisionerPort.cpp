#include "sashimono/node/HostProvisionerPort.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/host/LogRotation.h"
#include "sashimono/host/TenantProbe.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {

namespace {

constexpr std::string_view kLeaseEnv = "SASHIMONO_LEASE_ID=";

// Wipes a secret's temporary copy when it goes out of scope.
struct Wipe {
  void* p;
  std::size_t n;
  ~Wipe() { sodium_memzero(p, n); }
};

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

// The instance's ed25519 seed: SHA512Half(host secret ‖ "instance" ‖ lease id), first 16 bytes.
crypto::KeyPair instanceKeyFor(const crypto::KeyPair& host, const crypto::Hash256& leaseId) {
  const std::string_view tag = "instance";
  core::Bytes material;
  material.reserve(32 + tag.size() + leaseId.size());  // one buffer, wiped below
  material.insert(material.end(), host.ed25519SecretKey().begin(), host.ed25519SecretKey().begin() + 32);
  material.insert(material.end(), tag.begin(), tag.end());
  material.insert(material.end(), leaseId.begin(), leaseId.end());
  Wipe wipeMaterial{material.data(), material.size()};
  auto h = crypto::sha512Half(material);
  Wipe wipeHash{h.data(), h.size()};
  std::array<std::uint8_t, 16> entropy{};
  Wipe wipeEntropy{entropy.data(), entropy.size()};
  std::copy(h.begin(), h.begin() + 16, entropy.begin());
  return *crypto::KeyPair::fromSeed(crypto::Seed(crypto::KeyType::ed25519, entropy));
}

runtime::InstanceConfig instanceConfigFor(const protocol::AcquireRequest& request,
                                          const RuntimeCeilings& ceilings) {
  runtime::InstanceConfig c;
  c.contractId = request.contractId;
  runtime::PubKey owner{};
  owner[0] = 0xED;
  std::copy(request.owner.begin(), request.owner.end(), owner.begin() + 1);
  c.owner = owner;
  c.keyFile = "instance.key";
  c.user.port = host::kContainerUserPort;
  c.user.tls = "self-signed";
  c.roundTimeMs = request.config.roundtimeMs;
  for (const auto& e : request.config.env) c.environment.emplace_back(e.key, e.value);
  c.logLevel = std::string(protocol::logLevelName(request.config.logLevel));
  c.roundLimits = runtime::RoundLimits{};
  c.roundLimits.userInputBytes = 0;
  c.roundLimits.userOutputBytes = ceilings.userOutputBytes;
  c.roundLimits.nplOutputBytes = ceilings.nplOutputBytes;
  c.roundLimits.procCpuSeconds = 0;
  c.roundLimits.procMemBytes = ceilings.procMemBytes;
  c.roundLimits.procOfdCount = 0;
  c.roundLimits.procCount = ceilings.procCount;
  c.roundLimits.execTimeoutMs = ceilings.execTimeoutMs;
  c.runAs = std::make_pair(static_cast<uid_t>(host::kContractUid), static_cast<gid_t>(host::kContractUid));
  c.statefsControl = host::kContainerStatefsControl;  // the state hash comes from statefs
  c.statefsViews = host::kContainerViewsDir;          // read requests read views of the committed state
  // The peer port (forwarded from the lease's peer port) and the membership this node writes.
  c.peer.enabled = true;
  c.peer.listen = "0.0.0.0";
  c.peer.port = host::kContainerPeerPort;
  c.clusterFile = "/run/sashimono/cluster.json";
  return c;
}

std::string instanceKeyText(const crypto::KeyPair& key) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto& secret = key.ed25519SecretKey();
  std::string text(2 + 2 * secret.size() + 1, '\n');  // sized once: no reallocated copies
  text[0] = 'e';
  text[1] = 'd';
  for (std::size_t i = 0; i < secret.size(); ++i) {
    text[2 + 2 * i] = kHex[secret[i] >> 4];
    text[3 + 2 * i] = kHex[secret[i] & 0xf];
  }
  return text;
}

core::Result<protocol::InstanceInfo> HostProvisionerPort::provision(const crypto::Hash256& leaseId,
                                                                    const protocol::AcquireRequest& request,
                                                                    const lease::InstanceSize& size) {
  const std::string name = tenantNameFor(leaseId);
  auto key = instanceKeyFor(hostKey_, leaseId);
  if (auto existing = provisioner_.inspect(name);
      existing.ok() && existing->state == host::TenantState::kReady && existing->running)
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
  auto profile = host::readImageProfile(provisioner_.config().imagesDir, request.image);
  if (!profile) return profile.error();
  host::InfoFiles files;
  if (*profile == host::ImageProfile::kRuntime) {
    files.emplace_back("instance.json", runtime::renderInstanceConfig(instanceConfigFor(request, ceilings_)));
    files.emplace_back("instance.key", instanceKeyText(key));
  }
  auto t = provisioner_.create(spec, files);
  for (auto& [file, content] : files) sodium_memzero(content.data(), content.size());
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

std::vector<InstanceUsage> HostProvisionerPort::usage(std::span<const crypto::Hash256> leases) {
  std::vector<InstanceUsage> out;
  for (const auto& id : leases) {
    auto u = provisioner_.usage(tenantNameFor(id));
    if (!u) continue;
    out.push_back(InstanceUsage{id, u->cpuSeconds, u->memoryBytes, u->diskBytes});
  }
  return out;
}

std::vector<InstanceHealth> HostProvisionerPort::health(std::span<const crypto::Hash256> leases) {
  std::vector<InstanceHealth> out;
  std::vector<host::TcpProbe> probes;
  std::vector<std::size_t> probed;
  const std::string& ip = provisioner_.config().publicIp;
  for (const auto& id : leases) {
    InstanceHealth h;
    h.leaseId = id;
    auto t = provisioner_.health(tenantNameFor(id));
    if (!t) {
      h.failed.push_back(t.error().message);
    } else {
      h.failed = t->failed;
      h.diskUsedRatio = t->diskUsedRatio;
      if (t->userPort != 0) {
        probes.push_back({ip == "0.0.0.0" ? "127.0.0.1" : ip, t->userPort});
        probed.push_back(out.size());
      }
    }
    out.push_back(std::move(h));
  }
  const auto results = host::probeTcp(probes, kUserPortProbe);
  for (std::size_t k = 0; k < results.size(); ++k)
    if (!results[k]) out[probed[k]].failed.push_back("user port: " + results[k].error().message);
  return out;
}

core::Status HostProvisionerPort::heal(const crypto::Hash256& leaseId) {
  return provisioner_.restart(tenantNameFor(leaseId));
}

void HostProvisionerPort::maintain(std::span<const crypto::Hash256> leases) {
  for (const auto& id : leases) {
    const auto l = provisioner_.layout(tenantNameFor(id));
    auto r = host::rotateLogs(l.logDir, kTenantLogBytes);
    if (!r) {
      spdlog::warn("node: logs of {}: {}", l.name, r.error().message);
      continue;
    }
    for (const auto& f : *r) spdlog::info("node: rotated {}/{} ({} bytes)", l.name, f.name, f.bytes);
  }
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
