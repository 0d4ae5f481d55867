// bench_runtime_bench, part 4: what agreement costs a user. A lone `sashimono runtime` process and
// clusters of such processes on 127.0.0.1 (peer TLS links, ClusterConsensus), each with the C++
// echo deployed by its owner through the first member; one user on the first member sends
// sequential inputs (input → output with its proof verified against the whole UNL), then
// pipelined users count inputs per second. A delayed cluster routes every peer link through a
// DelayRelay of this process.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "DelayRelay.h"
#include "PipeUser.h"
#include "RuntimeBench.h"
#include "sashimono/host/ProcessRunner.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/runtime/Agreement.h"
#include "sashimono/runtime/Config.h"

namespace sashimono::runtime_bench {
namespace {

// ---- the members' round lines ----

// "… debug round N: … phases validate A run B hash C store D send E us, T us": in a cluster the
// store phase holds agree() (the members' outputs exchanged), then the ledger's append and commit.
struct RoundLine {
  double total = 0, run = 0, store = 0;  // ms
};

std::optional<RoundLine> parseRoundLine(std::string_view line) {
  auto at = line.find("debug round ");
  auto ph = line.find(" phases validate ");
  if (at == std::string_view::npos || ph == std::string_view::npos) return std::nullopt;
  auto total = roundMs(line.substr(at + 6));
  if (!total) return std::nullopt;
  std::istringstream in(std::string(line.substr(ph + 17)));
  double validate = 0, run = 0, hash = 0, store = 0;
  std::string w1, w2, w3;
  if (!(in >> validate >> w1 >> run >> w2 >> hash >> w3 >> store) || w1 != "run" || w2 != "hash" ||
      w3 != "store")
    return std::nullopt;
  return RoundLine{*total, run / 1000.0, store / 1000.0};
}

// The round lines the member logged since the last call.
std::vector<RoundLine> takeRoundLines(Target& t) {
  std::string text = slurp(t.log);
  std::istringstream in(text.substr(std::min(t.logSeen, text.size())));
  t.logSeen = text.size();
  std::vector<RoundLine> out;
  std::string line;
  while (std::getline(in, line))
    if (auto r = parseRoundLine(line)) out.push_back(*r);
  return out;
}

// ---- a cluster of `sashimono runtime` processes ----

class Cluster {
 public:
  // n = 1: a lone instance (no peer port, SoloConsensus). Dies on any failure.
  // hold > 0: every peer link through a DelayRelay holding each chunk that long.
  Cluster(const std::string& tag, int n, std::chrono::microseconds hold, const std::string& bundleDir,
          bool statefs)
      : statefs_(statefs) {
    std::vector<InstanceKey> keys;
    for (int i = 0; i < n; ++i) keys.push_back(InstanceKey::generate());
    std::sort(keys.begin(), keys.end(),
              [](const InstanceKey& a, const InstanceKey& b) { return a.publicKey() < b.publicKey(); });
    for (const auto& k : keys) unl_.push_back(k.publicKey());
    for (int i = 0; i < n; ++i)
      members_.push_back(startMember(tag + "-m" + std::to_string(i), keys[i], n > 1));
    std::vector<std::uint16_t> peerPorts;
    for (auto& m : members_) peerPorts.push_back(waitForPorts(*m, n > 1));
    if (n > 1) {
      // Every member reaches member j at the same address: j's peer port, or its relay's.
      std::vector<std::uint16_t> reach = peerPorts;
      if (hold.count() > 0)
        for (std::size_t j = 0; j < peerPorts.size(); ++j) {
          relays_.push_back(std::make_unique<DelayRelay>(peerPorts[j], hold));
          reach[j] = relays_.back()->port();
        }
      std::string members;
      for (std::size_t j = 0; j < reach.size(); ++j)
        members += std::string(j ? "," : "") + R"({"key":")" + hexKey(unl_[j]) + R"(","peer":"127.0.0.1:)" +
                   std::to_string(reach[j]) + "\"}";
      const std::string file = R"({"lease":")" + std::string(64, 'a') + R"(","members":[)" + members + "]}\n";
      for (auto& m : members_) {  // whole, then renamed into place, as the host node does
        std::ofstream(m->dir + "/cluster.json.tmp") << file;
        fs::rename(m->dir + "/cluster.json.tmp", m->dir + "/cluster.json");
      }
      for (auto& m : members_) waitForUnl(*m);
    }
    deploy(bundleDir);
  }
  ~Cluster() {
    for (auto& m : members_) m->stop();
    relays_.clear();
  }

  Target& entry() { return *members_.front(); }
  [[nodiscard]] const std::vector<PubKey>& unl() const { return unl_; }
  // utime+stime of the runtimes and of their contracts, over every member.
  [[nodiscard]] std::pair<double, double> cpu() const {
    std::pair<double, double> s{0, 0};
    for (const auto& m : members_) {
      auto c = m->cpu();
      s.first += c.first;
      s.second += c.second;
    }
    return s;
  }

 private:
  bool statefs_ = false;
  std::unique_ptr<Target> startMember(const std::string& tag, const InstanceKey& key, bool peer) {
    auto t = std::make_unique<Target>();
    t->dir = makeTempDir(tag);
    const std::string& d = t->dir;
    fs::create_directories(d + "/data");
    fs::create_directories(d + "/fs");
    writeInstanceKey(d, key);
    InstanceConfig c;
    if (statefs_) {
      fs::create_directories(d + "/state");
      host::ProcessSpec mount;
      mount.argv = {SASHIMONO_BINARY, "statefs", "mount",           "--source",          d + "/state",
                    "--mountpoint",   d + "/fs", "--control",       d + "/statefs.sock", "--undo",
                    d + "/undo",      "--tree",  d + "/tree.sqlite"};
      registerMount(d + "/fs");
      auto runner = host::makeLinuxProcessRunner();
      if (auto r = host::runChecked(*runner, mount); !r.ok())
        die("statefs mount for " + tag + ": " + r.error().message);
      c.statefsControl = d + "/statefs.sock";
    }
    c.contractId = "bench-cluster";
    c.logLevel = "debug";  // one line per round: its phases
    c.owner = owner_.publicKey();
    c.keyFile = d + "/instance.key";
    c.user.listen = "127.0.0.1";
    c.user.port = 0;
    c.user.tls = "off";
    c.user.maxConnections = 512;
    c.user.maxConnectionsPerHost = 512;
    if (peer) {
      c.peer.enabled = true;
      c.peer.listen = "127.0.0.1";
      c.peer.port = 0;
      c.clusterFile = d + "/cluster.json";
    }
    std::ofstream(d + "/instance.json") << renderInstanceConfig(c);
    t->log = d + "/out.log";
    t->pid = spawnRuntime(d, t->log);
    return t;
  }

  // "… user port ws N open, peer port M, …": sets the member's url, returns M (0 without peers).
  static std::uint16_t waitForPorts(Target& t, bool peer) {
    const auto end = Clock::now() + std::chrono::seconds(30);
    std::string text;
    std::size_t at = std::string::npos;
    while ((at = (text = slurp(t.log)).find("user port ws ")) == std::string::npos) {
      if (Clock::now() > end) die("a member did not open its ports: " + text);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    t.url = "ws://127.0.0.1:" + std::to_string(std::atoi(text.c_str() + at + 13));
    if (!peer) return 0;
    auto p = text.find(", peer port ", at);
    if (p == std::string::npos) die("a member opened no peer port: " + text);
    return static_cast<std::uint16_t>(std::atoi(text.c_str() + p + 12));
  }

  // Until the member's handshake names the whole cluster as its UNL.
  void waitForUnl(Target& t) {
    const auto end = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      auto c = UserClient::connect(t.url, InstanceKey::generate());
      if (c) {
        auto got = (*c)->unl();
        std::sort(got.begin(), got.end());
        if (got == unl_) return;
      }
      if (Clock::now() > end) die("a member did not take the membership as its UNL within 60 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // As the owner would: a bundle input through the first member, relayed to and installed by all.
  void deploy(const std::string& bundleDir) {
    Target& t = entry();
    UserClientOptions o;
    o.timeout = std::chrono::seconds(60);
    t.control = must(UserClient::connect(t.url, owner_, o), "connecting as the owner");
    auto bundle = must(packDirectory(bundleDir), "packing " + bundleDir);
    auto archive = must(writeBundle(bundle), "writing the bundle");
    core::Bytes input(kBundleInputPrefix.begin(), kBundleInputPrefix.end());
    input.insert(input.end(), archive.begin(), archive.end());
    auto out = must(t.control->submit(input), "deploying");
    if (out.status != "accepted" || out.outputs.empty() || !out.verified ||
        core::asString(out.outputs[0]).find("deployed version") == std::string::npos)
      die("the bundle was not deployed: " + out.status + " " + out.reason);
  }

  InstanceKey owner_ = InstanceKey::generate();
  std::vector<PubKey> unl_;  // sorted; members_[i] has unl_[i]
  std::vector<std::unique_ptr<Target>> members_;
  std::vector<std::unique_ptr<DelayRelay>> relays_;
};

// ---- the measurements ----

void measureLatencyOn(Cluster& c, ClusterRun& r, int warmup, int samples) {
  Target& t = c.entry();
  UserClientOptions o;
  o.timeout = std::chrono::seconds(30);
  auto client = must(UserClient::connect(t.url, InstanceKey::generate(), o), "connecting the user");
  if (r.members > 1) {  // the proof is then checked against the whole UNL (80 % of it must sign)
    auto got = client->unl();
    std::sort(got.begin(), got.end());
    if (got != c.unl()) die(r.name + ": the member's UNL is not the cluster");
  }
  std::uint64_t seq = must(client->lcl(), "lcl").first;
  const std::string text = "hello";
  const core::Bytes in(text.begin(), text.end());
  CpuTimes m0;
  std::pair<double, double> s0;
  for (int i = 0; i < warmup + samples; ++i) {
    if (i == warmup) {
      (void)takeRoundLines(t);
      m0 = cpuNow();
      s0 = c.cpu();
    }
    const auto t0 = Clock::now();
    auto h = must(client->send(in, client->nextNonce(), seq + 10), "send");
    auto out = must(client->await(h), "await");
    const double ms1 = ms(Clock::now() - t0);
    if (out.status != "accepted") die(r.name + ": input " + out.status + " " + out.reason);
    if (out.outputs.size() != 1 || core::asString(out.outputs[0]).find("Echo: hello") == std::string::npos)
      die(r.name + ": unexpected output");
    if (!out.verified) die(r.name + ": the output proof did not verify");
    seq = out.ledgerSeqNo;
    if (i < warmup) continue;
    r.latency.push_back(ms1);
    // The leader of round s in view 0 is the member at s mod n of the sorted UNL; the first
    // member has the smallest key: it leads when s mod n is 0 (then no input relay is waited for).
    (seq % static_cast<std::uint64_t>(r.members) == 0 ? r.entryLeads : r.otherLeads).push_back(ms1);
  }
  const CpuTimes m1 = cpuNow();
  const auto s1 = c.cpu();
  r.cpuMsPerInput = (s1.first + s1.second - s0.first - s0.second) * 1000.0 / std::max(1, samples);
  r.busyPct = m1.machineAll > m0.machineAll
                  ? 100.0 * (m1.machineBusy - m0.machineBusy) / (m1.machineAll - m0.machineAll)
                  : 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the last round's line
  for (const auto& l : takeRoundLines(t)) {
    r.round.push_back(l.total);
    r.run.push_back(l.run);
    r.agreed.push_back(l.store);
  }
}

Rate measureRateOn(Cluster& c, int users, int window, double seconds) {
  Target& t = c.entry();
  net::ClientContext context(gClientThreads);
  std::vector<std::unique_ptr<PipeUser>> pipes;
  for (int i = 0; i < users; ++i) pipes.push_back(PipeUser::connect(t.url, t.lcl(), &context, c.unl()));
  std::atomic<bool> counting{false};
  std::atomic<std::uint64_t> done{0};
  for (auto& p : pipes) p->run(true, window, &counting, &done);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  (void)takeRoundLines(t);
  Rate r;
  const auto seq0 = t.lcl();
  const auto c0 = cpuNow();
  const auto s0 = c.cpu();
  const auto t0 = Clock::now();
  counting = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  counting = false;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto c1 = cpuNow();
  const auto s1 = c.cpu();
  r.ledgers = t.lcl() - seq0;
  r.n = done.load();
  for (auto& p : pipes) p->drain();
  for (const auto& l : takeRoundLines(t)) r.rounds.push_back(l.total);
  r.rate = static_cast<double>(r.n) / r.seconds;
  r.cpuSelf = c1.self - c0.self;
  r.cpuServer = s1.first - s0.first;
  r.cpuServerChildren = s1.second - s0.second;
  r.machineBusyPct = c1.machineAll > c0.machineAll
                         ? 100.0 * (c1.machineBusy - c0.machineBusy) / (c1.machineAll - c0.machineAll)
                         : 0;
  return r;
}

ClusterRun runOne(const std::string& name, const std::string& tag, int n, double delayMs,
                  const std::string& bundleDir, const ClusterOptions& o) {
  ClusterRun r;
  r.name = name;
  r.members = n;
  r.delayMs = delayMs;
  r.threshold = agreementThreshold(static_cast<std::size_t>(n));
  r.load0 = loadAvg();
  std::printf("  %s: starting, load %s\n", name.c_str(), r.load0.c_str());
  std::fflush(stdout);
  std::chrono::microseconds hold{0};
  if (delayMs > 0) {
    // The relay stands in for the wire: a hop through it should take the delay more than a direct
    // loopback hop, not the delay plus the relay's own two hops and wake-ups. So it holds chunks
    // that much less (measured idle), and what it then adds is measured and used for the goal.
    const auto delay = std::chrono::microseconds(static_cast<std::int64_t>(delayMs * 1000));
    const RelayLatency idle = measureRelay(std::chrono::microseconds(0));
    const auto own = std::chrono::microseconds(
        static_cast<std::int64_t>(std::max(0.0, idle.relayedMs - idle.directMs) * 1000));
    hold = delay - own;
    const RelayLatency check = measureRelay(hold);
    r.oneWayMs = check.relayedMs - check.directMs;
    std::printf(
        "    relay: a direct loopback hop %.3f ms, through an idle relay %.3f ms: it holds chunks %.3f ms; "
        "then a hop through it takes %.3f ms, %.3f ms more than a direct one (the one-way delay)\n",
        idle.directMs, idle.relayedMs, ms(hold), check.relayedMs, r.oneWayMs);
  }
  const auto t0 = Clock::now();
  Cluster c(tag, n, hold, bundleDir, o.statefs);
  std::printf(
      "    formed and deployed in %.1f s; %d warm-up + %d sequential inputs, then %d users x %d for %.0f s\n",
      ms(Clock::now() - t0) / 1000.0, o.warmup, o.samples, o.users, o.window, o.seconds);
  std::fflush(stdout);
  measureLatencyOn(c, r, o.warmup, o.samples);
  r.rate = measureRateOn(c, o.users, o.window, o.seconds);
  r.load1 = loadAvg();
  return r;
}

}  // namespace

std::vector<ClusterRun> measureClusters(const std::string& bundleDir, const ClusterOptions& o) {
  std::vector<ClusterRun> out;
  out.push_back(runOne("solo", "solo", 1, 0, bundleDir, o));
  for (int n : o.sizes) {
    if (n < 2) die("--cluster-sizes: each at least 2");
    out.push_back(runOne(std::to_string(n) + " members", "c" + std::to_string(n), n, 0, bundleDir, o));
  }
  if (o.delayMs > 0) {
    char name[64];
    std::snprintf(name, sizeof name, "%d members, %g ms", o.delayedMembers, o.delayMs);
    out.push_back(
        runOne(name, "d" + std::to_string(o.delayedMembers), o.delayedMembers, o.delayMs, bundleDir, o));
  }
  return out;
}

}  // namespace sashimono::runtime_bench
