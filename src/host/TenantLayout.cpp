#include "sashimono/host/TenantLayout.h"

namespace sashimono::host {

TenantLayout tenantLayout(const std::string& baseDir, const std::string& userPrefix,
                          const std::string& name) {
  TenantLayout l;
  l.name = name;
  l.user = userPrefix + name;
  l.contractUser = l.user + "_c";
  l.record = baseDir + "/records/" + name + ".json";
  l.image = baseDir + "/disks/" + name + ".img";
  l.home = baseDir + "/homes/" + name;
  l.stateData = l.home + "/state-data";
  l.stateMount = l.home + "/state";
  l.statefsDir = l.home + "/statefs";
  l.stateTree = l.statefsDir + "/tree.sqlite";
  l.undoDir = l.statefsDir + "/undo";
  l.viewsMount = l.home + "/views";
  l.controlDir = l.home + "/control";
  l.controlSocket = l.controlDir + "/statefs.sock";
  l.runtimeData = l.home + "/runtime";
  l.runDir = l.home + "/run";
  l.rootlesskitDir = l.runDir + "/rk";
  l.apiSocket = l.rootlesskitDir + "/api.sock";
  l.childPidFile = l.rootlesskitDir + "/child_pid";
  l.containerdRoot = l.home + "/containerd";
  l.containerdState = l.runDir + "/containerd";
  l.containerdSocket = l.runDir + "/containerd.sock";
  l.containerdConfig = l.home + "/containerd.toml";
  l.ociSpec = l.home + "/spec.json";
  l.logDir = l.home + "/log";
  l.info = baseDir + "/info/" + name;
  return l;
}

}  // namespace sashimono::host
