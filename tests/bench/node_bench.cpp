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
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Forge.h"
#include "fakes/node/HostileBoard.h"
#include "fakes/node/Tenant.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/host/Disks.h"
#include "sashimono/host/LinuxHost.h"
#include "sashimono/host/ProcessRunner.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/host/UserManager.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/node/NodeService.h"
#include "sashimono/node/NodeStore.h"
#include "sashimono/protocol/Patterns.h"

using namespace sashimono;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

std::atomic<bool> gInterrupted{false};
extern "C" void onSignal(int) { gInterrupted = true; }

void checkInterrupted() {
  if (gInterrupted) throw std::runtime_error("interrupted");
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Options {
  int acquires = 10;
  int ledgerMs = 1000;
  int tickMs = 500;
  int flood = 1000;
  int floodSenders = 4;
  int floodTimeoutS = 120;
  int forged = 1000;
  std::string part = "all";  // all | devnet (parts 1, 2) | forged (part 3)
  std::string images;        // empty: built into a temporary directory
};

// ---------------------------------------------------------------------------------------------
// The provisioner, confined to names of this run; cleanup() (also from the destructor) destroys
// every tenant it finds and removes the run's directories and cgroups.
struct BenchHost {
  std::string tag = std::to_string(::getpid());
  std::string base = "/tmp/smnb-" + tag;
  std::string images;
  bool ownImages = false;
  std::string cgroupParent = "smnb-" + tag;
  std::string prefix = "nb" + std::to_string(::getpid() % 10000) + "-";
  host::LinuxHost os;
  std::unique_ptr<host::Provisioner> prov;

  explicit BenchHost(const std::string& imagesDir) {
    reapDeadRuns();
    images = imagesDir.empty() ? "/tmp/smnb-img-" + tag : imagesDir;
    ownImages = imagesDir.empty();
    auto h = host::makeLinuxHost(cgroupParent, {SASHIMONO_BINARY, "statefs", "mount"});
    if (!h) throw std::runtime_error(h.error().message);
    os = std::move(*h);
    const auto portBase = static_cast<std::uint16_t>(28000 + (::getpid() % 10) * 400);
    host::ProvisionerConfig cfg;
    cfg.baseDir = base;
    cfg.imagesDir = images;
    cfg.userPrefix = prefix;
    cfg.publicIp = "127.0.0.1";
    cfg.ports.user = {portBase, static_cast<std::uint16_t>(portBase + 99)};
    cfg.ports.peer = {static_cast<std::uint16_t>(portBase + 100), static_cast<std::uint16_t>(portBase + 199)};
    cfg.ports.generalTcp = {static_cast<std::uint16_t>(portBase + 200),
                            static_cast<std::uint16_t>(portBase + 299)};
    cfg.ports.generalUdp = {static_cast<std::uint16_t>(portBase + 300),
                            static_cast<std::uint16_t>(portBase + 399)};
    cfg.ports.generalTcpCount = 2;  // as `host run` with the default config (generalPerInstance)
    cfg.ports.generalUdpCount = 0;
    prov = std::make_unique<host::Provisioner>(cfg, os.ops());
    try {
      if (!std::filesystem::exists(images + "/instance/rootfs/bin/busybox")) {
        host::ProcessSpec p;
        p.argv = {"bash", std::string(SASHIMONO_SOURCE_DIR) + "/tools/build-image.sh", "--out", images};
        p.env = {std::string("PATH=") + host::kSafePath};
        p.timeout = std::chrono::seconds(120);
        auto r = host::runChecked(*os.runner, p);
        if (!r) throw std::runtime_error("build-image.sh: " + r.error().message);
      }
    } catch (...) {
      cleanup();
      throw;
    }
  }
  ~BenchHost() { cleanup(); }
  BenchHost(const BenchHost&) = delete;
  BenchHost& operator=(const BenchHost&) = delete;

  // Tenants of earlier runs that died without cleaning up (their homes name the run's base
  // directory /tmp/smnb-<pid>) are destroyed.
  static void reapDeadRuns() {
    for (auto& e : host::parsePasswd(slurp("/etc/passwd"))) {
      if (e.home.rfind("/tmp/smnb-", 0) != 0) continue;
      auto slash = e.home.find('/', 10);
      if (slash == std::string::npos) continue;
      std::string runBase = e.home.substr(0, slash);
      pid_t runPid = ::atoi(runBase.c_str() + 10);
      if (runPid <= 0 || runPid == ::getpid() || ::kill(runPid, 0) == 0) continue;
      auto h = host::makeLinuxHost("smnb-" + std::to_string(runPid), {SASHIMONO_BINARY, "statefs", "mount"});
      if (!h) continue;
      host::ProvisionerConfig cfg;
      cfg.baseDir = runBase;
      cfg.userPrefix = e.name.substr(0, e.name.find('-') + 1);
      host::Provisioner stale(cfg, h->ops());
      if (auto names = stale.list(); names)
        for (auto& n : *names) (void)stale.destroy(n);
      std::error_code ec;
      if (host::mountsUnder(runBase).valueOr({}).empty()) std::filesystem::remove_all(runBase, ec);
      std::fprintf(stderr, "node_bench: removed the tenants of a dead run (%s)\n", runBase.c_str());
    }
  }

  void cleanup() {
    if (!prov) return;
    int destroyed = 0;
    if (auto names = prov->list(); names)
      for (auto& n : *names) {
        if (auto st = prov->destroy(n); !st)
          std::fprintf(stderr, "node_bench: cleanup: destroy %s: %s\n", n.c_str(),
                       st.error().message.c_str());
        else
          ++destroyed;
      }
    std::size_t leftUsers = 0;
    for (auto& e : host::parsePasswd(slurp("/etc/passwd")))
      if (e.name.rfind(prefix, 0) == 0) ++leftUsers;
    std::error_code ec;
    (void)host::unmountUnder(base);
    std::filesystem::remove_all(base, ec);
    if (ownImages) std::filesystem::remove_all(images, ec);
    for (const char* c : {"cpu", "memory", "pids"})
      ::rmdir(("/sys/fs/cgroup/" + std::string(c) + "/" + cgroupParent).c_str());
    ::rmdir(("/sys/fs/cgroup/" + cgroupParent).c_str());
    std::fprintf(stderr, "node_bench: cleanup: %d tenant(s) destroyed, %zu user(s) %s* left\n", destroyed,
                 leftUsers, prefix.c_str());
    prov.reset();
  }
};

// ---------------------------------------------------------------------------------------------
// Our own view of the board: a subscription to the host account; every transaction's arrival
// time (validated), sender, destination and memo type.
struct SeenTx {
  Clock::time_point at;
  std::string hash;
  std::string account;
  std::string destination;
  std::string memoType;  // decoded text
  std::uint32_t ledger = 0;
};

class Observer {
 public:
  Observer(const std::string& url, const std::string& account) {
    net::ClientOptions o;
    o.onMessage = [this](std::string&& text) { onMessage(std::move(text)); };
    auto c = net::WsClient::connect(url, o);
    if (!c) throw std::runtime_error("observer: " + c.error().message);
    client_ = std::move(*c);
    if (!client_->send(R"({"id":1,"command":"subscribe","streams":["ledger"],"accounts":[")" + account +
                       "\"]}"))
      throw std::runtime_error("observer: subscribe failed");
    std::unique_lock lk(mu_);
    if (!cv_.wait_for(lk, 10s, [&] { return subscribed_; }))
      throw std::runtime_error("observer: no subscription");
  }
  ~Observer() { client_->close(500ms); }

  // Waits for a transaction matching `pred` (searched from the first one, in arrival order).
  std::optional<SeenTx> waitFor(const std::function<bool(const SeenTx&)>& pred,
                                std::chrono::milliseconds limit) {
    const auto end = Clock::now() + limit;
    std::unique_lock lk(mu_);
    while (true) {
      for (const auto& t : txs_)
        if (pred(t)) return t;
      checkInterrupted();
      if (Clock::now() >= end) return std::nullopt;
      cv_.wait_for(lk, 100ms);
    }
  }
  // Waits until `pred` matches `count` transactions; returns the arrival time of the last.
  std::optional<Clock::time_point> waitCount(const std::function<bool(const SeenTx&)>& pred,
                                             std::size_t count, std::chrono::milliseconds limit,
                                             std::size_t* got = nullptr) {
    const auto end = Clock::now() + limit;
    std::unique_lock lk(mu_);
    while (true) {
      std::size_t n = 0;
      Clock::time_point last{};
      for (const auto& t : txs_)
        if (pred(t)) {
          ++n;
          last = t.at;
        }
      if (got) *got = n;
      if (n >= count) return last;
      checkInterrupted();
      if (Clock::now() >= end) return std::nullopt;
      cv_.wait_for(lk, 100ms);
    }
  }
  // The first and last ledger of the transactions matching `pred` ({0, 0}: none).
  std::pair<std::uint32_t, std::uint32_t> ledgerRange(const std::function<bool(const SeenTx&)>& pred) {
    std::lock_guard lk(mu_);
    std::uint32_t lo = 0, hi = 0;
    for (const auto& t : txs_)
      if (pred(t)) {
        lo = lo == 0 ? t.ledger : std::min(lo, t.ledger);
        hi = std::max(hi, t.ledger);
      }
    return {lo, hi};
  }
  // When ledger `ledger` was validated, as this client saw it: the arrival of its first stream
  // message (its transactions come before its ledgerClosed, in ledger order).
  Clock::time_point ledgerValidatedAt(std::uint32_t ledger) {
    std::lock_guard lk(mu_);
    auto it = ledgers_.find(ledger);
    return it == ledgers_.end() ? Clock::time_point{} : it->second;
  }

 private:
  static std::string str(const rapidjson::Value& o, const char* k) {
    auto it = o.FindMember(k);
    return it != o.MemberEnd() && it->value.IsString() ? it->value.GetString() : std::string();
  }
  void onMessage(std::string&& text) {
    const auto now = Clock::now();
    rapidjson::Document d;
    d.Parse(text.c_str());
    if (d.HasParseError() || !d.IsObject()) return;
    std::lock_guard lk(mu_);
    const std::string type = str(d, "type");
    if (type == "response") {
      subscribed_ = true;
    } else if (type == "ledgerClosed" && d.HasMember("ledger_index") && d["ledger_index"].IsUint()) {
      ledgers_.emplace(d["ledger_index"].GetUint(), now);
    } else if (type == "transaction") {
      const char* key = d.HasMember("tx_json") ? "tx_json" : "transaction";
      if (!d.HasMember(key) || !d[key].IsObject()) return;
      const auto& tx = d[key];
      SeenTx s;
      s.at = now;
      s.hash = d.HasMember("hash") ? str(d, "hash") : str(tx, "hash");
      s.account = str(tx, "Account");
      s.destination = str(tx, "Destination");
      if (d.HasMember("ledger_index") && d["ledger_index"].IsUint()) s.ledger = d["ledger_index"].GetUint();
      ledgers_.emplace(s.ledger, now);
      auto memos = tx.FindMember("Memos");
      if (memos != tx.MemberEnd() && memos->value.IsArray() && !memos->value.Empty()) {
        const auto& m = memos->value[0];
        if (m.IsObject() && m.HasMember("Memo") && m["Memo"].IsObject()) {
          auto t = core::fromHex(str(m["Memo"], "MemoType"));
          if (t) s.memoType.assign(t->begin(), t->end());
        }
      }
      txs_.push_back(std::move(s));
    }
    cv_.notify_all();
  }

  std::unique_ptr<net::WsClient> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool subscribed_ = false;
  std::vector<SeenTx> txs_;
  std::map<std::uint32_t, Clock::time_point> ledgers_;
};

// The node's step boundaries (onStep, outbox onStep), in order, with their times.
class StepLog {
 public:
  void mark(std::string_view step) {
    const auto now = Clock::now();
    std::lock_guard lk(mu_);
    steps_.emplace_back(std::string(step), now);
  }
  // The first `name` at or after `from`.
  std::optional<Clock::time_point> first(const std::string& name, Clock::time_point from) {
    std::lock_guard lk(mu_);
    for (const auto& [n, t] : steps_)
      if (t >= from && n == name) return t;
    return std::nullopt;
  }
  // Count, first and last of `name` at or after `from` (and before `to`).
  std::tuple<std::size_t, Clock::time_point, Clock::time_point> span(
      const std::string& name, Clock::time_point from, Clock::time_point to = Clock::time_point::max()) {
    std::lock_guard lk(mu_);
    std::size_t n = 0;
    Clock::time_point a{}, b{};
    for (const auto& [s, t] : steps_)
      if (t >= from && t < to && s == name) {
        if (n++ == 0) a = t;
        b = t;
      }
    return {n, a, b};
  }

 private:
  std::mutex mu_;
  std::vector<std::pair<std::string, Clock::time_point>> steps_;
};

// The node's provisioner, timed: how long Provisioner::create took inside the node.
class TimedPort final : public node::ProvisionerPort {
 public:
  explicit TimedPort(node::ProvisionerPort& inner) : inner_(inner) {}
  core::Result<protocol::InstanceInfo> provision(const crypto::Hash256& id, const protocol::AcquireRequest& r,
                                                 const lease::InstanceSize& s) override {
    const auto t = Clock::now();
    auto out = inner_.provision(id, r, s);
    std::lock_guard lk(mu_);
    last_ = ms(Clock::now() - t);
    lastStart_ = t;
    return out;
  }
  core::Status destroy(const crypto::Hash256& id) override { return inner_.destroy(id); }
  core::Result<std::vector<crypto::Hash256>> list() override { return inner_.list(); }
  core::Status deliverCluster(const crypto::Hash256& id,
                              const std::vector<protocol::ClusterMember>& m) override {
    return inner_.deliverCluster(id, m);
  }
  double last() {
    std::lock_guard lk(mu_);
    return last_;
  }
  Clock::time_point lastStart() {
    std::lock_guard lk(mu_);
    return lastStart_;
  }

 private:
  node::ProvisionerPort& inner_;
  std::mutex mu_;
  double last_ = 0;
  Clock::time_point lastStart_{};
};

// An account the bench pays from, with its own sequence.
struct Account {
  crypto::KeyPair key;
  std::uint32_t sequence = 0;
};

core::Bytes terminatePayment(Account& a, const crypto::KeyPair& host, const crypto::Hash256& lease) {
  return node::fakes::requestPayment(a.key, host.address(), 1, a.sequence++,
                                     protocol::Message{protocol::TerminateRequest{lease, std::nullopt}},
                                     host);
}

std::string submit(board::BoardClient& c, const core::Bytes& blob) {
  auto r = c.submit(blob);
  if (!r) throw std::runtime_error("submit: " + r.error().message);
  if (r->engineResult != "tesSUCCESS") throw std::runtime_error("submit: " + r->engineResult);
  return core::toHex(ledger::transactionHash(blob));
}

std::unique_ptr<board::BoardClient> newClient(const std::string& url) {
  board::BoardOptions o;
  o.urls = {url};
  o.requestTimeout = 10s;
  auto c = std::make_unique<board::BoardClient>(o);
  if (!c->start(std::nullopt).ok() || !c->waitConnected(20s))
    throw std::runtime_error("cannot connect to the devnet");
  return c;
}

void printRow(const char* name, const std::vector<double>& v) {
  std::printf("  %-40s %9.1f %9.1f\n", name, pct(v, 0.5), pct(v, 0.95));
}

// The node's config for the benchmark: `host init`'s offer and size, `host run`'s defaults.
node::HostConfig benchConfig(const std::string& boardUrl, const std::string& images,
                             const std::string& dataDir) {
  node::HostConfig c;
  c.boardUrls = {boardUrl};
  c.address = "127.0.0.1";
  c.offer.instances = 4;
  c.offer.size = lease::InstanceSize{1000, 512, 256, 2048};  // `host init` defaults
  c.offer.pricePerMoment = 1000;
  c.offer.momentSeconds = 3600;
  c.offer.maxMoments = 720;
  c.policy.allowedImages = {"instance"};
  c.imagesDir = images;
  c.bindAddress = "127.0.0.1";
  c.dataDir = dataDir;
  return c;
}

// The node under test, in-process as `host run` builds it: its own store in a temporary
// directory, the real provisioner behind a timing port, the step hooks recorded.
struct BenchNode {
  BenchNode(const Options& opt, BenchHost& th, const crypto::KeyPair& hostKey, const std::string& boardUrl)
      : config(benchConfig(boardUrl, th.images, dataDir.path())),
        store(openStore(config)),
        hostPort(*th.prov, hostKey),
        port(hostPort) {
    node::NodeOptions no;
    no.onStep = [this](std::string_view s) { steps.mark(s); };
    no.outbox.onStep = [this](std::string_view s) { steps.mark(s); };
    node::ServiceOptions so;
    so.tickInterval = std::chrono::milliseconds(opt.tickMs);
    service = std::make_unique<node::NodeService>(config, store, port, hostKey, clock, so, no);
    if (auto st = service->start(); !st) throw std::runtime_error("node start: " + st.error().message);
  }
  void check() const {
    if (service->fatal()) throw std::runtime_error("node stopped: " + service->fatalError());
  }
  void stop() {
    service->stop();
    service.reset();
  }
  static node::NodeStore openStore(const node::HostConfig& c) {
    auto s = node::NodeStore::open(c.storePath());
    if (!s) throw std::runtime_error(s.error().message);
    return std::move(*s);
  }

  board::fakes::TempDir dataDir;
  node::HostConfig config;
  node::NodeStore store;
  node::HostProvisionerPort hostPort;
  TimedPort port;
  StepLog steps;
  lease::SystemClock clock;
  std::unique_ptr<node::NodeService> service;
};

// Parts 1 and 2, on the devnet.
int runDevnet(const Options& opt, BenchHost& th) {
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, opt.ledgerMs);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const crypto::KeyPair hostKey = node::fakes::newEdKey();

  // Accounts: the host, one tenant per acquire, two for the flood's legitimate acquires, the
  // flood's senders; funded in one ledger.
  std::vector<Account> tenants;
  for (int i = 0; i < opt.acquires + 2; ++i) tenants.push_back({node::fakes::newEdKey(), 0});
  std::vector<Account> senders;
  for (int i = 0; i < (opt.flood > 0 ? opt.floodSenders : 0); ++i)
    senders.push_back({node::fakes::newEdKey(), 0});
  std::string last = wallet.pay(hostKey.address(), 1'000'000'000);
  for (auto* group : {&tenants, &senders})
    for (auto& a : *group) last = wallet.pay(a.key.address(), 1'000'000'000);
  wallet.waitValidated(last, 30s);
  auto seqOf = [&](Account& a) {
    auto info = wallet.client().accountInfo(a.key.address(), false);
    if (!info) throw std::runtime_error("account_info: " + info.error().message);
    a.sequence = info->sequence;
  };
  for (auto* group : {&tenants, &senders})
    for (auto& a : *group) seqOf(a);

  Observer observer(devnet.url(), hostKey.address());

  // The node, in-process, as `host run` builds it.
  BenchNode bn(opt, th, hostKey, devnet.url());
  const node::HostConfig& c = bn.config;
  auto& port = bn.port;
  auto& steps = bn.steps;
  auto& service = bn.service;
  auto checkNode = [&] { bn.check(); };

  const std::string hostAddr = hostKey.address();
  const auto replyLimit = std::chrono::seconds(std::max(30, 20 * opt.ledgerMs / 1000));

  // One acquire through the node; returns {acquire validated, reply validated, acquire hash}.
  struct AcquireRun {
    Clock::time_point submitted, validated, replied, provisionStarted;
    std::uint32_t ledger = 0, replyLedger = 0;
    crypto::Hash256 id{};
    std::string replyType;
  };
  auto acquire = [&](Account& a, std::chrono::milliseconds limit) {
    AcquireRun r;
    auto req = node::fakes::acquireRequest("instance");
    auto blob = node::fakes::requestPayment(a.key, hostAddr, c.offer.pricePerMoment, a.sequence++,
                                            protocol::Message{req}, hostKey);
    r.id = ledger::transactionHash(blob);
    r.submitted = Clock::now();
    const std::string hash = submit(wallet.client(), blob);
    auto v = observer.waitFor([&](const SeenTx& t) { return t.hash == hash; }, replyLimit);
    if (!v) throw std::runtime_error("acquire " + hash + " never validated");
    r.ledger = v->ledger;
    r.validated = observer.ledgerValidatedAt(v->ledger);
    const std::string to = a.key.address();
    auto rep = observer.waitFor(
        [&](const SeenTx& t) {
          return t.account == hostAddr && t.destination == to &&
                 t.memoType.rfind("sashimono.acquire", 0) == 0;
        },
        limit);
    checkNode();
    if (!rep) return r;  // replied stays empty
    r.replyLedger = rep->ledger;
    r.replied = observer.ledgerValidatedAt(rep->ledger);
    r.replyType = rep->memoType;
    r.provisionStarted = port.lastStart();
    return r;
  };
  auto terminate = [&](Account& a, const crypto::Hash256& lease) {
    const std::string hash = submit(wallet.client(), terminatePayment(a, hostKey, lease));
    const std::string to = a.key.address();
    auto rep = observer.waitFor(
        [&](const SeenTx& t) {
          return t.account == hostAddr && t.destination == to &&
                 t.memoType.rfind("sashimono.terminate", 0) == 0;
        },
        replyLimit);
    if (!rep) throw std::runtime_error("no reply to terminate " + hash);
  };
  auto baselineSpec = [&](int i) {
    // What HostProvisionerPort::provision builds for the same request and size.
    host::TenantSpec s;
    char name[32];
    std::snprintf(name, sizeof name, "b%016x",
                  static_cast<unsigned>(::getpid()) * 1000u + static_cast<unsigned>(i));
    s.name = name;
    s.image = "instance";
    const auto& size = c.offer.size;
    s.limits.cpuQuotaUs = size.cpuMillis * 100;
    s.limits.cpuPeriodUs = 100000;
    s.limits.memoryBytes = size.memoryMiB << 20;
    s.limits.swapBytes = size.swapMiB << 20;
    s.diskBytes = size.diskMiB << 20;
    const std::string hex(64, 'A');
    s.env = {"SASHIMONO_LEASE_ID=" + hex,
             "SASHIMONO_CONTRACT_ID=3f2504e0-4f89-41d3-9a0c-0305e82c3301",
             "SASHIMONO_OWNER=ed" + std::string(64, 'a'),
             "SASHIMONO_IMAGE=instance",
             "SASHIMONO_INSTANCE_KEY=ED" + hex,
             "SASHIMONO_ROUNDTIME_MS=1000"};
    return s;
  };

  // Wait for the node's board to be connected (its first ledger finished).
  for (auto end = Clock::now() + 30s; !service->boardStatus().connected; std::this_thread::sleep_for(50ms)) {
    checkNode();
    checkInterrupted();
    if (Clock::now() > end) throw std::runtime_error("the node's board never connected");
  }

  // ---- part 1: stages, beside the provisioner's own create ----
  std::vector<double> sSeen, sVerified, sProvisioned, sCreateInNode, sReply, sReplySubmit, sReplyLedger,
      sTotal, baseCreate, overheadEach, sOwn, sOwnOverhead;
  for (int i = 0; i < opt.acquires; ++i) {
    checkInterrupted();
    auto spec = baselineSpec(i);
    auto t = Clock::now();
    auto info = th.prov->create(spec);
    const double created = ms(Clock::now() - t);
    if (!info) throw std::runtime_error("baseline create: " + info.error().message);
    if (auto st = th.prov->destroy(spec.name); !st)
      throw std::runtime_error("baseline destroy: " + st.error().message);
    baseCreate.push_back(created);

    auto r = acquire(tenants[static_cast<size_t>(i)], replyLimit);
    if (r.replied == Clock::time_point{})
      throw std::runtime_error("acquire " + std::to_string(i) + ": no reply");
    if (r.replyType != "sashimono.acquire.ok")
      throw std::runtime_error("acquire " + std::to_string(i) + " answered " + r.replyType +
                               " (SASHIMONO_LOG=info shows why)");
    auto seen = steps.first("seen", r.submitted);
    auto verified = seen ? steps.first("verified", *seen) : std::nullopt;
    auto provisioned = verified ? steps.first("provisioned", *verified) : std::nullopt;
    auto signedAt = provisioned ? steps.first("outbox.signed", *provisioned) : std::nullopt;
    auto submitted = signedAt ? steps.first("outbox.submitted", *signedAt) : std::nullopt;
    if (!seen || !verified || !provisioned || !submitted) throw std::runtime_error("missing node steps");
    sSeen.push_back(ms(*seen - r.validated));
    sVerified.push_back(ms(*verified - *seen));
    sProvisioned.push_back(ms(*provisioned - *verified));
    sCreateInNode.push_back(port.last());
    sReply.push_back(ms(r.replied - *provisioned));
    sReplySubmit.push_back(ms(*submitted - *provisioned));
    sReplyLedger.push_back(ms(r.replied - *submitted));
    sTotal.push_back(ms(r.replied - r.validated));
    overheadEach.push_back(sTotal.back() - port.last());
    sOwn.push_back(ms(*submitted - r.validated));
    sOwnOverhead.push_back(sOwn.back() - port.last());
    std::printf("  acquire %2d: total %7.1f ms (create in node %6.1f ms), baseline create %6.1f ms\n", i,
                sTotal.back(), port.last(), created);
    std::fflush(stdout);
    terminate(tenants[static_cast<size_t>(i)], r.id);
  }

  const double interval = opt.ledgerMs;
  if (opt.acquires > 0) {
    std::printf("\nacquire validated → reply validated, %d acquires (ms)      p50       p95\n", opt.acquires);
    printRow("validated → seen (board → node, recorded)", sSeen);
    printRow("seen → verified", sVerified);
    printRow("verified → provisioned (create inside)", sProvisioned);
    printRow("  of which Provisioner::create in node", sCreateInNode);
    printRow("provisioned → reply validated", sReply);
    printRow("  provisioned → reply submitted", sReplySubmit);
    printRow("  reply submitted → validated", sReplyLedger);
    printRow("total", sTotal);
    printRow("baseline: Provisioner::create alone", baseCreate);
    printRow("overhead per acquire (total − its create)", overheadEach);
    printRow("node's own: validated → reply submitted", sOwn);
    printRow("  minus its create (the node's work)", sOwnOverhead);
    for (double p : {0.5, 0.95}) {
      const double create = pct(baseCreate, p);
      const double overhead = pct(sTotal, p) - create;
      const double allowed = interval + 0.10 * create;
      std::printf(
          "  p%02d: total %.1f = %.2f × create %.1f; overhead %.1f ms vs allowed %.1f ms "
          "(ledger %.0f + 10 %% create): ratio %.2f %s\n",
          p == 0.5 ? 50 : 95, pct(sTotal, p), pct(sTotal, p) / create, create, overhead, allowed, interval,
          overhead / allowed, overhead <= allowed ? "PASS" : "FAIL");
    }
    std::fflush(stdout);
  }

  // ---- part 2: a flood of invalid requests ----
  if (opt.flood > 0 && !senders.empty()) {
    Account& aloneT = tenants[static_cast<size_t>(opt.acquires)];
    Account& floodT = tenants[static_cast<size_t>(opt.acquires + 1)];
    auto alone = acquire(aloneT, replyLimit);
    if (alone.replied == Clock::time_point{}) throw std::runtime_error("alone acquire: no reply");
    const double aloneMs = ms(alone.replied - alone.validated);

    // Pre-signed: half underpaid acquires (10 drops), half acquires whose memo is garbage.
    std::vector<std::vector<core::Bytes>> blobs(senders.size());
    for (int i = 0; i < opt.flood; ++i) {
      Account& s = senders[static_cast<size_t>(i) % senders.size()];
      if (i % 2 == 0) {
        blobs[static_cast<size_t>(i) % senders.size()].push_back(
            node::fakes::requestPayment(s.key, hostAddr, 10, s.sequence++,
                                        protocol::Message{node::fakes::acquireRequest("instance")}, hostKey));
      } else {
        core::Bytes junk(96);
        for (std::size_t k = 0; k < junk.size(); ++k)
          junk[k] = static_cast<std::uint8_t>((i * 31 + k * 7) & 0xff);
        auto d = node::fakes::paymentJson(s.key.address(), hostAddr, 1000, s.sequence++,
                                          {node::fakes::rawMemo("sashimono.acquire", "", junk)});
        blobs[static_cast<size_t>(i) % senders.size()].push_back(node::fakes::signJson(d, s.key));
      }
    }
    std::vector<std::unique_ptr<board::BoardClient>> clients;
    for (std::size_t k = 0; k < senders.size(); ++k) clients.push_back(newClient(devnet.url()));
    const auto floodStart = Clock::now();
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    std::string firstFailure;
    std::mutex failMu;
    for (std::size_t k = 0; k < senders.size(); ++k)
      threads.emplace_back([&, k] {
        for (const auto& b : blobs[k]) {
          try {
            (void)submit(*clients[k], b);
          } catch (const std::exception& e) {
            if (failures++ == 0) {
              std::lock_guard lk(failMu);
              firstFailure = e.what();
            }
          }
        }
      });
    for (auto& t : threads) t.join();
    const double submitMs = ms(Clock::now() - floodStart);
    if (failures > 0)
      std::printf("  flood: %d submits failed, first: %s\n", failures.load(), firstFailure.c_str());
    const auto floodLimit = std::chrono::seconds(opt.floodTimeoutS);
    auto flooded = acquire(floodT, floodLimit);
    std::set<std::string> senderAddrs;
    for (auto& s : senders) senderAddrs.insert(s.key.address());
    auto isFloodTx = [&](const SeenTx& t) {
      return t.destination == hostAddr && senderAddrs.count(t.account);
    };
    auto isRefund = [&](const SeenTx& t) {
      return t.account == hostAddr && senderAddrs.count(t.destination);
    };
    std::size_t floodValidated = 0, refunds = 0;
    auto lastFlood = observer.waitCount(isFloodTx, static_cast<size_t>(opt.flood), 5s, &floodValidated);
    const auto refundLimit = std::max(5000ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  floodStart + floodLimit - Clock::now()));
    auto lastRefund = observer.waitCount(isRefund, static_cast<size_t>(opt.flood), refundLimit, &refunds);
    auto [nVerified, firstVerified, lastVerified] = steps.span("verified", floodStart);
    auto [firstFloodLedger, lastFloodLedger] = observer.ledgerRange(isFloodTx);
    auto [nSigned, firstSigned, lastSigned] = steps.span("outbox.signed", floodStart);

    std::printf("\nflood: %d invalid requests (half underpaid, half malformed memo) from %zu accounts\n",
                opt.flood, senders.size());
    std::printf("  submitted in %.0f ms; %zu validated%s\n", submitMs, floodValidated,
                lastFlood ? "" : " (not all within 5 s of the last submit)");
    std::printf("  legit acquire alone                     %9.1f ms (validated → reply validated)\n",
                aloneMs);
    double delay = -1;
    if (flooded.replied != Clock::time_point{}) {
      const double floodedMs = ms(flooded.replied - flooded.validated);
      delay = floodedMs - aloneMs;
      std::printf("  legit acquire after the flood           %9.1f ms (%s)\n", floodedMs,
                  flooded.replyType.c_str());
      std::printf(
          "  ledgers: alone: acquire %u, reply %u (+%u); flooded: flood in %u..%u, acquire %u, reply %u "
          "(+%u)\n",
          alone.ledger, alone.replyLedger, alone.replyLedger - alone.ledger, firstFloodLedger,
          lastFloodLedger, flooded.ledger, flooded.replyLedger, flooded.replyLedger - flooded.ledger);
      if (alone.provisionStarted > alone.validated && flooded.provisionStarted > flooded.validated)
        std::printf(
            "  acquire validated → its create starts: alone %.1f ms, after the flood %.1f ms (+%.1f ms)\n",
            ms(alone.provisionStarted - alone.validated), ms(flooded.provisionStarted - flooded.validated),
            ms(flooded.provisionStarted - flooded.validated) - ms(alone.provisionStarted - alone.validated));
      std::printf("  delay %.1f ms vs goal < one ledger (%.0f ms): ratio %.2f %s\n", delay, interval,
                  delay / interval, delay < interval ? "PASS" : "FAIL");
    } else {
      std::printf("  legit acquire after the flood: NO REPLY within %d s: FAIL\n", opt.floodTimeoutS);
    }
    if (lastRefund && lastFlood)
      std::printf("  all %d refunds validated %.1f s after the last flood request was validated\n", opt.flood,
                  ms(*lastRefund - *lastFlood) / 1000);
    else
      std::printf("  refunds validated so far: %zu of %d (gave up after %d s)\n", refunds, opt.flood,
                  opt.floodTimeoutS);
    if (nVerified > 0)
      std::printf(
          "  node: %zu transactions verified (flood, legit, the host's own replies) over %.1f s (%.2f ms "
          "each); %zu replies signed over %.1f s "
          "(%.2f ms each)\n",
          nVerified, ms(lastVerified - firstVerified) / 1000,
          nVerified > 1 ? ms(lastVerified - firstVerified) / static_cast<double>(nVerified - 1) : 0.0,
          nSigned, ms(lastSigned - firstSigned) / 1000,
          nSigned > 1 ? ms(lastSigned - firstSigned) / static_cast<double>(nSigned - 1) : 0.0);
    std::fflush(stdout);
  }

  std::fprintf(stderr, "node_bench: stopping the node\n");
  const auto stopStart = Clock::now();
  bn.stop();
  std::fprintf(stderr, "node_bench: node stopped in %.0f ms\n", ms(Clock::now() - stopStart));
  return 0;
}

// Part 3, on the hostile board: forged signatures cannot reach the devnet (it checks them), so a
// second node, in-process as before (own store, same provisioner), listens to a
// node::fakes::HostileBoard on 127.0.0.1 that closes a ledger every --ledger-ms on its own
// thread and validates the node's replies. A legitimate acquire alone; then one ledger of
// --forged transactions with forged signatures (half with a TxnSignature byte altered, half
// signed by a key that does not own the Account; every one a well-formed acquire paying the
// price), the legitimate acquire LAST in that ledger. Validation times are the board's own close
// times (just before the ledger's first stream message leaves).
int runForged(const Options& opt, BenchHost& th) {
  const crypto::KeyPair hostKey = node::fakes::newEdKey();
  node::fakes::HostileBoard board(hostKey, 2);
  board.closeEvery(std::chrono::milliseconds(opt.ledgerMs));
  BenchNode bn(opt, th, hostKey, board.url());
  const node::HostConfig& c = bn.config;
  auto& port = bn.port;
  auto& steps = bn.steps;
  auto& service = bn.service;
  auto checkNode = [&] { bn.check(); };
  for (auto end = Clock::now() + 30s; !service->boardStatus().connected; std::this_thread::sleep_for(50ms)) {
    checkNode();
    checkInterrupted();
    if (Clock::now() > end) throw std::runtime_error("the node never connected to the hostile board");
  }
  // Two ledgers with nothing in them: the node's start-up (announcement, leftovers) is over.
  for (const auto first = board.lastClosed(); board.lastClosed() < first + 2;) {
    checkNode();
    checkInterrupted();
    std::this_thread::sleep_for(20ms);
  }

  const std::string hostAddr = hostKey.address();
  const auto limit = std::chrono::seconds(std::max(30, 20 * opt.ledgerMs / 1000));
  struct Run {
    Clock::time_point planned, validated, replied;
    std::uint32_t ledger = 0, replyLedger = 0;
    std::string replyType;
    std::optional<Clock::time_point> createStarts, provisioned, submitted;
  };
  // `before` and then a legitimate acquire from `a`, all into the next ledger.
  auto acquire = [&](Account& a, std::vector<node::fakes::Planned> before) {
    Run r;
    node::fakes::Planned legit;
    legit.blob =
        node::fakes::requestPayment(a.key, hostAddr, c.offer.pricePerMoment, a.sequence++,
                                    protocol::Message{node::fakes::acquireRequest("instance")}, hostKey);
    legit.delivered = c.offer.pricePerMoment;
    const crypto::Hash256 hash = ledger::transactionHash(legit.blob);
    before.push_back(std::move(legit));
    r.planned = Clock::now();
    board.plan(std::move(before));
    const auto end = Clock::now() + limit;
    std::optional<std::uint32_t> at;
    while (!(at = board.ledgerOf(hash))) {
      checkInterrupted();
      if (Clock::now() > end) throw std::runtime_error("the acquire was never validated");
      std::this_thread::sleep_for(2ms);
    }
    r.ledger = *at;
    r.validated = *board.closedAt(*at);
    const crypto::AccountId to = a.key.accountId();
    while (Clock::now() < end) {
      checkNode();
      checkInterrupted();
      for (const auto& p : board.hostPaymentsWithLedger()) {
        auto d = ledger::decodeTransaction(p.blob);
        if (!d || d->destination != to) continue;
        auto opened = node::fakes::openReply(*d, a.key);
        r.replyLedger = p.ledger;
        r.replied = *board.closedAt(p.ledger);
        r.replyType = opened ? std::string(protocol::messageTypeName(opened->type)) : "unreadable";
        break;
      }
      if (r.replyLedger != 0) break;
      std::this_thread::sleep_for(5ms);
    }
    if (r.replyLedger == 0) return r;
    if (port.lastStart() > r.validated) {
      r.createStarts = port.lastStart();
      r.provisioned = steps.first("provisioned", *r.createStarts);
      if (r.provisioned) r.submitted = steps.first("outbox.submitted", *r.provisioned);
    }
    return r;
  };
  auto show = [&](const char* name, const Run& r) {
    std::printf("  %-40s %9.1f ms (%s); validated → create starts %.1f ms, → reply submitted %.1f ms\n", name,
                ms(r.replied - r.validated), r.replyType.c_str(),
                r.createStarts ? ms(*r.createStarts - r.validated) : -1.0,
                r.submitted ? ms(*r.submitted - r.validated) : -1.0);
  };

  Account aloneT{node::fakes::newEdKey(), 1};
  Account floodT{node::fakes::newEdKey(), 1};
  auto alone = acquire(aloneT, {});
  if (alone.replyLedger == 0) throw std::runtime_error("forged part: the acquire alone got no reply");

  // The forgeries, built before the ledger they go into: from --flood-senders accounts (of the
  // board's imagination: it checks no balance), each a sealed acquire paying the price.
  std::vector<Account> senders;
  for (int i = 0; i < opt.floodSenders; ++i) senders.push_back({node::fakes::newEdKey(), 1});
  const crypto::KeyPair stranger = node::fakes::newEdKey();
  const auto buildStart = Clock::now();
  std::vector<node::fakes::Planned> forged;
  std::set<crypto::AccountId> forgers;
  for (int i = 0; i < opt.forged; ++i) {
    Account& s = senders[static_cast<std::size_t>(i) % senders.size()];
    forgers.insert(s.key.accountId());
    auto d = node::fakes::paymentJson(
        s.key.address(), hostAddr, c.offer.pricePerMoment, s.sequence++,
        {node::fakes::requestMemo(protocol::Message{node::fakes::acquireRequest("instance")}, hostKey)});
    node::fakes::Planned p;
    p.blob = i % 2 == 0 ? node::fakes::withBadSignature(node::fakes::signJson(d, s.key),
                                                        10 + static_cast<std::size_t>(i) % 50)
                        : node::fakes::signJson(d, stranger);
    p.delivered = c.offer.pricePerMoment;
    forged.push_back(std::move(p));
  }
  const double buildMs = ms(Clock::now() - buildStart);
  // Wait for a fresh ledger so that the plan is not split by a close already under way.
  for (const auto l = board.lastClosed(); board.lastClosed() == l;) std::this_thread::sleep_for(1ms);
  auto flooded = acquire(floodT, std::move(forged));

  // Some more ledgers: no forgery may be answered late either.
  for (const auto l = board.lastClosed(); board.lastClosed() < l + 3;) {
    checkNode();
    checkInterrupted();
    std::this_thread::sleep_for(20ms);
  }
  std::size_t answeredForged = 0;
  for (const auto& p : board.hostPaymentsWithLedger())
    if (auto d = ledger::decodeTransaction(p.blob); d && d->destination && forgers.count(*d->destination))
      ++answeredForged;
  // The node's work on the forgeries: what it verified between the ledger's close and the start
  // of the legitimate acquire's create.
  auto [nVerified, firstVerified, lastVerified] =
      steps.span("verified", flooded.validated, flooded.createStarts.value_or(Clock::now()));

  const double interval = opt.ledgerMs;
  std::printf(
      "\nforged: %d transactions with forged signatures (half a TxnSignature byte altered, half signed by "
      "a key that does not own the account) in one ledger of the hostile board, the legit acquire last "
      "in it (forgeries built in %.0f ms)\n",
      opt.forged, buildMs);
  show("legit acquire alone", alone);
  double delay = -1;
  if (flooded.replyLedger != 0) {
    show("legit acquire last after the forgeries", flooded);
    std::printf(
        "  ledgers: alone: acquire %u, reply %u (+%u); flooded: acquire %u (with %d forgeries), reply %u "
        "(+%u)\n",
        alone.ledger, alone.replyLedger, alone.replyLedger - alone.ledger, flooded.ledger, opt.forged,
        flooded.replyLedger, flooded.replyLedger - flooded.ledger);
    if (nVerified > 0)
      std::printf(
          "  node: %zu transactions verified (the forgeries, then the legit acquire) before its create "
          "started, the first %.1f ms and the last %.1f ms after the ledger closed\n",
          nVerified, ms(firstVerified - flooded.validated), ms(lastVerified - flooded.validated));
    std::printf("  replies to the forgeries: %zu (must be 0)\n", answeredForged);
    delay = ms(flooded.replied - flooded.validated) - ms(alone.replied - alone.validated);
    const bool pass = delay < interval && answeredForged == 0 && flooded.replyType == "sashimono.acquire.ok";
    std::printf("  delay %.1f ms vs goal < one ledger (%.0f ms): ratio %.2f %s\n", delay, interval,
                delay / interval, pass ? "PASS" : "FAIL");
    if (alone.submitted && flooded.submitted)
      std::printf(
          "  continuous: validated → reply submitted, flooded − alone = %.1f ms (ratio %.2f of a ledger)\n",
          ms(*flooded.submitted - flooded.validated) - ms(*alone.submitted - alone.validated),
          (ms(*flooded.submitted - flooded.validated) - ms(*alone.submitted - alone.validated)) / interval);
  } else {
    std::printf("  legit acquire after the forgeries: NO REPLY within %lld s: FAIL\n",
                static_cast<long long>(limit.count()));
  }
  std::fflush(stdout);

  std::fprintf(stderr, "node_bench: stopping the forged part's node\n");
  bn.stop();
  board.stopClosing();
  return 0;
}

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

}  // namespace

int main(int argc, char** argv) {
  Options opt;
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
    bool ok = true;
    if (k == "--acquires")
      ok = parseInt(v, 0, 1000, opt.acquires);
    else if (k == "--ledger-ms")
      ok = parseInt(v, 50, 60000, opt.ledgerMs);
    else if (k == "--tick-ms")
      ok = parseInt(v, 1, 60000, opt.tickMs);
    else if (k == "--flood")
      ok = parseInt(v, 0, 100000, opt.flood);
    else if (k == "--flood-senders")
      ok = parseInt(v, 1, 64, opt.floodSenders);
    else if (k == "--flood-timeout-s")
      ok = parseInt(v, 1, 3600, opt.floodTimeoutS);
    else if (k == "--forged")
      ok = parseInt(v, 0, 100000, opt.forged);
    else if (k == "--part")
      ok = (v == "all" || v == "devnet" || v == "forged") && (opt.part = v, true);
    else if (k == "--images")
      opt.images = v;
    else
      ok = false;
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
