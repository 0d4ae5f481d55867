// bench_runtime_bench, part 3: idle `sashimono runtime` instances beside as many `sleep`
// processes alive at the same time: CPU (utime+stime and schedstat), context switches, RSS, PSS.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "RuntimeBench.h"
#include "sashimono/runtime/Config.h"

namespace sashimono::runtime_bench {
namespace {

ProcSample sampleProc(pid_t pid) {
  ProcSample s;
  const std::string base = "/proc/" + std::to_string(pid);
  std::string stat = slurp(base + "/stat");
  auto rp = stat.rfind(')');
  if (rp != std::string::npos) {
    std::istringstream in(stat.substr(rp + 2));
    std::vector<std::string> f;
    std::string x;
    while (in >> x) f.push_back(x);
    // fields after ")": state(3) … utime(14) stime(15) → indexes 11 and 12 here
    if (f.size() > 12) s.cpuTicks = std::stod(f[11]) + std::stod(f[12]);
  }
  std::error_code ec;
  for (const auto& t : fs::directory_iterator(base + "/task", ec)) {
    std::istringstream in(slurp(t.path().string() + "/schedstat"));
    double run = 0;
    in >> run;
    s.runNs += run;
    std::istringstream st(slurp(t.path().string() + "/status"));
    std::string line;
    while (std::getline(st, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 || line.rfind("nonvoluntary_ctxt_switches:", 0) == 0)
        s.ctxSwitches += std::stod(line.substr(line.find(':') + 1));
    }
    s.threads += 1;
  }
  std::istringstream in(slurp(base + "/smaps_rollup"));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string key;
    double kib = 0;
    ls >> key >> kib;
    if (key == "Rss:") s.rssKiB = kib;
    if (key == "Pss:") s.pssKiB = kib;
  }
  return s;
}

ProcSample sumProcs(const std::vector<pid_t>& roots) {
  ProcSample s;
  std::vector<pid_t> pids;
  for (pid_t r : roots)
    for (pid_t p : treeOf(r)) pids.push_back(p);
  for (pid_t p : pids) {
    auto x = sampleProc(p);
    s.cpuTicks += x.cpuTicks;
    s.runNs += x.runNs;
    s.ctxSwitches += x.ctxSwitches;
    s.rssKiB += x.rssKiB;
    s.pssKiB += x.pssKiB;
    s.threads += x.threads;
  }
  return s;
}

bool listening(const std::string& logFile) { return slurp(logFile).find("user port") != std::string::npos; }

}  // namespace

Idle measureIdle(int n, double settleS, double windowS) {
  Idle I;
  I.n = n;
  const std::string root = makeTempDir("idle");
  std::vector<pid_t> ours, base;
  std::vector<std::string> logs;
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    const std::string d = root + "/i" + std::to_string(i);
    fs::create_directories(d + "/data");
    fs::create_directories(d + "/fs");
    auto key = InstanceKey::generate();
    writeInstanceKey(d, key);
    InstanceConfig c;
    c.contractId = "idle-" + std::to_string(i);
    c.keyFile = d + "/instance.key";
    c.user.listen = "127.0.0.1";
    c.user.port = 0;
    c.user.tls = "off";
    std::ofstream(d + "/instance.json") << renderInstanceConfig(c);
    logs.push_back(d + "/out.log");
    ours.push_back(spawnRuntime(d, logs.back()));
  }
  const auto end = Clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < n; ++i) {
    while (!listening(logs[static_cast<std::size_t>(i)])) {
      int st = 0;
      if (::waitpid(ours[static_cast<std::size_t>(i)], &st, WNOHANG) > 0) {
        forgetChild(ours[static_cast<std::size_t>(i)]);
        die("idle instance " + std::to_string(i) + " exited: " + slurp(logs[static_cast<std::size_t>(i)]));
      }
      if (Clock::now() > end)
        die("idle instance " + std::to_string(i) + " did not open its port within 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  I.startupS = std::chrono::duration<double>(Clock::now() - t0).count();
  for (int i = 0; i < n; ++i) base.push_back(spawnChild({"/bin/sleep", "100000"}, "/dev/null"));
  std::printf(
      "  %d runtimes listening after %.1f s (all started at once); %d sleep processes; settling %.0f s\n", n,
      I.startupS, n, settleS);
  std::fflush(stdout);
  I.procsPerInstance = static_cast<double>(treeOf(ours[0]).size());
  std::this_thread::sleep_for(std::chrono::duration<double>(settleS));
  I.load0 = loadAvg();
  I.ours0 = sumProcs(ours);
  I.base0 = sumProcs(base);
  const auto w0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(windowS));
  I.ours1 = sumProcs(ours);
  I.base1 = sumProcs(base);
  I.seconds = std::chrono::duration<double>(Clock::now() - w0).count();
  I.load1 = loadAvg();
  for (int i = 0; i < n; ++i) {
    int st = 0;
    const pid_t p = ours[static_cast<std::size_t>(i)];
    if (const pid_t r = ::waitpid(p, &st, WNOHANG); r != 0) {
      if (r == p) forgetChild(p);
      die("idle instance " + std::to_string(i) + " died during the measurement (waitpid " +
          std::to_string(r) + ", status " + std::to_string(st) +
          "): " + slurp(logs[static_cast<std::size_t>(i)]));
    }
  }
  // Stop: SIGTERM to the runtimes (their normal stop), SIGKILL to whatever is left after 10 s.
  for (pid_t p : ours) ::kill(p, SIGTERM);
  for (pid_t p : base) ::kill(p, SIGKILL);
  const auto stopEnd = Clock::now() + std::chrono::seconds(10);
  std::vector<pid_t> all = ours;
  all.insert(all.end(), base.begin(), base.end());
  for (pid_t p : all) {
    int st = 0;
    while (::waitpid(p, &st, WNOHANG) == 0) {
      if (Clock::now() > stopEnd) {
        ::kill(p, SIGKILL);
        ::waitpid(p, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    forgetChild(p);
  }
  return I;
}

}  // namespace sashimono::runtime_bench
