#include "sashimono/host/Cgroups.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <sstream>
#include <thread>

#include "FileUtil.h"
#include "sashimono/host/Disks.h"

namespace sashimono::host {
namespace {
const char* const kControllers[] = {"cpu", "memory", "pids"};

std::vector<std::string> words(std::string_view s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep || c == '\n') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}
}  // namespace

CgroupMounts parseCgroupMounts(std::string_view mountinfo) {
  CgroupMounts m;
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    auto pre = words(std::string_view(line).substr(0, dash), ' ');
    auto post = words(std::string_view(line).substr(dash + 3), ' ');
    if (pre.size() < 5 || post.size() < 3) continue;
    const std::string& mp = pre[4];
    if (post[0] == "cgroup2") {
      if (!m.v2) m.v2 = mp;
    } else if (post[0] == "cgroup") {
      for (auto& opt : words(post[2], ','))
        for (const char* c : kControllers)
          if (opt == c && !m.v1.count(c)) m.v1[c] = mp;
      // Not required, but where the CPU time a tenant used is counted when it is mounted apart.
      for (auto& opt : words(post[2], ','))
        if (opt == "cpuacct" && !m.v1.count("cpuacct")) m.v1["cpuacct"] = mp;
    }
  }
  return m;
}

core::Result<CgroupVersion> chooseCgroupVersion(const CgroupMounts& m, std::string_view v2Controllers) {
  bool v1 = true;
  for (const char* c : kControllers) v1 = v1 && m.v1.count(c);
  if (v1) return CgroupVersion::kV1;
  if (m.v2) {
    auto have = words(v2Controllers, ' ');
    std::string missing;
    for (const char* c : kControllers)
      if (std::find(have.begin(), have.end(), c) == have.end()) missing += std::string(" ") + c;
    if (missing.empty()) return CgroupVersion::kV2;
    return core::Error("cgroup v2 at " + *m.v2 + " lacks controllers:" + missing +
                       " (and no cgroup v1 hierarchy offers cpu, memory and pids)");
  }
  return core::Error("no usable cgroup hierarchy: need v1 cpu, memory and pids controllers or cgroup v2");
}

std::vector<CgroupWrite> limitWrites(CgroupVersion v, const CgroupLimits& l) {
  std::vector<CgroupWrite> w;
  if (v == CgroupVersion::kV1) {
    w.push_back({"cpu", "cpu.cfs_period_us", std::to_string(l.cpuPeriodUs)});
    w.push_back({"cpu", "cpu.cfs_quota_us", l.cpuQuotaUs ? std::to_string(l.cpuQuotaUs) : "-1"});
    w.push_back({"memory", "memory.limit_in_bytes", std::to_string(l.memoryBytes)});
    w.push_back({"memory", "memory.memsw.limit_in_bytes", std::to_string(l.memoryBytes + l.swapBytes), true});
    w.push_back({"pids", "pids.max", std::to_string(l.pids)});
  } else {
    w.push_back({"", "cpu.max",
                 (l.cpuQuotaUs ? std::to_string(l.cpuQuotaUs) : std::string("max")) + " " +
                     std::to_string(l.cpuPeriodUs)});
    w.push_back({"", "memory.max", std::to_string(l.memoryBytes)});
    w.push_back({"", "memory.swap.max", std::to_string(l.swapBytes), true});
    w.push_back({"", "pids.max", std::to_string(l.pids)});
  }
  return w;
}

std::string subtreeControlAdditions(std::string_view current) {
  auto have = words(current, ' ');
  std::string out;
  for (const char* c : kControllers) {
    if (std::find(have.begin(), have.end(), c) != have.end()) continue;
    if (!out.empty()) out += ' ';
    out += std::string("+") + c;
  }
  return out;
}

std::vector<pid_t> parseCgroupProcs(std::string_view text) {
  std::vector<pid_t> out;
  for (auto& w : words(text, '\n')) {
    pid_t p = 0;
    auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), p);
    if (ec == std::errc() && p > 0) out.push_back(p);
  }
  return out;
}

std::uint64_t parseOomKills(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string key;
  std::uint64_t value = 0;
  while (in >> key >> value)
    if (key == "oom_kill") return value;
  return 0;
}

std::optional<double> parseCpuSeconds(CgroupVersion v, std::string_view text) {
  if (v == CgroupVersion::kV1) {
    std::uint64_t ns = 0;
    auto t = words(text, '\n');
    if (t.empty()) return std::nullopt;
    auto [p, ec] = std::from_chars(t[0].data(), t[0].data() + t[0].size(), ns);
    if (ec != std::errc() || p != t[0].data() + t[0].size()) return std::nullopt;
    return static_cast<double>(ns) / 1e9;
  }
  std::istringstream in{std::string(text)};
  std::string key;
  std::uint64_t value = 0;
  while (in >> key >> value)
    if (key == "usage_usec") return static_cast<double>(value) / 1e6;
  return std::nullopt;
}

CgroupUsage readCgroupUsage(Cgroups& c, const std::string& name) {
  CgroupUsage u;
  const bool v1 = c.version() == CgroupVersion::kV1;
  if (auto t = v1 ? c.read(name, "cpuacct", "cpuacct.usage") : c.read(name, "", "cpu.stat"); t.ok())
    u.cpuSeconds = parseCpuSeconds(c.version(), *t);
  if (auto t = c.read(name, "memory", v1 ? "memory.usage_in_bytes" : "memory.current"); t.ok()) {
    std::uint64_t b = 0;
    auto w = words(*t, '\n');
    if (!w.empty()) {
      auto [p, ec] = std::from_chars(w[0].data(), w[0].data() + w[0].size(), b);
      if (ec == std::errc()) u.memoryBytes = b;
    }
  }
  return u;
}

namespace {

class LinuxCgroups final : public Cgroups {
 public:
  LinuxCgroups(CgroupVersion v, CgroupMounts m, std::string parent)
      : v_(v), m_(std::move(m)), parent_(std::move(parent)) {}

  [[nodiscard]] CgroupVersion version() const override { return v_; }

  core::Status create(const std::string& name, const CgroupLimits& limits) override {
    if (v_ == CgroupVersion::kV2) {
      SASHI_TRY(enableV2(*m_.v2));
      SASHI_TRY(mkdirIfMissing(*m_.v2 + "/" + parent_));
      SASHI_TRY(enableV2(*m_.v2 + "/" + parent_));
    }
    for (auto& d : dirs(name)) {
      SASHI_TRY(mkdirIfMissing(parentOf(d)));
      SASHI_TRY(mkdirIfMissing(d));
    }
    for (auto& w : limitWrites(v_, limits)) {
      std::string path = dirFor(w.controller, name) + "/" + w.file;
      if (w.optional && !detail::exists(path)) continue;
      auto s = detail::writeExisting(path, w.value);
      if (!s && !w.optional) return s.error().context("setting limits of cgroup " + name);
    }
    return {};
  }

  [[nodiscard]] std::vector<std::string> procsFiles(const std::string& name) const override {
    std::vector<std::string> out;
    for (auto& d : dirs(name)) out.push_back(d + "/cgroup.procs");
    return out;
  }

  core::Result<std::vector<pid_t>> pids(const std::string& name) override {
    std::vector<pid_t> all;
    for (auto& d : dirs(name)) {
      auto t = detail::readFile(d + "/cgroup.procs");
      if (!t) {
        if (t.error().errnum == ENOENT) continue;
        return t.error();
      }
      for (pid_t p : parseCgroupProcs(*t))
        if (std::find(all.begin(), all.end(), p) == all.end()) all.push_back(p);
    }
    return all;
  }

  core::Status killAll(const std::string& name) override {
    if (v_ == CgroupVersion::kV2) {
      std::string kill = dirs(name)[0] + "/cgroup.kill";
      if (detail::exists(kill)) (void)detail::writeExisting(kill, "1");
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      auto p = pids(name);
      if (!p) return p.error();
      if (p->empty()) return {};
      for (pid_t pid : *p) ::kill(pid, SIGKILL);
      if (std::chrono::steady_clock::now() > deadline)
        return core::Error("cgroup " + name + " still has " + std::to_string(p->size()) +
                           " processes after SIGKILL");
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

  core::Status remove(const std::string& name) override {
    if (!exists(name)) return {};
    SASHI_TRY(killAll(name));
    for (auto& d : dirs(name)) {
      for (int i = 0;; ++i) {
        if (::rmdir(d.c_str()) == 0 || errno == ENOENT) break;
        if (errno != EBUSY || i > 500) return core::Error::fromErrno("cannot remove cgroup " + d);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    return {};
  }

  core::Result<std::vector<std::string>> list() override {
    std::vector<std::string> out;
    for (auto& root : roots()) {
      DIR* d = ::opendir((root + "/" + parent_).c_str());
      if (!d) continue;
      while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (e->d_type != DT_DIR || n == "." || n == "..") continue;
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
      }
      ::closedir(d);
    }
    return out;
  }

  [[nodiscard]] bool exists(const std::string& name) const override {
    for (auto& d : dirs(name))
      if (detail::exists(d)) return true;
    return false;
  }

  core::Result<std::string> read(const std::string& name, const std::string& controller,
                                 const std::string& file) override {
    return detail::readFile(dirFor(controller, name) + "/" + file);
  }

 private:
  [[nodiscard]] std::vector<std::string> roots() const {
    if (v_ == CgroupVersion::kV2) return {*m_.v2};
    std::vector<std::string> r;
    for (const char* c : kControllers) r.push_back(m_.v1.at(c));
    if (auto it = m_.v1.find("cpuacct");
        it != m_.v1.end() && std::find(r.begin(), r.end(), it->second) == r.end())
      r.push_back(it->second);
    return r;
  }
  [[nodiscard]] std::vector<std::string> dirs(const std::string& name) const {
    std::vector<std::string> r;
    for (auto& root : roots()) r.push_back(root + "/" + parent_ + "/" + name);
    return r;
  }
  [[nodiscard]] std::string dirFor(const std::string& controller, const std::string& name) const {
    if (v_ == CgroupVersion::kV2) return *m_.v2 + "/" + parent_ + "/" + name;
    auto it = m_.v1.find(controller);
    return (it == m_.v1.end() ? std::string("/nonexistent") : it->second) + "/" + parent_ + "/" + name;
  }
  static std::string parentOf(const std::string& d) { return d.substr(0, d.rfind('/')); }
  static core::Status mkdirIfMissing(const std::string& d) {
    if (::mkdir(d.c_str(), 0755) != 0 && errno != EEXIST)
      return core::Error::fromErrno("cannot create cgroup " + d);
    return {};
  }
  static core::Status enableV2(const std::string& dir) {
    auto cur = detail::readFile(dir + "/cgroup.subtree_control");
    if (!cur) return cur.error();
    auto add = subtreeControlAdditions(*cur);
    if (add.empty()) return {};
    return detail::writeExisting(dir + "/cgroup.subtree_control", add);
  }

  CgroupVersion v_;
  CgroupMounts m_;
  std::string parent_;
};

}  // namespace

core::Result<std::unique_ptr<Cgroups>> makeLinuxCgroups(const std::string& parent) {
  auto mi = detail::readFile("/proc/self/mountinfo");
  if (!mi) return mi.error();
  auto mounts = parseCgroupMounts(*mi);
  std::string v2c;
  if (mounts.v2) v2c = detail::readFile(*mounts.v2 + "/cgroup.controllers").valueOr("");
  auto v = chooseCgroupVersion(mounts, v2c);
  if (!v) return v.error();
  return std::unique_ptr<Cgroups>(std::make_unique<LinuxCgroups>(*v, std::move(mounts), parent));
}

}  // namespace sashimono::host

namespace sashimono::host {
std::unique_ptr<Cgroups> makeCgroupsAt(CgroupVersion v, CgroupMounts mounts, const std::string& parent) {
  return std::make_unique<LinuxCgroups>(v, std::move(mounts), parent);
}
}  // namespace sashimono::host
