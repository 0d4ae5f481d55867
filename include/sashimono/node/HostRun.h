#pragma once
// The host node's composition root (`sashimono host run`, docs/NODE.md): from a host
// configuration it opens the node's store, reads the host key, builds the tenants' provisioner —
// real Linux tenants (root), simulated ones (SimulatedProvisionerPort.h) for demos and tests
// without root, or local processes without isolation (ProcessProvisionerPort.h) for tests and
// development — reconciles what a crash or reboot left, and wires the NodeService. The command
// itself only parses options, waits for signals and prints.
//
// Ownership: a HostRun owns everything it built; the NodeService refers to the other members,
// which are declared before it and so outlive it. Thread-safety: start/stop/fatal from one thread.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Log.h"
#include "sashimono/core/Metrics.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/net/HttpServer.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/NodeService.h"
#include "sashimono/node/NodeStore.h"
#include "sashimono/node/ProvisionerPort.h"

namespace sashimono::node {

struct HostRunOptions {
  // Non-empty: tenants are simulated as files in this directory (no root needed; say so).
  std::string simulatedTenantsDir;
  // Non-empty: instances run as plain local processes of the node's user, under this directory
  // (ProcessProvisionerPort.h): FOR TESTS AND DEVELOPMENT ONLY, NO ISOLATION. Their ports listen on
  // the host's address when it is an IP address, else on bindAddress.
  std::string processInstancesDir;
  // Real tenants: where they live (default <dataDir>/tenants), their user-name prefix (default
  // the provisioner's), the parent cgroup, and the binary that serves `statefs mount`
  // (default /proc/self/exe). Root tests confine their tenants with the first three.
  std::string tenantsDir;
  std::string tenantPrefix;
  std::string cgroupParent = "sashimono";
  std::string sashimonoBinary;
  std::optional<std::chrono::milliseconds> tickInterval;
  // The recent warnings and errors the status row carries (core::recordRecentProblems); null: none.
  std::shared_ptr<core::RecentProblems> problems;
};

class HostRun {
 public:
  // Everything up to a node ready to start: errors name what is wrong (root, seed, store,
  // a tenants directory tenant users cannot reach, reconcile).
  static core::Result<std::unique_ptr<HostRun>> open(HostConfig config, const HostRunOptions& options);
  ~HostRun();
  HostRun(const HostRun&) = delete;
  HostRun& operator=(const HostRun&) = delete;

  // Starts the node, then the metrics server when the config names an address (a port taken is
  // an error: the owner asked for it there).
  [[nodiscard]] core::Status start();
  void stop();
  // Takes what a running node can take from a re-read configuration (SIGHUP): the offer
  // (capacity, pricing), the log level and the fee limits; returns the fields that differ but need a restart
  // (kept as they were). The caller has parsed and checked `next` (a bad file is refused whole).
  std::vector<std::string> reload(const HostConfig& next);
  // The bound metrics port (0: no metrics server).
  [[nodiscard]] std::uint16_t metricsPort() const { return metricsPort_; }
  [[nodiscard]] core::MetricsRegistry& metrics() const { return *metrics_; }
  [[nodiscard]] bool fatal() const { return service_->fatal(); }
  [[nodiscard]] std::string fatalError() const { return service_->fatalError(); }
  [[nodiscard]] const crypto::KeyPair& key() const { return *key_; }
  [[nodiscard]] const HostConfig& config() const { return config_; }

 private:
  HostRun() = default;
  core::Status openRealTenants(const HostRunOptions& o);
  core::Status openProcessInstances(const HostRunOptions& o);

  HostConfig config_;
  std::optional<crypto::KeyPair> key_;
  std::optional<NodeStore> store_;
  std::optional<host::LinuxHost> os_;
  std::unique_ptr<host::Provisioner> provisioner_;
  std::unique_ptr<ProvisionerPort> port_;
  lease::SystemClock clock_;
  std::shared_ptr<core::MetricsRegistry> metrics_;
  std::unique_ptr<NodeService> service_;
  std::unique_ptr<net::HttpServer> metricsServer_;
  std::uint16_t metricsPort_ = 0;
};

}  // namespace sashimono::node
