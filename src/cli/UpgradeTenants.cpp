#include "UpgradeTenants.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "Command.h"
#include "sashimono/core/Log.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/TenantProbe.h"
#include "sashimono/node/HostConfig.h"

namespace sashimono::cli {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kCmd = "host upgrade-tenants";
constexpr auto kProbeEvery = 20ms;
// The meter's probes: a refused connection (no rootlesskit: the tenant is being restarted) shows
// at once. A forward whose backend does not listen closes only after ~190 ms, so the check that
// a moved tenant serves watches each connection for longer.
constexpr auto kProbeWait = 15ms;
constexpr auto kServeCheck = 400ms;

double msBetween(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Probes one user port every ~20 ms on its own thread, from start() until stop(): the longest
// time between a probe that was served and the next one that was, when probes in between were
// not (from start() if the first ones were not): how long a client saw the instance unreachable.
class UnreachableMeter {
 public:
  UnreachableMeter(std::string ip, std::uint16_t port) : probe_{std::move(ip), port} {}
  UnreachableMeter(const UnreachableMeter&) = delete;
  UnreachableMeter& operator=(const UnreachableMeter&) = delete;
  ~UnreachableMeter() { stop(); }

  void start() {
    lastServed_ = Clock::now();
    thread_ = std::thread([this] {
      while (!stop_) {
        const auto t = Clock::now();
        const bool served = host::probeTcp({probe_}, kProbeWait).front().ok();
        {
          std::lock_guard g(mu_);
          if (served) {
            if (down_) longest_ = std::max(longest_, msBetween(lastServed_, t));
            down_ = false;
            lastServed_ = t;
          } else {
            down_ = true;
          }
        }
        std::this_thread::sleep_until(t + kProbeEvery);
      }
    });
  }
  // Whether it has been served again after an outage (or never went down).
  [[nodiscard]] bool servesAgain() {
    std::lock_guard g(mu_);
    return !down_;
  }
  // The longest outage, ms; while still down, counted up to now.
  double stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    std::lock_guard g(mu_);
    if (down_) return std::max(longest_, msBetween(lastServed_, Clock::now()));
    return longest_;
  }

 private:
  host::TcpProbe probe_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  Clock::time_point lastServed_;
  bool down_ = false;
  double longest_ = 0;
};

struct Outcome {
  std::string tenant;
  std::string action;  // up-to-date | would-move | moved | rolled-back | refused | failed
  std::string from, to;
  std::optional<double> unreachableMs;
  std::string detail;
};

class Upgrader {
 public:
  Upgrader(const UpgradeTenantsOptions& o, host::Provisioner& p) : o_(o), prov_(p) {
    ip_ = p.config().publicIp == "0.0.0.0" ? "127.0.0.1" : p.config().publicIp;
  }

  // False when a tenant failed (the rest is left alone).
  bool run(const std::vector<std::string>& tenants) {
    for (const auto& t : tenants)
      if (!one(t)) return false;
    return true;
  }

  std::vector<Outcome> outcomes;

 private:
  std::string label(const std::string& image, const std::string& rootfs) const {
    return host::versionLabel(prov_.config().imagesDir, image, rootfs);
  }

  void say(Outcome o) {
    if (!o_.json) {
      std::cout << o.tenant << ": ";
      if (o.action == "up-to-date") std::cout << "up to date (" << o.to << ")";
      if (o.action == "would-move") std::cout << "would move from " << o.from << " to " << o.to;
      if (o.action == "moved")
        std::cout << "moved from " << o.from << " to " << o.to << "; unreachable for " << *o.unreachableMs
                  << " ms";
      if (o.action == "rolled-back" || o.action == "refused" || o.action == "failed") std::cout << o.detail;
      std::cout << std::endl;
    }
    outcomes.push_back(std::move(o));
  }

  // Until its parts and its user port serve, or the deadline.
  bool waitServing(const std::string& tenant, std::uint16_t port, Clock::time_point until,
                   std::string& lastProblem) {
    while (true) {
      auto h = prov_.health(tenant);
      if (!h) {
        lastProblem = h.error().message;
      } else if (!h->failed.empty()) {
        lastProblem = h->failed.front();
      } else if (auto p = host::probeTcp({{ip_, port}}, kServeCheck).front(); !p) {
        lastProblem = "user port: " + p.error().message;
      } else {
        return true;
      }
      if (Clock::now() >= until) return false;
      std::this_thread::sleep_for(kProbeEvery);
    }
  }

  bool one(const std::string& tenant) {
    auto plan = prov_.planUpgrade(tenant, o_.image);
    if (!plan) return failed(tenant, plan.error().message);
    if (plan->pending) {
      if (o_.dryRun) {
        say({tenant, "would-move", "(an unfinished upgrade, rolled back first)",
             label(o_.image, plan->toRootfs)});
        return true;
      }
      if (auto st = prov_.rollback(tenant); !st) return failed(tenant, st.error().message);
      std::cerr << tenant << ": rolled back an unfinished earlier upgrade\n";
      plan = prov_.planUpgrade(tenant, o_.image);
      if (!plan) return failed(tenant, plan.error().message);
    }
    const std::string from = label(plan->fromImage, plan->fromRootfs);
    const std::string to = label(plan->toImage, plan->toRootfs);
    if (plan->action == host::UpgradeAction::kUnchanged) {
      say({tenant, "up-to-date", from, to, 0.0, {}});
      return true;
    }
    if (plan->action == host::UpgradeAction::kRefuse) {
      say({tenant, "refused", from, to, std::nullopt, "not moved to " + to + ": " + plan->reason});
      return false;
    }
    if (o_.dryRun) {
      say({tenant, "would-move", from, to, std::nullopt, {}});
      return true;
    }
    auto info = prov_.inspect(tenant);
    if (!info) return failed(tenant, info.error().message);
    std::uint16_t port = 0;
    for (const auto& p : info->ports)
      if (p.role == "user") port = p.hostPort;
    const auto timeout = std::chrono::seconds(o_.timeoutSeconds);
    UnreachableMeter meter(ip_, port);
    meter.start();
    // The heal leaves the tenant to this command until a little after its own timeout.
    auto done = prov_.upgrade(tenant, o_.image, std::chrono::system_clock::now() + timeout + 30s);
    std::string problem;
    if (done && port != 0 && waitServing(tenant, port, Clock::now() + timeout, problem)) {
      for (auto end = Clock::now() + 1s; !meter.servesAgain() && Clock::now() < end;)
        std::this_thread::sleep_for(5ms);
      const double ms = meter.stop();
      if (auto st = prov_.finishUpgrade(tenant); !st) return failed(tenant, st.error().message);
      say({tenant, "moved", from, to, ms, {}});
      return true;
    }
    // upgrade() rolled back a tenant that did not start; one that started but does not serve is
    // rolled back here.
    std::string why = done ? "not serving after " + std::to_string(o_.timeoutSeconds) + " s (" + problem + ")"
                           : done.error().message;
    if (done) {
      if (auto st = prov_.rollback(tenant); !st) why += "; rollback failed: " + st.error().message;
    }
    std::string again;
    const bool serves = port != 0 && waitServing(tenant, port, Clock::now() + timeout, again);
    const double ms = meter.stop();
    say({tenant, "rolled-back", from, to, ms,
         "not moved to " + to + ": " + why + "; rolled back to " + from +
             (serves ? ", serving again" : ", NOT serving (" + again + ")") + "; other tenants left alone"});
    return false;
  }

  bool failed(const std::string& tenant, const std::string& message) {
    say({tenant, "failed", {}, {}, std::nullopt, message});
    return false;
  }

  const UpgradeTenantsOptions& o_;
  host::Provisioner& prov_;
  std::string ip_;
};

void printJson(const UpgradeTenantsOptions& o, const std::vector<Outcome>& outcomes,
               const std::optional<host::PruneReport>& pruned, bool ok) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  };
  auto strs = [&](const char* k, const std::vector<std::string>& v) {
    w.Key(k);
    w.StartArray();
    for (const auto& s : v) w.String(s.c_str(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
  };
  w.StartObject();
  str("image", o.image);
  w.Key("dryRun");
  w.Bool(o.dryRun);
  w.Key("ok");
  w.Bool(ok);
  w.Key("tenants");
  w.StartArray();
  for (const auto& t : outcomes) {
    w.StartObject();
    str("name", t.tenant);
    str("action", t.action);
    str("from", t.from);
    str("to", t.to);
    if (t.unreachableMs) {
      w.Key("unreachableMs");
      w.Double(*t.unreachableMs);
    }
    if (!t.detail.empty()) str("detail", t.detail);
    w.EndObject();
  }
  w.EndArray();
  strs(o.dryRun ? "wouldRemove" : "removed", pruned ? pruned->removed : std::vector<std::string>{});
  strs("pruneSkipped", pruned ? pruned->skipped : std::vector<std::string>{});
  strs("pruneFailed", pruned ? pruned->failed : std::vector<std::string>{});
  w.EndObject();
  std::cout << buf.GetString() << std::endl;
}

}  // namespace

int upgradeTenants(const UpgradeTenantsOptions& o) {
  if (o.image.empty()) return usageError(kCmd, "--image NAME is required");
  if (::geteuid() != 0) return failure(kCmd, "must run as root (it restarts tenants)");
  auto c = node::loadHostConfig(o.config);
  if (!c) return failure(kCmd, c.error().message);
  char self[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return failure(kCmd, "cannot find the sashimono binary (/proc/self/exe)");
  auto os = host::makeLinuxHost(o.cgroupParent.empty() ? "sashimono" : o.cgroupParent,
                                {std::string(self, static_cast<std::size_t>(n)), "statefs", "mount"});
  if (!os) return failure(kCmd, os.error().message);
  // As `host run` builds it (node/HostRun.cpp), without its reconcile: the node may be running.
  host::ProvisionerConfig pc;
  pc.baseDir = o.tenantsDir.empty() ? c->dataDir + "/tenants" : o.tenantsDir;
  if (!o.tenantPrefix.empty()) pc.userPrefix = o.tenantPrefix;
  pc.imagesDir = c->imagesDir;
  pc.publicIp = c->bindAddress;
  pc.ports.user = {c->userPorts.first, c->userPorts.last};
  pc.ports.peer = {c->peerPorts.first, c->peerPorts.last};
  pc.ports.generalTcp = {c->generalPorts.first, c->generalPorts.last};
  pc.ports.generalTcpCount = c->generalPerInstance;
  pc.ports.generalUdpCount = 0;
  host::Provisioner prov(pc, os->ops());

  auto names = prov.list();
  if (!names) return failure(kCmd, names.error().message);
  std::vector<std::string> tenants;
  for (const auto& name : *names) {
    auto info = prov.inspect(name);
    if (info && info->state == host::TenantState::kReady && info->spec.image == o.image)
      tenants.push_back(name);
  }
  if (!o.json)
    std::cout << (o.dryRun ? "dry run: " : "") << tenants.size() << " tenant(s) of image " << o.image << "\n";
  Upgrader up(o, prov);
  const bool ok = up.run(tenants);
  std::optional<host::PruneReport> pruned;
  if (ok) {
    auto p = prov.pruneImages(o.dryRun);
    if (!p) return failure(kCmd, "pruning unused image versions: " + p.error().message);
    pruned = std::move(*p);
    if (!o.json) {
      for (const auto& r : pruned->removed)
        std::cout << (o.dryRun ? "would remove " : "removed ") << r << " (no tenant uses it)\n";
      for (const auto& s : pruned->skipped) std::cout << "kept the versions of " << s << "\n";
      for (const auto& f : pruned->failed) std::cout << "could not remove " << f << "\n";
    }
  }
  if (o.json) printJson(o, up.outcomes, pruned, ok);
  return ok && (!pruned || pruned->failed.empty()) ? 0 : 1;
}

}  // namespace sashimono::cli
