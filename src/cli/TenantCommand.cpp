// sashimono tenant create|destroy|list|inspect|reconcile — the host owner's view of tenants.
#include <unistd.h>

#include <charconv>
#include <climits>
#include <iostream>

#include "Command.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/Provisioner.h"

namespace sashimono::cli {
namespace {

using host::Provisioner;

const char* kUsage =
    "usage: sashimono tenant <create|destroy|list|inspect|reconcile> [options]\n"
    "  create NAME [--image NAME] [--memory MIB] [--swap MIB] [--cpu-quota US] [--cpu-period US]\n"
    "              [--pids N] [--disk MIB] [--env KEY=VALUE]... [-- ARG...]\n"
    "  destroy NAME | inspect NAME | list | reconcile\n"
    "common options: --base-dir DIR (/var/lib/sashimono/tenants) --images-dir DIR "
    "(/var/lib/sashimono/images)\n"
    "                --user-prefix P (sashi-) --cgroup-parent NAME (sashimono) --public-ip IP (0.0.0.0)\n"
    "Needs root.\n";

bool parseU64(const std::string& s, std::uint64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

void printInfo(const host::TenantInfo& i) {
  std::cout << "name:          " << i.name << "\n"
            << "state:         " << host::stateName(i.state) << (i.running ? " (running)" : " (not running)")
            << "\n"
            << "user:          " << i.user << " (uid " << i.uid << ")\n"
            << "subuid range:  " << i.subuid.start << "+" << i.subuid.count << "\n"
            << "contract uid:  1000 in the container = host uid " << i.contractHostUid << "\n"
            << "image:         " << i.spec.image << "\n"
            << "limits:        memory " << (i.spec.limits.memoryBytes >> 20) << " MiB, swap "
            << (i.spec.limits.swapBytes >> 20) << " MiB, cpu " << i.spec.limits.cpuQuotaUs << "/"
            << i.spec.limits.cpuPeriodUs << " us, pids " << i.spec.limits.pids << ", disk "
            << (i.spec.diskBytes >> 20) << " MiB\n"
            << "processes:     " << i.pids.size() << "\n"
            << "ports:        ";
  for (auto& p : i.ports)
    std::cout << " " << p.role << "=" << p.hostPort << "/" << host::protoName(p.proto) << "->"
              << p.containerPort;
  std::cout << "\n";
}

int runTenant(const std::vector<std::string>& argsIn) {
  const std::string cmd = "tenant";
  if (argsIn.empty() || argsIn[0] == "--help" || argsIn[0] == "-h") {
    std::cout << kUsage;
    return argsIn.empty() ? 2 : 0;
  }
  const std::string& verb = argsIn[0];
  host::ProvisionerConfig cfg;
  std::string cgroupParent = "sashimono";
  host::TenantSpec spec;
  std::vector<std::string> positional;
  for (size_t i = 1; i < argsIn.size(); ++i) {
    const std::string& a = argsIn[i];
    if (a == "--") {
      spec.args.assign(argsIn.begin() + static_cast<long>(i) + 1, argsIn.end());
      break;
    }
    if (a.rfind("--", 0) != 0) {
      positional.push_back(a);
      continue;
    }
    if (i + 1 >= argsIn.size()) return usageError(cmd, "option " + a + " needs a value");
    const std::string& v = argsIn[++i];
    std::uint64_t n = 0;
    auto number = [&](std::uint64_t& out, std::uint64_t scale) {
      if (!parseU64(v, n) || n > UINT64_MAX / scale) return false;
      out = n * scale;
      return true;
    };
    bool ok = true;
    if (a == "--base-dir")
      cfg.baseDir = v;
    else if (a == "--images-dir")
      cfg.imagesDir = v;
    else if (a == "--user-prefix")
      cfg.userPrefix = v;
    else if (a == "--cgroup-parent")
      cgroupParent = v;
    else if (a == "--public-ip")
      cfg.publicIp = v;
    else if (a == "--image")
      spec.image = v;
    else if (a == "--env")
      spec.env.push_back(v);
    else if (a == "--memory")
      ok = number(spec.limits.memoryBytes, 1ull << 20);
    else if (a == "--swap")
      ok = number(spec.limits.swapBytes, 1ull << 20);
    else if (a == "--cpu-quota")
      ok = number(spec.limits.cpuQuotaUs, 1);
    else if (a == "--cpu-period")
      ok = number(spec.limits.cpuPeriodUs, 1);
    else if (a == "--pids")
      ok = number(spec.limits.pids, 1);
    else if (a == "--disk")
      ok = number(spec.diskBytes, 1ull << 20);
    else
      return usageError(cmd, "unknown option " + a);
    if (!ok) return usageError(cmd, "option " + a + ": expected a non-negative integer, got '" + v + "'");
  }
  if (::geteuid() != 0) return failure(cmd, "must run as root (it creates users, cgroups and mounts)");
  for (char c : cgroupParent)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return usageError(cmd, "invalid --cgroup-parent '" + cgroupParent + "'");
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return failure(cmd, "cannot find the sashimono binary (/proc/self/exe)");
  self[n] = 0;
  auto os = host::makeLinuxHost(cgroupParent, {self, "statefs", "mount"});
  if (!os) return failure(cmd, os.error().message);
  Provisioner prov(cfg, os->ops());
  auto needName = [&]() -> bool { return positional.size() == 1; };

  if (verb == "create") {
    if (!needName()) return usageError(cmd, "create needs exactly one tenant NAME");
    spec.name = positional[0];
    auto r = prov.create(spec);
    if (!r) return failure(cmd, r.error().message);
    printInfo(*r);
    return 0;
  }
  if (verb == "destroy") {
    if (!needName()) return usageError(cmd, "destroy needs exactly one tenant NAME");
    auto r = prov.destroy(positional[0]);
    if (!r) return failure(cmd, r.error().message);
    std::cout << "destroyed " << positional[0] << "\n";
    return 0;
  }
  if (verb == "inspect") {
    if (!needName()) return usageError(cmd, "inspect needs exactly one tenant NAME");
    auto r = prov.inspect(positional[0]);
    if (!r) return failure(cmd, r.error().message);
    printInfo(*r);
    return 0;
  }
  if (verb == "list") {
    auto r = prov.list();
    if (!r) return failure(cmd, r.error().message);
    for (auto& name : *r) {
      auto i = prov.inspect(name);
      std::cout << name << "\t";
      if (i) {
        std::cout << host::stateName(i->state) << (i->running ? " running" : " stopped");
      } else {
        std::cout << "error: " << i.error().message;
      }
      std::cout << "\n";
    }
    return 0;
  }
  if (verb == "reconcile") {
    auto r = prov.reconcile();
    if (!r) return failure(cmd, r.error().message);
    for (auto& k : r->kept) std::cout << "kept     " << k << "\n";
    for (auto& k : r->resumed) std::cout << "resumed  " << k << "\n";
    for (auto& k : r->removed) std::cout << "removed  " << k << "\n";
    for (auto& k : r->failed) std::cout << "FAILED   " << k << "\n";
    return r->failed.empty() ? 0 : 1;
  }
  return usageError(cmd, "unknown verb '" + verb + "'\n" + kUsage);
}

const CommandRegistrar reg{
    {"tenant", "create, destroy, list, inspect and reconcile tenants (root)", &runTenant}};

}  // namespace
}  // namespace sashimono::cli
