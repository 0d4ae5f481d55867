#pragma once
// Private to the executor: starting the execution's init in new PID and mount namespaces, and
// everything that runs between clone and the contract's execve.
//
// Init (pid 1 of the new namespace): a CLONE_VM child of the runtime on its own stack, never
// exec'ed, sharing the runtime's memory (a fork would copy the runtime's page tables twice a round
// and make the runtime take a copy-on-write fault on every page it writes while the contract runs;
// that was a tenth of a cluster member's CPU). So it uses raw system calls only (RawSyscall.h).
//   PR_SET_PDEATHSIG(SIGKILL) → closes every fd it was not given → waits for "go" from the
//   executor (which first writes the uid/gid maps in user-namespace mode) → default signals →
//   setsid → private mount propagation, a private /proc, readOnlyDir read-only → chdir / →
//   vforks the contract (pid 2) → reports kStarted or kFailed → reaps until pid 2 exits →
//   reports kExited(wait status) → exits (the kernel kills the rest).
// Contract (pid 2, a vfork child: CLONE_VM, the init waits until its execve): oom_score_adj
//   1000 (its own: the kernel keeps a vfork child's apart), capability bounding set dropped,
//   groups/gid/uid, ambient and all capability sets cleared, PR_SET_NO_NEW_PRIVS, chdir(cwd),
//   rlimits, fds 0..n-1 in place, everything else closed, execve.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ExecMounts.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Executor.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::runtime::detail {

// Messages init writes to the report pipe.
struct InitReport {
  enum Kind : std::int32_t { kStarted = 1, kFailed = 2, kExited = 3 };
  std::int32_t kind = 0;
  std::int32_t a = 0;  // kFailed: stage; kExited: wait status
  std::int32_t b = 0;  // kFailed: errno
};

// Where a setup step failed, for error messages.
std::string stageName(int stage);

// Read by the init and the contract's child in place (shared memory): left untouched until the
// init is reaped, but for src, which spawnInit copies first.
struct SpawnPlan {
  std::string path;
  std::vector<std::string> argvStore, envStore;
  std::vector<char*> argv, env;  // null-terminated, point into the stores
  std::string cwd, readOnlyDir;
  std::string readOnlySource;  // bound over readOnlyDir (a view of the committed state); empty: none
  std::vector<Remount> readOnlyFallback;  // used when mount_setattr is refused (ENOSYS/EPERM)
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  ExecLimits limits;
  // src[i] becomes fd i of the contract; every src is above src.size() - 1 (so dup2 never
  // overwrites a source) and close-on-exec in the runtime.
  std::vector<statefs::UniqueFd> src;
};

// Fills argv/env pointers from the stores.
void finishPlan(SpawnPlan& plan);

// The memory the init and the contract's child run in and read (their stacks, the plan's
// layout). Freeing it kills and reaps the init first.
struct InitMemory;
struct InitMemoryDeleter {
  void operator()(InitMemory* m) const;
};

struct Spawned {
  pid_t pid = -1;
  statefs::UniqueFd pidfd;   // the init, for poll (readable once it exited) and signals
  statefs::UniqueFd report;  // read end of the report pipe (InitReport records)
  Isolation isolation = Isolation::kPidNamespace;
  std::unique_ptr<InitMemory, InitMemoryDeleter> memory;
};

// SIGKILL through a pidfd (no pid-reuse race); harmless once the process is gone.
void killByPidfd(int pidfd);

// Clones the init and lets it go. The plan's descriptors are closed on return (the init has
// them). Must run on a thread that outlives the execution: the init dies with that thread. The
// plan must outlive the init (it reads it until the contract's execve, in the runtime's memory).
core::Result<Spawned> spawnInit(SpawnPlan& plan);

}  // namespace sashimono::runtime::detail
