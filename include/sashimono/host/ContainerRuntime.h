#pragma once
// The instance container inside a tenant's containerd. The root filesystem is ONE shared,
// read-only directory per image (not a per-tenant copy): the OCI spec points at it with
// root.readonly, /tmp is a small tmpfs, /state is the state filesystem (bind), no new privileges,
// and the network namespace is rootlesskit's (slirp4netns). The process runs by the image's
// profile (ImageProfile.h): instance = uid 1000 with no capabilities; runtime = container root
// (the tenant user) with kRuntimeCapabilities and its private data directory at /data. runc gets
// an empty cgroups path: limits come from the tenant cgroup.
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/ImageProfile.h"
#include "sashimono/host/ProcessRunner.h"
#include "sashimono/host/TenantLayout.h"

namespace sashimono::host {

inline constexpr const char* kContainerId = "instance";
inline constexpr uid_t kContractUid = 1000;  // in-container uid (and gid) of the contract process
// Where a runtime container finds its state filesystem's control socket (TenantLayout's
// controlDir, bound read-only at /run/statefs).
inline constexpr const char* kContainerControlDir = "/run/statefs";
inline constexpr const char* kContainerStatefsControl = "/run/statefs/statefs.sock";
// Where a runtime container finds the read-only views of its committed state (TenantLayout's
// viewsMount, bound read-only): the view `view open` answered as ID is /run/views/ID.
inline constexpr const char* kContainerViewsDir = "/run/views";

struct ContainerSpec {
  std::string rootfs;             // absolute path of the shared read-only rootfs
  std::vector<std::string> args;  // process argv (validated)
  std::vector<std::string> env;   // KEY=VALUE (validated)
  std::string stateMount;         // host path bound at /state
  std::string infoDir;            // host path bound read-only at /run/sashimono (empty: none)
  ImageProfile profile = ImageProfile::kInstance;
  std::string dataDir;  // runtime profile: host path bound read-write at /data (empty: none)
  // runtime profile: host directory of the statefs control socket, bound read-only at
  // kContainerControlDir (empty: none)
  std::string controlDir;
  // runtime profile: host path of the statefs views mount, bound read-only at kContainerViewsDir
  // (empty: none)
  std::string viewsDir;
  std::uint64_t tmpBytes = 16ull << 20;
};

// The OCI runtime spec (config.json) for ContainerSpec.
std::string renderOciSpec(const ContainerSpec& s);

struct ExecResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;
  // Writes the spec into the tenant's home and starts the container detached.
  virtual core::Status run(const TenantLayout& l, const Credentials& as,
                           const std::vector<std::string>& cgroupProcs, pid_t childPid,
                           const ContainerSpec& s) = 0;
  // Runs argv inside the running container, as its process's user (instance: the contract uid;
  // runtime: container root with the runtime's capabilities).
  virtual core::Result<ExecResult> exec(const TenantLayout& l, const Credentials& as,
                                        const std::vector<std::string>& cgroupProcs, pid_t childPid,
                                        const std::vector<std::string>& argv,
                                        std::chrono::milliseconds timeout) = 0;
};

// ctr, run as the tenant inside rootlesskit's namespaces (nsenter -U -m -n --preserve-credentials).
std::unique_ptr<ContainerRuntime> makeCtrRuntime(ProcessRunner& runner);

}  // namespace sashimono::host
