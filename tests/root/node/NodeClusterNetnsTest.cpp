// A dApp cluster on five simulated hosts (docs/CLUSTER.md, "Proof on simulated hosts"): each host
// is a `sashimono host run` in its own network namespace on a bridge the test made (NetnsLab.h),
// with real tenants (own users, rootless containerd, statefs, the `hotpocket` image) whose ports
// are forwarded on the host's address; the devnet listens on the bridge. The developer creates
// the cluster with `sashimono cluster create --size 5` from the JavaScript counter sample and
// talks to it with the unmodified hotpocket-js-client trusting the whole UNL
// (tests/interop/lib/cluster-session.js):
//   - inputs sent to all five members at once are each applied once, in one order everywhere
//     (the same ledger hashes on every member), with verified outputs; NPL reaches 5 of 5;
//   - one member's runtime frozen (SIGSTOP): the other four close ledgers; then killed and started
//     again by its supervisor: it fetches what it missed and agrees again;
//   - the owner lowers the threshold to 60 %; two hosts' links are taken down: the three go on,
//     the two (asked from inside their own namespaces) close nothing; the links come back up:
//     every member has the same chain and the same counter;
//   - `cluster terminate` ends every lease and the hosts remove every tenant.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "HostRunFixture.h"
#include "NetnsLab.h"
#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/host/Processes.h"
#include "fakes/node/Child.h"
#include "fakes/node/TestHostConfig.h"
#include "root/host/TenantTestSupport.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/host/TenantLayout.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/runtime/InstanceKey.h"

namespace sashimono::node {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fakes::Child;
using fakes::CliRun;
using fakes::runCli;
using host::testing::TestHost;
using testing::NetnsLab;

const fs::path kSource = SASHIMONO_SOURCE_DIR;
constexpr std::size_t kHosts = 5;

struct Line {
  rapidjson::Document d;
  std::string text;
};

class NodeClusterNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = host::testing::missingPrerequisite(); !why.empty()) GTEST_SKIP() << why;
    if (auto why = NetnsLab::missingPrerequisite(); !why.empty()) GTEST_SKIP() << why;
    if (!fs::exists(kSource / "tests/interop/node_modules/hotpocket-js-client"))
      GTEST_SKIP() << "hotpocket-js-client is not installed (tools/setup.sh)";
    images_ = "/tmp/smtest-img-" + std::to_string(::getpid()) + "c";
    lab_ = std::make_unique<NetnsLab>(kHosts);
    for (std::size_t i = 0; i < kHosts; ++i)
      hosts_.push_back(std::make_unique<TestHost>(std::string(1, static_cast<char>('a' + i)), images_));
    Child b;
    b.start({"/usr/bin/env", "bash", (kSource / "tools/build-image.sh").string(), "--out", images_, "--name",
             "hotpocket", "--sashimono", SASHIMONO_BINARY},
            {});
    std::string out;
    ASSERT_EQ(b.wait(out, 300s), 0) << out;
  }

  void TearDown() override {
    for (auto& n : nodes_) n->stop(SIGKILL);
    if (HasFailure())
      for (const auto& l : logs_) {
        std::ifstream in(l);
        std::cerr << "---- " << l << " ----\n" << in.rdbuf() << "\n";
      }
    for (auto& h : hosts_) h->cleanup();
    lab_.reset();
    std::error_code ec;
    fs::remove_all(images_, ec);
  }

  // cluster-session.js with `ops` (a JSON array), run in host `on`'s namespace if given: its lines.
  std::vector<std::unique_ptr<Line>> session(const std::string& ops, std::optional<std::size_t> on = {},
                                             bool mayFail = false) {
    std::string spec = "{\"unl\":[";
    for (std::size_t i = 0; i < unl_.size(); ++i) spec += (i ? ",\"" : "\"") + unl_[i] + "\"";
    spec += "],\"owner\":\"" + ownerHex_ + "\",\"ops\":" + ops + "}";
    std::vector<std::string> args;
    if (on) args = lab_->on(*on);
    args.insert(args.end(), {"/usr/bin/env", "node"});
    args.push_back((kSource / "tests/interop/lib/cluster-session.js").string());
    args.push_back(spec);
    Child c;
    c.start(args, {});
    std::string out;
    const int code = c.wait(out, 240s);
    if (code != 0 && !mayFail)
      ADD_FAILURE() << "cluster-session exited " << code << " on " << ops << ":\n" << out;
    std::vector<std::unique_ptr<Line>> lines;
    if (code != 0) return lines;
    std::size_t start = 0;
    while (start < out.size()) {
      auto end = out.find('\n', start);
      if (end == std::string::npos) end = out.size();
      if (end > start && out[start] == '{') {
        auto l = std::make_unique<Line>();
        l->text = out.substr(start, end - start);
        l->d.Parse(l->text.c_str());
        lines.push_back(std::move(l));
      }
      start = end + 1;
    }
    return lines;
  }
  // One op of cluster-session.js; `extra` are more fields (",\"as\":\"owner\"").
  static std::string op(const std::string& url, const std::string& verb, const std::string& arg,
                        const std::string& extra = "") {
    return R"({"url":")" + url + R"(",")" + verb + R"(":)" + arg + extra + "}";
  }
  static std::string quoted(const std::string& s) { return "\"" + s + "\""; }

  // Every member's last closed ledger, from the test's namespace: seq per member (0 on failure).
  std::vector<std::uint64_t> lcls() {
    std::string ops = "[{\"parallel\":[";
    for (std::size_t i = 0; i < urls_.size(); ++i) ops += (i ? "," : "") + op(urls_[i], "lcl", "true");
    ops += "]}]";
    std::vector<std::uint64_t> out(urls_.size(), 0);
    auto lines = session(ops, {}, true);
    for (std::size_t i = 0; i < lines.size() && i < out.size(); ++i)
      out[i] = lines[i]->d["seqNo"].GetUint64();
    return out;
  }
  // Waits until every member has closed the same last ledger: that seq (0 on timeout).
  std::uint64_t waitSameLcl(std::chrono::seconds limit) {
    for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
      auto l = lcls();
      if (l[0] > 0 && std::all_of(l.begin(), l.end(), [&](auto s) { return s == l[0]; })) return l[0];
      std::this_thread::sleep_for(500ms);
    }
    ADD_FAILURE() << "the members did not come to one last closed ledger";
    return 0;
  }
  // Ledgers 1..upTo are the same on every member (hashes) and chained.
  void expectOneChain(std::uint64_t upTo) {
    std::string ops = "[";
    for (std::size_t i = 0; i < urls_.size(); ++i)
      for (std::uint64_t s = 1; s <= upTo; ++s)
        ops += std::string(ops.size() > 1 ? "," : "") + op(urls_[i], "ledger", std::to_string(s));
    ops += "]";
    auto lines = session(ops);
    ASSERT_EQ(lines.size(), urls_.size() * upTo);
    for (std::uint64_t s = 0; s < upTo; ++s) {
      const std::string hash = lines[s]->d["hash"].GetString();
      if (s > 0) {
        EXPECT_EQ(std::string(lines[s]->d["prevHash"].GetString()), lines[s - 1]->d["hash"].GetString());
      }
      for (std::size_t i = 1; i < urls_.size(); ++i)
        EXPECT_EQ(std::string(lines[i * upTo + s]->d["hash"].GetString()), hash)
            << "ledger " << s + 1 << " differs on member " << i;
    }
  }
  // Every member's counter (a read request) is `value`.
  void expectCounter(long value) {
    std::string ops = "[{\"parallel\":[";
    for (std::size_t i = 0; i < urls_.size(); ++i)
      ops += (i ? "," : "") + op(urls_[i], "read", quoted("get"));
    ops += "]}]";
    auto lines = session(ops);
    ASSERT_EQ(lines.size(), urls_.size());
    for (const auto& l : lines)
      EXPECT_EQ(std::string(l->d["content"].GetString()), "counter: " + std::to_string(value)) << l->text;
  }

  std::string images_;
  std::unique_ptr<NetnsLab> lab_;
  std::vector<std::unique_ptr<TestHost>> hosts_;
  std::vector<std::unique_ptr<Child>> nodes_;
  std::vector<std::string> logs_;
  std::vector<std::string> unl_, urls_;
  std::string ownerHex_;
  board::fakes::TempDir dir_;
};

TEST_F(NodeClusterNetnsTest, FiveHostsCreateAgreeSurviveAKillAndAPartition) {
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, 200, {}, lab_->gateway());
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  auto registry = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const std::string devSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  auto dev = *crypto::KeyPair::fromSeed(devSeed);
  std::vector<std::string> hostSeeds;
  std::vector<std::string> payments{wallet.pay(registry.address(), 100'000'000),
                                    wallet.pay(dev.address(), 100'000'000)};
  for (std::size_t i = 0; i < kHosts; ++i) {
    hostSeeds.push_back(crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519)));
    payments.push_back(wallet.pay(crypto::KeyPair::fromSeed(hostSeeds.back())->address(), 100'000'000));
  }
  for (const auto& p : payments) wallet.waitValidated(p);

  // Five hosts, one instance each, announced and listening on their own addresses.
  for (std::size_t i = 0; i < kHosts; ++i) {
    TestHost& th = *hosts_[i];
    const std::string dir = dir_.path() + "/h" + std::to_string(i);
    fs::create_directories(dir);
    HostConfig c = fakes::testHostConfig(devnet.url(), dir + "/data", 1);
    c.offer.size = lease::InstanceSize{1000, 512, 0, 256};
    c.offer.momentSeconds = 600;
    c.registryAccount = registry.address();
    c.imagesDir = images_;
    const auto& pr = th.prov->config().ports;
    c.userPorts = {pr.user.first, pr.user.last};
    c.peerPorts = {pr.peer.first, pr.peer.last};
    c.generalPorts = {pr.generalTcp.first, pr.generalTcp.last};
    c.generalPerInstance = 1;
    c.address = c.bindAddress = lab_->address(i);
    auto path = fakes::writeTestHostConfig(c, dir, hostSeeds[i]);
    ASSERT_TRUE(path.ok()) << path.error().message;
    logs_.push_back(dir + "/node.log");
    std::vector<std::string> args = lab_->on(i);
    args.insert(args.end(),
                {SASHIMONO_BINARY, "host", "run", "--config", *path, "--tenants-dir", th.base,
                 "--tenant-prefix", th.prefix, "--cgroup-parent", th.cgroupParent, "--tick-ms", "100"});
    nodes_.push_back(std::make_unique<Child>());
    nodes_.back()->start(args, {}, logs_.back());
  }
  const std::string board = devnet.url();
  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  bool listed = false;
  for (auto end = std::chrono::steady_clock::now() + 60s;
       !listed && std::chrono::steady_clock::now() < end;) {
    CliRun hosts = runCli({"hosts", "--board", board, "--registry", registry.address(), "--json"}, {});
    listed = hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() == kHosts;
    if (!listed) std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(listed) << "five hosts announced";

  // The JavaScript counter with hotpocket-nodejs-contract, as the developer would ship it.
  const fs::path js = testing::jsCounterBundle(dir_.path() + "/js-counter");
  const std::string clusterFile = dir_.path() + "/cluster.json";
  CliRun created = runCli(
      {"cluster", "create", "--board", board, "--registry", registry.address(), "--size", "5", "--image",
       "hotpocket", "--bundle", js.string(), "--out", clusterFile, "--timeout", "180", "--json"},
      env, 300s);
  ASSERT_EQ(created.code, 0) << created.out;
  ASSERT_TRUE(created.json.IsObject()) << created.out;
  const auto& members = created.json["members"];
  ASSERT_EQ(members.Size(), kHosts) << created.out;
  std::set<std::string> addresses;
  std::vector<std::size_t> hostOf;  // member → host index
  for (const auto& m : members.GetArray()) {
    std::string k = m["instance_key"].GetString();
    std::transform(k.begin(), k.end(), k.begin(), ::tolower);
    unl_.push_back(k);
    urls_.push_back(m["user_url"].GetString());
    const std::string host = m["host"].GetString();
    addresses.insert(host);
    for (std::size_t i = 0; i < kHosts; ++i)
      if (lab_->address(i) == host) hostOf.push_back(i);
    EXPECT_EQ(urls_.back().rfind("wss://" + host + ":", 0), 0u) << urls_.back();
  }
  ASSERT_EQ(addresses.size(), kHosts) << "one member on each simulated host";
  ASSERT_EQ(hostOf.size(), kHosts);
  std::array<std::uint8_t, 32> ownerSeed{};
  std::copy_n(dev.ed25519SecretKey().begin(), 32, ownerSeed.begin());
  ownerHex_ = runtime::InstanceKey::fromSeed(ownerSeed).privateHex();

  // Inputs to all five members at once, twice: each applied once; NPL between all contracts.
  long counter = 0;
  {
    std::string ops = "[";
    for (int round = 0; round < 2; ++round) {
      ops += std::string(round ? "," : "") + "{\"parallel\":[";
      for (std::size_t i = 0; i < kHosts; ++i) ops += (i ? "," : "") + op(urls_[i], "input", quoted("inc"));
      ops += "]}";
    }
    ops += "," + op(urls_[2], "input", quoted("npl hello")) + "]";
    auto lines = session(ops);
    ASSERT_EQ(lines.size(), 2 * kHosts + 1);
    counter = 2 * kHosts;
    EXPECT_EQ(std::string(lines.back()->d["outputs"][0].GetString()), "npl: hello from 5 of 5 members")
        << lines.back()->text;
  }
  expectCounter(counter);
  std::uint64_t lcl = waitSameLcl(30s);
  ASSERT_GT(lcl, 0u);
  expectOneChain(lcl);

  // Member 4's runtime frozen: the other four (4 of 5 = the 80 % threshold) still close ledgers.
  const std::size_t frozen = 4;
  TestHost& fh = *hosts_[hostOf[frozen]];
  auto names = fh.prov->list();
  ASSERT_TRUE(names.ok() && names->size() == 1u);
  auto info = fh.prov->inspect(names->front());
  ASSERT_TRUE(info.ok());
  auto runtimes = host::fakes::processesWith("runtime --config /run/sashimono/instance.json", info->uid);
  ASSERT_EQ(runtimes.size(), 2u) << "supervisor and worker";
  for (pid_t p : runtimes) ::kill(p, SIGSTOP);
  {
    std::string ops = "[";
    for (std::size_t i = 0; i < 4; ++i) ops += (i ? "," : "") + op(urls_[i], "input", quoted("inc"));
    ops += "]";
    auto lines = session(ops);
    ASSERT_EQ(lines.size(), 4u);
    counter += 4;
    EXPECT_EQ(std::string(lines.back()->d["outputs"][0].GetString()), "counter: " + std::to_string(counter));
    EXPECT_GT(lines.back()->d["ledger"].GetUint64(), lcl);
  }
  // Killed; its supervisor starts it again and it catches up (ledgers and state from the others).
  ::kill(runtimes.back(), SIGKILL);
  ::kill(runtimes.front(), SIGCONT);
  lcl = waitSameLcl(90s);
  expectCounter(counter);
  {
    // It fetched what it missed (ledgers counted, state) rather than running those rounds again.
    const std::string log =
        host::testing::slurp(host::tenantLayout(fh.base, fh.prefix, names->front()).logDir + "/instance.log");
    EXPECT_TRUE(std::regex_search(log, std::regex("synced from ed[0-9a-f]+: [1-9][0-9]* ledger\\(s\\)")))
        << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
  }
  {
    auto lines = session("[" + op(urls_[frozen], "input", quoted("inc")) + "]");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(std::string(lines[0]->d["outputs"][0].GetString()), "counter: " + std::to_string(++counter));
  }

  // The owner lowers the threshold to 60 % (3 of 5).
  {
    auto lines = session(
        "[" + op(urls_[0], "input", R"("sashimono.unl/1\n{\"threshold\":60}")", R"(,"as":"owner")") + "]");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(std::string(lines[0]->d["outputs"][0].GetString()), "sashimono: threshold 60 %")
        << lines[0]->text;
  }
  lcl = waitSameLcl(30s);
  ASSERT_GT(lcl, 0u);

  // Two hosts cut off: the three go on; the two, asked from inside their own namespaces, close
  // nothing (an input there is not accepted, their last ledger stays).
  const std::vector<std::size_t> cut{3, 4};
  for (auto m : cut) lab_->link(hostOf[m], false);
  {
    // hotpocket-js-client verifies an output only with 80 % of the keys it trusts, and a trusted
    // member's handshake makes them the whole UNL: three signatures of five never pass, so these
    // clients do not verify (the chain is compared once healed).
    std::string ops = "[{\"parallel\":[";
    for (std::size_t i = 0; i < 3; ++i)
      ops += (i ? "," : "") + op(urls_[i], "input", quoted("inc"), R"(,"trust":"none")");
    ops += "]}]";
    auto lines = session(ops);
    ASSERT_EQ(lines.size(), 3u);
    counter += 3;
    for (const auto& l : lines) EXPECT_GT(l->d["ledger"].GetUint64(), lcl) << l->text;
  }
  for (auto m : cut) {
    auto lines =
        session("[" + op(urls_[m], "input", quoted("echo cut off"), R"(,"expect":"none","ms":4000)") + "," +
                    op(urls_[m], "lcl", "true") + "]",
                hostOf[m]);
    ASSERT_EQ(lines.size(), 2u) << "member " << m;
    EXPECT_EQ(lines[1]->d["seqNo"].GetUint64(), lcl) << "member " << m << " closed a ledger while cut off";
  }
  // Healed: one chain, one counter, and the cut-off members serve again.
  for (auto m : cut) lab_->link(hostOf[m], true);
  lcl = waitSameLcl(120s);
  ASSERT_GT(lcl, 0u);
  expectOneChain(lcl);
  expectCounter(counter);
  // The owner restores 80 % (any three may sign that round: its output is not verified), and a
  // member that was cut off takes inputs again, with outputs the whole UNL verifies.
  {
    auto lines = session(
        "[" +
        op(urls_[0], "input", R"("sashimono.unl/1\n{\"threshold\":80}")", R"(,"as":"owner","trust":"none")") +
        "]");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(std::string(lines[0]->d["outputs"][0].GetString()), "sashimono: threshold 80 %")
        << lines[0]->text;
  }
  {
    auto lines = session("[" + op(urls_[3], "input", quoted("inc")) + "]");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(std::string(lines[0]->d["outputs"][0].GetString()), "counter: " + std::to_string(++counter));
  }

  // Terminate: every lease ends and every host removes its tenant.
  CliRun term =
      runCli({"cluster", "terminate", "--board", board, "--cluster", clusterFile, "--json"}, env, 120s);
  ASSERT_EQ(term.code, 0) << term.out;
  ASSERT_TRUE(term.json.IsArray() && term.json.Size() == kHosts) << term.out;
  for (auto& h : hosts_) {
    bool gone = false;
    for (auto end = std::chrono::steady_clock::now() + 60s;
         !gone && std::chrono::steady_clock::now() < end;) {
      auto left = h->prov->list();
      gone = left.ok() && left->empty();
      if (!gone) std::this_thread::sleep_for(250ms);
    }
    EXPECT_TRUE(gone) << "host " << h->tag << " still has a tenant";
  }
}

}  // namespace
}  // namespace sashimono::node
