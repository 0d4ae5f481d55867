// Provisioner: image versions, upgrades and the heal's restart (docs/OPERATIONS.md, "Upgrade").
#include <cerrno>
#include <set>

#include "sashimono/core/Log.h"
#include "sashimono/host/ImageCommand.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/host/TenantProbe.h"
#include "sashimono/host/Validate.h"

namespace sashimono::host {

namespace {

// How long restart() watches a user port that may serve again (as the node's heal probe).
constexpr std::chrono::milliseconds kServesProbe{50};

std::int64_t unixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

core::Result<Provisioner::ImageTarget> Provisioner::resolveImage(const std::string& image) {
  SASHI_TRY(validateImageName(image));
  auto& fs = *ops_.fs;
  const std::string imageDir = config_.imagesDir + "/" + image;
  auto rootfs = fs.realPath(imageDir + "/rootfs");
  if (!rootfs || !fs.exists(*rootfs + "/bin"))
    return core::Error("image '" + image + "' not found in " + config_.imagesDir +
                       " (build it with tools/build-image.sh)");
  if (auto st = validateRootfsPath(*rootfs); !st) return st.error().context("image '" + image + "'");
  ImageTarget t;
  t.rootfs = *rootfs;
  // The version's own files, read through the resolved directory: a build that swaps the image's
  // current version meanwhile cannot mix two versions.
  const std::string dir = versionDirOf(t.rootfs);
  if (auto text = fs.readFile(dir + "/profile"); text) {
    auto p = parseProfile(*text);
    if (!p) return p.error().context("image '" + image + "': " + dir + "/profile");
    t.profile = *p;
  } else if (text.error().errnum != ENOENT) {
    return text.error().context("image '" + image + "'");
  }
  auto cmd = fs.readFile(dir + "/cmd");
  if (!cmd) {
    t.cmd = cmd.error().context("image '" + image + "' has no default command");
  } else if (auto args = parseImageCommand(*cmd); !args) {
    t.cmd = args.error().context("image '" + image + "': " + dir + "/cmd");
  } else {
    t.cmd = std::move(*args);
  }
  return t;
}

core::Result<UpgradePlan> Provisioner::planLocked(const std::string& name, const std::string& image,
                                                  TenantRecord& rec, ImageTarget& target) {
  const auto l = layout(name);
  auto r = readRecord(l);
  if (!r) return r.error();
  if (!*r || (*r)->state != TenantState::kReady) return core::Error("tenant " + name + " is not ready");
  rec = std::move(**r);
  auto t = resolveImage(image);
  if (!t) return t.error();
  target = std::move(*t);
  UpgradePlan p;
  p.tenant = name;
  p.fromImage = rec.spec.image;
  p.fromRootfs = rec.rootfs;
  p.toImage = image;
  p.toRootfs = target.rootfs;
  p.pending = rec.upgrade.has_value();
  const auto d = decideUpgrade(rec.rootfs, rec.profile, target.rootfs, target.profile);
  p.action = d.action;
  p.reason = d.reason;
  if (p.action == UpgradeAction::kMove && rec.argsFromImage && !target.cmd) {
    p.action = UpgradeAction::kRefuse;
    p.reason = target.cmd.error().message;
  }
  return p;
}

core::Result<UpgradePlan> Provisioner::planUpgrade(const std::string& name, const std::string& image) {
  SASHI_TRY(validateTenantName(name));
  auto lk = lock();
  if (!lk) return lk.error();
  TenantRecord rec;
  ImageTarget target;
  return planLocked(name, image, rec, target);
}

core::Result<UpgradePlan> Provisioner::upgrade(const std::string& name, const std::string& image,
                                               std::chrono::system_clock::time_point deadline) {
  SASHI_TRY(validateTenantName(name));
  auto lk = lock();
  if (!lk) return lk.error();
  TenantRecord rec;
  ImageTarget target;
  auto plan = planLocked(name, image, rec, target);
  if (!plan) return plan.error();
  if (plan->pending)
    return core::Error("tenant " + name + " has an unfinished upgrade from " + rec.upgrade->image +
                       " (roll it back first)");
  if (plan->action == UpgradeAction::kUnchanged) return plan;
  if (plan->action == UpgradeAction::kRefuse)
    return core::Error("tenant " + name + " cannot move to " + image + ": " + plan->reason);
  const auto l = layout(name);
  auto user = ops_.users->lookup(l.user);
  if (!user) return user.error();
  if (!*user) return core::Error("tenant " + name + " has no user " + l.user);
  PendingUpgrade previous{rec.spec.image, rec.rootfs, rec.spec.args, unixSeconds(deadline)};
  // A tenant made before versions were pinned ran <image>/rootfs as it was when it started. If
  // the image has one version converted from the flat layout (build-image.sh does that at its
  // first versioned build), that is what it runs; otherwise a rollback restarts it on the path.
  if (previous.rootfs.empty()) {
    const std::string versions = config_.imagesDir + "/" + rec.spec.image + "/versions";
    std::vector<std::string> legacy;
    for (auto& v : ops_.fs->listDir(versions).valueOr({}))
      if (v.rfind("legacy-", 0) == 0) legacy.push_back(v);
    if (legacy.size() == 1)
      if (auto p = ops_.fs->realPath(versions + "/" + legacy[0] + "/rootfs"); p && validateRootfsPath(*p))
        previous.rootfs = *p;
  }
  rec.upgrade = previous;
  rec.spec.image = image;
  rec.rootfs = target.rootfs;
  if (rec.argsFromImage) rec.spec.args = *target.cmd;
  SASHI_TRY(validateSpec(rec.spec));
  SASHI_TRY(writeRecord(l, rec, true));
  spdlog::info("tenant {}: upgrading from {} to {}", name,
               versionLabel(config_.imagesDir, previous.image, previous.rootfs),
               versionLabel(config_.imagesDir, image, target.rootfs));
  if (auto st = resumeLocked(l, **user, rec); !st) {
    auto err = st.error().context("upgrading tenant " + name + " to " +
                                  versionLabel(config_.imagesDir, image, target.rootfs));
    auto rb = rollbackLocked(l, **user, rec);
    err.message += rb ? " (rolled back)" : " (rollback failed too: " + rb.error().message + ")";
    return err;
  }
  return plan;
}

core::Status Provisioner::finishUpgrade(const std::string& name) {
  SASHI_TRY(validateTenantName(name));
  auto lk = lock();
  if (!lk) return lk.error();
  const auto l = layout(name);
  auto rec = readRecord(l);
  if (!rec) return rec.error();
  if (!*rec) return core::Error("no tenant named " + name);
  if (!(*rec)->upgrade) return {};
  (*rec)->upgrade.reset();
  return writeRecord(l, **rec, true);
}

core::Status Provisioner::rollback(const std::string& name) {
  SASHI_TRY(validateTenantName(name));
  auto lk = lock();
  if (!lk) return lk.error();
  const auto l = layout(name);
  auto rec = readRecord(l);
  if (!rec) return rec.error();
  if (!*rec || (*rec)->state != TenantState::kReady) return core::Error("tenant " + name + " is not ready");
  auto user = ops_.users->lookup(l.user);
  if (!user) return user.error();
  if (!*user) return core::Error("tenant " + name + " has no user " + l.user);
  return rollbackLocked(l, **user, **rec);
}

core::Status Provisioner::rollbackLocked(const TenantLayout& l, const UserInfo& user, TenantRecord& rec) {
  if (!rec.upgrade) return core::Error("tenant " + l.name + " has no upgrade to roll back");
  const std::string from = versionLabel(config_.imagesDir, rec.spec.image, rec.rootfs);
  rec.spec.image = rec.upgrade->image;
  rec.rootfs = rec.upgrade->rootfs;
  rec.spec.args = rec.upgrade->args;
  rec.upgrade.reset();
  SASHI_TRY(writeRecord(l, rec, true));
  spdlog::warn("tenant {}: rolling back from {} to {}", l.name, from,
               versionLabel(config_.imagesDir, rec.spec.image, rec.rootfs));
  if (auto st = resumeLocked(l, user, rec); !st) return st.error().context("rolling back tenant " + l.name);
  return {};
}

core::Status Provisioner::restart(const std::string& name) {
  SASHI_TRY(validateTenantName(name));
  const auto l = layout(name);
  // What the caller saw: if the record changes while this waits for the lock, something else
  // (an upgrade, another restart) started the tenant meanwhile.
  auto before = readRecord(l);
  auto lk = lock();
  if (!lk) return lk.error();
  auto rec = readRecord(l);
  if (!rec) return rec.error();
  if (!*rec || (*rec)->state != TenantState::kReady) return core::Error("tenant " + name + " is not ready");
  auto user = ops_.users->lookup(l.user);
  if (!user) return user.error();
  if (!*user) return core::Error("tenant " + name + " has no user " + l.user);
  if (const auto& up = (*rec)->upgrade; up) {
    if (unixSeconds(std::chrono::system_clock::now()) < up->deadline) {
      spdlog::info("tenant {}: not restarted: an upgrade is switching it", name);
      return {};
    }
    spdlog::warn("tenant {}: an upgrade was not finished by its deadline; rolling it back", name);
    return rollbackLocked(l, **user, **rec);
  }
  const bool changed = !before || !*before || renderRecord(**before) != renderRecord(**rec);
  if (changed && failedParts(l).empty()) {
    std::uint16_t port = 0;
    for (const auto& p : (*rec)->ports)
      if (p.role == "user") port = p.hostPort;
    const std::string ip = config_.publicIp == "0.0.0.0" ? "127.0.0.1" : config_.publicIp;
    if (port != 0 && probeTcp({{ip, port}}, kServesProbe).front().ok()) {
      spdlog::info("tenant {}: not restarted: it was started again meanwhile and serves", name);
      return {};
    }
  }
  if (auto st = resumeLocked(l, **user, **rec); !st) return st.error().context("restarting tenant " + name);
  return {};
}

core::Result<PruneReport> Provisioner::pruneImages(bool dryRun) {
  auto lk = lock();
  if (!lk) return lk.error();
  auto& fs = *ops_.fs;
  // Every version a tenant of this base directory runs or may roll back to; images with a tenant
  // that is not pinned (a record made before pinning) are left alone.
  std::set<std::string> inUse, unpinned;
  auto records = fs.listDir(config_.baseDir + "/records");
  if (!records) return records.error();
  for (const auto& f : *records) {
    if (f.size() <= 5 || f.compare(f.size() - 5, 5, ".json") != 0) continue;
    const std::string n = f.substr(0, f.size() - 5);
    if (!validateTenantName(n)) continue;
    auto r = readRecord(layout(n));
    if (!r) return r.error().context("pruning images");
    if (!*r) continue;
    if ((*r)->rootfs.empty()) unpinned.insert((*r)->spec.image);
    inUse.insert((*r)->rootfs);
    if ((*r)->upgrade) {
      if ((*r)->upgrade->rootfs.empty()) unpinned.insert((*r)->upgrade->image);
      inUse.insert((*r)->upgrade->rootfs);
    }
  }
  PruneReport report;
  auto images = fs.listDir(config_.imagesDir);
  if (!images) return images.error();
  std::sort(images->begin(), images->end());
  for (const auto& image : *images) {
    if (!validateImageName(image)) continue;
    const std::string dir = config_.imagesDir + "/" + image;
    if (!fs.exists(dir + "/versions")) continue;
    if (unpinned.count(image) > 0) {
      report.skipped.push_back(image + ": a tenant of it is not pinned to a version yet (upgrade it first)");
      continue;
    }
    auto imageLock = fs.lockExclusive(dir + "/.lock");
    if (!imageLock) return imageLock.error();
    // Resolved paths throughout: records hold resolved rootfs paths.
    auto real = fs.realPath(dir);
    auto current = fs.realPath(dir + "/current");
    auto versions = fs.listDir(dir + "/versions");
    if (!real || !current || !versions) {
      report.skipped.push_back(image + ": no current version");
      continue;
    }
    for (const auto& v : unusedVersions(*real, *versions, *current, inUse)) {
      const std::string shown = image + "/versions/" + v;
      if (!dryRun) {
        if (auto st = ops_.disks->removeTree(*real + "/versions/" + v); !st) {
          report.failed.push_back(shown + ": " + st.error().message);
          continue;
        }
        spdlog::info("images: removed {} (no tenant uses it)", shown);
      }
      report.removed.push_back(shown);
    }
  }
  return report;
}

}  // namespace sashimono::host
