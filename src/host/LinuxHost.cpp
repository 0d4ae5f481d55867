#include "sashimono/host/LinuxHost.h"

namespace sashimono::host {

HostOps LinuxHost::ops() const {
  return {runner.get(), users.get(),      cgroups.get(),   disks.get(), stateFs.get(),
          daemon.get(), containers.get(), forwarder.get(), fs.get()};
}

core::Result<LinuxHost> makeLinuxHost(const std::string& cgroupParent,
                                      std::vector<std::string> statefsCommand) {
  LinuxHost h;
  h.runner = makeLinuxProcessRunner();
  h.users = makeLinuxUserManager(*h.runner);
  auto cg = makeLinuxCgroups(cgroupParent);
  if (!cg) return cg.error();
  h.cgroups = std::move(*cg);
  h.disks = makeLinuxDisks(*h.runner);
  h.stateFs = makeStateFsLauncher(*h.runner, std::move(statefsCommand));
  h.daemon = makeRootlessKitDaemon(*h.runner);
  h.containers = makeCtrRuntime(*h.runner);
  h.forwarder = makeRootlessKitPortForwarder();
  h.fs = makeLinuxFileSystem();
  return h;
}

}  // namespace sashimono::host
