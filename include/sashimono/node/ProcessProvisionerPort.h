#pragma once
// !!! FOR TESTS AND LOCAL DEVELOPMENT ONLY — NO ISOLATION !!!
//
// Instances as plain local processes: each lease's instance is `sashimono runtime --no-supervisor`
// (this binary) run as a child of the node, as the node's own user, with no tenant user, no
// container, no cgroup, no disk limit and no state filesystem. A contract can read and write
// anything the node's user can (the host's seed included). Never use it on a host that serves
// anybody but yourself; `sashimono host run` reaches it only through the hidden option
// `--process-instances DIR` and says so loudly when it starts.
//
// Layout: <dir>/<LEASE ID>/ holds instance.json (node::instanceConfigFor adapted: the user and peer
// ports taken from the host's ranges and listening on `listen`, a self-signed certificate, no
// statefs, no run_as, no process-count ceiling), instance.key (0600), cluster.json (written by
// deliverCluster: temp file + rename), runtime.pid, runtime.log (the runtime's output), data/ and
// fs/. A directory is created under a temporary name and renamed into place when complete.
//
// Life: provision() starts the runtime and returns once its user port accepts connections (or the
// start failed: the directory is removed); destroy() stops it (SIGTERM, SIGKILL to its process
// group after `stopTimeout`) and removes the directory. The instances die with the node: each
// child gets PR_SET_PDEATHSIG (SIGTERM when the thread that started it ends), and the destructor
// stops them. open() restarts every instance found in `dir` on its files (ledger, state, ports and
// key kept), first stopping an old process of it that is still running (a node killed moments
// ago), so a restarted node finds its leases' instances running and reconciles as usual.
//
// Thread-safety: calls are serialized by an internal lock; provision() and open() should be
// called from threads that live as long as the instances should (the node thread, the main thread).
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <sys/types.h>

#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/ProvisionerPort.h"

namespace sashimono::node {

struct ProcessInstancesOptions {
  std::string dir;
  std::string binary;  // the sashimono binary; empty: /proc/self/exe
  std::string listen;  // the address user and peer ports listen on (an IP literal)
  PortRange userPorts;
  PortRange peerPorts;
  RuntimeCeilings ceilings;
  std::chrono::milliseconds startTimeout{20000};
  std::chrono::milliseconds stopTimeout{5000};
};

class ProcessProvisionerPort final : public ProvisionerPort {
 public:
  // Creates `dir`, removes half-made directories and restarts every instance found there.
  // `hostKey` must outlive the port. Errors: the directory, the binary.
  static core::Result<std::unique_ptr<ProcessProvisionerPort>> open(ProcessInstancesOptions options,
                                                                    const crypto::KeyPair& hostKey);
  ~ProcessProvisionerPort() override;  // stops every instance
  ProcessProvisionerPort(const ProcessProvisionerPort&) = delete;
  ProcessProvisionerPort& operator=(const ProcessProvisionerPort&) = delete;

  core::Result<protocol::InstanceInfo> provision(const crypto::Hash256& leaseId,
                                                 const protocol::AcquireRequest& request,
                                                 const lease::InstanceSize& size) override;
  core::Status destroy(const crypto::Hash256& leaseId) override;
  core::Result<std::vector<crypto::Hash256>> list() override;
  core::Status deliverCluster(const crypto::Hash256& leaseId,
                              const std::vector<protocol::ClusterMember>& members) override;
  // CPU time (the runtime and the contracts it waited for) and resident memory of the runtime
  // process, from /proc; no disk figure.
  std::vector<InstanceUsage> usage(std::span<const crypto::Hash256> leases) override;
  // The runtime process is alive (ours); heal stops what is left of it and starts it again.
  std::vector<InstanceHealth> health(std::span<const crypto::Hash256> leases) override;
  core::Status heal(const crypto::Hash256& leaseId) override;

  // The pid of lease `leaseId`'s runtime, or -1 (tests).
  [[nodiscard]] pid_t pidOf(const crypto::Hash256& leaseId);

 private:
  ProcessProvisionerPort(ProcessInstancesOptions options, const crypto::KeyPair& hostKey)
      : o_(std::move(options)), hostKey_(hostKey) {}
  [[nodiscard]] std::string dirOf(const crypto::Hash256& leaseId) const;
  // Starts the runtime of the instance in `dir` and waits until its user port answers.
  core::Status start(const std::string& leaseHex, const std::string& dir);
  // Stops the instance's process (ours, or one a previous node left), if any.
  void stop(const std::string& leaseHex, const std::string& dir);
  [[nodiscard]] bool running(const std::string& leaseHex);
  [[nodiscard]] core::Result<std::pair<std::uint16_t, std::uint16_t>> freePorts() const;
  [[nodiscard]] protocol::InstanceInfo infoOf(const crypto::Hash256& leaseId, const std::string& dir) const;

  ProcessInstancesOptions o_;
  const crypto::KeyPair& hostKey_;
  std::mutex mu_;
  std::map<std::string, pid_t> children_;  // lease hex → our child's pid
};

}  // namespace sashimono::node
