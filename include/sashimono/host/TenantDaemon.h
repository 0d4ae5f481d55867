#pragma once
// The tenant's own rootless containerd: rootlesskit (slirp4netns, builtin port driver, no host
// loopback) running containerd with a trimmed configuration, started as the tenant user inside
// the tenant cgroup.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/ProcessRunner.h"
#include "sashimono/host/TenantLayout.h"

namespace sashimono::host {

// containerd config.toml: root/state/socket in the tenant's home, unused plugins disabled.
std::string renderContainerdConfig(const TenantLayout& l);
// rootlesskit argv.
std::vector<std::string> rootlesskitArgv(const TenantLayout& l);
// The daemon's environment (HOME, USER, XDG_RUNTIME_DIR, PATH).
std::vector<std::string> tenantEnv(const TenantLayout& l);

class TenantDaemon {
 public:
  virtual ~TenantDaemon() = default;
  // Writes the config, starts rootlesskit + containerd and waits until containerd's socket and
  // rootlesskit's API socket exist. Returns rootlesskit's pid. hideMounts (other tenants'
  // mounts) are detached in the daemon's private mount namespace before it starts.
  virtual core::Result<pid_t> start(const TenantLayout& l, const Credentials& as,
                                    const std::vector<std::string>& cgroupProcs,
                                    const std::vector<std::string>& hideMounts) = 0;
  // pid of rootlesskit's child (the namespaces clients enter); error when not running.
  virtual core::Result<pid_t> childPid(const TenantLayout& l) = 0;
};

std::unique_ptr<TenantDaemon> makeRootlessKitDaemon(
    ProcessRunner& runner, std::chrono::milliseconds readyTimeout = std::chrono::seconds(20));

}  // namespace sashimono::host
