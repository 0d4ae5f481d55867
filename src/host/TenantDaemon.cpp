#include "sashimono/host/TenantDaemon.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <thread>

#include "FileUtil.h"

namespace sashimono::host {

std::string renderContainerdConfig(const TenantLayout& l) {
  // Only what a tenant uses: the runc v2 shim with a native snapshotter-free rootfs
  // (the shared read-only root filesystem comes from the OCI spec). CRI and the snapshotters
  // that need kernel features a rootless daemon lacks are disabled.
  return "version = 2\n"
         "root = \"" +
         l.containerdRoot +
         "\"\n"
         "state = \"" +
         l.containerdState +
         "\"\n"
         "disabled_plugins = [\"io.containerd.grpc.v1.cri\", \"io.containerd.snapshotter.v1.aufs\",\n"
         "  \"io.containerd.snapshotter.v1.btrfs\", \"io.containerd.snapshotter.v1.devmapper\",\n"
         "  \"io.containerd.snapshotter.v1.zfs\", \"io.containerd.tracing.processor.v1.otlp\",\n"
         "  \"io.containerd.internal.v1.tracing\", \"io.containerd.internal.v1.opt\"]\n"
         "[grpc]\n"
         "  address = \"" +
         l.containerdSocket + "\"\n";
}

std::vector<std::string> rootlesskitArgv(const TenantLayout& l) {
  return {"rootlesskit",
          "--net=slirp4netns",
          "--disable-host-loopback",
          "--port-driver=builtin",
          "--slirp4netns-sandbox=auto",
          "--slirp4netns-seccomp=auto",
          "--copy-up=/etc",
          "--copy-up=/run",
          "--state-dir=" + l.rootlesskitDir,
          "containerd",
          "-c",
          l.containerdConfig};
}

std::vector<std::string> tenantEnv(const TenantLayout& l) {
  return {"HOME=" + l.home, "USER=" + l.user, "LOGNAME=" + l.user, "XDG_RUNTIME_DIR=" + l.runDir,
          std::string("PATH=") + kSafePath};
}

namespace {

core::Result<pid_t> readPid(const std::string& file) {
  auto t = detail::readFile(file);
  if (!t) return t.error();
  pid_t p = 0;
  auto [ptr, ec] = std::from_chars(t->data(), t->data() + t->size(), p);
  if (ec != std::errc() || p <= 0) return core::Error("no pid in " + file);
  return p;
}

std::string tail(const std::string& file) {
  auto t = detail::readFile(file);
  if (!t) return "";
  std::string s = t->size() > 600 ? t->substr(t->size() - 600) : *t;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

class RootlessKitDaemon final : public TenantDaemon {
 public:
  RootlessKitDaemon(ProcessRunner& r, std::chrono::milliseconds t) : runner_(r), timeout_(t) {}

  core::Result<pid_t> start(const TenantLayout& l, const Credentials& as,
                            const std::vector<std::string>& cgroupProcs,
                            const std::vector<std::string>& hideMounts) override {
    for (const auto* d : {&l.runDir, &l.logDir}) {
      if (::mkdir(d->c_str(), 0700) == 0) {
        if (::chown(d->c_str(), as.uid, as.gid) != 0) return core::Error::fromErrno("chown " + *d);
      } else if (errno != EEXIST) {
        return core::Error::fromErrno("cannot create " + *d);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(l.rootlesskitDir, ec);  // stale state of a previous run
    std::filesystem::remove(l.containerdSocket, ec);
    SASHI_TRY(detail::writeFileAtomic(l.containerdConfig, renderContainerdConfig(l), 0644));
    ProcessSpec p;
    p.argv = rootlesskitArgv(l);
    p.env = tenantEnv(l);
    p.as = as;
    p.cgroupProcs = cgroupProcs;
    p.cwd = l.home;
    p.logFile = l.logDir + "/rootlesskit.log";
    p.newMountNamespace = true;
    p.detachMounts = hideMounts;
    auto pid = runner_.spawnDetached(p);
    if (!pid) return pid.error().context("starting rootlesskit for " + l.name);
    auto deadline = std::chrono::steady_clock::now() + timeout_;
    for (;;) {
      if (detail::exists(l.containerdSocket) && detail::exists(l.apiSocket) && readPid(l.childPidFile).ok())
        return *pid;
      if (::kill(*pid, 0) != 0 && errno == ESRCH)
        return core::Error("rootlesskit for " + l.name + " exited during start-up: " + tail(p.logFile));
      if (std::chrono::steady_clock::now() > deadline)
        return core::Error("rootlesskit/containerd for " + l.name + " not ready after " +
                           std::to_string(timeout_.count()) + " ms: " + tail(p.logFile));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  core::Result<pid_t> childPid(const TenantLayout& l) override {
    auto p = readPid(l.childPidFile);
    if (!p) return p.error();
    // Alive (not a zombie) and run by the user who wrote the pid file (not a recycled pid).
    struct stat st;
    auto status = detail::readFile("/proc/" + std::to_string(*p) + "/status");
    if (::stat(l.childPidFile.c_str(), &st) != 0 || !status ||
        status->find("State:\tZ") != std::string::npos ||
        status->find("\nUid:\t" + std::to_string(st.st_uid) + "\t") == std::string::npos)
      return core::Error("rootlesskit child of " + l.name + " is not running");
    return p;
  }

 private:
  ProcessRunner& runner_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<TenantDaemon> makeRootlessKitDaemon(ProcessRunner& runner,
                                                    std::chrono::milliseconds readyTimeout) {
  return std::make_unique<RootlessKitDaemon>(runner, readyTimeout);
}

}  // namespace sashimono::host
