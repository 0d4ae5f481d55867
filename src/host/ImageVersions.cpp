#include "sashimono/host/ImageVersions.h"

#include <algorithm>

namespace sashimono::host {

namespace {

constexpr std::string_view kRootfsSuffix = "/rootfs";

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

core::Status validateRootfsPath(std::string_view path) {
  const std::string shown(path.substr(0, 96));
  auto bad = [&](const char* why) { return core::Error("rootfs path '" + shown + "' " + why); };
  if (path.empty() || path.size() > 1024) return bad("must be 1..1024 characters");
  if (path.front() != '/') return bad("is not absolute");
  if (!endsWith(path, kRootfsSuffix) || path.size() == kRootfsSuffix.size())
    return bad("does not end in /rootfs");
  constexpr std::string_view kAllowed =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/@+-";
  if (path.find_first_not_of(kAllowed) != std::string_view::npos)
    return bad("has a character outside [A-Za-z0-9._/@+-]");
  if (path.find("//") != std::string_view::npos) return bad("has an empty component");
  for (std::size_t at = 0; at < path.size();) {
    const auto next = path.find('/', at + 1);
    const auto part = path.substr(at + 1, (next == std::string_view::npos ? path.size() : next) - at - 1);
    if (part == "." || part == "..") return bad("has a '.' or '..' component");
    if (next == std::string_view::npos) break;
    at = next;
  }
  return {};
}

std::string versionDirOf(std::string_view rootfs) {
  if (endsWith(rootfs, kRootfsSuffix)) rootfs.remove_suffix(kRootfsSuffix.size());
  return std::string(rootfs);
}

std::string versionLabel(std::string_view imagesDir, std::string_view image, std::string_view rootfs) {
  if (rootfs.empty()) return "unpinned";
  const std::string imageDir = std::string(imagesDir) + "/" + std::string(image);
  if (rootfs == imageDir + "/rootfs") return "flat";
  const std::string versions = imageDir + "/versions/";
  if (rootfs.size() > versions.size() && rootfs.substr(0, versions.size()) == versions &&
      endsWith(rootfs, kRootfsSuffix)) {
    auto id = rootfs.substr(versions.size(), rootfs.size() - versions.size() - kRootfsSuffix.size());
    if (!id.empty() && id.find('/') == std::string_view::npos) return std::string(id);
  }
  return std::string(rootfs);
}

UpgradeDecision decideUpgrade(std::string_view pinned, ImageProfile pinnedProfile, std::string_view target,
                              ImageProfile targetProfile) {
  if (!pinned.empty() && pinned == target) return {UpgradeAction::kUnchanged, {}};
  if (pinnedProfile != targetProfile)
    return {UpgradeAction::kRefuse, std::string("the new version is a ") + profileName(targetProfile) +
                                        " image, the tenant was made for a " + profileName(pinnedProfile) +
                                        " image"};
  return {UpgradeAction::kMove, {}};
}

std::vector<std::string> unusedVersions(const std::string& imageDir, const std::vector<std::string>& versions,
                                        const std::string& current, const std::set<std::string>& inUse) {
  std::vector<std::string> out;
  if (current.empty()) return out;
  for (const auto& v : versions) {
    if (v.empty() || v[0] == '.') continue;
    const std::string dir = imageDir + "/versions/" + v;
    if (dir == current || inUse.count(dir + "/rootfs") > 0) continue;
    out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sashimono::host
