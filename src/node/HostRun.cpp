#include "sashimono/node/HostRun.h"

#include <arpa/inet.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include <spdlog/spdlog.h>

#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/node/NodeMetrics.h"
#include "sashimono/node/ProcessProvisionerPort.h"
#include "sashimono/node/SimulatedProvisionerPort.h"

namespace sashimono::node {

namespace fs = std::filesystem;

core::Result<std::unique_ptr<HostRun>> HostRun::open(HostConfig config, const HostRunOptions& options) {
  std::unique_ptr<HostRun> r(new HostRun());
  r->config_ = std::move(config);
  const HostConfig& c = r->config_;
  auto seed = readSeedFile(c.seedFile);
  if (!seed) return seed.error();
  auto key = crypto::KeyPair::fromSeed(*seed);
  if (!key) return key.error();
  r->key_.emplace(std::move(*key));
  std::error_code ec;
  fs::create_directories(c.dataDir, ec);
  if (ec) return core::Error("cannot create " + c.dataDir + ": " + ec.message());
  auto store = NodeStore::open(c.storePath());
  if (!store) return store.error();
  r->store_.emplace(std::move(*store));
  if (!options.simulatedTenantsDir.empty()) {
    spdlog::warn("host run: tenants are simulated as files in {} (no instance runs)",
                 options.simulatedTenantsDir);
    r->port_ = std::make_unique<SimulatedProvisionerPort>(options.simulatedTenantsDir, c.userPorts.first);
  } else if (!options.processInstancesDir.empty()) {
    SASHI_TRY(r->openProcessInstances(options));
  } else {
    SASHI_TRY(r->openRealTenants(options));
  }
  ServiceOptions so;
  if (options.tickInterval) so.tickInterval = *options.tickInterval;
  r->metrics_ = std::make_shared<core::MetricsRegistry>();
  metric::declareNodeMetrics(*r->metrics_);
  so.metrics = r->metrics_;
  so.problems = options.problems;
  r->service_ = std::make_unique<NodeService>(r->config_, *r->store_, *r->port_, *r->key_, r->clock_, so);
  return r;
}

core::Status HostRun::openRealTenants(const HostRunOptions& o) {
  const HostConfig& c = config_;
  if (::geteuid() != 0) return core::Error("must run as root to create tenants (users, cgroups, mounts)");
  std::string self = o.sashimonoBinary;
  if (self.empty()) {
    char buf[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return core::Error("cannot find the sashimono binary (/proc/self/exe)");
    self.assign(buf, static_cast<std::size_t>(n));
  }
  auto linuxHost =
      host::makeLinuxHost(o.cgroupParent.empty() ? "sashimono" : o.cgroupParent, {self, "statefs", "mount"});
  if (!linuxHost) return linuxHost.error();
  os_.emplace(std::move(*linuxHost));
  host::ProvisionerConfig pc;
  pc.baseDir = o.tenantsDir.empty() ? c.dataDir + "/tenants" : o.tenantsDir;
  if (!o.tenantPrefix.empty()) pc.userPrefix = o.tenantPrefix;
  pc.imagesDir = c.imagesDir;
  pc.publicIp = c.bindAddress;
  pc.ports.user = {c.userPorts.first, c.userPorts.last};
  pc.ports.peer = {c.peerPorts.first, c.peerPorts.last};
  pc.ports.generalTcp = {c.generalPorts.first, c.generalPorts.last};
  pc.ports.generalTcpCount = c.generalPerInstance;
  pc.ports.generalUdpCount = 0;
  for (const auto& img : c.policy.allowedImages)
    if (!fs::is_directory(c.imagesDir + "/" + img + "/rootfs"))
      spdlog::warn(
          "host run: image '{}' is offered but {}/{}/rootfs does not exist (tools/build-image.sh "
          "--name {}); its acquires will be refunded as provisioning failures",
          img, c.imagesDir, img, img);
  // Each tenant's own user runs its statefs and containerd under baseDir: every directory above
  // it must let others through, or every acquire would fail and be refunded.
  std::error_code ec;
  fs::create_directories(pc.baseDir, ec);
  if (ec) return core::Error("cannot create " + pc.baseDir + ": " + ec.message());
  for (auto p = fs::absolute(pc.baseDir).parent_path(); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0)
      return core::Error("tenant users cannot reach " + pc.baseDir + ": " + p.string() + " is mode " +
                         std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                         std::to_string(st.st_mode & 7) +
                         " (others need the x bit: chmod o+x it, or choose another dataDir)");
    if (p == p.root_path()) break;
  }
  provisioner_ = std::make_unique<host::Provisioner>(pc, os_->ops());
  // What a crash left behind: half-made tenants removed, ready tenants whose daemons died (a
  // reboot) restarted. The node then compares the tenants with its leases.
  auto rec = provisioner_->reconcile();
  if (!rec) return rec.error().context("tenant reconcile");
  spdlog::info("host run: tenants: {} kept, {} restarted, {} removed, {} failed", rec->kept.size(),
               rec->resumed.size(), rec->removed.size(), rec->failed.size());
  for (const auto& f : rec->failed) spdlog::warn("host run: tenant reconcile: {}", f);
  port_ = std::make_unique<HostProvisionerPort>(*provisioner_, *key_, c.runtime);
  return {};
}

core::Status HostRun::openProcessInstances(const HostRunOptions& o) {
  const HostConfig& c = config_;
  ProcessInstancesOptions po;
  po.dir = o.processInstancesDir;
  po.binary = o.sashimonoBinary;
  // The announced address when it is an IP address (a machine-local cluster on 127.0.0.1 stays
  // local), else where forwarded ports would listen.
  in6_addr any{};
  const bool ip = ::inet_pton(AF_INET, c.address.c_str(), &any) == 1 ||
                  (c.address.size() > 2 && c.address.front() == '[' &&
                   ::inet_pton(AF_INET6, c.address.substr(1, c.address.size() - 2).c_str(), &any) == 1);
  po.listen = !ip                        ? c.bindAddress
              : c.address.front() == '[' ? c.address.substr(1, c.address.size() - 2)
                                         : c.address;
  po.userPorts = c.userPorts;
  po.peerPorts = c.peerPorts;
  po.ceilings = c.runtime;
  spdlog::warn(
      "host run: instances run as PLAIN LOCAL PROCESSES of this user in {} (listening on {}): "
      "for tests and development only, NO ISOLATION — a contract can read and change anything this user can",
      po.dir, po.listen);
  SASHI_TRY_ASSIGN(port, ProcessProvisionerPort::open(std::move(po), *key_));
  port_ = std::move(port);
  return {};
}

HostRun::~HostRun() {
  if (service_) service_->stop();
}

core::Status HostRun::start() {
  SASHI_TRY(service_->start());
  if (config_.metricsAddress.empty()) return {};
  auto where = net::parseListenAddress(config_.metricsAddress);
  if (!where) return where.error().context("metrics.address");
  auto metrics = metrics_;
  metricsServer_ = std::make_unique<net::HttpServer>(std::map<std::string, net::HttpServer::Handler>{
      {"/metrics",
       [metrics] {
         return net::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", metrics->render()};
       }},
  });
  auto port = metricsServer_->listen(where->first, where->second);
  if (!port) {
    service_->stop();
    return port.error().context("metrics.address " + config_.metricsAddress);
  }
  metricsPort_ = *port;
  spdlog::info("host run: metrics on http://{}:{}/metrics",
               where->first.find(':') != std::string::npos ? "[" + where->first + "]" : where->first,
               metricsPort_);
  return {};
}

void HostRun::stop() {
  if (metricsServer_) metricsServer_->stop();
  service_->stop();
}

std::vector<std::string> HostRun::reload(const HostConfig& next) {
  std::vector<std::string> ignored = fieldsNeedingRestart(config_, next);
  if (next.logLevel != config_.logLevel) {
    spdlog::set_level(spdlog::level::from_str(next.logLevel));
    spdlog::info("host run: log level {}", next.logLevel);
    config_.logLevel = next.logLevel;
  }
  if (!(next.offer == config_.offer)) {
    config_.offer = next.offer;
    service_->reconfigure(next.offer);
  }
  if (!(next.fees == config_.fees)) {
    config_.fees = next.fees;
    service_->setFeeLimits(next.fees);
  }
  return ignored;
}

}  // namespace sashimono::node
