#pragma once
// The Linux implementations of every host interface, made and owned together (for the CLI, the
// node, root tests and benchmarks); ops() lends them to a Provisioner, which must not outlive
// this LinuxHost. Thread-safety: as each implementation's own header says.
#include <memory>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/Provisioner.h"

namespace sashimono::host {

struct LinuxHost {
  std::unique_ptr<ProcessRunner> runner;
  std::unique_ptr<UserManager> users;
  std::unique_ptr<Cgroups> cgroups;
  std::unique_ptr<Disks> disks;
  std::unique_ptr<StateFs> stateFs;
  std::unique_ptr<TenantDaemon> daemon;
  std::unique_ptr<ContainerRuntime> containers;
  std::unique_ptr<PortForwarder> forwarder;
  std::unique_ptr<FileSystem> fs;
  [[nodiscard]] HostOps ops() const;
};

// cgroupParent: directory under each hierarchy; statefsCommand: see makeStateFsLauncher.
core::Result<LinuxHost> makeLinuxHost(const std::string& cgroupParent,
                                      std::vector<std::string> statefsCommand);

}  // namespace sashimono::host
