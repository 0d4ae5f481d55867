#pragma once
// Tenants: create, destroy, list, inspect, reconcile. Composes the host interfaces in HostOps and
// makes no system call itself (files go through FileSystem), so it is unit-tested with fakes and
// an in-memory FileSystem. Every piece of a tenant is named after the tenant (TenantLayout), and a
// journal record is written before each side effect, so destroy works from the name alone and
// reconcile finds whatever a crash left behind. The Linux wiring is in LinuxHost.h.
//
// Ownership: a Provisioner borrows the interfaces in HostOps (all set); they must outlive it.
// Thread-safety: every operation but exec() runs under an exclusive lock of <baseDir>/lock
// (FileSystem::lockExclusive; on Linux a flock, so also across processes: the node and the
// `sashimono tenant` command). exec() reads no record and may run alongside them.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/Cgroups.h"
#include "sashimono/host/ContainerRuntime.h"
#include "sashimono/host/Disks.h"
#include "sashimono/host/FileSystem.h"
#include "sashimono/host/ImageVersions.h"
#include "sashimono/host/Ports.h"
#include "sashimono/host/ProcessRunner.h"
#include "sashimono/host/StateFs.h"
#include "sashimono/host/TenantDaemon.h"
#include "sashimono/host/TenantRecord.h"
#include "sashimono/host/UserManager.h"

namespace sashimono::host {

struct ProvisionerConfig {
  std::string baseDir = "/var/lib/sashimono/tenants";
  std::string imagesDir = "/var/lib/sashimono/images";  // <imagesDir>/<image>/rootfs
  std::string userPrefix = "sashi-";
  PortRanges ports;
  std::string publicIp = "0.0.0.0";  // where forwarded ports listen on the host
};

struct HostOps {
  ProcessRunner* runner = nullptr;
  UserManager* users = nullptr;
  Cgroups* cgroups = nullptr;
  Disks* disks = nullptr;
  StateFs* stateFs = nullptr;
  TenantDaemon* daemon = nullptr;
  ContainerRuntime* containers = nullptr;
  PortForwarder* forwarder = nullptr;
  FileSystem* fs = nullptr;  // the base and images directories
};

struct TenantInfo {
  std::string name;
  TenantState state = TenantState::kOrphaned;  // kOrphaned: pieces without a record
  std::string user;
  uid_t uid = 0;
  SubIdRange subuid;
  uid_t contractHostUid = 0;  // host uid of the in-container contract user
  std::vector<PortForward> ports;
  TenantSpec spec;
  ImageProfile profile = ImageProfile::kInstance;
  std::vector<pid_t> pids;
  bool running = false;  // rootlesskit alive
};

// What a tenant uses now (its cgroup, its disk); what cannot be read is absent.
struct TenantUsage {
  std::optional<double> cpuSeconds;  // since the tenant started
  std::optional<std::uint64_t> memoryBytes;
  std::optional<std::uint64_t> diskBytes;
  std::optional<std::uint64_t> diskTotalBytes;
};

// What a ready tenant's parts look like now (the node's heal loop): the parts that do not serve,
// each as "part: what was seen" (rootlesskit, containerd, statefs). The user port is probed by the
// caller (host/TenantProbe.h probeTcp, all tenants at once).
struct TenantHealth {
  std::vector<std::string> failed;
  std::uint16_t userPort = 0;
  std::optional<double> diskUsedRatio;
};

struct ReconcileReport {
  std::vector<std::string> kept;
  std::vector<std::string> resumed;
  std::vector<std::string> removed;
  std::vector<std::string> failed;  // "name: error"
};

// What upgrading one tenant to an image's current version does (planUpgrade, upgrade).
struct UpgradePlan {
  std::string tenant;
  std::string fromImage, fromRootfs;  // what it runs ("" rootfs: not pinned, a record made before pinning)
  std::string toImage, toRootfs;      // the image's current version (resolved)
  UpgradeAction action = UpgradeAction::kRefuse;
  std::string reason;    // kRefuse: why
  bool pending = false;  // an earlier upgrade of it is unfinished (roll it back first)
};

// Image versions that no tenant uses (pruneImages): "<image>/versions/<id>" each.
struct PruneReport {
  std::vector<std::string> removed;  // or, for a dry run, that would be removed
  std::vector<std::string> skipped;  // "<image>: why" (e.g. a tenant not pinned to a version)
  std::vector<std::string> failed;   // "<image>/versions/<id>: error"
};

// Files for the instance's /run/sashimono: {file name, content}. Names: [a-z0-9._-]{1,64}, no
// leading dot. Owned by the user that reads them, mode 0400: the contract alias for instance
// images, the tenant user (container root: the runtime) for runtime images, so the contract
// (uid 1000) cannot read what its runtime reads (e.g. the instance's private key).
using InfoFiles = std::vector<std::pair<std::string, std::string>>;

class Provisioner {
 public:
  Provisioner(ProvisionerConfig config, HostOps ops);
  // infoFiles are in the info directory before the container starts (they are not kept in the
  // record: a restart finds them where they were; the caller wipes secrets among them).
  core::Result<TenantInfo> create(const TenantSpec& spec, const InfoFiles& infoFiles = {});
  // Removes every piece of the tenant that exists; ok when nothing does.
  core::Status destroy(const std::string& name);
  core::Result<std::vector<std::string>> list();
  core::Result<TenantInfo> inspect(const std::string& name);
  // Reads only (no lock): cgroup files and statvfs of the mounted disk.
  core::Result<TenantUsage> usage(const std::string& name);
  // Quick checks, no lock (TenantHealth).
  core::Result<TenantHealth> health(const std::string& name);
  // A ready tenant started again on what it has (as reconcile does after a reboot): every
  // process killed, its state filesystem remounted, containerd and the container started; its
  // user, ports, disk, state and info files are kept. It is the node's heal, so it leaves alone a
  // tenant that an upgrade is switching (until the upgrade's deadline; past it, the upgrade is
  // rolled back instead), and one whose record changed while it waited for the lock (another
  // restart or an upgrade came first) and that serves again (its parts and its user port).
  core::Status restart(const std::string& name);

  // Upgrades (docs/OPERATIONS.md, "Upgrade"). What upgrade(name, image) would do; changes nothing.
  core::Result<UpgradePlan> planUpgrade(const std::string& name, const std::string& image);
  // Moves a ready tenant to the image's current version: nothing is touched when it runs that
  // version already (kUnchanged); a version of another profile is refused. Otherwise the record
  // takes the new image, rootfs (and the new cmd when its args came from the image), keeping the
  // old ones for rollback() and `deadline` for restart(), and the tenant is restarted on it (its
  // user, ports, disk, state, keys and info files are kept). If that start fails, the tenant is
  // rolled back at once and the error says so. The caller checks health, then calls
  // finishUpgrade() or rollback().
  core::Result<UpgradePlan> upgrade(const std::string& name, const std::string& image,
                                    std::chrono::system_clock::time_point deadline);
  // The upgrade is kept: its rollback information is dropped.
  core::Status finishUpgrade(const std::string& name);
  // The tenant goes back to what it ran before its unfinished upgrade, and is restarted on it.
  core::Status rollback(const std::string& name);
  // Removes each image version under imagesDir that is neither its image's current version nor
  // used by any tenant of this base directory (pinned, or kept for a rollback); an image with a
  // tenant not pinned to a version is skipped. Holds each image's <image>/.lock, as
  // tools/build-image.sh does while it builds. dryRun: only says what it would remove.
  core::Result<PruneReport> pruneImages(bool dryRun = false);
  // Tenants with a record in state ready whose daemons died are restarted; everything else
  // that is not a ready, running tenant (half-made, being destroyed, or pieces without a
  // record) is removed.
  core::Result<ReconcileReport> reconcile();
  // Puts a file the instance reads at /run/sashimono/<file> (atomically replaced; owned and
  // readable as for InfoFiles). The tenant must exist and be ready.
  core::Status writeInfo(const std::string& name, const std::string& file, const std::string& content);
  // Runs argv in the tenant's container (tests, diagnostics).
  core::Result<ExecResult> exec(const std::string& name, const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout = std::chrono::seconds(30));

  [[nodiscard]] TenantLayout layout(const std::string& name) const;
  [[nodiscard]] const ProvisionerConfig& config() const { return config_; }

 private:
  core::Result<std::unique_ptr<FileSystem::Lock>> lock();
  core::Status createLocked(const TenantSpec& spec, TenantRecord& rec, const InfoFiles& infoFiles);
  core::Status prepareState(const TenantLayout& l, const UserInfo& u);
  core::Status startLocked(const TenantLayout& l, const UserInfo& u, TenantRecord& rec);
  core::Status journalStep(const TenantLayout& l, TenantRecord& rec, const char* next,
                           std::chrono::steady_clock::time_point& since);
  core::Status destroyLocked(const std::string& name);
  core::Status writeRecord(const TenantLayout& l, const TenantRecord& r, bool durable = false);
  core::Result<std::optional<TenantRecord>> readRecord(const TenantLayout& l);
  core::Result<std::vector<std::string>> discoverLocked();
  core::Result<TenantInfo> inspectLocked(const std::string& name);
  bool runningLocked(const TenantLayout& l);
  core::Status resumeLocked(const TenantLayout& l, const UserInfo& user, TenantRecord& rec);
  // The image's current version: resolved rootfs, profile and default command.
  struct ImageTarget {
    std::string rootfs;
    ImageProfile profile = ImageProfile::kInstance;
    core::Result<std::vector<std::string>> cmd = std::vector<std::string>{};
  };
  core::Result<ImageTarget> resolveImage(const std::string& image);
  core::Result<UpgradePlan> planLocked(const std::string& name, const std::string& image, TenantRecord& rec,
                                       ImageTarget& target);
  core::Status rollbackLocked(const TenantLayout& l, const UserInfo& user, TenantRecord& rec);
  // The parts of a tenant that do not serve (health(), without the record).
  std::vector<std::string> failedParts(const TenantLayout& l);

  ProvisionerConfig config_;
  HostOps ops_;
};

}  // namespace sashimono::host
