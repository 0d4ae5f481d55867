// Host-node benchmark (root): how long a developer waits from the acquire being validated to the
// host's reply being validated, split into the node's stages, beside the provisioner's own create
// time measured in the same run (interleaved); and how much a flood of invalid requests delays a
// legitimate acquire.
//
//   bench_node_bench [--acquires N=10] [--ledger-ms MS=1000] [--tick-ms MS=500] [--flood N=1000]
//                    [--flood-senders N=4] [--flood-timeout-s S=120] [--forged N=1000]
//                    [--part all|devnet|forged] [--images DIR]
//   (--flood 0 skips the flood part; SASHIMONO_LOG=info|debug shows the node's log)
//
// Set-up: the devnet (`sashimono devnet`) as a child on 127.0.0.1 closing a ledger every
// --ledger-ms; the node IN-PROCESS (node::NodeService over a NodeStore in a temporary directory,
// node::HostProvisionerPort over a real host::Provisioner with confined names: user prefix
// "nb<pid>-", cgroup parent "smnb-<pid>", base directory /tmp/smnb-<pid>, a port slice of
// 28000-31999); a WebSocket subscription of our own to the host account gives the time each
// transaction arrives validated; the node's onStep hooks give the stage boundaries.
//
// Part 1, N times (fresh tenant account each): Provisioner::create + destroy of the TenantSpec the
// node would build (baseline), then an acquire through the node, then its terminate (the tenant
// is destroyed before the next round). Stages per acquire:
//   validated → seen → verified → provisioned → reply submitted → reply validated
// Goal: overhead = total − create ≤ one ledger interval + 10 % × create.
//
// Part 2: a legitimate acquire alone; then --flood invalid requests (half underpaid acquires,
// half acquires whose memo is not a sealed payload) from --flood-senders funded accounts,
// immediately followed by one legitimate acquire. Goal: delay = flooded − alone < one ledger
// interval. Also: how long until every refund is validated.
//
// Part 3: the same flood with forged signatures, through a test board (the devnet refuses them):
// a second in-process node on a node::fakes::HostileBoard closing a ledger every --ledger-ms; a
// legitimate acquire alone, then --forged forgeries and the legitimate acquire LAST in one
// ledger. Goal: delay < one ledger interval, and not one forgery answered.
// --part devnet runs parts 1 and 2 only, --part forged part 3 only (--forged 0 skips it).
//
// Every tenant, user and cgroup the run made is removed at exit, also on errors and on
// SIGINT/SIGTERM; tenants of an earlier run that was killed are removed at start.
//
// The parts: node_bench/ (NodeBench.h: what they share; BenchHost.h, Observer.h; Devnet.cpp:
// parts 1 and 2, Forged.cpp: part 3); this file reads the options and runs the parts.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iterator>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "node_bench/BenchHost.h"
#include "node_bench/NodeBench.h"

using namespace sashimono::node_bench;

namespace {

extern "C" void onSignal(int) { gInterrupted = true; }

int run(const Options& opt) {
  std::printf(
      "node_bench: ledger interval %d ms, node tick %d ms, %d acquires, flood of %d from %d senders, "
      "%d forged; part %s\n",
      opt.ledgerMs, opt.tickMs, opt.acquires, opt.flood, opt.floodSenders, opt.forged, opt.part.c_str());
  std::printf("machine: %u cores, load average %s", std::thread::hardware_concurrency(),
              slurp("/proc/loadavg").c_str());
  std::fflush(stdout);

  BenchHost th(opt.images);
  if (opt.part != "forged") runDevnet(opt, th);
  if (opt.part != "devnet" && opt.forged > 0) {
    checkInterrupted();
    runForged(opt, th);
  }
  return 0;
}

bool parseInt(const std::string& s, int lo, int hi, int& out) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  const int v = std::stoi(s);
  if (v < lo || v > hi) return false;
  out = v;
  return true;
}

// The options with a number: where it goes and its range.
struct IntOption {
  std::string_view name;
  int* value;
  int lo, hi;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  const IntOption ints[] = {
      {"--acquires", &opt.acquires, 0, 1000},        {"--ledger-ms", &opt.ledgerMs, 50, 60000},
      {"--tick-ms", &opt.tickMs, 1, 60000},          {"--flood", &opt.flood, 0, 100000},
      {"--flood-senders", &opt.floodSenders, 1, 64}, {"--flood-timeout-s", &opt.floodTimeoutS, 1, 3600},
      {"--forged", &opt.forged, 0, 100000}};
  std::vector<std::string> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& k = args[i];
    if (k == "--help" || k == "-h") {
      std::printf(
          "usage: bench_node_bench [--acquires N=10] [--ledger-ms MS=1000] [--tick-ms MS=500] [--flood "
          "N=1000]\n"
          "                        [--flood-senders N=4] [--flood-timeout-s S=120] [--forged N=1000]\n"
          "                        [--part all|devnet|forged] [--images DIR]\n");
      return 0;
    }
    if (i + 1 >= args.size()) {
      std::fprintf(stderr, "node_bench: %s needs a value\n", k.c_str());
      return 2;
    }
    const std::string& v = args[++i];
    bool ok = false;
    auto n = std::find_if(std::begin(ints), std::end(ints), [&](const IntOption& o) { return o.name == k; });
    if (n != std::end(ints))
      ok = parseInt(v, n->lo, n->hi, *n->value);
    else if (k == "--part")
      ok = (v == "all" || v == "devnet" || v == "forged") && (opt.part = v, true);
    else if (k == "--images")
      ok = (opt.images = v, true);
    if (!ok) {
      std::fprintf(stderr, "node_bench: bad option %s %s (--help)\n", k.c_str(), v.c_str());
      return 2;
    }
  }
  if (::geteuid() != 0) {
    std::fprintf(stderr, "node_bench: needs root (it creates real tenants: users, cgroups, mounts)\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  if (const char* l = std::getenv("SASHIMONO_LOG")) spdlog::set_level(spdlog::level::from_str(l));
  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return run(opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "node_bench: %s\n", e.what());
    return 1;
  }
}
