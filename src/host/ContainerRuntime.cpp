#include "sashimono/host/ContainerRuntime.h"

#include <atomic>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "FileUtil.h"
#include "sashimono/host/TenantDaemon.h"

namespace sashimono::host {

std::string renderOciSpec(const ContainerSpec& s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&](const char* k, const std::string& v) {
    w.Key(k);
    w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
  };
  auto strs = [&](const char* k, const std::vector<std::string>& v) {
    w.Key(k);
    w.StartArray();
    for (auto& x : v) w.String(x.c_str(), static_cast<rapidjson::SizeType>(x.size()));
    w.EndArray();
  };
  auto mount = [&](const std::string& dst, const std::string& type, const std::string& src,
                   const std::vector<std::string>& opts) {
    w.StartObject();
    str("destination", dst);
    str("type", type);
    str("source", src);
    strs("options", opts);
    w.EndObject();
  };
  w.StartObject();
  str("ociVersion", "1.0.2-dev");
  w.Key("process");
  w.StartObject();
  w.Key("terminal");
  w.Bool(false);
  const bool runtime = s.profile == ImageProfile::kRuntime;
  // The runtime runs as container root (= the tenant user on the host); a plain workload as the
  // unprivileged contract uid.
  const unsigned id = runtime ? 0 : kContractUid;
  w.Key("user");
  w.StartObject();
  w.Key("uid");
  w.Uint(id);
  w.Key("gid");
  w.Uint(id);
  w.EndObject();
  strs("args", s.args);
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "STATE_DIR=/state"};
  env.insert(env.end(), s.env.begin(), s.env.end());
  strs("env", env);
  str("cwd", "/");
  // instance: none at all (an ordinary unprivileged process). runtime: exactly what it needs to
  // start and confine the contract (ImageProfile.h), never inheritable or ambient, so nothing
  // it executes inherits them.
  w.Key("capabilities");
  w.StartObject();
  for (const char* k : {"bounding", "effective", "inheritable", "permitted", "ambient"}) {
    const bool held = runtime && std::string_view(k) != "inheritable" && std::string_view(k) != "ambient";
    w.Key(k);
    w.StartArray();
    if (held)
      for (const char* cap : kRuntimeCapabilities) w.String(cap);
    w.EndArray();
  }
  w.EndObject();
  w.Key("rlimits");
  w.StartArray();
  w.StartObject();
  str("type", "RLIMIT_NOFILE");
  w.Key("hard");
  w.Uint(4096);
  w.Key("soft");
  w.Uint(4096);
  w.EndObject();
  w.EndArray();
  w.Key("noNewPrivileges");
  w.Bool(true);
  w.EndObject();
  w.Key("root");
  w.StartObject();
  str("path", s.rootfs);
  w.Key("readonly");
  w.Bool(true);
  w.EndObject();
  str("hostname", "instance");
  w.Key("mounts");
  w.StartArray();
  mount("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"});
  mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"});
  mount("/dev/pts", "devpts", "devpts", {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"});
  mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=8192k"});
  mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"});
  mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"});
  mount("/tmp", "tmpfs", "tmpfs",
        {"nosuid", "nodev", "mode=1777", "size=" + std::to_string(s.tmpBytes / 1024) + "k"});
  mount("/state", "bind", s.stateMount, {"rbind", "rw", "nosuid", "nodev"});
  if (!s.infoDir.empty())
    mount("/run/sashimono", "bind", s.infoDir, {"bind", "ro", "nosuid", "nodev", "noexec"});
  // The runtime's private directory (ledger, TLS key, logs) on the tenant's disk; the home is
  // mounted nosuid,nodev,noatime, flags a bind in a user namespace must keep.
  if (runtime && !s.dataDir.empty())
    mount("/data", "bind", s.dataDir, {"bind", "rw", "nosuid", "nodev", "noexec", "noatime"});
  // The statefs control socket's directory (the tenant's, 0700: the contract cannot enter it).
  // Read-only is enough: connecting to a socket is not a write to its filesystem.
  if (runtime && !s.controlDir.empty())
    mount(kContainerControlDir, "bind", s.controlDir, {"bind", "ro", "nosuid", "nodev", "noexec", "noatime"});
  // The read-only views of the committed state (read requests). Not noexec: the contract's
  // program is part of its state. Not noatime: a bind in a user namespace must keep the atime
  // flags of the mount it binds (the FUSE views mount's, relatime), or runc's remount is EPERM.
  if (runtime && !s.viewsDir.empty())
    mount(kContainerViewsDir, "bind", s.viewsDir, {"bind", "ro", "nosuid", "nodev"});
  w.EndArray();
  w.Key("linux");
  w.StartObject();
  // No cgroupsPath: rootless runc cannot create cgroups under v1; the tenant cgroup the daemon
  // runs in already caps everything. No network namespace: the container shares rootlesskit's
  // (slirp4netns) so forwarded ports reach it. No user namespace of its own: rootlesskit's maps
  // container uids onto the tenant's subordinate range.
  w.Key("namespaces");
  w.StartArray();
  for (const char* ns : {"pid", "ipc", "uts", "mount"}) {
    w.StartObject();
    str("type", ns);
    w.EndObject();
  }
  w.EndArray();
  strs("maskedPaths",
       {"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"});
  strs("readonlyPaths", {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"});
  w.EndObject();
  w.EndObject();
  return buf.GetString();
}

namespace {

std::vector<std::string> ctrPrefix(const TenantLayout& l, pid_t childPid) {
  return {"nsenter", "-U",        "--preserve-credentials", "-m", "-n", "-t", std::to_string(childPid), "--",
          "ctr",     "--address", l.containerdSocket};
}

class CtrRuntime final : public ContainerRuntime {
 public:
  explicit CtrRuntime(ProcessRunner& r) : runner_(r) {}

  core::Status run(const TenantLayout& l, const Credentials& as, const std::vector<std::string>& cgroupProcs,
                   pid_t childPid, const ContainerSpec& s) override {
    SASHI_TRY(detail::writeFileAtomic(l.ociSpec, renderOciSpec(s), 0644));
    ProcessSpec p;
    p.argv = ctrPrefix(l, childPid);
    for (const char* a : {"run", "-d", "--log-uri"}) p.argv.emplace_back(a);
    p.argv.push_back("file://" + l.logDir + "/instance.log");
    p.argv.push_back("--config");
    p.argv.push_back(l.ociSpec);
    p.argv.push_back(kContainerId);
    p.env = tenantEnv(l);
    p.as = as;
    p.cgroupProcs = cgroupProcs;
    p.cwd = l.home;
    auto r = runChecked(runner_, p);
    if (!r && r.error().message.find("already exists") != std::string::npos) {
      // A container record left by an earlier run (restart after a crash): replace it.
      ProcessSpec del = p;
      del.argv = ctrPrefix(l, childPid);
      for (const char* a : {"containers", "delete", kContainerId}) del.argv.emplace_back(a);
      (void)runner_.run(del);
      r = runChecked(runner_, p);
    }
    if (!r) return r.error().context("starting the container of " + l.name);
    return {};
  }

  core::Result<ExecResult> exec(const TenantLayout& l, const Credentials& as,
                                const std::vector<std::string>& cgroupProcs, pid_t childPid,
                                const std::vector<std::string>& argv,
                                std::chrono::milliseconds timeout) override {
    static std::atomic<unsigned> counter{0};
    ProcessSpec p;
    p.argv = ctrPrefix(l, childPid);
    for (const char* a : {"task", "exec", "--exec-id"}) p.argv.emplace_back(a);
    std::string execId = "x";
    execId += std::to_string(::getpid());
    execId += '-';
    execId += std::to_string(counter++);
    p.argv.push_back(execId);
    p.argv.push_back(kContainerId);
    p.argv.insert(p.argv.end(), argv.begin(), argv.end());
    p.env = tenantEnv(l);
    p.as = as;
    p.cgroupProcs = cgroupProcs;
    p.cwd = l.home;
    p.timeout = timeout;
    auto r = runner_.run(p);
    if (!r) return r.error();
    return ExecResult{r->signal ? 128 + r->signal : r->exitCode, r->out, r->err};
  }

 private:
  ProcessRunner& runner_;
};

}  // namespace

std::unique_ptr<ContainerRuntime> makeCtrRuntime(ProcessRunner& runner) {
  return std::make_unique<CtrRuntime>(runner);
}

}  // namespace sashimono::host
