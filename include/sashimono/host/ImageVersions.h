#pragma once
// Versions of an image (tools/build-image.sh, docs/TENANTS.md "Image versions"): each build is a directory
// <imagesDir>/<image>/versions/<id>/{rootfs,cmd,definition[,profile]}; <image>/current is a
// symlink to the newest one (swapped atomically by a rename), and <image>/{rootfs,cmd,definition,
// profile} are symlinks into current/, so readers of the older flat layout keep working. A tenant
// pins the resolved path of its version's rootfs in its record, so a restart never moves it to a
// newer build; `sashimono host upgrade-tenants` moves it, and unused versions are pruned.
// Pure functions over paths and records; no file is touched here.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/ImageProfile.h"

namespace sashimono::host {

// A pinned rootfs path as kept in a record: absolute, at most 1024 chars of [A-Za-z0-9._/@+-],
// no "." or ".." component, no "//", ending in "/rootfs". Anything else is an error that quotes it.
core::Status validateRootfsPath(std::string_view path);
// The directory holding a version's rootfs, cmd and profile: the rootfs path without "/rootfs"
// (for the flat layout, the image's own directory).
std::string versionDirOf(std::string_view rootfs);
// How a version is shown to the host owner: the <id> of <imagesDir>/<image>/versions/<id>/rootfs,
// "flat" for <imagesDir>/<image>/rootfs (an image built before versions existed), "unpinned" for
// an empty path (a record made before tenants pinned their version), else the path itself.
std::string versionLabel(std::string_view imagesDir, std::string_view image, std::string_view rootfs);

// What upgrading a tenant to a version would do.
enum class UpgradeAction {
  kUnchanged,  // the tenant runs that version already: nothing is touched
  kMove,       // restart the tenant on it
  kRefuse,     // not possible (reason says why)
};
struct UpgradeDecision {
  UpgradeAction action = UpgradeAction::kRefuse;
  std::string reason;
};
// pinned: the record's rootfs ("" for records older than pinning: always moved, which pins them);
// target: the resolved rootfs of the image's current version; profiles: the record's and the
// target version's (a tenant is never moved between runtime and instance: its info files, data
// directory and capabilities were made for one).
UpgradeDecision decideUpgrade(std::string_view pinned, ImageProfile pinnedProfile, std::string_view target,
                              ImageProfile targetProfile);

// The version directories of one image that may be removed: every entry of versions/ (names as
// listed; hidden names, which a build in progress uses, are never chosen) that is not the current
// version and not the version of any rootfs in `inUse` (resolved rootfs paths of tenants: pinned,
// or kept for a rollback). imageDir: <imagesDir>/<image>; current: the resolved current version
// directory ("" when there is none: nothing is removed).
std::vector<std::string> unusedVersions(const std::string& imageDir, const std::vector<std::string>& versions,
                                        const std::string& current, const std::set<std::string>& inUse);

}  // namespace sashimono::host
