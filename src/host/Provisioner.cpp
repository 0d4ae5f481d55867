#include "sashimono/host/Provisioner.h"

#include "sashimono/host/TenantProbe.h"

#include <algorithm>
#include <cerrno>
#include <set>

#include "sashimono/core/Log.h"
#include "sashimono/host/ImageCommand.h"
#include "sashimono/host/Validate.h"

namespace sashimono::host {

namespace {

// The host uid of the in-container contract user (uid kContractUid), in the tenant's range.
uid_t contractUidOf(const UserInfo& u) { return static_cast<uid_t>(u.subuid.start + kContractUid - 1); }
// The host gid of the in-container contract group (gid kContractUid, run_as), in the tenant's range.
gid_t contractGidOf(const UserInfo& u) { return static_cast<gid_t>(u.subgid.start + kContractUid - 1); }

// Who reads the info files inside the container: the runtime (container root = the tenant user)
// or, for a plain workload, the contract.
Credentials infoOwner(ImageProfile p, const UserInfo& u) {
  if (p == ImageProfile::kRuntime) return {u.uid, u.gid};
  return {contractUidOf(u), u.gid};
}

core::Status validateInfoFileName(const std::string& file) {
  const bool ok = !file.empty() && file.size() <= 64 && file[0] != '.' &&
                  file.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
  if (!ok) return core::Error("info file name '" + file + "' is not [a-z0-9._-]{1,64}");
  return {};
}

// The names in dir that end with suffix, without it; none when dir cannot be listed.
std::vector<std::string> listNames(FileSystem& fs, const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  auto entries = fs.listDir(dir);
  if (!entries) return out;
  for (auto& n : *entries) {
    if (!suffix.empty()) {
      if (n.size() <= suffix.size() || n.compare(n.size() - suffix.size(), suffix.size(), suffix) != 0)
        continue;
      n.resize(n.size() - suffix.size());
    }
    out.push_back(n);
  }
  return out;
}

}  // namespace

Provisioner::Provisioner(ProvisionerConfig config, HostOps ops) : config_(std::move(config)), ops_(ops) {}

TenantLayout Provisioner::layout(const std::string& name) const {
  return tenantLayout(config_.baseDir, config_.userPrefix, name);
}

core::Result<std::unique_ptr<FileSystem::Lock>> Provisioner::lock() {
  SASHI_TRY(validateUserPrefix(config_.userPrefix));
  auto& fs = *ops_.fs;
  SASHI_TRY(fs.makeDir(config_.baseDir, 0711));
  SASHI_TRY(fs.makeDir(config_.baseDir + "/records", 0700));
  SASHI_TRY(fs.makeDir(config_.baseDir + "/disks", 0700));
  SASHI_TRY(fs.makeDir(config_.baseDir + "/homes", 0711));
  return fs.lockExclusive(config_.baseDir + "/lock");
}

// Step updates only need to survive a killed provisioner (the page cache does): after a power
// loss nothing of a half-made tenant runs, and discovery by name finds its pieces anyway. The
// transition to ready is what must not be lost, so that one is fsynced.
core::Status Provisioner::writeRecord(const TenantLayout& l, const TenantRecord& r, bool durable) {
  return ops_.fs->writeFileAtomic(l.record, renderRecord(r), 0600, durable);
}

core::Result<std::optional<TenantRecord>> Provisioner::readRecord(const TenantLayout& l) {
  auto t = ops_.fs->readFile(l.record);
  if (!t) {
    if (t.error().errnum == ENOENT) return std::optional<TenantRecord>();
    return t.error();
  }
  auto r = parseRecord(*t);
  if (!r) return r.error().context(l.record);
  return std::optional<TenantRecord>(std::move(*r));
}

core::Result<TenantInfo> Provisioner::create(const TenantSpec& specIn, const InfoFiles& infoFiles) {
  SASHI_TRY(validateSpec(specIn));
  for (const auto& f : infoFiles) SASHI_TRY(validateInfoFileName(f.first));
  auto lk = lock();
  if (!lk) return lk.error();
  TenantSpec spec = specIn;
  const auto l = layout(spec.name);
  auto existing = readRecord(l);
  if (existing && *existing) return core::Error("tenant " + spec.name + " already exists");
  auto user = ops_.users->lookup(l.user);
  if (!user) return user.error();
  auto& fs = *ops_.fs;
  if (*user || ops_.cgroups->exists(spec.name) || fs.exists(l.home) || fs.exists(l.image))
    return core::Error("pieces of an earlier tenant " + spec.name +
                       " remain; run 'sashimono tenant reconcile'");
  auto image = resolveImage(spec.image);
  if (!image) return image.error();
  const bool argsFromImage = spec.args.empty();
  if (argsFromImage) {
    if (!image->cmd) return image->cmd.error();
    spec.args = *image->cmd;
    SASHI_TRY(validateSpec(spec));
  }
  // Ports held by every other tenant (records are the persisted allocation).
  std::set<std::uint16_t> taken;
  for (auto& n : listNames(fs, config_.baseDir + "/records", ".json")) {
    if (!validateTenantName(n)) continue;
    auto r = readRecord(layout(n));
    if (r && *r)
      for (auto& p : (*r)->ports) taken.insert(p.hostPort);
  }
  auto ports = allocatePorts(config_.ports, taken);
  if (!ports) return ports.error();
  TenantRecord rec;
  rec.spec = spec;
  rec.ports = std::move(*ports);
  rec.profile = image->profile;
  rec.rootfs = image->rootfs;
  rec.argsFromImage = argsFromImage;
  rec.step = "record";
  SASHI_TRY(writeRecord(l, rec));
  auto st = createLocked(spec, rec, infoFiles);
  if (!st) {
    auto rb = destroyLocked(spec.name);
    auto err = st.error().context("creating tenant " + spec.name);
    if (!rb) err.message += " (rollback incomplete: " + rb.error().message + "; run reconcile)";
    return err;
  }
  rec.state = TenantState::kReady;
  rec.step = "done";
  SASHI_TRY(writeRecord(l, rec, true));
  return inspectLocked(spec.name);
}

// Journals the start of the next step (the record names it before its side effects), and logs
// how long the previous one took.
core::Status Provisioner::journalStep(const TenantLayout& l, TenantRecord& rec, const char* next,
                                      std::chrono::steady_clock::time_point& since) {
  const auto now = std::chrono::steady_clock::now();
  spdlog::debug("tenant {}: step {} done in {:.1f} ms", l.name, rec.step,
                std::chrono::duration<double, std::milli>(now - since).count());
  since = now;
  rec.step = next;
  return writeRecord(l, rec);
}

core::Status Provisioner::createLocked(const TenantSpec& spec, TenantRecord& rec,
                                       const InfoFiles& infoFiles) {
  const auto l = layout(spec.name);
  auto step = [&, t = std::chrono::steady_clock::now()](const char* s) mutable {
    return journalStep(l, rec, s, t);
  };
  SASHI_TRY(step("user"));
  auto u = ops_.users->create(l.user, l.home);
  if (!u) return u.error();
  if (u->subuid.count <= kContractUid)
    return core::Error("subordinate uid range of " + l.user + " is too small");
  SASHI_TRY(step("contract-user"));
  SASHI_TRY(ops_.users->createAlias(l.contractUser, contractUidOf(*u), u->gid));
  SASHI_TRY(step("cgroup"));
  SASHI_TRY(ops_.cgroups->create(spec.name, spec.limits));
  SASHI_TRY(step("disk"));
  SASHI_TRY(ops_.disks->create(l.image, l.home, spec.diskBytes, u->uid, u->gid));

  // Home, state and the state filesystem's files: the tenant's only (startLocked).
  SASHI_TRY(ops_.disks->ensureDir(l.home, 0700, u->uid, u->gid));
  // The runtime's private data (ledger, TLS key, logs): the tenant's (container root's) only,
  // made here once, so it survives every restart of the daemons.
  if (rec.profile == ImageProfile::kRuntime)
    SASHI_TRY(ops_.disks->ensureDir(l.runtimeData, 0700, u->uid, u->gid));
  SASHI_TRY(step("info"));
  SASHI_TRY(ops_.disks->ensureDir(config_.baseDir + "/info", 0711, 0, 0));
  SASHI_TRY(ops_.disks->ensureDir(l.info, 0711, 0, 0));
  const auto owner = infoOwner(rec.profile, *u);
  for (const auto& [file, content] : infoFiles)
    SASHI_TRY(ops_.disks->writeFile(l.info + "/" + file, content, 0400, owner.uid, owner.gid));
  return startLocked(l, *u, rec);
}

core::Status Provisioner::startLocked(const TenantLayout& l, const UserInfo& u, TenantRecord& rec) {
  auto step = [&, t = std::chrono::steady_clock::now()](const char* s) mutable {
    return journalStep(l, rec, s, t);
  };
  Credentials c{u.uid, u.gid};
  auto procs = ops_.cgroups->procsFiles(l.name);
  SASHI_TRY(step("state-owner"));
  SASHI_TRY(prepareState(l, u));
  SASHI_TRY(step("statefs"));
  // Rounds (the runtime's begin/commit/rollback) keep their undo log on the tenant's disk, beside
  // the state (it counts against the disk limit); read requests read views of the committed state.
  StateFsMount sm{l.stateData,
                  l.stateMount,
                  c,
                  l.stateTree,
                  l.controlSocket,
                  Credentials{contractUidOf(u), contractGidOf(u)},
                  procs,
                  l.undoDir,
                  l.viewsMount,
                  l.logDir + "/statefs.log"};
  SASHI_TRY(ops_.stateFs->mount(sm));
  SASHI_TRY(step("daemon"));
  std::vector<std::string> hide;
  auto others = ops_.disks->mountsUnder(config_.baseDir + "/homes");
  if (!others) return others.error();
  for (auto& m : *others)
    if (m != l.home && m.rfind(l.home + "/", 0) != 0) hide.push_back(m);
  auto pid = ops_.daemon->start(l, c, procs, hide);
  if (!pid) return pid.error();
  auto child = ops_.daemon->childPid(l);
  if (!child) return child.error();
  SASHI_TRY(step("container"));
  ContainerSpec cs;
  // The version pinned in the record; older records: the image's path (its current version).
  cs.rootfs = rec.rootfs.empty() ? config_.imagesDir + "/" + rec.spec.image + "/rootfs" : rec.rootfs;
  cs.args = rec.spec.args;
  cs.env = rec.spec.env;
  cs.stateMount = l.stateMount;
  cs.infoDir = l.info;
  cs.profile = rec.profile;
  if (rec.profile == ImageProfile::kRuntime) {
    cs.dataDir = l.runtimeData;
    // Images built before the control socket existed have no /run/statefs to mount on (their
    // runtime hashes the state itself).
    if (ops_.fs->exists(cs.rootfs + kContainerControlDir))
      cs.controlDir = l.controlDir;
    else
      spdlog::warn("tenant {}: image {} has no {}: its runtime gets no statefs control socket", l.name,
                   rec.spec.image, kContainerControlDir);
    // Likewise /run/views (older images): read requests then read the live state, read-only.
    if (ops_.fs->exists(cs.rootfs + kContainerViewsDir))
      cs.viewsDir = l.viewsMount;
    else
      spdlog::warn("tenant {}: image {} has no {}: its read requests get no views of the committed state",
                   l.name, rec.spec.image, kContainerViewsDir);
  }
  SASHI_TRY(ops_.containers->run(l, c, procs, *child, cs));
  SASHI_TRY(step("ports"));
  SASHI_TRY(ops_.forwarder->add(l.apiSocket, rec.ports, config_.publicIp));
  return {};
}

// The state filesystem runs as the tenant user and its data are the tenant's, in directories
// only the tenant may enter: a contract that escaped its container (as its host uid) can
// neither write the state behind the hash tree's back nor signal the daemon. The mount shows
// the files as the contract's (--owner), so the contract uses them as before. Tenants made by
// an earlier version ran the daemon as the contract's uid: their state is given to the tenant
// user here, once (no tenant process runs yet, and the next start finds nothing to change).
core::Status Provisioner::prepareState(const TenantLayout& l, const UserInfo& u) {
  auto& d = *ops_.disks;
  SASHI_TRY(d.ensureDir(l.home, 0700, u.uid, u.gid));
  for (const auto* dir :
       {&l.stateData, &l.stateMount, &l.statefsDir, &l.undoDir, &l.controlDir, &l.viewsMount})
    SASHI_TRY(d.ensureDir(*dir, 0700, u.uid, u.gid));
  auto n = d.reown(l.stateData, Reown{contractUidOf(u), u.uid, contractGidOf(u), u.gid});
  if (!n) return n.error().context("giving the state of " + l.name + " to " + l.user);
  if (*n > 0)
    spdlog::warn(
        "tenant {}: {} entries of its state belonged to the contract's uid {} (an earlier "
        "version); given to the tenant user {}",
        l.name, *n, contractUidOf(u), l.user);
  return {};
}

core::Status Provisioner::destroy(const std::string& name) {
  SASHI_TRY(validateTenantName(name));
  auto lk = lock();
  if (!lk) return lk.error();
  return destroyLocked(name);
}

core::Status Provisioner::destroyLocked(const std::string& name) {
  const auto l = layout(name);
  core::Status first;
  auto t = std::chrono::steady_clock::now();
  auto note = [&](core::Status s, const char* what = "") {
    if (!s && first.ok()) first = s;
    auto now = std::chrono::steady_clock::now();
    if (*what)
      spdlog::debug("tenant {}: destroy {} took {:.1f} ms", name, what,
                    std::chrono::duration<double, std::milli>(now - t).count());
    t = now;
  };
  auto rec = readRecord(l);
  if (rec && *rec && (*rec)->state != TenantState::kDestroying) {
    (*rec)->state = TenantState::kDestroying;
    note(writeRecord(l, **rec));
  }
  // 1. Processes: the whole cgroup, then anything running under the tenant's uids.
  note(ops_.cgroups->killAll(name), "kill cgroup");
  auto user = ops_.users->lookup(l.user);
  if (!user) note(user.error());
  if (user && *user) note(ops_.users->killProcesses(**user), "kill uids");
  // 2. Mounts (state filesystem, then the disk), loop device, image and home.
  note(ops_.stateFs->unmount(l.viewsMount), "statefs views");
  note(ops_.stateFs->unmount(l.stateMount), "statefs");
  note(ops_.disks->remove(l.image, l.home), "disk");
  note(ops_.disks->removeTree(l.info), "info");
  // 3. cgroup, user (with group and subordinate ranges).
  note(ops_.cgroups->remove(name), "cgroup");
  note(ops_.users->remove(l.contractUser), "alias");
  note(ops_.users->remove(l.user), "user");
  // 4. The record last: while it exists, reconcile knows something may be left.
  if (first.ok()) note(ops_.fs->removeFile(l.record));
  if (!first.ok()) return first.error().context("destroying tenant " + name);
  return {};
}

core::Result<std::vector<std::string>> Provisioner::discoverLocked() {
  std::set<std::string> names;
  auto& fs = *ops_.fs;
  for (auto& n : listNames(fs, config_.baseDir + "/records", ".json")) names.insert(n);
  for (auto& n : listNames(fs, config_.baseDir + "/disks", ".img")) names.insert(n);
  for (auto& n : listNames(fs, config_.baseDir + "/homes", "")) names.insert(n);
  for (auto& n : listNames(fs, config_.baseDir + "/info", "")) names.insert(n);
  auto users = ops_.users->list(config_.userPrefix);
  if (!users) return users.error();
  for (auto& u : *users) {
    std::string n = u.substr(config_.userPrefix.size());
    if (n.size() > 2 && n.compare(n.size() - 2, 2, "_c") == 0) n.resize(n.size() - 2);
    names.insert(n);
  }
  auto cgs = ops_.cgroups->list();
  if (!cgs) return cgs.error();
  for (auto& c : *cgs) names.insert(c);
  std::vector<std::string> out;
  for (auto& n : names)
    if (validateTenantName(n)) out.push_back(n);
  return out;
}

core::Result<std::vector<std::string>> Provisioner::list() {
  auto lk = lock();
  if (!lk) return lk.error();
  return discoverLocked();
}

bool Provisioner::runningLocked(const TenantLayout& l) { return ops_.daemon->childPid(l).ok(); }

core::Result<TenantInfo> Provisioner::inspect(const std::string& name) {
  SASHI_TRY(validateTenantName(name));
  auto lk = lock();
  if (!lk) return lk.error();
  return inspectLocked(name);
}

core::Result<TenantUsage> Provisioner::usage(const std::string& name) {
  SASHI_TRY(validateTenantName(name));
  TenantUsage u;
  const CgroupUsage c = readCgroupUsage(*ops_.cgroups, name);
  u.cpuSeconds = c.cpuSeconds;
  u.memoryBytes = c.memoryBytes;
  if (auto d = ops_.disks->space(layout(name).home); d.ok()) {
    u.diskBytes = d->usedBytes;
    u.diskTotalBytes = d->totalBytes;
  }
  return u;
}

core::Result<TenantInfo> Provisioner::inspectLocked(const std::string& name) {
  const auto l = layout(name);
  TenantInfo info;
  info.name = name;
  info.user = l.user;
  auto rec = readRecord(l);
  if (!rec) return rec.error();
  auto user = ops_.users->lookup(l.user);
  if (!user) return user.error();
  if (*rec) {
    info.state = (*rec)->state;
    info.spec = (*rec)->spec;
    info.ports = (*rec)->ports;
    info.profile = (*rec)->profile;
  } else {
    auto all = discoverLocked();
    if (!all) return all.error();
    if (std::find(all->begin(), all->end(), name) == all->end())
      return core::Error("no tenant named " + name);
    info.state = TenantState::kOrphaned;
  }
  if (*user) {
    info.uid = (*user)->uid;
    info.subuid = (*user)->subuid;
    if (info.subuid.count > kContractUid) info.contractHostUid = contractUidOf(**user);
  }
  auto pids = ops_.cgroups->pids(name);
  if (pids) info.pids = *pids;
  info.running = runningLocked(l);
  return info;
}

core::Status Provisioner::resumeLocked(const TenantLayout& l, const UserInfo& user, TenantRecord& rec) {
  (void)ops_.cgroups->killAll(l.name);
  (void)ops_.users->killProcesses(user);
  (void)ops_.stateFs->unmount(l.viewsMount);
  (void)ops_.stateFs->unmount(l.stateMount);
  SASHI_TRY(ops_.cgroups->create(l.name, rec.spec.limits));
  SASHI_TRY(ops_.disks->attach(l.image, l.home));
  SASHI_TRY(startLocked(l, user, rec));
  rec.step = "done";
  return writeRecord(l, rec);
}

core::Result<TenantHealth> Provisioner::health(const std::string& name) {
  SASHI_TRY(validateTenantName(name));
  const auto l = layout(name);
  TenantHealth h;
  auto rec = readRecord(l);
  if (!rec) return rec.error();
  if (!*rec) return core::Error("no tenant " + name);
  if ((*rec)->state != TenantState::kReady) {
    h.failed.push_back("not ready");
    return h;
  }
  for (const auto& p : (*rec)->ports)
    if (p.role == "user") h.userPort = p.hostPort;
  h.failed = failedParts(l);
  if (auto d = ops_.disks->space(l.home); d.ok() && d->totalBytes > 0)
    h.diskUsedRatio = static_cast<double>(d->usedBytes) / static_cast<double>(d->totalBytes);
  return h;
}

std::vector<std::string> Provisioner::failedParts(const TenantLayout& l) {
  std::vector<std::string> failed;
  if (auto c = ops_.daemon->childPid(l); !c) failed.push_back("rootlesskit: " + c.error().message);
  if (auto st = unixSocketAnswers(l.containerdSocket); !st)
    failed.push_back("containerd: " + st.error().message);
  if (auto st = fuseMountAlive(l.stateMount); !st) failed.push_back("statefs: " + st.error().message);
  const std::string initPid =
      l.containerdState + "/io.containerd.runtime.v2.task/default/" + kContainerId + "/init.pid";
  if (auto st = pidFileAlive(initPid); !st) failed.push_back("container: " + st.error().message);
  return failed;
}

core::Result<ReconcileReport> Provisioner::reconcile() {
  auto lk = lock();
  if (!lk) return lk.error();
  auto names = discoverLocked();
  if (!names) return names.error();
  ReconcileReport report;
  for (auto& n : *names) {
    const auto l = layout(n);
    auto rec = readRecord(l);
    if (rec && *rec && (*rec)->state == TenantState::kReady) {
      if (runningLocked(l)) {
        report.kept.push_back(n);
        continue;
      }
      // Ready but its daemons are gone (crash, reboot): start it again on its own disk.
      auto user = ops_.users->lookup(l.user);
      core::Status st;
      if ((user && !*user) || !ops_.fs->exists(l.image)) {
        // Without its user or its disk the tenant cannot run again (a destroy was cut short):
        // finish removing it.
        auto d = destroyLocked(n);
        if (d) {
          report.removed.push_back(n);
        } else {
          report.failed.push_back(n + ": " + d.error().message);
        }
        continue;
      }
      st = user ? resumeLocked(l, **user, **rec) : core::Status(user.error());
      if (st) {
        report.resumed.push_back(n);
      } else {
        report.failed.push_back(n + ": " + st.error().message);
      }
      continue;
    }
    auto st = destroyLocked(n);
    if (st) {
      report.removed.push_back(n);
    } else {
      report.failed.push_back(n + ": " + st.error().message);
    }
  }
  return report;
}

core::Status Provisioner::writeInfo(const std::string& name, const std::string& file,
                                    const std::string& content) {
  SASHI_TRY(validateTenantName(name));
  SASHI_TRY(validateInfoFileName(file));
  auto lk = lock();
  if (!lk) return lk.error();
  const auto l = layout(name);
  auto rec = readRecord(l);
  if (!rec) return rec.error();
  if (!*rec || (*rec)->state != TenantState::kReady) return core::Error("no ready tenant named " + name);
  auto user = ops_.users->lookup(l.user);
  if (!user) return user.error();
  if (!*user) return core::Error("no tenant named " + name);
  SASHI_TRY(ops_.disks->ensureDir(l.info, 0711, 0, 0));
  const auto owner = infoOwner((*rec)->profile, **user);
  return ops_.disks->writeFile(l.info + "/" + file, content, 0400, owner.uid, owner.gid);
}

core::Result<ExecResult> Provisioner::exec(const std::string& name, const std::vector<std::string>& argv,
                                           std::chrono::milliseconds timeout) {
  SASHI_TRY(validateTenantName(name));
  const auto l = layout(name);
  auto user = ops_.users->lookup(l.user);
  if (!user) return user.error();
  if (!*user) return core::Error("no tenant named " + name);
  auto child = ops_.daemon->childPid(l);
  if (!child) return child.error();
  return ops_.containers->exec(l, {(*user)->uid, (*user)->gid}, ops_.cgroups->procsFiles(name), *child, argv,
                               timeout);
}

}  // namespace sashimono::host
