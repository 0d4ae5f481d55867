#pragma once
// Tenant users: one locked Linux user per tenant (no login shell, no password), with the
// subordinate uid/gid range useradd assigns (non-overlapping by construction) and removes.
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/host/ProcessRunner.h"

namespace sashimono::host {

struct SubIdRange {
  std::uint64_t start = 0;
  std::uint64_t count = 0;
};

struct UserInfo {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
  SubIdRange subuid;
  SubIdRange subgid;
};

struct PasswdEntry {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
};

// Parse content, not paths. Malformed lines are skipped.
std::vector<PasswdEntry> parsePasswd(std::string_view text);
// /etc/subuid and /etc/subgid: "name:start:count". Returns the first range of `name`.
std::optional<SubIdRange> parseSubId(std::string_view text, std::string_view name);
// The real, effective, saved and filesystem uids of a /proc/PID/status content.
std::vector<uid_t> parseStatusUids(std::string_view status);
// Every "name" of /etc/group (or /etc/subuid) lines: the first field.
std::vector<std::string> parseFirstFields(std::string_view text);

class UserManager {
 public:
  virtual ~UserManager() = default;
  // Creates a locked user with its own group and subordinate ranges. Fails if it exists.
  virtual core::Result<UserInfo> create(const std::string& name, const std::string& home) = 0;
  // Creates a locked user with the given uid in the existing group gid, without a group or
  // subordinate ranges of its own: the host identity of the tenant's in-container contract uid
  // (its state filesystem daemon runs as it; fusermount3 needs a user name).
  virtual core::Status createAlias(const std::string& name, uid_t uid, gid_t gid) = 0;
  virtual core::Result<std::optional<UserInfo>> lookup(const std::string& name) = 0;
  // Removes the user, its group and its subordinate ranges; ok when absent.
  virtual core::Status remove(const std::string& name) = 0;
  // SIGKILLs, until none is left, every process whose real, effective or saved uid is the
  // user's uid or in its subordinate range (processes that a crash left outside the cgroup).
  virtual core::Status killProcesses(const UserInfo& user) = 0;
  // Names of users whose name starts with prefix.
  virtual core::Result<std::vector<std::string>> list(const std::string& prefix) = 0;
};

struct UserFiles {
  std::string passwd = "/etc/passwd";
  std::string group = "/etc/group";
  std::string subuid = "/etc/subuid";
  std::string subgid = "/etc/subgid";
};

// useradd/userdel through the runner; reads the files above.
std::unique_ptr<UserManager> makeLinuxUserManager(ProcessRunner& runner, UserFiles files = {});

}  // namespace sashimono::host
