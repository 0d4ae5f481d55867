#pragma once
// Private to the executor: what to remount read-only when mount_setattr(2) is unavailable (old
// kernels, or container seccomp profiles that predate it). Pure logic over mountinfo text.
#include <string>
#include <string_view>
#include <vector>

namespace sashimono::runtime::detail {

struct Remount {
  std::string path;
  unsigned long keepFlags = 0;  // MS_NOSUID/NODEV/NOEXEC/atime flags the mount already has
};

// `dir` itself (with the flags of the mount holding it) then every mount point strictly below
// it, in mountinfo order, from /proc/<pid>/mountinfo text. Malformed lines are skipped.
std::vector<Remount> remountPlan(std::string_view mountinfo, std::string_view dir);

}  // namespace sashimono::runtime::detail
