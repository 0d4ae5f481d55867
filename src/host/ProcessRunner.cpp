#include "sashimono/host/ProcessRunner.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace sashimono::host {
namespace {

using core::Error;
using core::Result;

// Everything the child needs, prepared before fork (no allocation after fork).
struct Prepared {
  std::string path;
  std::vector<std::string> argvStore, envStore;
  std::vector<char*> argv, env;
  std::vector<int> cgroupFds;
  const ProcessSpec* spec = nullptr;
  ~Prepared() {
    for (int fd : cgroupFds) ::close(fd);
  }
};

std::string findProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  std::stringstream dirs(kSafePath);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

Result<std::unique_ptr<Prepared>> prepare(const ProcessSpec& spec) {
  if (spec.argv.empty()) return Error("no program to run");
  auto p = std::make_unique<Prepared>();
  p->spec = &spec;
  p->path = findProgram(spec.argv[0]);
  if (p->path.empty()) return Error("program not found: " + spec.argv[0], ENOENT);
  p->argvStore = spec.argv;
  p->envStore = spec.env;
  for (auto& a : p->argvStore) p->argv.push_back(a.data());
  p->argv.push_back(nullptr);
  for (auto& e : p->envStore) p->env.push_back(e.data());
  p->env.push_back(nullptr);
  for (const auto& f : spec.cgroupProcs) {
    int fd = ::open(f.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return Error::fromErrno("cannot open " + f);
    p->cgroupFds.push_back(fd);
  }
  return p;
}

[[noreturn]] void failChild(int errFd, int stage) {
  int msg[2] = {stage, errno};
  ssize_t w = ::write(errFd, msg, sizeof msg);
  (void)w;
  ::_exit(127);
}

// Child side: reports (stage, errno) through errFd and exits on failure. Async-signal-safe.
[[noreturn]] void childExec(const Prepared& p, int errFd, int stdoutFd, int stderrFd, bool detached) {
  auto fail = [errFd](int stage) { failChild(errFd, stage); };
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int s = 1; s < NSIG; ++s) (void)::signal(s, SIG_DFL);
  for (int fd : p.cgroupFds)
    if (::write(fd, "0", 1) != 1) fail(1);
  if (p.spec->newMountNamespace) {
    if (::unshare(CLONE_NEWNS) != 0) fail(8);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(8);
    for (const auto& m : p.spec->detachMounts) ::umount2(m.c_str(), MNT_DETACH);
  }
  if (detached && ::setsid() < 0) fail(2);
  if (p.spec->as) {
    if (::setgroups(0, nullptr) != 0) fail(3);
    if (::setresgid(p.spec->as->gid, p.spec->as->gid, p.spec->as->gid) != 0) fail(3);
    if (::setresuid(p.spec->as->uid, p.spec->as->uid, p.spec->as->uid) != 0) fail(3);
  }
  if (::chdir(p.spec->cwd.c_str()) != 0) fail(4);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) fail(5);
  if (detached) {
    int out = devnull;
    if (!p.spec->logFile.empty()) {
      out = ::open(p.spec->logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (out < 0) fail(6);
    }
    stdoutFd = out;
    stderrFd = out;
  }
  if (::dup2(devnull, 0) < 0 || ::dup2(stdoutFd, 1) < 0 || ::dup2(stderrFd, 2) < 0) fail(5);
  ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  ::execve(p.path.c_str(), p.argv.data(), p.env.data());
  failChild(errFd, 7);
}

std::string stageName(int stage) {
  switch (stage) {
    case 1:
      return "joining the cgroup";
    case 2:
      return "setsid";
    case 3:
      return "dropping privileges";
    case 4:
      return "changing directory";
    case 5:
      return "redirecting stdio";
    case 6:
      return "opening the log file";
    case 7:
      return "exec";
    case 8:
      return "setting up the mount namespace";
  }
  return "starting";
}

// Reads the exec-status pipe to EOF: empty = exec succeeded.
Result<bool> readExecStatus(int fd, const std::string& prog) {
  int msg[2];
  ssize_t n;
  do n = ::read(fd, msg, sizeof msg);
  while (n < 0 && errno == EINTR);
  if (n == sizeof msg) return Error::fromErrno(prog + ": " + stageName(msg[0]) + " failed", msg[1]);
  return true;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset(int f = -1) {
    if (fd >= 0) ::close(fd);
    fd = f;
  }
};

bool makePipe(Fd& r, Fd& w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  r.reset(p[0]);
  w.reset(p[1]);
  return true;
}

class LinuxProcessRunner final : public ProcessRunner {
 public:
  Result<ProcessResult> run(const ProcessSpec& spec) override {
    auto prep = prepare(spec);
    if (!prep) return prep.error();
    Fd outR, outW, errR, errW, stR, stW;
    if (!makePipe(outR, outW) || !makePipe(errR, errW) || !makePipe(stR, stW))
      return Error::fromErrno("pipe");
    pid_t pid = ::fork();
    if (pid < 0) return Error::fromErrno("fork " + spec.argv[0]);
    if (pid == 0) childExec(**prep, stW.fd, outW.fd, errW.fd, false);
    outW.reset();
    errW.reset();
    stW.reset();
    auto st = readExecStatus(stR.fd, spec.argv[0]);
    ProcessResult res;
    ::fcntl(outR.fd, F_SETFL, O_NONBLOCK);
    ::fcntl(errR.fd, F_SETFL, O_NONBLOCK);
    auto deadline = std::chrono::steady_clock::now() + spec.timeout;
    int status = 0;
    bool exited = false, timedOut = false;
    auto drain = [&](Fd& fd, std::string& into) {
      char buf[4096];
      while (fd.fd >= 0) {
        ssize_t n = ::read(fd.fd, buf, sizeof buf);
        if (n > 0) {
          into.append(buf, static_cast<size_t>(n));
          continue;
        }
        if (n == 0) fd.reset();
        break;
      }
    };
    while (!exited) {
      pollfd fds[2] = {{outR.fd, POLLIN, 0}, {errR.fd, POLLIN, 0}};
      ::poll(fds, 2, 5);
      drain(outR, res.out);
      drain(errR, res.err);
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
      } else if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        exited = true;
        timedOut = true;
      }
    }
    drain(outR, res.out);
    drain(errR, res.err);
    if (!st) return st.error();
    if (timedOut)
      return Error(spec.argv[0] + ": timed out after " + std::to_string(spec.timeout.count()) + " ms",
                   ETIMEDOUT);
    if (WIFEXITED(status)) res.exitCode = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
    return res;
  }

  Result<pid_t> spawnDetached(const ProcessSpec& spec) override {
    auto prep = prepare(spec);
    if (!prep) return prep.error();
    Fd pidR, pidW, stR, stW;
    if (!makePipe(pidR, pidW) || !makePipe(stR, stW)) return Error::fromErrno("pipe");
    pid_t mid = ::fork();
    if (mid < 0) return Error::fromErrno("fork " + spec.argv[0]);
    if (mid == 0) {
      pid_t gc = ::fork();
      if (gc == 0) childExec(**prep, stW.fd, -1, -1, true);
      ssize_t w = ::write(pidW.fd, &gc, sizeof gc);
      (void)w;
      ::_exit(gc < 0 ? 1 : 0);
    }
    pidW.reset();
    stW.reset();
    int status = 0;
    ::waitpid(mid, &status, 0);
    pid_t gc = -1;
    if (::read(pidR.fd, &gc, sizeof gc) != sizeof gc || gc < 0)
      return Error("fork " + spec.argv[0] + " failed");
    auto st = readExecStatus(stR.fd, spec.argv[0]);
    if (!st) return st.error();
    return gc;
  }
};

}  // namespace

std::string ProcessResult::describe() const {
  std::string s = signal ? "killed by signal " + std::to_string(signal) : "exit " + std::to_string(exitCode);
  std::string e = err.empty() ? out : err;
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  if (e.size() > 400) e = e.substr(e.size() - 400);
  if (!e.empty()) s += ": " + e;
  return s;
}

std::unique_ptr<ProcessRunner> makeLinuxProcessRunner() { return std::make_unique<LinuxProcessRunner>(); }

core::Result<ProcessResult> runChecked(ProcessRunner& runner, const ProcessSpec& spec) {
  auto r = runner.run(spec);
  if (!r) return r.error();
  if (!r->success()) return Error(spec.argv[0] + " failed (" + r->describe() + ")");
  return r;
}

}  // namespace sashimono::host
