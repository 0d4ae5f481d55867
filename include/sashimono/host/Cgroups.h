#pragma once
// Per-tenant cgroups, created by root before any tenant process starts. cgroup v1 (one
// directory per controller: cpu, memory, pids, and cpuacct when it is mounted apart from cpu) and v2 (one
// directory; controllers delegated by enabling them in the parents' cgroup.subtree_control). The file writes
// for a set of limits are computed by pure functions, tested without root.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::host {

struct CgroupLimits {
  std::uint64_t cpuQuotaUs = 100000;  // per period; 0 = unlimited
  std::uint64_t cpuPeriodUs = 100000;
  std::uint64_t memoryBytes = 256ull << 20;
  std::uint64_t swapBytes = 0;  // swap on top of memory
  std::uint64_t pids = 1024;
};

enum class CgroupVersion { kV1, kV2 };

// Where the hierarchies are mounted, from /proc/self/mountinfo.
struct CgroupMounts {
  std::map<std::string, std::string> v1;  // controller -> mount point
  std::optional<std::string> v2;          // cgroup2 mount point
};
CgroupMounts parseCgroupMounts(std::string_view mountinfo);

// v1 when the memory, cpu and pids controllers are mounted as v1; v2 when a cgroup2 mount
// offers them (its cgroup.controllers content); otherwise an error that says what is missing.
core::Result<CgroupVersion> chooseCgroupVersion(const CgroupMounts& mounts, std::string_view v2Controllers);

struct CgroupWrite {
  std::string controller;  // v1: the controller directory; v2: ""
  std::string file;
  std::string value;
  bool optional = false;  // absent file is fine (e.g. memsw without swap accounting)
};
// The writes that apply limits, in order (v1 sets memsw after memory).
std::vector<CgroupWrite> limitWrites(CgroupVersion v, const CgroupLimits& l);
// "+cpu +memory +pids" entries still missing from a subtree_control content.
std::string subtreeControlAdditions(std::string_view subtreeControl);
// Pids of a cgroup.procs content.
std::vector<pid_t> parseCgroupProcs(std::string_view text);
// v1 memory.oom_control / v2 memory.events: the oom_kill count (0 when absent).
std::uint64_t parseOomKills(std::string_view text);

// What a tenant's cgroup used: CPU time (v1: cpuacct.usage in ns, when the cpuacct controller
// is mounted; v2: cpu.stat usage_usec) and memory now (v1 memory.usage_in_bytes, v2
// memory.current). Absent when the file is missing or unreadable.
struct CgroupUsage {
  std::optional<double> cpuSeconds;
  std::optional<std::uint64_t> memoryBytes;
};
std::optional<double> parseCpuSeconds(CgroupVersion v, std::string_view text);

class Cgroups {
 public:
  virtual ~Cgroups() = default;
  [[nodiscard]] virtual CgroupVersion version() const = 0;
  // Creates the tenant's cgroup(s) under the parent and applies the limits.
  virtual core::Status create(const std::string& name, const CgroupLimits& limits) = 0;
  // cgroup.procs files a child writes "0" into to join the tenant cgroup.
  [[nodiscard]] virtual std::vector<std::string> procsFiles(const std::string& name) const = 0;
  virtual core::Result<std::vector<pid_t>> pids(const std::string& name) = 0;
  // SIGKILLs every process until the cgroup is empty (or the deadline passes).
  virtual core::Status killAll(const std::string& name) = 0;
  // Removes the cgroup(s); ok when absent. Kills first.
  virtual core::Status remove(const std::string& name) = 0;
  virtual core::Result<std::vector<std::string>> list() = 0;
  [[nodiscard]] virtual bool exists(const std::string& name) const = 0;
  // A controller file's content, e.g. ("memory", "memory.max_usage_in_bytes") on v1.
  virtual core::Result<std::string> read(const std::string& name, const std::string& controller,
                                         const std::string& file) = 0;
};

CgroupUsage readCgroupUsage(Cgroups& cgroups, const std::string& name);

// root: "/sys/fs/cgroup" (mountinfo decides where each hierarchy is); parent: a directory
// name under each hierarchy root, created when missing (e.g. "sashimono").
core::Result<std::unique_ptr<Cgroups>> makeLinuxCgroups(const std::string& parent);
// The same implementation over given hierarchy roots (tests run it on a directory tree that
// imitates cgroupfs contents).
std::unique_ptr<Cgroups> makeCgroupsAt(CgroupVersion v, CgroupMounts mounts, const std::string& parent);

}  // namespace sashimono::host
