// `sashimono cluster` end to end: the devnet, three host nodes running their instances as local
// processes (`host run --process-instances`, the real runtime) and the developer's CLI, all child
// processes on 127.0.0.1. The developer creates a cluster of three with the counter sample, checks
// that the members agree, sends an input through the second member, and terminates the cluster;
// the instance processes are gone afterwards.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Child.h"
#include "fakes/node/TestHostConfig.h"
#include "sashimono/core/File.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/runtime/InstanceKey.h"

namespace sashimono::cli {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

using node::fakes::Child;
using node::fakes::CliRun;
using node::fakes::runCli;

constexpr std::size_t kHosts = 3;

// The pids of the instance runtimes under `dir` (one runtime.pid per instance) that still run
// that instance (their command line names its directory).
std::vector<pid_t> runtimePids(const std::string& dir) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    auto text = core::readFile((e.path() / "runtime.pid").string());
    if (!text) continue;
    const auto pid = static_cast<pid_t>(std::atol(text->c_str()));
    auto cmdline = core::readFile("/proc/" + std::to_string(pid) + "/cmdline");
    if (pid > 1 && cmdline && cmdline->find(e.path().string()) != std::string::npos) out.push_back(pid);
  }
  return out;
}

bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  auto stat = core::readFile("/proc/" + std::to_string(pid) + "/stat");
  return stat && stat->find(") Z ") == std::string::npos;  // a zombie is gone for our purposes
}

// The devnet, a registry and three host nodes with two instance slots each, running instances as
// local processes, each host with its own port ranges.
class ClusterNet {
 public:
  ClusterNet()
      : genesis_(board::fakes::newGenesisSeed()),
        devnet_(SASHIMONO_BINARY, genesis_, 200),
        wallet_(devnet_.url(), genesis_),
        registry_(*crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519))) {
    std::vector<std::string> payments{wallet_.pay(registry_.address(), 100'000'000)};
    // Port ranges of 10 per host (5 user, 5 peer) in a block that depends on the pid, so that two
    // runs at once rarely meet (a port in use is skipped anyway).
    const auto base = static_cast<std::uint16_t>(30000 + (::getpid() % 500) * 40);
    for (std::size_t h = 0; h < kHosts; ++h) {
      const std::string seed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
      hosts_.push_back(*crypto::KeyPair::fromSeed(seed));
      payments.push_back(wallet_.pay(hosts_.back().address(), 100'000'000));
      const std::string dir = dir_.path() + "/h" + std::to_string(h);
      fs::create_directories(dir);
      node::HostConfig c = node::fakes::testHostConfig(devnet_.url(), dir + "/data");
      c.registryAccount = registry_.address();
      c.bindAddress = "127.0.0.1";
      if (h + 1 < kHosts) c.policy.allowedImages.push_back("other");  // the last host does not offer it
      const auto first = static_cast<std::uint16_t>(base + h * 10);
      c.userPorts = {first, static_cast<std::uint16_t>(first + 4)};
      c.peerPorts = {static_cast<std::uint16_t>(first + 5), static_cast<std::uint16_t>(first + 9)};
      configs_.push_back(*node::fakes::writeTestHostConfig(c, dir, seed));
      instanceDirs_.push_back(dir + "/instances");
      logs_.push_back(dir + "/node.log");
    }
    for (const auto& p : payments) wallet_.waitValidated(p);
    for (std::size_t h = 0; h < kHosts; ++h) {
      nodes_.push_back(std::make_unique<Child>());
      nodes_.back()->start({SASHIMONO_BINARY, "host", "run", "--config", configs_[h], "--process-instances",
                            instanceDirs_[h], "--tick-ms", "100"},
                           {}, logs_[h]);
    }
  }

  ~ClusterNet() {
    if (::testing::Test::HasFailure()) dumpLogs();
    // A node stops its instances when it stops (and they die with it if it is killed); whatever
    // is left is killed here, so a failing test leaves no process behind.
    for (auto& n : nodes_) n->signal(SIGTERM);
    for (auto end = std::chrono::steady_clock::now() + 15s; std::chrono::steady_clock::now() < end;) {
      bool any = false;
      for (auto& n : nodes_) any = n->running() || any;
      if (!any) break;
      std::this_thread::sleep_for(50ms);
    }
    for (auto& n : nodes_) n->stop(SIGKILL);
    for (const auto& d : instanceDirs_)
      for (pid_t pid : runtimePids(d))
        if (alive(pid)) ::kill(pid, SIGKILL);
  }
  ClusterNet(const ClusterNet&) = delete;
  ClusterNet& operator=(const ClusterNet&) = delete;

  void fund(const std::string& address) { wallet_.waitValidated(wallet_.pay(address, 100'000'000)); }

  // Waits until every host's announcement is in the registry.
  bool waitAnnounced() {
    for (auto end = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < end;) {
      CliRun hosts = runCli({"hosts", "--board", board(), "--registry", registry_.address(), "--json"}, {});
      if (hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() == kHosts) return true;
      std::this_thread::sleep_for(300ms);
    }
    return false;
  }

  [[nodiscard]] std::string board() const { return devnet_.url(); }
  [[nodiscard]] std::string registry() const { return registry_.address(); }
  [[nodiscard]] const std::string& dir() const { return dir_.path(); }
  [[nodiscard]] const crypto::KeyPair& host(std::size_t h) const { return hosts_[h]; }
  // The pids of every instance runtime of every host.
  [[nodiscard]] std::vector<pid_t> instancePids() const {
    std::vector<pid_t> out;
    for (const auto& d : instanceDirs_)
      for (pid_t p : runtimePids(d)) out.push_back(p);
    return out;
  }
  [[nodiscard]] std::size_t instanceCount() const {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& d : instanceDirs_)
      for (const auto& e : fs::directory_iterator(d, ec))
        n += e.path().filename().string().front() != '.' ? 1 : 0;
    return n;
  }
  // The membership file a host wrote for lease `leaseId` (empty if none).
  [[nodiscard]] std::string clusterFileOf(const std::string& leaseId) const {
    for (const auto& d : instanceDirs_)
      if (auto text = core::readFile(d + "/" + leaseId + "/cluster.json")) return *text;
    return {};
  }

 private:
  void dumpLogs() const {
    for (const auto& l : logs_) {
      std::ifstream in(l);
      std::cerr << "---- " << l << " ----\n" << in.rdbuf() << "\n";
    }
    std::error_code ec;
    for (const auto& d : instanceDirs_)
      for (const auto& e : fs::directory_iterator(d, ec)) {
        auto text = core::readFile((e.path() / "runtime.log").string());
        if (text) std::cerr << "---- " << e.path().string() << "/runtime.log ----\n" << *text << "\n";
      }
  }

  board::fakes::TempDir dir_;  // first: removed after every process is gone
  std::string genesis_;
  board::fakes::DevnetProcess devnet_;
  board::fakes::DevnetWallet wallet_;
  crypto::KeyPair registry_;
  std::vector<crypto::KeyPair> hosts_;
  std::vector<std::string> configs_;
  std::vector<std::string> instanceDirs_;
  std::vector<std::string> logs_;
  std::vector<std::unique_ptr<Child>> nodes_;
};

// The owner's user key file (Hot Pocket's form) for an ed25519 wallet seed: its reply key.
std::string writeOwnerKey(const std::string& path, const crypto::KeyPair& owner) {
  std::array<std::uint8_t, 32> seed{};
  std::copy(owner.ed25519SecretKey().begin(), owner.ed25519SecretKey().begin() + 32, seed.begin());
  std::ofstream(path) << runtime::InstanceKey::fromSeed(seed).privateHex() << "\n";
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace);
  return path;
}

// `cluster status --json` until every member agrees (a round may be closing while it asks).
CliRun statusUntilAgreed(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  CliRun st;
  for (auto end = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < end;) {
    st = runCli(args, env);
    if (st.code == 0) break;
    std::this_thread::sleep_for(300ms);
  }
  return st;
}

TEST(ClusterCliTest, CreateAgreeInputAndTerminateAClusterOfThree) {
  ClusterNet net;
  const std::string devSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto dev = *crypto::KeyPair::fromSeed(devSeed);
  net.fund(dev.address());
  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  ASSERT_TRUE(net.waitAnnounced());
  const std::string file = net.dir() + "/cluster.json";
  const std::string ownerKey = writeOwnerKey(net.dir() + "/owner.key", dev);

  // A host refuses (the image): create fails and terminates the lease the other host granted.
  CliRun refused = runCli({"cluster", "create", "--board", net.board(), "--host", net.host(0).address(),
                           "--host", net.host(kHosts - 1).address(), "--image", "other", "--bundle",
                           SASHIMONO_COUNTER_BUNDLE_DIR, "--out", file, "--timeout", "40"},
                          env, 90s);
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_EQ(net.instanceCount(), 0u);
  EXPECT_FALSE(fs::exists(file));

  // Create: three hosts picked from the registry, the counter deployed once.
  CliRun created =
      runCli({"cluster", "create", "--board", net.board(), "--registry", net.registry(), "--size", "3",
              "--bundle", SASHIMONO_COUNTER_BUNDLE_DIR, "--out", file, "--timeout", "40", "--json"},
             env, 90s);
  ASSERT_EQ(created.code, 0) << created.out;
  ASSERT_TRUE(created.json.IsObject()) << created.out;
  const auto& members = created.json["members"];
  ASSERT_EQ(members.Size(), 3u) << created.out;
  std::set<std::string> hostAccounts;
  for (const auto& m : members.GetArray()) {
    hostAccounts.insert(m["host_account"].GetString());
    EXPECT_EQ(std::string(m["host"].GetString()), "127.0.0.1");
    EXPECT_EQ(std::string(m["user_url"].GetString()).rfind("wss://127.0.0.1:", 0), 0u);
    // The host handed its instance the whole membership.
    const std::string cluster = net.clusterFileOf(m["lease_id"].GetString());
    for (const auto& other : members.GetArray())
      EXPECT_NE(cluster.find(other["instance_key"].GetString()), std::string::npos) << cluster;
  }
  EXPECT_EQ(hostAccounts.size(), 3u) << "three distinct hosts";
  auto onDisk = core::readFile(file);
  ASSERT_TRUE(onDisk.ok());
  rapidjson::Document d;
  d.Parse(onDisk->c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d["members"].Size(), 3u);
  EXPECT_EQ(net.instancePids().size(), 3u);

  // Status: all three reachable, with the UNL of three, on the same ledger.
  const std::vector<std::string> status{"cluster", "status", "--cluster", file, "--json"};
  CliRun st = statusUntilAgreed(status, env);
  ASSERT_EQ(st.code, 0) << st.out;
  ASSERT_TRUE(st.json.IsObject()) << st.out;
  EXPECT_TRUE(st.json["agree"].GetBool());
  for (const auto& m : st.json["members"].GetArray()) {
    EXPECT_EQ(std::string(m["state"].GetString()), "agrees") << st.out;
    EXPECT_EQ(m["unl_size"].GetUint64(), 3u) << st.out;
    EXPECT_GE(m["ledger_seq_no"].GetUint64(), 1u) << st.out;  // the deploy's ledger
  }

  // An input through the second member is counted once by the cluster.
  const std::string url2 = members[1]["user_url"].GetString();
  CliRun inc =
      runCli({"instance", "input", "--url", url2, "--key-file", ownerKey, "--timeout", "30", "inc"}, {});
  ASSERT_EQ(inc.code, 0) << inc.out;
  EXPECT_NE(inc.out.find("counter: 1"), std::string::npos) << inc.out;
  CliRun st2 = statusUntilAgreed(status, env);
  EXPECT_EQ(st2.code, 0) << st2.out;
  CliRun text = runCli({"cluster", "status", "--cluster", file}, {});  // any user key may ask
  EXPECT_EQ(text.code, 0) << text.out;
  std::size_t agreeing = 0;
  for (auto at = text.out.find("  agrees"); at != std::string::npos; at = text.out.find("  agrees", at + 1))
    ++agreeing;
  EXPECT_EQ(agreeing, 3u) << text.out;

  // add (a second instance on the first host) and remove it again.
  CliRun add = runCli({"cluster", "add", "--board", net.board(), "--cluster", file, "--host",
                       net.host(0).address(), "--timeout", "40", "--json"},
                      env, 90s);
  ASSERT_EQ(add.code, 0) << add.out;
  ASSERT_EQ(add.json["members"].Size(), 4u) << add.out;
  const std::string added = add.json["members"][3]["lease_id"].GetString();
  const std::string addedKey = add.json["members"][3]["instance_key"].GetString();
  EXPECT_EQ(std::string(add.json["members"][3]["host_account"].GetString()), net.host(0).address());
  EXPECT_EQ(net.instancePids().size(), 4u);
  for (const auto& m : add.json["members"].GetArray()) {  // every instance, the new one too, knows all four
    const std::string cluster = net.clusterFileOf(m["lease_id"].GetString());
    for (const auto& other : add.json["members"].GetArray())
      EXPECT_NE(cluster.find(other["instance_key"].GetString()), std::string::npos) << cluster;
  }
  // The new member synced the ledgers closed before it joined and agrees with the others.
  CliRun st4 = statusUntilAgreed(status, env);
  EXPECT_EQ(st4.code, 0) << st4.out;
  // remove takes it out again: the UNL without it, then its lease ends and the others get the
  // membership of three.
  CliRun rm = runCli({"cluster", "remove", "--board", net.board(), "--cluster", file, "--lease", added,
                      "--timeout", "40", "--json"},
                     env, 90s);
  ASSERT_EQ(rm.code, 0) << rm.out;
  EXPECT_EQ(rm.json["members"].Size(), 3u) << rm.out;
  EXPECT_EQ(net.instancePids().size(), 3u);
  EXPECT_EQ(net.clusterFileOf(added), "");
  for (const auto& m : rm.json["members"].GetArray())
    EXPECT_EQ(net.clusterFileOf(m["lease_id"].GetString()).find(addedKey), std::string::npos);
  CliRun st3 = statusUntilAgreed(status, env);
  EXPECT_EQ(st3.code, 0) << st3.out;

  // Terminate: every lease ends, the instance processes and their directories are gone.
  const auto pids = net.instancePids();
  CliRun term =
      runCli({"cluster", "terminate", "--board", net.board(), "--cluster", file, "--json"}, env, 90s);
  ASSERT_EQ(term.code, 0) << term.out;
  ASSERT_TRUE(term.json.IsArray()) << term.out;
  ASSERT_EQ(term.json.Size(), 3u) << term.out;
  for (const auto& r : term.json.GetArray())
    EXPECT_EQ(std::string(r["type"].GetString()), "sashimono.terminate.ok") << term.out;
  for (pid_t pid : pids) EXPECT_FALSE(alive(pid)) << "instance process " << pid << " still runs";
  EXPECT_EQ(net.instanceCount(), 0u);
  auto after = core::readFile(file);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->find("\"members\":[]"), std::string::npos) << *after;
}

}  // namespace
}  // namespace sashimono::cli
