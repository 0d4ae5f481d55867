#pragma once
// The naming convention that makes every piece of a tenant discoverable from its name alone
// (for destroy, reconcile and leak checks). Pure.
//   <base>/records/<name>.json   journal record (root, 0600), written before each side effect
//   <base>/disks/<name>.img      the disk image (root, 0600)
//   <base>/homes/<name>/         the mounted disk = the tenant's home (tenant, 0700):
//        state-data/  backing directory of the state filesystem
//        state/       state filesystem mount point, bind-mounted into the container at /state
//        statefs/     the state filesystem's persisted hash tree (tree.sqlite; tenant, 0700) and
//                     its undo log of rounds (undo/, tenant, 0700)
//        views/       the read-only views of the committed state (a second FUSE mount), bound
//                     read-only at /run/views in runtime containers
//        control/     its control socket statefs.sock (tenant, 0700), bound read-only at
//                     /run/statefs in runtime containers
//        runtime/     the instance runtime's private data (runtime profile; tenant, 0700), at /data
//        run/         runtime dir: rootlesskit state (api.sock, child_pid), containerd socket
//        containerd/  containerd root
//        containerd.toml, spec.json, log/
//   user <prefix><name>, its contract alias <prefix><name>_c, cgroup <parent>/<name>
#include <string>

namespace sashimono::host {

struct TenantLayout {
  std::string name;
  std::string user;
  std::string contractUser;
  std::string record;
  std::string image;
  std::string home;
  std::string stateData;
  std::string stateMount;
  std::string statefsDir;
  std::string stateTree;
  std::string undoDir;
  std::string viewsMount;
  std::string controlDir;
  std::string controlSocket;
  std::string runtimeData;
  std::string runDir;
  std::string rootlesskitDir;
  std::string apiSocket;
  std::string childPidFile;
  std::string containerdRoot;
  std::string containerdState;
  std::string containerdSocket;
  std::string containerdConfig;
  std::string ociSpec;
  std::string logDir;
  // Root-owned (0711), outside the tenant's home so the tenant cannot swap it for a symlink:
  // files the host gives the instance, bound read-only at /run/sashimono in its container.
  std::string info;
};

TenantLayout tenantLayout(const std::string& baseDir, const std::string& userPrefix, const std::string& name);

}  // namespace sashimono::host
