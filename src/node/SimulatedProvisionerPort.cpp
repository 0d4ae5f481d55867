#include "sashimono/node/SimulatedProvisionerPort.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "sashimono/core/Bytes.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {
namespace {

protocol::InstanceInfo info(const crypto::Hash256& id, std::uint16_t port) {
  protocol::InstanceInfo i;
  std::copy(id.begin(), id.end(), i.pubkey.begin());
  i.userPort = port;
  i.peerPort = static_cast<std::uint16_t>(port + 1);
  return i;
}

}  // namespace

SimulatedProvisionerPort::SimulatedProvisionerPort(std::string dir, std::uint16_t firstPort)
    : dir_(std::move(dir)), first_(firstPort) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

core::Result<protocol::InstanceInfo> SimulatedProvisionerPort::provision(const crypto::Hash256& id,
                                                                         const protocol::AcquireRequest&,
                                                                         const lease::InstanceSize&) {
  const auto path = dir_ + "/" + core::toHex(id);
  std::set<std::uint16_t> used;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    std::ifstream in(e.path());
    unsigned p = 0;
    if (in >> p) {
      if (e.path().filename() == core::toHex(id)) return info(id, static_cast<std::uint16_t>(p));
      used.insert(static_cast<std::uint16_t>(p));
    }
  }
  if (ec) return core::Error("simulated tenants: cannot list " + dir_ + ": " + ec.message());
  std::uint16_t port = first_;
  while (used.count(port)) ++port;
  const auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return core::Error("simulated tenants: cannot write " + tmp);
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) return core::Error("simulated tenants: cannot rename " + tmp + ": " + ec.message());
  return info(id, port);
}

core::Status SimulatedProvisionerPort::destroy(const crypto::Hash256& id) {
  std::error_code ec;
  std::filesystem::remove(dir_ + "/" + core::toHex(id), ec);
  return {};
}

core::Result<std::vector<crypto::Hash256>> SimulatedProvisionerPort::list() {
  std::vector<crypto::Hash256> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    auto h = protocol::parseHash256(e.path().filename().string());
    if (h.ok()) out.push_back(*h);
  }
  if (ec) return core::Error("simulated tenants: cannot list " + dir_ + ": " + ec.message());
  return out;
}

core::Status SimulatedProvisionerPort::deliverCluster(const crypto::Hash256&,
                                                      const std::vector<protocol::ClusterMember>&) {
  return {};
}

}  // namespace sashimono::node
