#pragma once
// OwnerMap: the owner a mount presents (`statefs mount --owner UID:GID`). The daemon runs as
// the tenant user and owns the source's files; the container's contract runs as another uid
// (docs/TENANTS.md). So that the kernel's `default_permissions` checks let the contract use its
// files as before, getattr reports the daemon's own uid as `uid` and its gid as `gid`; other
// owners are reported as they are. A chown through the mount may only name the presented owner
// (or leave a value unchanged): that changes nothing in the source; anything else is EPERM, so
// nothing in the source ever belongs to anyone but the daemon's user. Pure.
#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string_view>

namespace sashimono::statefs {

struct OwnerMap {
  uid_t daemonUid = 0;  // who owns the source's files (the daemon's euid)
  gid_t daemonGid = 0;
  uid_t uid = 0;  // what the mount shows instead
  gid_t gid = 0;

  // Rewrites st's owner as the mount shows it.
  void present(struct stat& st) const;
  // A chown request through the mount (-1 = unchanged): 0 with uid/gid rewritten to what the
  // source gets (always -1: nothing changes), or -EPERM.
  int chown(uid_t& uid, gid_t& gid) const;
};

// "UID:GID" (decimal, each below 2^32 - 1); nullopt when malformed.
std::optional<std::pair<uid_t, gid_t>> parseOwner(std::string_view text);

}  // namespace sashimono::statefs
