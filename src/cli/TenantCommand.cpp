// sashimono tenant create|destroy|list|inspect|reconcile — the host owner's view of tenants.
#include <unistd.h>

#include <climits>
#include <functional>
#include <iostream>
#include <limits>

#include "Command.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/Provisioner.h"

namespace sashimono::cli {
namespace {

using host::Provisioner;

constexpr const char* kNotes =
    "common options: --base-dir DIR (/var/lib/sashimono/tenants) --images-dir DIR "
    "(/var/lib/sashimono/images)\n"
    "                --user-prefix P (sashi-) --cgroup-parent NAME (sashimono) --public-ip IP (0.0.0.0)\n"
    "Needs root.\n";

struct TenantArgs {
  host::ProvisionerConfig cfg;
  std::string cgroupParent = "sashimono";
  host::TenantSpec spec;  // create
};

std::vector<OptionSpec> optionTable(TenantArgs& t) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  constexpr const char* kCount = "a non-negative integer";
  auto mib = [kCount](std::uint64_t& bytes) {
    return onNumber(0, kMax >> 20, kCount, [&bytes](std::uint64_t n) { bytes = n << 20; });
  };
  auto& limits = t.spec.limits;
  return {
      {"--base-dir", true, setString(t.cfg.baseDir)},
      {"--images-dir", true, setString(t.cfg.imagesDir)},
      {"--user-prefix", true, setString(t.cfg.userPrefix)},
      {"--cgroup-parent", true, setString(t.cgroupParent)},
      {"--public-ip", true, setString(t.cfg.publicIp)},
      {"--image", true, setString(t.spec.image)},
      {"--env", true, appendString(t.spec.env)},
      {"--memory", true, mib(limits.memoryBytes)},
      {"--swap", true, mib(limits.swapBytes)},
      {"--cpu-quota", true, setNumber(limits.cpuQuotaUs, 0, kMax, kCount)},
      {"--cpu-period", true, setNumber(limits.cpuPeriodUs, 0, kMax, kCount)},
      {"--pids", true, setNumber(limits.pids, 0, kMax, kCount)},
      {"--disk", true, mib(t.spec.diskBytes)},
  };
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

// Runs `f` with a provisioner over the real host (root only).
int withProvisioner(const TenantArgs& t, const std::function<int(Provisioner&)>& f) {
  const std::string cmd = "tenant";
  if (::geteuid() != 0) return failure(cmd, "must run as root (it creates users, cgroups and mounts)");
  for (char c : t.cgroupParent)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
      return usageError(cmd, "invalid --cgroup-parent '" + t.cgroupParent + "'");
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return failure(cmd, "cannot find the sashimono binary (/proc/self/exe)");
  self[n] = 0;
  auto os = host::makeLinuxHost(t.cgroupParent, {self, "statefs", "mount"});
  if (!os) return failure(cmd, os.error().message);
  Provisioner prov(t.cfg, os->ops());
  return f(prov);
}

// Prints `r`'s tenant (or fails): create and inspect.
int printResult(const core::Result<host::TenantInfo>& r) {
  if (!r) return failure("tenant", r.error().message);
  printInfo(*r);
  return 0;
}

int list(Provisioner& prov) {
  auto r = prov.list();
  if (!r) return failure("tenant", r.error().message);
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

int reconcile(Provisioner& prov) {
  auto r = prov.reconcile();
  if (!r) return failure("tenant", r.error().message);
  for (auto& k : r->kept) std::cout << "kept     " << k << "\n";
  for (auto& k : r->resumed) std::cout << "resumed  " << k << "\n";
  for (auto& k : r->removed) std::cout << "removed  " << k << "\n";
  for (auto& k : r->failed) std::cout << "FAILED   " << k << "\n";
  return r->failed.empty() ? 0 : 1;
}

int runTenant(const std::vector<std::string>& args) {
  TenantArgs t;
  using Args = std::vector<std::string>;
  auto with = [&t](std::function<int(Provisioner&, const Args&)> f) {
    return [&t, f = std::move(f)](const Args& pos) {
      return withProvisioner(t, [&](Provisioner& prov) { return f(prov, pos); });
    };
  };
  const CommandSpec spec{
      .name = "tenant",
      .verbs =
          {
              {.name = "create",
               .args = exactlyOne("NAME"),
               .synopsis =
                   "NAME [--image NAME] [--memory MIB] [--swap MIB] [--cpu-quota US] [--cpu-period US]\n"
                   "                              [--pids N] [--disk MIB] [--env KEY=VALUE]... [-- ARG...]",
               .help = "creates a tenant (user, cgroup, disk, rootless containerd) and starts its container",
               .run = with([&t](Provisioner& prov, const Args& pos) {
                 t.spec.name = pos[0];
                 return printResult(prov.create(t.spec));
               })},
              {.name = "destroy",
               .args = exactlyOne("NAME"),
               .synopsis = "NAME",
               .help = "stops a tenant and removes all it had",
               .run = with([](Provisioner& prov, const Args& pos) {
                 auto r = prov.destroy(pos[0]);
                 if (!r) return failure("tenant", r.error().message);
                 std::cout << "destroyed " << pos[0] << "\n";
                 return 0;
               })},
              {.name = "inspect",
               .args = exactlyOne("NAME"),
               .synopsis = "NAME",
               .help = "a tenant's state, user, limits, processes and ports",
               .run = with(
                   [](Provisioner& prov, const Args& pos) { return printResult(prov.inspect(pos[0])); })},
              {.name = "list",
               .help = "the tenants and their states",
               .run = with([](Provisioner& prov, const Args&) { return list(prov); })},
              {.name = "reconcile",
               .help = "resumes or removes what an interrupted create or destroy left",
               .run = with([](Provisioner& prov, const Args&) { return reconcile(prov); })},
          },
      .options = optionTable(t),
      .notes = kNotes,
      .afterDashDash = &t.spec.args,
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar reg{
    {"tenant", "create, destroy, list, inspect and reconcile tenants (root)", &runTenant}};

}  // namespace
}  // namespace sashimono::cli
