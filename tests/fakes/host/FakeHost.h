#pragma once
// In-memory fakes of the host interfaces for Provisioner unit tests. Each fake records what it
// was asked to do in a shared, ordered log ("users.create smt-a") and can be told to fail at a
// given operation, so tests check ordering, rollback and reconcile without root. Files (records,
// images, what the fake disks hold) live in the world's MemFileSystem: nothing touches the disk.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sashimono/host/MemFileSystem.h"
#include "sashimono/host/Provisioner.h"

namespace sashimono::host::fakes {

struct World {
  MemFileSystem fs;
  std::vector<std::string> log;
  std::string failAt;  // an operation name ("daemon.start"); it fails when reached
  std::map<std::string, UserInfo> users;
  std::set<std::string> cgroups;
  std::set<std::string> disks;                               // image paths
  std::set<std::string> mounts;                              // mount points
  std::set<std::string> running;                             // tenant homes with a live daemon
  std::set<std::string> containers;                          // tenant homes with a container
  std::map<std::string, std::vector<PortForward>> forwards;  // api socket -> forwards
  struct Attrs {
    mode_t mode;
    uid_t uid;
    gid_t gid;
  };
  std::map<std::string, Attrs> attrs;  // owner and mode set by ensureDir / writeFile, by path
  uid_t nextUid = 2000;
  std::uint64_t nextSub = 200000;

  core::Status op(const std::string& what, const std::string& arg) {
    log.push_back(what + " " + arg);
    if (!failAt.empty() && failAt == what) return core::Error("injected failure at " + what);
    return {};
  }
  // Everything that would be a leak on a real host.
  [[nodiscard]] bool empty() const {
    return users.empty() && cgroups.empty() && disks.empty() && mounts.empty() && running.empty() &&
           forwards.empty();
  }
};

class FakeRunner : public ProcessRunner {
 public:
  explicit FakeRunner(World& w) : w_(w) {}
  core::Result<ProcessResult> run(const ProcessSpec& s) override {
    SASHI_TRY(w_.op("run", s.argv.empty() ? "" : s.argv[0]));
    return ProcessResult{0, 0, "", ""};
  }
  core::Result<pid_t> spawnDetached(const ProcessSpec& s) override {
    SASHI_TRY(w_.op("spawn", s.argv.empty() ? "" : s.argv[0]));
    return pid_t{4242};
  }

 private:
  World& w_;
};

class FakeUsers : public UserManager {
 public:
  explicit FakeUsers(World& w) : w_(w) {}
  core::Result<UserInfo> create(const std::string& name, const std::string& home) override {
    SASHI_TRY(w_.op("users.create", name));
    if (w_.users.count(name)) return core::Error("exists");
    UserInfo u{
        name, w_.nextUid, w_.nextUid, home, "/usr/sbin/nologin", {w_.nextSub, 65536}, {w_.nextSub, 65536}};
    ++w_.nextUid;
    w_.nextSub += 65536;
    w_.users[name] = u;
    return u;
  }
  core::Status createAlias(const std::string& name, uid_t uid, gid_t gid) override {
    SASHI_TRY(w_.op("users.alias", name));
    w_.users[name] = UserInfo{name, uid, gid, "/nonexistent", "/usr/sbin/nologin", {}, {}};
    return {};
  }
  core::Result<std::optional<UserInfo>> lookup(const std::string& name) override {
    auto it = w_.users.find(name);
    if (it == w_.users.end()) return std::optional<UserInfo>();
    return std::optional<UserInfo>(it->second);
  }
  core::Status remove(const std::string& name) override {
    if (!w_.users.count(name)) return {};
    SASHI_TRY(w_.op("users.remove", name));
    w_.users.erase(name);
    return {};
  }
  core::Status killProcesses(const UserInfo& u) override { return w_.op("users.kill", u.name); }
  core::Result<std::vector<std::string>> list(const std::string& prefix) override {
    std::vector<std::string> out;
    for (auto& [n, u] : w_.users)
      if (n.rfind(prefix, 0) == 0) out.push_back(n);
    return out;
  }

 private:
  World& w_;
};

class FakeCgroups : public Cgroups {
 public:
  explicit FakeCgroups(World& w) : w_(w) {}
  [[nodiscard]] CgroupVersion version() const override { return CgroupVersion::kV2; }
  core::Status create(const std::string& name, const CgroupLimits&) override {
    SASHI_TRY(w_.op("cgroups.create", name));
    w_.cgroups.insert(name);
    return {};
  }
  [[nodiscard]] std::vector<std::string> procsFiles(const std::string& name) const override {
    return {"/fake/" + name + "/cgroup.procs"};
  }
  core::Result<std::vector<pid_t>> pids(const std::string&) override { return std::vector<pid_t>{}; }
  core::Status killAll(const std::string& name) override {
    if (!w_.cgroups.count(name)) return {};
    SASHI_TRY(w_.op("cgroups.kill", name));
    // Killing the tenant's processes stops its daemon and container.
    for (auto it = w_.running.begin(); it != w_.running.end();)
      it = it->find("/" + name) != std::string::npos ? w_.running.erase(it) : std::next(it);
    for (auto it = w_.forwards.begin(); it != w_.forwards.end();)
      it = it->first.find("/" + name + "/") != std::string::npos ? w_.forwards.erase(it) : std::next(it);
    return {};
  }
  core::Status remove(const std::string& name) override {
    if (!w_.cgroups.count(name)) return {};
    SASHI_TRY(killAll(name));
    SASHI_TRY(w_.op("cgroups.remove", name));
    w_.cgroups.erase(name);
    return {};
  }
  core::Result<std::vector<std::string>> list() override {
    return std::vector<std::string>(w_.cgroups.begin(), w_.cgroups.end());
  }
  [[nodiscard]] bool exists(const std::string& name) const override { return w_.cgroups.count(name) > 0; }
  core::Result<std::string> read(const std::string&, const std::string&, const std::string&) override {
    return std::string();
  }

 private:
  World& w_;
};

class FakeDisks : public Disks {
 public:
  explicit FakeDisks(World& w) : w_(w) {}
  core::Status create(const std::string& image, const std::string& mp, std::uint64_t, uid_t, gid_t) override {
    SASHI_TRY(w_.op("disks.create", image));
    w_.disks.insert(image);
    SASHI_TRY(w_.fs.writeFileAtomic(image, "", 0600, false));  // reconcile checks that the image exists
    w_.mounts.insert(mp);
    (void)w_.fs.makeDir(mp, 0700);  // the provisioner creates directories in the home
    return {};
  }
  core::Status ensureDir(const std::string& dir, mode_t mode, uid_t uid, gid_t gid) override {
    (void)w_.fs.makeDir(dir, mode);
    w_.attrs[dir] = {mode, uid, gid};
    return {};
  }
  core::Status writeFile(const std::string& path, const std::string& content, mode_t mode, uid_t uid,
                         gid_t gid) override {
    SASHI_TRY(w_.op("disks.writeFile", path));
    SASHI_TRY(w_.fs.writeFileAtomic(path, content, mode, false));
    w_.attrs[path] = {mode, uid, gid};
    return {};
  }
  core::Status removeTree(const std::string& dir) override {
    w_.fs.removeTree(dir);
    return {};
  }
  core::Status attach(const std::string& image, const std::string& mp) override {
    SASHI_TRY(w_.op("disks.attach", image));
    w_.mounts.insert(mp);
    return {};
  }
  core::Status remove(const std::string& image, const std::string& mp) override {
    SASHI_TRY(w_.op("disks.remove", image));
    w_.disks.erase(image);
    (void)w_.fs.removeFile(image);
    for (auto it = w_.mounts.begin(); it != w_.mounts.end();)
      it = it->rfind(mp, 0) == 0 ? w_.mounts.erase(it) : std::next(it);
    w_.fs.removeTree(mp);
    return {};
  }
  core::Result<std::vector<std::string>> mountsUnder(const std::string& dir) override {
    std::vector<std::string> out;
    for (auto& m : w_.mounts)
      if (m.rfind(dir, 0) == 0) out.push_back(m);
    return out;
  }
  core::Result<std::vector<std::string>> loopDevicesUnder(const std::string&) override {
    return std::vector<std::string>{};
  }
  std::vector<std::pair<std::string, Reown>> reowned;
  std::uint64_t reownCount = 0;  // what reown() reports
  core::Result<std::uint64_t> reown(const std::string& dir, const Reown& what) override {
    SASHI_TRY(w_.op("disks.reown", dir));
    reowned.emplace_back(dir, what);
    return reownCount;
  }

 private:
  World& w_;
};

class FakeStateFs : public StateFs {
 public:
  explicit FakeStateFs(World& w) : w_(w) {}
  std::vector<StateFsMount> calls;
  core::Status mount(const StateFsMount& m) override {
    SASHI_TRY(w_.op("statefs.mount", m.mountPoint));
    calls.push_back(m);
    w_.mounts.insert(m.mountPoint);
    return {};
  }
  core::Status unmount(const std::string& mp) override {
    if (!w_.mounts.count(mp)) return {};
    SASHI_TRY(w_.op("statefs.unmount", mp));
    w_.mounts.erase(mp);
    return {};
  }

 private:
  World& w_;
};

class FakeDaemon : public TenantDaemon {
 public:
  explicit FakeDaemon(World& w) : w_(w) {}
  std::vector<std::vector<std::string>> hidden;
  core::Result<pid_t> start(const TenantLayout& l, const Credentials&, const std::vector<std::string>&,
                            const std::vector<std::string>& hide) override {
    SASHI_TRY(w_.op("daemon.start", l.name));
    hidden.push_back(hide);
    w_.running.insert(l.home);
    return pid_t{5000};
  }
  core::Result<pid_t> childPid(const TenantLayout& l) override {
    if (!w_.running.count(l.home)) return core::Error("not running");
    return pid_t{5001};
  }

 private:
  World& w_;
};

class FakeContainers : public ContainerRuntime {
 public:
  explicit FakeContainers(World& w) : w_(w) {}
  std::vector<ContainerSpec> specs;
  core::Status run(const TenantLayout& l, const Credentials&, const std::vector<std::string>&, pid_t,
                   const ContainerSpec& s) override {
    SASHI_TRY(w_.op("containers.run", l.name));
    specs.push_back(s);
    w_.containers.insert(l.home);
    return {};
  }
  core::Result<ExecResult> exec(const TenantLayout& l, const Credentials&, const std::vector<std::string>&,
                                pid_t, const std::vector<std::string>& argv,
                                std::chrono::milliseconds) override {
    SASHI_TRY(w_.op("containers.exec", l.name));
    return ExecResult{0, "", ""};
  }

 private:
  World& w_;
};

class FakeForwarder : public PortForwarder {
 public:
  explicit FakeForwarder(World& w) : w_(w) {}
  core::Status add(const std::string& api, const std::vector<PortForward>& f, const std::string&) override {
    SASHI_TRY(w_.op("ports.add", api));
    w_.forwards[api] = f;
    return {};
  }
  core::Result<std::string> listRaw(const std::string&) override { return std::string("[]"); }

 private:
  World& w_;
};

struct FakeHost {
  World world;
  FakeRunner runner{world};
  FakeUsers users{world};
  FakeCgroups cgroups{world};
  FakeDisks disks{world};
  FakeStateFs stateFs{world};
  FakeDaemon daemon{world};
  FakeContainers containers{world};
  FakeForwarder forwarder{world};
  HostOps ops() {
    return {&runner, &users, &cgroups, &disks, &stateFs, &daemon, &containers, &forwarder, &world.fs};
  }
};

}  // namespace sashimono::host::fakes
