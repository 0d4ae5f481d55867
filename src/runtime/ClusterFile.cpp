#include "sashimono/runtime/ClusterFile.h"

#include <algorithm>
#include <set>

#include "sashimono/core/Config.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime {

namespace {

bool hostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_';
}

}  // namespace

core::Result<PeerAddress> parsePeerEndpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return core::Error("'" + std::string(text) + "' is not host:port");
  auto portText = text.substr(colon + 1);
  if (portText.size() > 5 || portText[0] == '0' ||
      !std::all_of(portText.begin(), portText.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return core::Error("'" + std::string(text) + "': the port must be 1..65535");
  const unsigned long port = std::stoul(std::string(portText));
  if (port > 65535) return core::Error("'" + std::string(text) + "': the port must be 1..65535");
  auto host = text.substr(0, colon);
  PeerAddress a;
  a.port = static_cast<std::uint16_t>(port);
  if (host.front() == '[') {
    if (host.size() < 4 || host.back() != ']')
      return core::Error("'" + std::string(text) + "': an IPv6 host is [address]");
    host = host.substr(1, host.size() - 2);
    if (!std::all_of(host.begin(), host.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                 c == '.';
        }))
      return core::Error("'" + std::string(text) + "': not an IPv6 address");
  } else if (host.size() > 253 || !std::all_of(host.begin(), host.end(), hostChar)) {
    return core::Error("'" + std::string(text) + "': not a host name or IPv4 address");
  }
  a.host = std::string(host);
  return a;
}

core::Result<UnlChange> parseUnlChange(std::string_view json) {
  auto root = core::ConfigNode::parse(std::string(json), "the UNL change");
  if (!root) return root.error();
  UnlChange change;
  if (root->has("threshold")) {
    auto th = root->uint("threshold", 1, 100);
    if (!th) return th.error();
    change.threshold = static_cast<std::uint32_t>(*th);
  }
  if (!root->has("unl")) {
    if (!change.threshold) return root->fieldError("unl", "missing (and no threshold either)");
    return change;
  }
  auto list = root->strings("unl");
  if (!list) return list.error();
  if (list->empty() || list->size() > kMaxClusterMembers)
    return root->fieldError("unl", "1 to " + std::to_string(kMaxClusterMembers) + " keys");
  std::vector<PubKey> unl;
  for (const auto& k : *list) {
    auto key = parseHexKey(k);
    if (!key) return root->fieldError("unl", "'" + k + "' is not a key (\"ed\" + 64 hex digits)");
    unl.push_back(*key);
  }
  std::sort(unl.begin(), unl.end());
  if (std::adjacent_find(unl.begin(), unl.end()) != unl.end())
    return root->fieldError("unl", "a key is listed twice");
  change.unl = std::move(unl);
  return change;
}

core::Result<ClusterMembership> parseClusterFile(const std::string& json, const std::string& source) {
  auto root = core::ConfigNode::parse(json, source);
  if (!root) return root.error();
  ClusterMembership m;
  auto lease = root->string("lease", "");
  if (!lease) return lease.error();
  m.lease = *lease;
  auto members = root->array("members");
  if (!members) return members.error();
  if (members->size() > kMaxClusterMembers)
    return root->fieldError("members", "at most " + std::to_string(kMaxClusterMembers) + " members");
  std::set<PubKey> seen;
  for (const auto& n : *members) {
    auto k = n.string("key");
    if (!k) return k.error();
    auto key = parseHexKey(*k);
    if (!key) return n.fieldError("key", "'" + *k + "' is not a key (\"ED\" + 64 hex digits)");
    if (!seen.insert(*key).second) return n.fieldError("key", "'" + *k + "' is listed twice");
    auto p = n.string("peer");
    if (!p) return p.error();
    auto addr = parsePeerEndpoint(*p);
    if (!addr) return n.fieldError("peer", addr.error().message);
    addr->key = *key;
    m.members.push_back(std::move(*addr));
  }
  return m;
}

std::string endpointText(const PeerAddress& a) {
  const bool v6 = a.host.find(':') != std::string::npos;
  return (v6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

core::Result<std::vector<std::string>> applyPeerChangeset(const std::vector<std::string>& current,
                                                          std::string_view json) {
  auto root = core::ConfigNode::parse(std::string(json), "peer_changeset");
  if (!root) return root.error();
  auto type = root->string("type");
  if (!type) return type.error();
  if (*type != "peer_changeset") return root->fieldError("type", "'" + *type + "' is not peer_changeset");
  auto endpoints = [&](const char* field) -> core::Result<std::set<std::string>> {
    auto list = root->strings(field);
    if (!list) return list.error();
    std::set<std::string> out;
    for (const auto& e : *list) {
      auto a = parsePeerEndpoint(e);
      if (!a) return root->fieldError(field, a.error().message);
      out.insert(endpointText(*a));
    }
    return out;
  };
  auto add = endpoints("add");
  if (!add) return add.error();
  std::set<std::string> next(current.begin(), current.end());
  if (root->has("remove")) {
    if (root->raw()["remove"].IsString()) {
      auto all = root->string("remove");
      if (*all != "*") return root->fieldError("remove", "a list of host:port or \"*\"");
      next.clear();
    } else {
      auto remove = endpoints("remove");
      if (!remove) return remove.error();
      for (const auto& e : *remove) next.erase(e);
    }
  }
  next.insert(add->begin(), add->end());
  if (next.size() > kMaxContractPeers)
    return root->fieldError("add", "at most " + std::to_string(kMaxContractPeers) + " peers in all");
  return std::vector<std::string>(next.begin(), next.end());
}

}  // namespace sashimono::runtime
