#include "ClusterDescription.h"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/core/Config.h"
#include "sashimono/core/File.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(Writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}
void put(Writer& w, const char* key, std::uint64_t v) {
  w.Key(key);
  w.Uint64(v);
}

std::string hostPart(const std::string& host) {
  return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
}

}  // namespace

std::string ClusterMemberInfo::userUrl() const {
  return "wss://" + hostPart(host) + ":" + std::to_string(userPort);
}

std::string ClusterMemberInfo::peer() const { return hostPart(host) + ":" + std::to_string(peerPort); }

std::vector<protocol::ClusterMember> ClusterDescription::membership() const {
  std::vector<protocol::ClusterMember> out;
  for (const auto& m : members) out.push_back(m.member());
  return out;
}

std::size_t ClusterDescription::find(const std::string& leaseId) const {
  auto id = protocol::parseHash256(leaseId);
  if (!id) return members.size();
  const std::string want = protocol::formatHash256(*id);
  for (std::size_t i = 0; i < members.size(); ++i)
    if (members[i].leaseId == want) return i;
  return members.size();
}

std::string renderCluster(const ClusterDescription& c) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  put(w, "version", 1);
  put(w, "contract_id", c.contractId);
  put(w, "image", c.image);
  put(w, "account", c.account);
  put(w, "owner", c.owner);
  put(w, "registry", c.registry);
  w.Key("members");
  w.StartArray();
  for (const auto& m : c.members) {
    w.StartObject();
    put(w, "lease_id", m.leaseId);
    put(w, "host_account", m.hostAccount);
    put(w, "host", m.host);
    put(w, "instance_key", protocol::formatEd25519Key(m.instanceKey));
    put(w, "user_port", m.userPort);
    put(w, "peer_port", m.peerPort);
    put(w, "expiry", m.expiry);
    put(w, "user_url", m.userUrl());
    put(w, "peer", m.peer());
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

core::Result<ClusterDescription> parseCluster(const std::string& json, const std::string& source) {
  SASHI_TRY_ASSIGN(root, core::ConfigNode::parse(json, source));
  SASHI_TRY_ASSIGN(version, root.uint("version", 1, 1));
  (void)version;
  ClusterDescription c;
  SASHI_TRY_ASSIGN(contractId, root.string("contract_id"));
  SASHI_TRY_ASSIGN(image, root.string("image"));
  SASHI_TRY_ASSIGN(account, root.string("account"));
  SASHI_TRY_ASSIGN(owner, root.string("owner"));
  SASHI_TRY_ASSIGN(registry, root.string("registry", ""));
  c.contractId = contractId;
  c.image = image;
  c.account = account;
  c.owner = owner;
  c.registry = registry;
  SASHI_TRY_ASSIGN(members, root.array("members"));
  for (const auto& m : members) {
    ClusterMemberInfo i;
    SASHI_TRY_ASSIGN(lease, m.string("lease_id"));
    auto id = protocol::parseHash256(lease);
    if (!id) return m.fieldError("lease_id", id.error().message);
    i.leaseId = protocol::formatHash256(*id);
    SASHI_TRY_ASSIGN(hostAccount, m.string("host_account"));
    SASHI_TRY_ASSIGN(host, m.string("host"));
    if (auto st = protocol::validateHost(host); !st) return m.fieldError("host", st.error().message);
    i.hostAccount = hostAccount;
    i.host = host;
    SASHI_TRY_ASSIGN(key, m.string("instance_key"));
    auto k = protocol::parseEd25519Key(key);
    if (!k) return m.fieldError("instance_key", k.error().message);
    i.instanceKey = *k;
    SASHI_TRY_ASSIGN(userPort, m.uint("user_port", 1, 65535));
    SASHI_TRY_ASSIGN(peerPort, m.uint("peer_port", 1, 65535));
    SASHI_TRY_ASSIGN(expiry, m.uint("expiry", 0, 0, UINT64_MAX));
    i.userPort = static_cast<std::uint16_t>(userPort);
    i.peerPort = static_cast<std::uint16_t>(peerPort);
    i.expiry = expiry;
    c.members.push_back(std::move(i));
  }
  return c;
}

core::Result<ClusterDescription> readClusterFile(const std::string& path) {
  SASHI_TRY_ASSIGN(text, core::readFile(path));
  return parseCluster(text, path);
}

core::Status writeClusterFile(const std::string& path, const ClusterDescription& c) {
  return core::writeFileAtomic(path, renderCluster(c) + "\n", 0644);
}

core::Bytes unlChangeInput(const std::vector<protocol::Ed25519Key>& unl) {
  std::vector<std::string> keys;
  for (const auto& k : unl) keys.push_back("ed" + core::toHexLower(k));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::string text = "sashimono.unl/1\n{\"unl\":[";
  for (std::size_t i = 0; i < keys.size(); ++i) text += (i == 0 ? "\"" : ",\"") + keys[i] + "\"";
  text += "]}";
  return core::Bytes(text.begin(), text.end());
}

}  // namespace sashimono::cli
