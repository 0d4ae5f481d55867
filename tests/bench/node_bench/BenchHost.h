#pragma once
// bench_node_bench's provisioner, confined to names of this run: user prefix "nb<pid>-", cgroup
// parent "smnb-<pid>", base directory /tmp/smnb-<pid>, a port slice of 28000-31999.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench/BenchUtil.h"
#include "fakes/host/PortSlice.h"
#include "sashimono/host/Disks.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/ProcessRunner.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/host/UserManager.h"

namespace sashimono::node_bench {

using bench::slurp;

// ---------------------------------------------------------------------------------------------
// The provisioner, confined to names of this run; cleanup() (also from the destructor) destroys
// every tenant it finds and removes the run's directories and cgroups.
struct BenchHost {
  std::string tag = std::to_string(::getpid());
  std::string base = "/tmp/smnb-" + tag;
  std::string images;
  bool ownImages = false;
  std::string cgroupParent = "smnb-" + tag;
  std::string prefix = "nb" + std::to_string(::getpid() % 10000) + "-";
  host::LinuxHost os;
  std::unique_ptr<host::Provisioner> prov;

  explicit BenchHost(const std::string& imagesDir) {
    reapDeadRuns();
    images = imagesDir.empty() ? "/tmp/smnb-img-" + tag : imagesDir;
    ownImages = imagesDir.empty();
    auto h = host::makeLinuxHost(cgroupParent, {SASHIMONO_BINARY, "statefs", "mount"});
    if (!h) throw std::runtime_error(h.error().message);
    os = std::move(*h);
    const auto portBase = static_cast<std::uint16_t>(28000 + (::getpid() % 10) * 400);
    host::ProvisionerConfig cfg;
    cfg.baseDir = base;
    cfg.imagesDir = images;
    cfg.userPrefix = prefix;
    cfg.publicIp = "127.0.0.1";
    cfg.ports =
        host::fakes::portSlice(portBase, 2, 0);  // as `host run` with the default config (generalPerInstance)
    prov = std::make_unique<host::Provisioner>(cfg, os.ops());
    try {
      if (!std::filesystem::exists(images + "/instance/rootfs/bin/busybox")) {
        host::ProcessSpec p;
        p.argv = {"bash", std::string(SASHIMONO_SOURCE_DIR) + "/tools/build-image.sh", "--out", images};
        p.env = {std::string("PATH=") + host::kSafePath};
        p.timeout = std::chrono::seconds(120);
        auto r = host::runChecked(*os.runner, p);
        if (!r) throw std::runtime_error("build-image.sh: " + r.error().message);
      }
    } catch (...) {
      cleanup();
      throw;
    }
  }
  ~BenchHost() { cleanup(); }
  BenchHost(const BenchHost&) = delete;
  BenchHost& operator=(const BenchHost&) = delete;

  // Tenants of earlier runs that died without cleaning up (their homes name the run's base
  // directory /tmp/smnb-<pid>) are destroyed.
  static void reapDeadRuns() {
    for (auto& e : host::parsePasswd(slurp("/etc/passwd"))) {
      if (e.home.rfind("/tmp/smnb-", 0) != 0) continue;
      auto slash = e.home.find('/', 10);
      if (slash == std::string::npos) continue;
      std::string runBase = e.home.substr(0, slash);
      pid_t runPid = ::atoi(runBase.c_str() + 10);
      if (runPid <= 0 || runPid == ::getpid() || ::kill(runPid, 0) == 0) continue;
      auto h = host::makeLinuxHost("smnb-" + std::to_string(runPid), {SASHIMONO_BINARY, "statefs", "mount"});
      if (!h) continue;
      host::ProvisionerConfig cfg;
      cfg.baseDir = runBase;
      cfg.userPrefix = e.name.substr(0, e.name.find('-') + 1);
      host::Provisioner stale(cfg, h->ops());
      if (auto names = stale.list(); names)
        for (auto& n : *names) (void)stale.destroy(n);
      std::error_code ec;
      if (host::mountsUnder(runBase).valueOr({}).empty()) std::filesystem::remove_all(runBase, ec);
      std::fprintf(stderr, "node_bench: removed the tenants of a dead run (%s)\n", runBase.c_str());
    }
  }

  void cleanup() {
    if (!prov) return;
    int destroyed = 0;
    if (auto names = prov->list(); names)
      for (auto& n : *names) {
        if (auto st = prov->destroy(n); !st)
          std::fprintf(stderr, "node_bench: cleanup: destroy %s: %s\n", n.c_str(),
                       st.error().message.c_str());
        else
          ++destroyed;
      }
    std::size_t leftUsers = 0;
    for (auto& e : host::parsePasswd(slurp("/etc/passwd")))
      if (e.name.rfind(prefix, 0) == 0) ++leftUsers;
    std::error_code ec;
    (void)host::unmountUnder(base);
    std::filesystem::remove_all(base, ec);
    if (ownImages) std::filesystem::remove_all(images, ec);
    for (const char* c : {"cpu", "memory", "pids"})
      ::rmdir(("/sys/fs/cgroup/" + std::string(c) + "/" + cgroupParent).c_str());
    ::rmdir(("/sys/fs/cgroup/" + cgroupParent).c_str());
    std::fprintf(stderr, "node_bench: cleanup: %d tenant(s) destroyed, %zu user(s) %s* left\n", destroyed,
                 leftUsers, prefix.c_str());
    prov.reset();
  }
};

}  // namespace sashimono::node_bench
