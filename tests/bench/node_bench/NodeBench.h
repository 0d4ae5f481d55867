#pragma once
// What the parts of bench_node_bench (tests/bench/node_bench.cpp, which documents the
// measurements) share: the options, small helpers, the node's step log, a timing provisioner
// port, accounts, and the node under test in-process.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "BenchHost.h"
#include "bench/BenchUtil.h"
#include "fakes/board/DevnetProcess.h"
#include "sashimono/board/BoardClient.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/node/NodeService.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::node_bench {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Set by SIGINT/SIGTERM; checkInterrupted() then throws.
extern std::atomic<bool> gInterrupted;
void checkInterrupted();

using bench::ms;
using bench::pct;
using bench::slurp;

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

core::Bytes terminatePayment(Account& a, const crypto::KeyPair& host, const crypto::Hash256& lease);
std::string submit(board::BoardClient& c, const core::Bytes& blob);
std::unique_ptr<board::BoardClient> newClient(const std::string& url);
void printRow(const char* name, const std::vector<double>& v);

// The node's config for the benchmark: `host init`'s offer and size, `host run`'s defaults.
node::HostConfig benchConfig(const std::string& boardUrl, const std::string& images,
                             const std::string& dataDir);

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
  // Waits up to 30 s for the node's board to be connected (its first ledger finished); then
  // throws `failure`.
  void waitConnected(const char* failure) {
    for (auto end = Clock::now() + 30s; !service->boardStatus().connected;
         std::this_thread::sleep_for(50ms)) {
      check();
      checkInterrupted();
      if (Clock::now() > end) throw std::runtime_error(failure);
    }
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

// Parts 1 and 2, on the devnet (Devnet.cpp).
int runDevnet(const Options& opt, BenchHost& th);
// Part 3, on the hostile board (Forged.cpp).
int runForged(const Options& opt, BenchHost& th);

}  // namespace sashimono::node_bench
