// bench_runtime_bench, part 2: inputs per second with many users, (a) UserClient with a thread
// per user, (b) pipelined users on shared I/O threads, each beside `stat` round trips over the
// same connections; against an in-process instance or a separate `sashimono runtime` process.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "PipeUser.h"
#include "RuntimeBench.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/runtime/Config.h"

namespace sashimono::runtime_bench {
namespace {

// Warm-up 1 s, then `seconds` counted; the ledgers closed and the rounds' times are recorded.
template <typename Start, typename Stop>
Rate countFor(Target& b, double seconds, std::atomic<bool>& counting, std::atomic<std::uint64_t>& done,
              Start start, Stop stop) {
  Rate r;
  start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  (void)b.takeRounds();
  const auto seq0 = b.lcl();
  const auto c0 = cpuNow();
  const auto s0 = b.cpu();
  const auto t0 = Clock::now();
  counting = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  counting = false;
  r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto c1 = cpuNow();
  const auto s1 = b.cpu();
  r.ledgers = b.lcl() - seq0;
  r.cpuServer = s1.first - s0.first;
  r.cpuServerChildren = s1.second - s0.second;
  r.rounds = b.takeRounds();
  r.n = done.load();
  stop();
  r.rate = static_cast<double>(r.n) / r.seconds;
  r.cpuSelf = c1.self - c0.self;
  r.cpuChildren = c1.children - c0.children;
  r.machineBusyPct = c1.machineAll > c0.machineAll
                         ? 100.0 * (c1.machineBusy - c0.machineBusy) / (c1.machineAll - c0.machineAll)
                         : 0;
  return r;
}

}  // namespace

std::unique_ptr<Target> inProcessTarget(const std::string& bundleDir) {
  auto t = std::make_unique<Target>();
  t->bench = startInstance("tput", bundleDir);
  t->url = t->bench->url;
  return t;
}

std::unique_ptr<Target> runtimeProcessTarget(const std::string& bundleDir) {
  auto t = std::make_unique<Target>();
  t->dir = makeTempDir("proc");
  const std::string& d = t->dir;
  fs::create_directories(d + "/data");
  fs::create_directories(d + "/fs");
  auto key = InstanceKey::generate();
  auto owner = InstanceKey::generate();
  writeInstanceKey(d, key);
  InstanceConfig c;
  c.contractId = "bench-proc";
  c.logLevel = "debug";  // one line per round: its duration
  c.owner = owner.publicKey();
  c.keyFile = d + "/instance.key";
  c.user.listen = "127.0.0.1";
  c.user.port = 0;
  c.user.tls = "off";
  c.user.maxConnections = 512;
  c.user.maxConnectionsPerHost = 512;
  std::ofstream(d + "/instance.json") << renderInstanceConfig(c);
  t->log = d + "/out.log";
  const std::string& log = t->log;
  t->pid = spawnRuntime(d, log);
  const auto end = Clock::now() + std::chrono::seconds(30);
  std::size_t at = std::string::npos;
  std::string text;
  while ((at = (text = slurp(log)).find("user port ws ")) == std::string::npos) {
    if (Clock::now() > end) die("the runtime process did not open its port: " + text);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  t->url = "ws://127.0.0.1:" + std::to_string(std::atoi(text.c_str() + at + 13));
  // Deployed as its owner would: a bundle input.
  t->control = must(UserClient::connect(t->url, owner), "connecting as the owner");
  auto bundle = must(packDirectory(bundleDir), "packing " + bundleDir);
  auto archive = must(writeBundle(bundle), "writing the bundle");
  core::Bytes input(kBundleInputPrefix.begin(), kBundleInputPrefix.end());
  input.insert(input.end(), archive.begin(), archive.end());
  auto out = must(t->control->submit(input), "deploying");
  if (out.status != "accepted" || out.outputs.empty() ||
      core::asString(out.outputs[0]).find("deployed version") == std::string::npos)
    die("the bundle was not deployed: " + out.status + " " + out.reason);
  return t;
}

Throughput measureThroughput(Target& target, int users, int window, double seconds) {
  Throughput T;
  T.users = users;
  T.window = window;
  Target* b = &target;
  T.load0 = loadAvg();

  // (a) UserClient, every user on its own thread: send+await (one input in flight per user),
  //     beside stat() (one request in flight per user) over the same connections.
  {
    std::vector<std::unique_ptr<UserClient>> clients;
    for (int i = 0; i < users; ++i)
      clients.push_back(
          must(UserClient::connect(b->url, InstanceKey::generate()), "connecting user " + std::to_string(i)));
    std::printf("  UserClient: %d users connected, one request in flight each, load %s\n", users,
                loadAvg().c_str());
    std::fflush(stdout);
    for (bool inputs : {true, false}) {
      std::atomic<bool> stop{false}, counting{false}, failed{false};
      std::atomic<std::uint64_t> done{0};
      std::string failure;
      std::mutex failMu;
      std::vector<std::thread> ts;
      auto start = [&] {
        for (int i = 0; i < users; ++i) {
          ts.emplace_back([&, i] {
            auto& c = *clients[static_cast<std::size_t>(i)];
            std::uint64_t seq = b->lcl();
            const std::string text = "tput " + std::to_string(i);
            const core::Bytes in(text.begin(), text.end());
            while (!stop.load()) {
              std::string err;
              if (inputs) {
                auto h = c.send(in, c.nextNonce(), seq + 10);
                if (!h) {
                  err = h.error().message;
                } else {
                  auto out = c.await(*h);
                  if (!out)
                    err = out.error().message;
                  else if (out->status != "accepted")
                    err = "input " + out->status + " " + out->reason;
                  else if (out->outputs.size() != 1 || !out->verified)
                    err = "expected one verified output, got " + std::to_string(out->outputs.size());
                  else
                    seq = out->ledgerSeqNo;
                }
              } else {
                auto s = c.stat();
                if (!s) err = s.error().message;
              }
              if (!err.empty()) {
                std::lock_guard lock(failMu);
                failure = "user " + std::to_string(i) + ": " + err;
                failed = true;
                stop = true;
                return;
              }
              if (counting.load()) done.fetch_add(1);
            }
          });
        }
      };
      auto halt = [&] {
        stop = true;
        for (auto& t : ts) t.join();
        if (failed) die("throughput: " + failure);
      };
      (inputs ? T.oneInputs : T.oneStats) = countFor(*b, seconds, counting, done, start, halt);
    }
  }

  // (b) pipelined users: `window` requests in flight each.
  {
    // All pipelined users share `gClientThreads` I/O threads, as a load generator on another
    // machine would: 64 threads of their own would spend the cores the runtime is measured on.
    net::ClientContext context(gClientThreads);
    std::vector<std::unique_ptr<PipeUser>> pipes;
    for (int i = 0; i < users; ++i) pipes.push_back(PipeUser::connect(b->url, b->lcl(), &context));
    std::printf(
        "  pipelined: %d users connected, %d requests in flight each, %d client I/O thread(s), load %s\n",
        users, window, gClientThreads, loadAvg().c_str());
    std::fflush(stdout);
    for (bool inputs : {true, false}) {
      std::atomic<bool> counting{false};
      std::atomic<std::uint64_t> done{0};
      auto start = [&] {
        for (auto& p : pipes) p->run(inputs, window, &counting, &done);
      };
      auto halt = [&] {
        for (auto& p : pipes) p->drain();
      };
      (inputs ? T.pipeInputs : T.pipeStats) = countFor(*b, seconds, counting, done, start, halt);
    }
  }
  T.load1 = loadAvg();
  return T;
}

}  // namespace sashimono::runtime_bench
