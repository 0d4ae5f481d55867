#include "ExecSpawn.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

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

// What the init needs, prepared before clone (nothing is allocated after it).
struct InitArgs {
  const SpawnPlan* plan = nullptr;
  int count = 0;              // the contract's fds are 0..count-1
  const int* keep = nullptr;  // sorted: every fd the init keeps
  std::size_t keepN = 0;
  int syncR = -1;
  int reportW = -1;
};

// ---- between clone and execve: async-signal-safe, raw system calls (glibc's set*id and fork
// would take locks or signal the runtime's other threads, which the clone does not have) ----

void closeRange(unsigned lo, unsigned hi) {
  if (lo > hi) return;
  if (::close_range(lo, hi, 0) == 0) return;
  rlimit rl{};
  unsigned max = 65536;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < max)
    max = static_cast<unsigned>(rl.rlim_cur);
  for (unsigned fd = lo; fd <= hi && fd < max; ++fd) ::close(static_cast<int>(fd));
}

// Closes every fd not in the sorted list keep[0..n).
void closeAllBut(const int* keep, std::size_t n) {
  unsigned lo = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<unsigned>(keep[i]);
    if (k < lo) continue;
    if (k > lo) closeRange(lo, k - 1);
    lo = k + 1;
  }
  closeRange(lo, ~0U);
}

void report(int fd, std::int32_t kind, std::int32_t a, std::int32_t b) {
  const InitReport r{kind, a, b};
  while (::write(fd, &r, sizeof r) < 0 && errno == EINTR) {
  }
}

[[noreturn]] void initFail(const InitArgs& a, int stage) {
  report(a.reportW, InitReport::kFailed, stage, errno);
  ::_exit(kInitFailed);
}

void resetSignals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  ::sigemptyset(&sa.sa_mask);
  for (int s = 1; s < NSIG; ++s)
    if (s != SIGKILL && s != SIGSTOP) ::sigaction(s, &sa, nullptr);  // glibc's own ones: EINVAL
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

pid_t rawFork() {
  return static_cast<pid_t>(::syscall(SYS_clone, static_cast<unsigned long>(SIGCHLD), 0L, 0L, 0L, 0L));
}

void setLimit(int resource, std::uint64_t value, int statusW);

[[noreturn]] void contractFail(int statusW, int stage) {
  const int msg[2] = {stage, errno};
  while (::write(statusW, msg, sizeof msg) < 0 && errno == EINTR) {
  }
  ::_exit(127);
}

void setLimit(int resource, std::uint64_t value, int statusW) {
  if (value == 0) return;
  rlimit rl{};
  if (::getrlimit(resource, &rl) != 0) contractFail(statusW, kStageRlimit);
  rlim_t v = static_cast<rlim_t>(value);
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < v) v = rl.rlim_max;  // already stricter
  rl.rlim_cur = rl.rlim_max = v;
  if (::setrlimit(resource, &rl) != 0) contractFail(statusW, kStageRlimit);
}

// pid 2.
[[noreturn]] void runContract(const InitArgs& a, int statusW) {
  const SpawnPlan& p = *a.plan;
  // Best effort (needs CAP_SETPCAP); NO_NEW_PRIVS below is what guarantees no capability
  // comes back at execve, even for uid 0.
  for (long cap = 0; cap < 64; ++cap)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) break;
  if (p.uid || p.gid) {
    if (::syscall(SYS_setgroups, 0L, nullptr) != 0) contractFail(statusW, kStageGroups);
  }
  if (p.gid && ::syscall(SYS_setresgid, static_cast<long>(*p.gid), static_cast<long>(*p.gid),
                         static_cast<long>(*p.gid)) != 0)
    contractFail(statusW, kStageGid);
  if (p.uid && ::syscall(SYS_setresuid, static_cast<long>(*p.uid), static_cast<long>(*p.uid),
                         static_cast<long>(*p.uid)) != 0)
    contractFail(statusW, kStageUid);
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &hdr, data) != 0) contractFail(statusW, kStageCaps);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) contractFail(statusW, kStageNoNewPrivs);
  if (::chdir(p.cwd.c_str()) != 0) contractFail(statusW, kStageChdir);
  for (int i = 0; i < a.count; ++i)
    if (::dup2(p.src[static_cast<std::size_t>(i)].get(), i) < 0) contractFail(statusW, kStageFds);
  // Everything above the contract's fds closes at execve (statusW included: that is how the
  // init learns that execve succeeded).
  if (::close_range(static_cast<unsigned>(a.count), ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    closeRange(static_cast<unsigned>(a.count), static_cast<unsigned>(statusW) - 1);
    closeRange(static_cast<unsigned>(statusW) + 1, ~0U);
  }
  // Last: RLIMIT_NPROC must not be in force while the uid changes (execve would then fail with
  // EAGAIN), nor RLIMIT_NOFILE while the fds are placed.
  setLimit(RLIMIT_CPU, p.limits.cpuSeconds, statusW);
  setLimit(RLIMIT_DATA, p.limits.memBytes, statusW);
  setLimit(RLIMIT_NOFILE, p.limits.openFiles, statusW);
  setLimit(RLIMIT_NPROC, p.limits.processes, statusW);
  ::execve(p.path.c_str(), p.argv.data(), p.env.data());
  contractFail(statusW, kStageExec);
}

// pid 1 of the new namespace.
[[noreturn]] void runInit(const InitArgs& a) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  closeAllBut(a.keep, a.keepN);
  char go = 0;
  ssize_t n;
  do n = ::read(a.syncR, &go, 1);
  while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(kInitAbandoned);  // covers the executor dying before PDEATHSIG was set
  ::close(a.syncR);
  resetSignals();
  (void)::syscall(SYS_setpriority, static_cast<long>(PRIO_PROCESS), 0L, kContractNice);  // best effort
  if (::syscall(SYS_setsid) < 0) initFail(a, kStageSetsid);  // no controlling terminal

  const SpawnPlan& p = *a.plan;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) initFail(a, kStageMountPrivate);
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    initFail(a, kStageProc);
  if (!p.readOnlyDir.empty()) {
    const char* d = p.readOnlyDir.c_str();
    const char* from = p.readOnlySource.empty() ? d : p.readOnlySource.c_str();
    if (::mount(from, d, nullptr, MS_BIND | MS_REC, nullptr) != 0) initFail(a, kStageReadOnlyBind);
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::syscall(SYS_mount_setattr, AT_FDCWD, d, static_cast<unsigned long>(AT_RECURSIVE), &attr,
                  sizeof attr) != 0) {
      // Old kernel, or a seccomp profile that predates mount_setattr: one remount per mount.
      if (errno != ENOSYS && errno != EPERM) initFail(a, kStageReadOnly);
      for (const auto& m : p.readOnlyFallback)
        if (::mount(nullptr, m.path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | m.keepFlags,
                    nullptr) != 0)
          initFail(a, kStageReadOnly);
    }
  }
  if (::chdir("/") != 0) initFail(a, kStageInitChdir);  // hold nothing outside the new mounts
  const int oom = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (oom < 0 || ::write(oom, "1000", 4) != 4) initFail(a, kStageOom);
  ::close(oom);

  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) initFail(a, kStagePipe);
  // Above every fd the contract's dup2 calls touch.
  const int high = std::max(a.keep[a.keepN - 1], a.count) + 1;
  const int statusR = ::fcntl(pipeFds[0], F_DUPFD_CLOEXEC, high);
  const int statusW = ::fcntl(pipeFds[1], F_DUPFD_CLOEXEC, high);
  if (statusR < 0 || statusW < 0) initFail(a, kStagePipe);
  ::close(pipeFds[0]);
  ::close(pipeFds[1]);

  const pid_t contract = rawFork();
  if (contract < 0) initFail(a, kStageFork);
  if (contract == 0) runContract(a, statusW);
  ::close(statusW);
  int msg[2] = {0, 0};
  ssize_t m;
  do m = ::read(statusR, msg, sizeof msg);
  while (m < 0 && errno == EINTR);
  if (m == static_cast<ssize_t>(sizeof msg)) {
    int st = 0;
    ::waitpid(contract, &st, __WALL);
    report(a.reportW, InitReport::kFailed, msg[0], msg[1]);
    ::_exit(kInitFailed);
  }
  report(a.reportW, InitReport::kStarted, 0, 0);
  const int keepReport[1] = {a.reportW};
  closeAllBut(keepReport, 1);  // the contract's fds live only in the contract now
  for (;;) {
    int st = 0;
    const pid_t w = ::waitpid(-1, &st, __WALL);
    if (w == contract) {
      report(a.reportW, InitReport::kExited, st, 0);
      ::_exit(0);  // the kernel now kills whatever else lives in the namespace
    }
    if (w < 0 && errno != EINTR) ::_exit(kInitLost);
  }
}

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

  std::vector<int> keep;
  for (const auto& fd : plan.src) keep.push_back(fd.get());
  keep.push_back(syncR.get());
  keep.push_back(repW.get());
  std::sort(keep.begin(), keep.end());
  InitArgs args;
  args.plan = &plan;
  args.count = count;
  args.keep = keep.data();
  args.keepN = keep.size();
  args.syncR = syncR.get();
  args.reportW = repW.get();

  auto cloneInit = [&args](unsigned long nsFlags, int& pidfd) -> long {
    const long pid = ::syscall(SYS_clone, nsFlags | CLONE_PIDFD | SIGCHLD, 0L, &pidfd, 0L, 0L);
    if (pid == 0) runInit(args);
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
