// Tenant benchmark (root): create -> serving on its port (p50/p95), destroy, and the PSS of each
// tenant's own daemons (rootlesskit, its child, slirp4netns, containerd, shims) with N tenants
// alive and serving — ours beside the floor (tests/bench/tenant_floor.sh, the same steps as a
// plain shell script) measured in the same run, printed as ratios.
//   bench_tenant_bench [TENANTS=20]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "BenchUtil.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/Provisioner.h"

using namespace sashimono::host;
using Clock = std::chrono::steady_clock;

namespace {

using sashimono::bench::ms;
using sashimono::bench::pct;
using sashimono::bench::slurp;

bool serves(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const char req[] = "GET / HTTP/1.0\r\n\r\n";
    if (::write(fd, req, sizeof req - 1) > 0) {
      char buf[512];
      ssize_t n = ::read(fd, buf, sizeof buf);
      ok = n > 12 && std::string(buf, static_cast<size_t>(n)).find(" 200 ") != std::string::npos;
    }
  }
  ::close(fd);
  return ok;
}

bool waitServing(std::uint16_t port) {
  auto end = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < end) {
    if (serves(port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// PSS (KiB) of the tenant's own daemons, and of everything in its cgroup, from smaps_rollup.
struct Pss {
  double daemonsKiB = 0;
  double allKiB = 0;
  std::map<std::string, double> byComm;
};

Pss pssOf(const std::vector<pid_t>& pids) {
  Pss out;
  for (pid_t p : pids) {
    std::string comm = slurp("/proc/" + std::to_string(p) + "/comm");
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    std::istringstream in(slurp("/proc/" + std::to_string(p) + "/smaps_rollup"));
    std::string key;
    double kib = 0;
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream ls(line);
      ls >> key >> kib;
      if (key == "Pss:") break;
      kib = 0;
    }
    out.allKiB += kib;
    if (comm == "rootlesskit" || comm == "exe" || comm == "slirp4netns" || comm == "containerd" ||
        comm.rfind("containerd-shim", 0) == 0) {
      out.daemonsKiB += kib;
      out.byComm[comm == "exe" ? "rootlesskit(child)" : comm] += kib;
    }
  }
  return out;
}

std::vector<pid_t> procsOf(const std::string& procsFile) {
  std::vector<pid_t> out;
  std::istringstream in(slurp(procsFile));
  pid_t p;
  while (in >> p) out.push_back(p);
  return out;
}

struct Result {
  std::vector<double> create, destroy;
  Pss pss;  // summed over all tenants
  int n = 0;
};

int runProgram(std::vector<std::string> argv, std::vector<std::string> env) {
  auto runner = makeLinuxProcessRunner();
  ProcessSpec p;
  p.argv = std::move(argv);
  p.env = std::move(env);
  p.env.push_back(std::string("PATH=") + kSafePath);
  p.timeout = std::chrono::seconds(60);
  auto r = runner->run(p);
  if (!r) {
    std::fprintf(stderr, "%s\n", r.error().message.c_str());
    return -1;
  }
  if (!r->success()) std::fprintf(stderr, "%s: %s\n", p.argv[1].c_str(), r->describe().c_str());
  return r->exitCode;
}

}  // namespace

int main(int argc, char** argv) {
  if (::geteuid() != 0) {
    std::fprintf(stderr, "tenant_bench: needs root\n");
    return 2;
  }
  int n = argc > 1 ? std::atoi(argv[1]) : 20;
  if (std::getenv("SASHIMONO_LOG")) spdlog::set_level(spdlog::level::from_str(std::getenv("SASHIMONO_LOG")));
  std::string tag = std::to_string(::getpid());
  std::string images = "/tmp/smbench-img-" + tag;
  if (runProgram({"bash", std::string(SASHIMONO_SOURCE_DIR) + "/tools/build-image.sh", "--out", images},
                 {}) != 0)
    return 1;

  // --- ours ---
  auto os = makeLinuxHost("smbench-" + tag, {SASHIMONO_BINARY, "statefs", "mount"});
  if (!os) {
    std::fprintf(stderr, "%s\n", os.error().message.c_str());
    return 1;
  }
  ProvisionerConfig cfg;
  cfg.baseDir = "/tmp/smbench-" + tag;
  cfg.imagesDir = images;
  cfg.userPrefix = "smb-";
  cfg.publicIp = "127.0.0.1";
  cfg.ports.user = {43000, 43099};
  cfg.ports.peer = {43100, 43199};
  cfg.ports.generalTcp = {43200, 43299};
  cfg.ports.generalUdp = {43300, 43399};
  Provisioner prov(cfg, os->ops());
  std::string floorBase = "/tmp/smfloor-" + tag;
  std::string floorCg = "smfloor-" + tag;
  std::filesystem::create_directories(floorBase);
  ::chmod(floorBase.c_str(), 0711);
  std::vector<std::string> env = {"FLOOR_BASE=" + floorBase, "FLOOR_CGROUP=" + floorCg,
                                  "FLOOR_ROOTFS=" + images + "/instance/rootfs",
                                  std::string("SASHIMONO=") + SASHIMONO_BINARY};
  std::string script = std::string(SASHIMONO_SOURCE_DIR) + "/tests/bench/tenant_floor.sh";

  // Ours and the floor alternate, tenant by tenant, so both see the same machine load (other
  // work on a shared machine changes over seconds). Both sets stay alive for the memory figures.
  Result ours, floor;
  std::vector<std::string> names, fnames;
  for (int i = 0; i < n; ++i) {
    TenantSpec s;
    s.name = "b" + std::to_string(i);
    auto t0 = Clock::now();
    auto info = prov.create(s);
    if (!info) {
      std::fprintf(stderr, "create %s: %s\n", s.name.c_str(), info.error().message.c_str());
      break;
    }
    if (!waitServing(info->ports[0].hostPort)) std::fprintf(stderr, "%s never served\n", s.name.c_str());
    ours.create.push_back(ms(Clock::now() - t0));
    names.push_back(s.name);

    std::string fname = "f" + std::to_string(i);
    std::uint16_t port = static_cast<std::uint16_t>(44000 + i);
    t0 = Clock::now();
    if (runProgram({"bash", script, "create", fname, std::to_string(port)}, env) != 0) break;
    if (!waitServing(port)) std::fprintf(stderr, "floor %s never served\n", fname.c_str());
    floor.create.push_back(ms(Clock::now() - t0));
    fnames.push_back(fname);
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  for (auto& name : names) {
    if (!serves(prov.inspect(name)->ports[0].hostPort))
      std::fprintf(stderr, "%s stopped serving\n", name.c_str());
    auto p = pssOf(*os->cgroups->pids(name));
    ours.pss.daemonsKiB += p.daemonsKiB;
    ours.pss.allKiB += p.allKiB;
    for (auto& [k, v] : p.byComm) ours.pss.byComm[k] += v;
  }
  for (size_t i = 0; i < fnames.size(); ++i) {
    if (!serves(static_cast<std::uint16_t>(44000 + i)))
      std::fprintf(stderr, "%s stopped serving\n", fnames[i].c_str());
    auto p = pssOf(procsOf("/sys/fs/cgroup/pids/" + floorCg + "/" + fnames[i] + "/cgroup.procs"));
    floor.pss.daemonsKiB += p.daemonsKiB;
    floor.pss.allKiB += p.allKiB;
    for (auto& [k, v] : p.byComm) floor.pss.byComm[k] += v;
  }
  ours.n = static_cast<int>(names.size());
  floor.n = static_cast<int>(fnames.size());
  for (size_t i = 0; i < std::max(names.size(), fnames.size()); ++i) {
    if (i < names.size()) {
      auto t0 = Clock::now();
      auto st = prov.destroy(names[i]);
      if (!st) std::fprintf(stderr, "destroy %s: %s\n", names[i].c_str(), st.error().message.c_str());
      ours.destroy.push_back(ms(Clock::now() - t0));
    }
    if (i < fnames.size()) {
      auto t0 = Clock::now();
      runProgram({"bash", script, "destroy", fnames[i]}, env);
      floor.destroy.push_back(ms(Clock::now() - t0));
    }
  }
  for (const char* c : {"cpu", "memory", "pids"}) {
    ::rmdir(("/sys/fs/cgroup/" + std::string(c) + "/" + floorCg).c_str());
    ::rmdir(("/sys/fs/cgroup/" + std::string(c) + "/smbench-" + tag).c_str());
  }
  std::error_code ec;
  std::filesystem::remove_all(floorBase, ec);
  std::filesystem::remove_all(cfg.baseDir, ec);
  std::filesystem::remove_all(images, ec);

  auto perTenantMiB = [](const Result& r, double kib) { return r.n ? kib / 1024.0 / r.n : 0; };
  std::printf(
      "tenants: ours %d, floor %d (created alternately, one at a time; all %d alive for the memory "
      "figures)\n",
      ours.n, floor.n, ours.n + floor.n);
  std::printf("%-28s %10s %10s %8s\n", "", "ours", "floor", "ratio");
  auto row = [](const char* what, double a, double b) {
    std::printf("%-28s %10.1f %10.1f %8.2f\n", what, a, b, b > 0 ? a / b : 0);
  };
  row("create->serving p50 (ms)", pct(ours.create, 0.5), pct(floor.create, 0.5));
  row("create->serving p95 (ms)", pct(ours.create, 0.95), pct(floor.create, 0.95));
  row("destroy p50 (ms)", pct(ours.destroy, 0.5), pct(floor.destroy, 0.5));
  row("destroy p95 (ms)", pct(ours.destroy, 0.95), pct(floor.destroy, 0.95));
  row("daemon PSS/tenant (MiB)", perTenantMiB(ours, ours.pss.daemonsKiB),
      perTenantMiB(floor, floor.pss.daemonsKiB));
  row("all-process PSS/tenant (MiB)", perTenantMiB(ours, ours.pss.allKiB),
      perTenantMiB(floor, floor.pss.allKiB));
  for (auto& [k, v] : ours.pss.byComm)
    row(("  " + k).c_str(), perTenantMiB(ours, v), perTenantMiB(floor, floor.pss.byComm[k]));
  return 0;
}
