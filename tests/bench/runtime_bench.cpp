// Instance runtime benchmark: what a user of one dApp instance waits for and what idle instances
// cost, each beside a floor measured in the same run, printed as ratios (docs/PERFORMANCE.md).
//
//   1. latency: input → output over the user protocol (UserClient, plain ws on loopback, one user,
//      sequential inputs) for the C++ echo sample and the JavaScript echo (js-counter, "echo hi"),
//      each on an in-process runtime::Instance. Beside it, alternating sample by sample: the
//      floor (the same binary spawned with posix_spawn, same argv/cwd/env, a minimal Hot Pocket
//      stdin with no users, waited for) and the executor alone (runtime::execute with one user
//      and one input, as a round runs it).
//   2. throughput: 64 users sending inputs to the C++ echo at once, (a) with UserClient, each
//      user on its own thread (send, then await: one input in flight per user), and (b)
//      pipelined: each user keeps --window inputs in flight on its connection, all users driven
//      by --client-threads shared I/O threads (default 1). Beside each, the rate of `stat` round
//      trips over the same 64 connections with the same number in flight.
//   3. idle: 50 `sashimono runtime` instances (no contract deployed, plain ws, port 0; each a
//      supervisor process and its worker, both counted) beside 50 `sleep` processes, alive at the
//      same time: CPU over a window (utime+stime from /proc/PID/stat, and the threads' schedstat
//      run time), context switches, RSS and PSS (smaps_rollup).
//   4. cluster: the cost of agreement. Each configuration runs as `sashimono runtime` child
//      processes (not in-process Instances: the members' CPU stays apart from the clients'), plain
//      ws user ports and TLS peer ports on 127.0.0.1, the C++ echo deployed by the owner through
//      the first member (a bundle input, relayed to and installed by every member): solo (one
//      process, no peer port), then clusters of --cluster-sizes members (3,5: each handed the
//      membership as the host node writes cluster.json, so the UNL is all of them and
//      ClusterConsensus runs), then --delay-members (3) members with every peer link through a
//      relay of this process that holds each chunk --delay-ms (50) per direction (no netem here).
//      On each: one user on the first member, --warmup + --samples sequential inputs, input →
//      output with the proof checked against the whole UNL (≥ 80 % of it signed: the threshold);
//      then --cluster-users (16) pipelined users × --window on the first member for
//      --cluster-seconds (5), proofs checked the same way. Printed beside solo as ratios.
//
//   bench_runtime_bench [--part all|latency|throughput|idle|cluster] [--samples 300] [--warmup 30]
//                       [--users 64] [--window 8] [--seconds 10] [--instances 50] [--idle-seconds 10]
//                       [--settle-seconds 5] [--echo-bundle DIR] [--no-js] [--runtime-process]
//                       [--client-threads 1] [--cluster-sizes 3,5] [--cluster-users 16]
//                       [--cluster-seconds 5] [--delay-ms 50] [--delay-members 3]
//   --runtime-process: part 2 talks to a separate `sashimono runtime` process (the bundle deployed
//   by its owner over the user protocol), so that the runtime's CPU is measured apart from the
//   clients'. --delay-ms 0: no delayed cluster.
//   SASHIMONO_LOG=info|debug shows the runtime's own log (warnings otherwise).
//
// Goals (the runtime issue): C++ echo p50 ≤ 20 ms and ≤ floor + 10 ms; ≥ 5,000 inputs/s with 64
// users; 50 idle instances together < 2 % of one core. (The cluster issue): without delay, a
// cluster's p50 ≤ 3 × solo p50; with 50 ms between hosts, p50 ≤ 4 × 50 ms + solo p50. Missed
// goals are printed, not failed: the exit status is non-zero only on errors. Temporary
// directories are removed and every child process is killed at exit, also on SIGINT/SIGTERM
// (children also get PR_SET_PDEATHSIG).
//
// The parts: runtime_bench/ (RuntimeBench.h: what they share; Latency.cpp, Throughput.cpp,
// Idle.cpp, Cluster.cpp with DelayRelay); this file reads the options, runs the parts and prints
// the table.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "runtime_bench/RuntimeBench.h"

using namespace sashimono::runtime_bench;

namespace {

// What an option sets: a string, an int or a double from the next argument, or (a flag without
// a value) a bool to the given value.
using Setter = std::variant<std::string*, int*, double*, std::pair<bool*, bool>>;

void parseOptions(int argc, char** argv, std::initializer_list<std::pair<std::string_view, Setter>> table) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    auto it = std::find_if(table.begin(), table.end(), [&](const auto& e) { return e.first == a; });
    if (it == table.end()) die("unknown option " + a);
    const Setter& s = it->second;
    if (auto* p = std::get_if<std::string*>(&s))
      **p = next();
    else if (auto* p = std::get_if<int*>(&s))
      **p = std::stoi(next());
    else if (auto* p = std::get_if<double*>(&s))
      **p = std::stod(next());
    else if (auto* p = std::get_if<std::pair<bool*, bool>>(&s))
      *p->first = p->second;
  }
}

const char* verdict(bool ok) { return ok ? "met" : "MISSED"; }

// Part 4's rows: each cluster beside the lone instance (and the delayed one beside its delay).
template <typename Row>
void printClusters(const std::vector<ClusterRun>& runs, const ClusterOptions& co, Row row) {
  const ClusterRun& solo = runs.front();
  const double s50 = pct(solo.latency, 0.5), s95 = pct(solo.latency, 0.95);
  auto detail = [&co](const ClusterRun& r) {
    const Rate& t = r.rate;
    const double n = t.n ? static_cast<double>(t.n) : 1.0;
    std::printf(
        "  %s: T = %zu of %d; first member's round p50 %.2f ms (execution %.2f, agree+store %.2f), "
        "input -> its round p50 - round p50 = %.2f ms; %zu samples, load %s -> %s\n",
        r.name.c_str(), r.threshold, r.members, pct(r.round, 0.5), pct(r.run, 0.5), pct(r.agreed, 0.5),
        pct(r.latency, 0.5) - pct(r.round, 0.5), r.latency.size(), r.load0.c_str(), r.load1.c_str());
    std::printf(
        "    sequential: CPU per input %.2f ms (runtimes and contracts, all members), machine busy %.0f %%",
        r.cpuMsPerInput, r.busyPct);
    if (r.members > 1)
      std::printf("; the first member leads: p50 %.2f ms (%zu), another: p50 %.2f ms (%zu)",
                  pct(r.entryLeads, 0.5), r.entryLeads.size(), pct(r.otherLeads, 0.5), r.otherLeads.size());
    std::printf("\n");
    std::printf(
        "    %d x %d pipelined: %llu in %.1f s, %llu ledgers (%.1f per ledger), round p50 %.1f ms; CPU per "
        "input: runtimes %.0f us + contracts %.0f us, clients and relays %.0f us; machine busy %.0f %%\n",
        co.users, co.window, static_cast<unsigned long long>(t.n), t.seconds,
        static_cast<unsigned long long>(t.ledgers), t.ledgers ? n / static_cast<double>(t.ledgers) : 0.0,
        pct(t.rounds, 0.5), t.cpuServer / n * 1e6, t.cpuServerChildren / n * 1e6, t.cpuSelf / n * 1e6,
        t.machineBusyPct);
  };
  std::printf(
      "solo (a lone `sashimono runtime` process): input -> verified output p50 %.2f ms, p95 %.2f ms; %.0f "
      "inputs/s\n",
      s50, s95, solo.rate.rate);
  detail(solo);
  for (std::size_t i = 1; i < runs.size(); ++i) {
    const ClusterRun& r = runs[i];
    const double p50 = pct(r.latency, 0.5);
    std::string goal;
    if (r.delayMs > 0) {
      // The delay as measured through the relay in this run (above or below the nominal one).
      const double delay = r.oneWayMs;
      const double limit = 4 * delay + s50;
      char g[96];
      std::snprintf(g, sizeof g, "<= 4 x %.3f + solo = %.1f ms: %s", delay, limit, verdict(p50 <= limit));
      goal = g;
    } else {
      goal = std::string("<= 3 x solo: ") + verdict(p50 <= 3 * s50);
    }
    row(r.name + ": p50 (ms) vs solo", p50, s50, goal);
    row(r.name + ": p95 (ms) vs solo", pct(r.latency, 0.95), s95, "");
    if (r.delayMs > 0) row(r.name + ": p50 (ms) vs the one-way delay (measured)", p50, r.oneWayMs, "");
    row(r.name + ": inputs/s vs solo", r.rate.rate, solo.rate.rate, "");
    detail(r);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string part = "all";
  int samples = 300, warmup = 30, users = 64, window = 8, instances = 50;
  double seconds = 10, idleSeconds = 10, settleSeconds = 5;
  bool js = true, runtimeProcess = false;
  std::string echoBundle = defaultEchoBundle();
  ClusterOptions co;
  std::string clusterSizes = "3,5";
  parseOptions(argc, argv,
               {{"--part", &part},
                {"--samples", &samples},
                {"--warmup", &warmup},
                {"--users", &users},
                {"--window", &window},
                {"--seconds", &seconds},
                {"--instances", &instances},
                {"--idle-seconds", &idleSeconds},
                {"--settle-seconds", &settleSeconds},
                {"--echo-bundle", &echoBundle},
                {"--client-threads", &gClientThreads},
                {"--cluster-sizes", &clusterSizes},
                {"--cluster-users", &co.users},
                {"--cluster-seconds", &co.seconds},
                {"--delay-ms", &co.delayMs},
                {"--delay-members", &co.delayedMembers},
                {"--statefs", std::pair{&co.statefs, true}},
                {"--runtime-process", std::pair{&runtimeProcess, true}},
                {"--no-js", std::pair{&js, false}}});
  const bool all = part == "all";
  if (!all && part != "latency" && part != "throughput" && part != "idle" && part != "cluster")
    die("--part all|latency|throughput|idle|cluster");
  co.warmup = warmup;
  co.samples = samples;
  co.window = window;
  co.sizes.clear();
  for (std::size_t at = 0; at < clusterSizes.size();) {
    auto comma = clusterSizes.find(',', at);
    if (comma == std::string::npos) comma = clusterSizes.size();
    if (comma > at) co.sizes.push_back(std::stoi(clusterSizes.substr(at, comma - at)));
    at = comma + 1;
  }
  startSignalThread();
  std::atexit(cleanupAll);
  setUpLogging();
  if (!fs::exists(echoBundle + "/contract.json"))
    die("no echo bundle at " + echoBundle + " (ninja sample_echo, or --echo-bundle DIR)");

  std::printf("runtime_bench: %u cores, load %s, pid %d\n", std::thread::hardware_concurrency(),
              loadAvg().c_str(), ::getpid());
  std::fflush(stdout);

  std::optional<Latency> cpp, jsl;
  std::vector<double> appendMs;
  std::optional<Throughput> tput;
  std::optional<Idle> idle;
  std::vector<ClusterRun> clusters;
  if (all || part == "latency") {
    std::printf("part 1: input -> output latency\n");
    cpp = measureLatency("C++ echo", "cpp", echoBundle, "hello", "Echo: hello", warmup, samples);
    if (js) {
      if (auto d = makeJsBundle())
        jsl = measureLatency("JS echo", "jsecho", *d, "echo hi", "Echo: hi", warmup, samples);
      else
        std::printf(
            "  JS echo skipped: needs /usr/bin/node and "
            "tests/interop/node_modules/hotpocket-nodejs-contract\n");
    }
    appendMs = measureLedgerAppend(std::max(100, samples / 3));
  }
  if (all || part == "throughput") {
    std::printf("part 2: inputs per second, %d users\n", users);
    auto target = runtimeProcess ? runtimeProcessTarget(echoBundle) : inProcessTarget(echoBundle);
    std::printf("  target: %s\n", runtimeProcess
                                      ? "a separate `sashimono runtime` process (deployed by its owner)"
                                      : "in-process Instance");
    tput = measureThroughput(*target, users, window, seconds);
    target->stop();
  }
  if (all || part == "idle") {
    std::printf("part 3: %d idle instances\n", instances);
    idle = measureIdle(instances, settleSeconds, idleSeconds);
  }
  if (all || part == "cluster") {
    std::printf(
        "part 4: clusters, `sashimono runtime` processes on 127.0.0.1, the user on the first member\n");
    clusters = measureClusters(echoBundle, co);
  }

  std::printf("\n%-44s %10s %10s %7s %10s  %s\n", "", "ours", "baseline", "ratio", "ours-base", "goal");
  auto row = [](const std::string& what, double a, double b, const std::string& goal) {
    std::printf("%-44s %10.2f %10.2f %7.2f %10.2f  %s\n", what.c_str(), a, b, b > 0 ? a / b : 0.0, a - b,
                goal.c_str());
  };
  for (auto* L : {cpp ? &*cpp : nullptr, jsl ? &*jsl : nullptr}) {
    if (L == nullptr) continue;
    const bool isCpp = L == &*cpp;
    const double p50 = pct(L->ours, 0.5), f50 = pct(L->floor, 0.5);
    std::string goal;
    if (isCpp)
      goal = std::string("<= 20 ms: ") + verdict(p50 <= 20) + "; <= floor+10: " + verdict(p50 - f50 <= 10);
    row(L->name + " latency p50 (ms) vs spawn floor", p50, f50, goal);
    row(L->name + " latency p95 (ms) vs spawn floor", pct(L->ours, 0.95), pct(L->floor, 0.95), "");
    row("  executor alone p50 (ms) vs spawn floor", pct(L->exec, 0.5), f50, "");
    row("  executor alone p95 (ms) vs spawn floor", pct(L->exec, 0.95), pct(L->floor, 0.95), "");
    row("  round (engine) p50 (ms) vs executor alone", pct(L->rounds, 0.5), pct(L->exec, 0.5), "");
    std::printf("  %zu samples, min ours %.2f / floor %.2f ms, load %s -> %s\n", L->ours.size(),
                pct(L->ours, 0), pct(L->floor, 0), L->load0.c_str(), L->load1.c_str());
  }
  if (!appendMs.empty())
    std::printf("  ledger append alone (1 input, 1 output, synchronous=FULL): p50 %.2f ms, p95 %.2f ms\n",
                pct(appendMs, 0.5), pct(appendMs, 0.95));
  if (tput) {
    auto detail = [](const Rate& r) {
      const double n = r.n ? static_cast<double>(r.n) : 1.0;
      std::printf(
          "  %llu in %.1f s, %llu ledgers (%.1f per ledger), round p50 %.1f ms p95 %.1f ms; machine busy "
          "%.0f %%\n",
          static_cast<unsigned long long>(r.n), r.seconds, static_cast<unsigned long long>(r.ledgers),
          r.ledgers ? static_cast<double>(r.n) / static_cast<double>(r.ledgers) : 0.0, pct(r.rounds, 0.5),
          pct(r.rounds, 0.95), r.machineBusyPct);
      if (r.cpuServer > 0)
        std::printf("  CPU per input: runtime %.0f us + contracts %.0f us; clients (this process) %.0f us\n",
                    r.cpuServer / n * 1e6, r.cpuServerChildren / n * 1e6, r.cpuSelf / n * 1e6);
      else
        std::printf("  CPU per input: runtime and clients (this process) %.0f us + contracts %.0f us\n",
                    r.cpuSelf / n * 1e6, r.cpuChildren / n * 1e6);
    };
    const std::string u = std::to_string(tput->users);
    row(u + " users x 1: inputs/s vs stat round trips/s", tput->oneInputs.rate, tput->oneStats.rate,
        std::string(">= 5000/s: ") + verdict(tput->oneInputs.rate >= 5000));
    detail(tput->oneInputs);
    row(u + " users x " + std::to_string(tput->window) + " pipelined: inputs/s vs stats/s",
        tput->pipeInputs.rate, tput->pipeStats.rate,
        std::string(">= 5000/s: ") + verdict(tput->pipeInputs.rate >= 5000));
    detail(tput->pipeInputs);
    std::printf("  stat baselines: %.0f/s (UserClient x 1), %.0f/s (pipelined); load %s -> %s\n",
                tput->oneStats.rate, tput->pipeStats.rate, tput->load0.c_str(), tput->load1.c_str());
  }
  if (idle) {
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    auto cpuPct = [&](const ProcSample& a, const ProcSample& b) {
      return (b.cpuTicks - a.cpuTicks) / tick / idle->seconds * 100.0;
    };
    auto runPct = [&](const ProcSample& a, const ProcSample& b) {
      return (b.runNs - a.runNs) / 1e9 / idle->seconds * 100.0;
    };
    const std::string n = std::to_string(idle->n);
    // utime+stime is charged by the tick, so wake-ups that start on a tick (timers) and sleep before
    // the next are never seen; schedstat counts nanoseconds. The goal is judged on the larger.
    const double ours = cpuPct(idle->ours0, idle->ours1), base = cpuPct(idle->base0, idle->base1);
    const double oursNs = runPct(idle->ours0, idle->ours1), baseNs = runPct(idle->base0, idle->base1);
    row(n + " idle: CPU % of one core (utime+stime)", ours, base, "");
    row(n + " idle: CPU % of one core (schedstat)", oursNs, baseNs,
        std::string("< 2 %: ") + verdict(std::max(ours, oursNs) < 2));
    row(n + " idle: context switches/s (all)",
        (idle->ours1.ctxSwitches - idle->ours0.ctxSwitches) / idle->seconds,
        (idle->base1.ctxSwitches - idle->base0.ctxSwitches) / idle->seconds, "");
    row(n + " idle: RSS total (MiB)", idle->ours1.rssKiB / 1024, idle->base1.rssKiB / 1024, "");
    row(n + " idle: PSS total (MiB)", idle->ours1.pssKiB / 1024, idle->base1.pssKiB / 1024, "");
    row("  PSS per instance (MiB)", idle->ours1.pssKiB / 1024 / idle->n, idle->base1.pssKiB / 1024 / idle->n,
        "");
    std::printf(
        "  baseline: %d `sleep` processes alive in the same window; per instance %.0f processes (supervisor "
        "and "
        "worker), %.0f threads; window %.1f s, load %s -> %s\n",
        idle->n, idle->procsPerInstance, idle->ours1.threads / idle->n, idle->seconds, idle->load0.c_str(),
        idle->load1.c_str());
  }
  if (!clusters.empty()) printClusters(clusters, co, row);
  std::printf("load average at the end: %s\n", loadAvg().c_str());
  return 0;
}
