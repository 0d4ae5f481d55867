#include "ExecSpawn.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "RawSyscall.h"

namespace sashimono::runtime::detail {
namespace {

using core::Error;
using statefs::UniqueFd;

enum Stage : int {
  kStageSetsid = 1,
  kStageMountPrivate,
  kStageProc,
  kStageReadOnlyBind,
  kStageReadOnly,
  kStageInitChdir,
  kStageOom,
  kStagePipe,
  kStageFork,
  kStageGroups,
  kStageGid,
  kStageUid,
  kStageCaps,
  kStageNoNewPrivs,
  kStageChdir,
  kStageRlimit,
  kStageFds,
  kStageExec,
};

// Exit codes of an init that could not report (the executor reads the report pipe, not these).
constexpr int kInitAbandoned = 120;  // the executor went away before "go"
constexpr int kInitFailed = 121;
constexpr int kInitLost = 122;  // waitpid failed (cannot happen)
// The contract (and its init) runs at this nice value, above the runtime's: when they contend for
// a core, the runtime's network threads (the round's votes and outputs, users' messages) go first.
constexpr long kContractNice = 5;

// What the init and the contract's child read. Lives in InitMemory (the runtime's heap) until the
// init is reaped: both run in the runtime's memory.
struct InitArgs {
  const SpawnPlan* plan = nullptr;
  int count = 0;              // the contract's fds are 0..count-1
  const int* src = nullptr;   // src[i] becomes fd i (the plan's UniqueFds are closed in the runtime)
  const int* keep = nullptr;  // sorted: every fd the init keeps
  std::size_t keepN = 0;
  int syncR = -1;
  int reportW = -1;
  char* contractStack = nullptr;  // top of the stack the contract's child runs on until execve
};

// ---- between clone and execve: the init and the contract's child share the runtime's memory and
// the spawning thread's TLS (CLONE_VM, no copy of the runtime's page tables), so they use sys()
// only: no errno, no lock, no allocation, no sanitizer; every result is checked as -errno ----

[[noreturn]] SASHIMONO_SHARED_VM_CHILD void exitNow(int code) {
  for (;;) sys(SYS_exit_group, code);
}

SASHIMONO_SHARED_VM_CHILD void closeRange(unsigned lo, unsigned hi) {
  if (lo > hi) return;
  if (sys(SYS_close_range, lo, hi, 0) == 0) return;
  rlimit rl{};
  unsigned max = 65536;
  if (sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, arg(&rl)) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      rl.rlim_cur < max)
    max = static_cast<unsigned>(rl.rlim_cur);
  for (unsigned fd = lo; fd <= hi && fd < max; ++fd) sys(SYS_close, fd);
}

// Closes every fd not in the sorted list keep[0..n).
SASHIMONO_SHARED_VM_CHILD void closeAllBut(const int* keep, std::size_t n) {
  unsigned lo = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<unsigned>(keep[i]);
    if (k < lo) continue;
    if (k > lo) closeRange(lo, k - 1);
    lo = k + 1;
  }
  closeRange(lo, ~0U);
}

SASHIMONO_SHARED_VM_CHILD void report(int fd, std::int32_t kind, std::int32_t a, std::int32_t b) {
  const InitReport r{kind, a, b};
  while (sys(SYS_write, fd, arg(&r), sizeof r) == -EINTR) {
  }
}

// `res` is the failed call's -errno.
[[noreturn]] SASHIMONO_SHARED_VM_CHILD void initFail(const InitArgs& a, int stage, long res) {
  report(a.reportW, InitReport::kFailed, stage, static_cast<std::int32_t>(-res));
  exitNow(kInitFailed);
}

// The kernel's struct sigaction (x86_64 and arm64 alike).
struct KernelSigaction {
  void* handler = nullptr;  // SIG_DFL
  unsigned long flags = 0;
  void* restorer = nullptr;
  std::uint64_t mask = 0;
};

SASHIMONO_SHARED_VM_CHILD void resetSignals() {
  const KernelSigaction dfl;
  for (int s = 1; s <= 64; ++s)
    if (s != SIGKILL && s != SIGSTOP) sys(SYS_rt_sigaction, s, arg(&dfl), 0, sizeof dfl.mask);
  const std::uint64_t none = 0;
  sys(SYS_rt_sigprocmask, SIG_SETMASK, arg(&none), 0, sizeof none);
}

[[noreturn]] SASHIMONO_SHARED_VM_CHILD void contractFail(int statusW, int stage, long res) {
  const int msg[2] = {stage, static_cast<int>(-res)};
  while (sys(SYS_write, statusW, arg(msg), sizeof msg) == -EINTR) {
  }
  exitNow(127);
}

SASHIMONO_SHARED_VM_CHILD void setLimit(int resource, std::uint64_t value, int statusW) {
  if (value == 0) return;
  rlimit rl{};
  if (const long r = sys(SYS_prlimit64, 0, resource, 0, arg(&rl)); r != 0)
    contractFail(statusW, kStageRlimit, r);
  rlim_t v = static_cast<rlim_t>(value);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v) v = rl.rlim_max;  // already stricter
  rl.rlim_cur = rl.rlim_max = v;
  if (const long r = sys(SYS_prlimit64, 0, resource, arg(&rl), 0); r != 0)
    contractFail(statusW, kStageRlimit, r);
}

struct ContractArgs {
  const InitArgs* init;
  int statusW;
};

// pid 2: a vfork child of the init (the init waits until its execve), in the runtime's memory.
[[noreturn]] SASHIMONO_SHARED_VM_CHILD void runContract(const InitArgs& a, int statusW) {
  const SpawnPlan& p = *a.plan;
  long r = 0;
  // A vfork child sets its own oom_score_adj: the kernel does not pass it on to the runtime and
  // the init, which share this memory (fs/proc/base.c, __set_oom_adj).
  const long oom = sys(SYS_openat, AT_FDCWD, arg("/proc/self/oom_score_adj"), O_WRONLY | O_CLOEXEC);
  if (oom < 0) contractFail(statusW, kStageOom, oom);
  if ((r = sys(SYS_write, oom, arg("1000"), 4)) != 4) contractFail(statusW, kStageOom, r < 0 ? r : -EIO);
  sys(SYS_close, oom);
  // Best effort (needs CAP_SETPCAP); NO_NEW_PRIVS below is what guarantees no capability
  // comes back at execve, even for uid 0.
  for (long cap = 0; cap < 64; ++cap)
    if (sys(SYS_prctl, PR_CAPBSET_DROP, cap) != 0) break;
  if (p.uid || p.gid) {
    if ((r = sys(SYS_setgroups, 0, 0)) != 0) contractFail(statusW, kStageGroups, r);
  }
  // Changing the uid makes the shared memory non-dumpable (the kernel's rule for any credential
  // change): the runtime then stays non-dumpable, which only keeps other processes out of it.
  if (p.gid && (r = sys(SYS_setresgid, *p.gid, *p.gid, *p.gid)) != 0) contractFail(statusW, kStageGid, r);
  if (p.uid && (r = sys(SYS_setresuid, *p.uid, *p.uid, *p.uid)) != 0) contractFail(statusW, kStageUid, r);
  sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if ((r = sys(SYS_capset, arg(&hdr), arg(data))) != 0) contractFail(statusW, kStageCaps, r);
  if ((r = sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) != 0) contractFail(statusW, kStageNoNewPrivs, r);
  if ((r = sys(SYS_chdir, arg(p.cwd.c_str()))) != 0) contractFail(statusW, kStageChdir, r);
  for (int i = 0; i < a.count; ++i)  // every source is above count - 1: dup3 never sees src == i
    if ((r = sys(SYS_dup3, a.src[i], i, 0)) < 0) contractFail(statusW, kStageFds, r);
  // Everything above the contract's fds closes at execve (statusW included: that is how the
  // init learns that execve succeeded).
  if (sys(SYS_close_range, a.count, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    closeRange(static_cast<unsigned>(a.count), static_cast<unsigned>(statusW) - 1);
    closeRange(static_cast<unsigned>(statusW) + 1, ~0U);
  }
  // Last: RLIMIT_NPROC must not be in force while the uid changes (execve would then fail with
  // EAGAIN), nor RLIMIT_NOFILE while the fds are placed.
  setLimit(RLIMIT_CPU, p.limits.cpuSeconds, statusW);
  setLimit(RLIMIT_DATA, p.limits.memBytes, statusW);
  setLimit(RLIMIT_NOFILE, p.limits.openFiles, statusW);
  setLimit(RLIMIT_NPROC, p.limits.processes, statusW);
  r = sys(SYS_execve, arg(p.path.c_str()), arg(p.argv.data()), arg(p.env.data()));
  contractFail(statusW, kStageExec, r);
}

SASHIMONO_SHARED_VM_CHILD int contractEntry(void* arg) {
  const auto* c = static_cast<const ContractArgs*>(arg);
  runContract(*c->init, c->statusW);
}

// pid 1 of the new namespace: a CLONE_VM child of the runtime, on its own stack.
[[noreturn]] SASHIMONO_SHARED_VM_CHILD void runInit(const InitArgs& a) {
  sys(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
  closeAllBut(a.keep, a.keepN);
  char go = 0;
  long n;
  do n = sys(SYS_read, a.syncR, arg(&go), 1);
  while (n == -EINTR);
  if (n != 1) exitNow(kInitAbandoned);  // covers the executor dying before PDEATHSIG was set
  sys(SYS_close, a.syncR);
  resetSignals();
  sys(SYS_setpriority, PRIO_PROCESS, 0, kContractNice);  // best effort
  long r = 0;
  if ((r = sys(SYS_setsid)) < 0) initFail(a, kStageSetsid, r);  // no controlling terminal

  const SpawnPlan& p = *a.plan;
  if ((r = sys(SYS_mount, 0, arg("/"), 0, MS_REC | MS_PRIVATE, 0)) != 0) initFail(a, kStageMountPrivate, r);
  if ((r = sys(SYS_mount, arg("proc"), arg("/proc"), arg("proc"), MS_NOSUID | MS_NODEV | MS_NOEXEC, 0)) != 0)
    initFail(a, kStageProc, r);
  if (!p.readOnlyDir.empty()) {
    const char* d = p.readOnlyDir.c_str();
    const char* from = p.readOnlySource.empty() ? d : p.readOnlySource.c_str();
    if ((r = sys(SYS_mount, arg(from), arg(d), 0, MS_BIND | MS_REC, 0)) != 0)
      initFail(a, kStageReadOnlyBind, r);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if ((r = sys(SYS_mount_setattr, AT_FDCWD, arg(d), AT_RECURSIVE, arg(&attr), sizeof attr)) != 0) {
      // Old kernel, or a seccomp profile that predates mount_setattr: one remount per mount.
      if (r != -ENOSYS && r != -EPERM) initFail(a, kStageReadOnly, r);
      for (const auto& m : p.readOnlyFallback)
        if ((r = sys(SYS_mount, 0, arg(m.path.c_str()), 0, MS_REMOUNT | MS_BIND | MS_RDONLY | m.keepFlags,
                     0)) != 0)
          initFail(a, kStageReadOnly, r);
    }
  }
  if ((r = sys(SYS_chdir, arg("/"))) != 0) initFail(a, kStageInitChdir, r);  // hold nothing outside

  int pipeFds[2];
  if ((r = sys(SYS_pipe2, arg(pipeFds), O_CLOEXEC)) != 0) initFail(a, kStagePipe, r);
  // Above every fd the contract's dup3 calls touch.
  const int high = std::max(a.keep[a.keepN - 1], a.count) + 1;
  const long statusR = sys(SYS_fcntl, pipeFds[0], F_DUPFD_CLOEXEC, high);
  const long statusW = sys(SYS_fcntl, pipeFds[1], F_DUPFD_CLOEXEC, high);
  if (statusR < 0 || statusW < 0) initFail(a, kStagePipe, statusR < 0 ? statusR : statusW);
  sys(SYS_close, pipeFds[0]);
  sys(SYS_close, pipeFds[1]);

  // The contract runs on its own stack in this memory until its execve; the init waits for that.
  // (glibc's clone writes errno, in the spawning thread's TLS, only if the clone fails, which then
  // ends this init: read at once, it is the clone's.)
  ContractArgs ca{&a, static_cast<int>(statusW)};
  const long contract = ::clone(contractEntry, a.contractStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &ca);
  if (contract < 0) initFail(a, kStageFork, -errno);
  sys(SYS_close, statusW);
  int msg[2] = {0, 0};
  long m;
  do m = sys(SYS_read, statusR, arg(msg), sizeof msg);
  while (m == -EINTR);
  if (m == static_cast<long>(sizeof msg)) {
    int st = 0;
    sys(SYS_wait4, contract, arg(&st), __WALL, 0);
    report(a.reportW, InitReport::kFailed, msg[0], msg[1]);
    exitNow(kInitFailed);
  }
  const int reportW = a.reportW;
  report(reportW, InitReport::kStarted, 0, 0);
  const int keepReport[1] = {reportW};
  closeAllBut(keepReport, 1);  // the contract's fds live only in the contract now
  for (;;) {
    int st = 0;
    const long w = sys(SYS_wait4, -1, arg(&st), __WALL, 0);
    if (w == contract) {
      report(reportW, InitReport::kExited, st, 0);
      exitNow(0);  // the kernel now kills whatever else lives in the namespace
    }
    if (w < 0 && w != -EINTR) exitNow(kInitLost);
  }
}

SASHIMONO_SHARED_VM_CHILD int initEntry(void* arg) { runInit(*static_cast<const InitArgs*>(arg)); }

// ---- the executor's side ----

core::Result<UniqueFd> above(UniqueFd fd, int min) {
  if (fd.get() >= min) return fd;
  const int n = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, min);
  if (n < 0) return Error::fromErrno("fcntl(F_DUPFD_CLOEXEC)");
  return UniqueFd(n);
}

core::Result<std::pair<UniqueFd, UniqueFd>> pipeAbove(int min) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return Error::fromErrno("pipe2");
  UniqueFd r(p[0]), w(p[1]);
  auto hr = above(std::move(r), min);
  if (!hr) return hr.error();
  auto hw = above(std::move(w), min);
  if (!hw) return hw.error();
  return std::make_pair(std::move(*hr), std::move(*hw));
}

core::Status writeFile(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::fromErrno("open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return Error::fromErrno("write " + path);
  return {};
}

}  // namespace

std::string stageName(int stage) {
  switch (stage) {
    case kStageSetsid:
      return "setsid";
    case kStageMountPrivate:
      return "making mounts private";
    case kStageProc:
      return "mounting a private /proc";
    case kStageReadOnlyBind:
      return "bind-mounting the read-only directory";
    case kStageReadOnly:
      return "making the directory read-only";
    case kStageInitChdir:
      return "init chdir";
    case kStageOom:
      return "setting oom_score_adj";
    case kStagePipe:
      return "creating the exec status pipe";
    case kStageFork:
      return "forking the contract";
    case kStageGroups:
      return "setgroups";
    case kStageGid:
      return "setresgid";
    case kStageUid:
      return "setresuid";
    case kStageCaps:
      return "clearing capabilities";
    case kStageNoNewPrivs:
      return "PR_SET_NO_NEW_PRIVS";
    case kStageChdir:
      return "changing to the contract directory";
    case kStageRlimit:
      return "setting rlimits";
    case kStageFds:
      return "placing the contract's descriptors";
    case kStageExec:
      return "execve";
  }
  return "setup";
}

void finishPlan(SpawnPlan& plan) {
  plan.argv.clear();
  plan.env.clear();
  for (auto& s : plan.argvStore) plan.argv.push_back(s.data());
  plan.argv.push_back(nullptr);
  for (auto& s : plan.envStore) plan.env.push_back(s.data());
  plan.env.push_back(nullptr);
}

void killByPidfd(int pidfd) {
  if (pidfd >= 0) ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0U);
}

// The init's and the contract's stacks, each above a guard page.
constexpr std::size_t kGuard = 4096;
constexpr std::size_t kChildStack = 128 * 1024;

struct InitMemory {
  InitArgs args;
  std::vector<int> src, keep;
  void* map = MAP_FAILED;
  std::size_t mapSize = 2 * (kGuard + kChildStack);
  int pidfd = -1;  // a duplicate, so that the init is surely gone before this memory is
};

// SIGKILL and reap (ECHILD when already reaped: pidfds are never reused).
static void killAndReap(int pidfd) {
  killByPidfd(pidfd);
  siginfo_t info{};
  while (::waitid(P_PIDFD, static_cast<id_t>(pidfd), &info, WEXITED | __WALL) < 0 && errno == EINTR) {
  }
}

void InitMemoryDeleter::operator()(InitMemory* m) const {
  if (m->pidfd >= 0) {
    killAndReap(m->pidfd);
    ::close(m->pidfd);
  }
  if (m->map != MAP_FAILED) ::munmap(m->map, m->mapSize);
  delete m;
}

namespace {

core::Result<std::unique_ptr<InitMemory, InitMemoryDeleter>> allocInitMemory() {
  std::unique_ptr<InitMemory, InitMemoryDeleter> m(new InitMemory);
  m->map =
      ::mmap(nullptr, m->mapSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (m->map == MAP_FAILED) return Error::fromErrno("contract: mapping the init's stacks");
  auto* base = static_cast<char*>(m->map);
  if (::mprotect(base, kGuard, PROT_NONE) != 0 ||
      ::mprotect(base + kGuard + kChildStack, kGuard, PROT_NONE) != 0)
    return Error::fromErrno("contract: guard pages");
  m->args.contractStack = base + kGuard + kChildStack;  // stacks grow down
  return m;
}

}  // namespace

core::Result<Spawned> spawnInit(SpawnPlan& plan) {
  const int count = static_cast<int>(plan.src.size());
  for (const auto& fd : plan.src)
    if (fd.get() < count) return Error("executor: contract fd below the layout", EINVAL);
  auto sync = pipeAbove(count);
  if (!sync) return sync.error();
  auto rep = pipeAbove(count);
  if (!rep) return rep.error();
  auto& [syncR, syncW] = *sync;
  auto& [repR, repW] = *rep;
  auto mem = allocInitMemory();
  if (!mem) return mem.error();
  InitMemory& m = **mem;

  for (const auto& fd : plan.src) m.src.push_back(fd.get());
  m.keep = m.src;
  m.keep.push_back(syncR.get());
  m.keep.push_back(repW.get());
  std::sort(m.keep.begin(), m.keep.end());
  InitArgs& args = m.args;
  args.plan = &plan;
  args.count = count;
  args.src = m.src.data();
  args.keep = m.keep.data();
  args.keepN = m.keep.size();
  args.syncR = syncR.get();
  args.reportW = repW.get();
  char* initStack = static_cast<char*>(m.map) + 2 * kGuard + 2 * kChildStack;

  // CLONE_VM: the init shares the runtime's memory (no copy of its page tables, no copy-on-write
  // faults in the runtime while the contract runs). Signals stay blocked across the clone so that
  // none of the runtime's handlers runs in the init before it resets them.
  auto cloneInit = [&](unsigned long nsFlags, int& pidfd) -> long {
    sigset_t all, old;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old);
    const long pid = ::clone(initEntry, initStack,
                             static_cast<int>(CLONE_VM | nsFlags | CLONE_PIDFD | SIGCHLD), &args, &pidfd);
    const int err = errno;
    ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
    errno = err;
    return pid;
  };
  Spawned out;
  int pidfd = -1;
  long pid = cloneInit(CLONE_NEWPID | CLONE_NEWNS, pidfd);
  if (pid < 0) {
    const int err = errno;
    if (err != EPERM) return Error::fromErrno("clone(CLONE_NEWPID|CLONE_NEWNS) for the contract's init", err);
    if (plan.uid || plan.gid)
      return Error(
          "contract: running as another uid/gid needs CAP_SYS_ADMIN and CAP_SETUID/CAP_SETGID "
          "(CLONE_NEWPID: Operation not permitted)",
          EPERM);
    pid = cloneInit(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS, pidfd);
    if (pid < 0)
      return Error::fromErrno(
          "contract: cannot isolate the execution: CLONE_NEWPID is not permitted and "
          "CLONE_NEWUSER|CLONE_NEWPID failed too",
          errno);
    out.isolation = Isolation::kUserAndPidNamespace;
  }
  out.pid = static_cast<pid_t>(pid);
  out.pidfd = UniqueFd(pidfd);
  m.pidfd = ::fcntl(pidfd, F_DUPFD_CLOEXEC, 0);
  if (m.pidfd < 0) {
    const int err = errno;
    killAndReap(pidfd);
    return Error::fromErrno("contract: dup of the init's pidfd", err);
  }
  out.memory = std::move(*mem);
  auto abandon = [&out](const Error& e) -> Error {
    killByPidfd(out.pidfd.get());
    int st = 0;
    ::waitpid(out.pid, &st, __WALL);
    return e;
  };
  plan.src.clear();  // the init holds them now
  syncR.reset();
  repW.reset();
  if (out.isolation == Isolation::kUserAndPidNamespace) {
    const std::string proc = "/proc/" + std::to_string(pid) + "/";
    const auto uid = std::to_string(::geteuid()), gid = std::to_string(::getegid());
    auto st = writeFile(proc + "setgroups", "deny");
    if (st) st = writeFile(proc + "uid_map", uid + " " + uid + " 1\n");
    if (st) st = writeFile(proc + "gid_map", gid + " " + gid + " 1\n");
    if (!st) return abandon(st.error().context("contract: mapping ids into the user namespace"));
  }
  const char go = 'g';
  if (::write(syncW.get(), &go, 1) != 1) return abandon(Error::fromErrno("contract: starting the init"));
  if (::fcntl(repR.get(), F_SETFL, O_NONBLOCK) != 0) return abandon(Error::fromErrno("fcntl(O_NONBLOCK)"));
  out.report = std::move(repR);
  return out;
}

}  // namespace sashimono::runtime::detail
