// A dApp end to end, with real tenants: the devnet and `sashimono host run` as child processes;
// the developer leases a `hotpocket` instance with `sashimono lease acquire`, deploys the C++
// counter sample with `sashimono deploy --lease`, and the unmodified hotpocket-js-client
// (tests/interop/lib/hp-session.js) talks to it with the owner key and a second user key, in JSON
// and in BSON, trusting only the instance key: inputs accepted, outputs verified, reads answered.
// The runtime is killed (its supervisor starts it again) and, separately, the whole tenant is
// killed and re-provisioned by the node's reconcile: each time the counter continues and the
// ledger chain is unbroken. Then the JavaScript sample on a second lease: deployed, used, and
// replaced by a second version that keeps the state.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "HostRunFixture.h"
#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/host/Processes.h"
#include "fakes/node/Child.h"
#include "fakes/node/TestHostConfig.h"
#include "root/host/TenantTestSupport.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/runtime/InstanceKey.h"

namespace sashimono::node {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fakes::CliRun;
using fakes::runCli;
using host::fakes::processesWith;
using host::testing::TestHost;

const fs::path kSource = SASHIMONO_SOURCE_DIR;
const fs::path kBuild = fs::path(SASHIMONO_BINARY).parent_path().parent_path();

// Runs hp-session.js; returns its JSON lines (empty on failure, with the reason in `err`).
std::vector<std::string> hpSession(const std::string& url, const std::string& serverKey,
                                   const std::string& keyHex, const std::string& protocol,
                                   const std::vector<std::string>& ops, std::string& err) {
  fakes::Child c;
  std::vector<std::string> args{
      "/usr/bin/env", "node",  (kSource / "tests/interop/lib/hp-session.js").string(), url, serverKey,
      keyHex,         protocol};
  args.insert(args.end(), ops.begin(), ops.end());
  c.start(args, {});
  std::string out;
  int code = c.wait(out, 120s);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < out.size()) {
    auto end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    if (end > start && out[start] == '{') lines.push_back(out.substr(start, end - start));
    start = end + 1;
  }
  if (code != 0) {
    err = "hp-session exited " + std::to_string(code) + ": " + out;
    return {};
  }
  return lines;
}

std::string outputsOf(const std::string& line) {
  rapidjson::Document d;
  d.Parse(line.c_str());
  std::string s;
  if (d.IsObject() && d.HasMember("outputs"))
    for (const auto& o : d["outputs"].GetArray()) s += std::string(o.GetString()) + ";";
  if (d.IsObject() && d.HasMember("content")) s += d["content"].GetString();
  return s;
}

class NodeHotpocketTest : public testing::HostRunTest {
 protected:
  void SetUp() override {
    if (auto why = host::testing::missingPrerequisite(); !why.empty()) GTEST_SKIP() << why;
    if (!fs::exists(kSource / "tests/interop/node_modules/hotpocket-js-client"))
      GTEST_SKIP() << "hotpocket-js-client is not installed (tools/setup.sh)";
    if (!fs::exists(kBuild / "contracts-samples/counter/bundle/contract.json"))
      GTEST_SKIP() << "the counter sample is not built (ninja sample_counter)";
    host_ = std::make_unique<TestHost>();
    fakes::Child b;
    b.start({"/usr/bin/env", "bash", (kSource / "tools/build-image.sh").string(), "--out", host_->images,
             "--name", "hotpocket", "--sashimono", SASHIMONO_BINARY},
            {});
    std::string out;
    ASSERT_EQ(b.wait(out, 300s), 0) << out;
  }
};

TEST_F(NodeHotpocketTest, LeaseDeployTalkRestartReprovisionAndUpgrade) {
  TestHost& th = *host_;
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, 200);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const std::string hostSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  auto hostKey = *crypto::KeyPair::fromSeed(hostSeed);
  auto registry = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const std::string devSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  auto dev = *crypto::KeyPair::fromSeed(devSeed);
  for (const auto& a : {hostKey.address(), registry.address(), dev.address()})
    wallet.waitValidated(wallet.pay(a, 100'000'000));
  HostConfig c = fakes::testHostConfig(devnet.url(), dir_.path() + "/data", 2);
  c.offer.size = lease::InstanceSize{1000, 512, 0, 256};
  c.offer.momentSeconds = 600;
  c.policy.allowedImages = {"hotpocket"};
  confine(c);
  c.registryAccount = registry.address();
  auto path = fakes::writeTestHostConfig(c, dir_.path(), hostSeed);
  ASSERT_TRUE(path.ok()) << path.error().message;
  configPath_ = *path;
  logPath_ = dir_.path() + "/node.log";
  startNode();

  const std::string board = devnet.url();
  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  auto cli = [&](std::vector<std::string> args) { return runCli(std::move(args), env, 180s); };
  ASSERT_TRUE(announced(board, registry.address()));

  // The owner key (the developer's ed25519 wallet key) in Hot Pocket's form, and a second user.
  std::array<std::uint8_t, 32> ownerSeed{};
  std::copy_n(dev.ed25519SecretKey().begin(), 32, ownerSeed.begin());
  const std::string ownerHex = runtime::InstanceKey::fromSeed(ownerSeed).privateHex();
  const std::string otherHex = runtime::InstanceKey::generate().privateHex();

  auto acquire = [&](std::string& leaseId, std::string& url, std::string& serverKey) {
    CliRun acq =
        cli({"lease", "acquire", "--board", board, "--host", hostKey.address(), "--registry",
             registry.address(), "--image", "hotpocket", "--moments", "2", "--timeout", "120", "--json"});
    ASSERT_EQ(acq.code, 0) << acq.out;
    ASSERT_EQ(std::string(acq.json["result"].GetString()), "ok") << acq.out;
    leaseId = acq.json["lease_id"].GetString();
    url = "wss://127.0.0.1:" + std::to_string(acq.json["user_port"].GetUint());
    std::string k = acq.json["instance_key"].GetString();
    std::transform(k.begin(), k.end(), k.begin(), ::tolower);
    serverKey = k;
  };
  auto deploy = [&](const std::string& leaseId, const fs::path& dir) {
    CliRun d = cli({"deploy", "--lease", leaseId, "--board", board, "--dir", dir.string(), "--json"});
    ASSERT_EQ(d.code, 0) << d.out;
  };
  std::string err;
  auto session = [&](const std::string& url, const std::string& key, const std::string& userHex,
                     const std::string& protocol, const std::vector<std::string>& ops) {
    err.clear();
    return hpSession(url, key, userHex, protocol, ops, err);
  };

  // ---- C++ counter ----
  std::string lease1, url1, key1;
  acquire(lease1, url1, key1);
  if (HasFatalFailure()) return;
  deploy(lease1, kBuild / "contracts-samples/counter/bundle");
  if (HasFatalFailure()) return;
  int expected = 0;
  std::uint64_t lastLedger = 0;
  for (const std::string protocol : {"json", "bson"}) {
    for (const auto* user : {&ownerHex, &otherHex}) {
      auto lines = session(url1, key1, *user, protocol, {"input:inc", "read:get", "stat"});
      ASSERT_EQ(lines.size(), 3u) << err;
      ++expected;
      EXPECT_EQ(outputsOf(lines[0]), "counter: " + std::to_string(expected) + ";") << lines[0];
      EXPECT_EQ(outputsOf(lines[1]), "counter: " + std::to_string(expected)) << lines[1];
      rapidjson::Document d;
      d.Parse(lines[0].c_str());
      lastLedger = d["ledger"].GetUint64();
    }
  }
  auto chainUnbroken = [&](const std::string& url, const std::string& key, std::uint64_t upTo) {
    std::vector<std::string> ops;
    for (std::uint64_t s = 1; s <= upTo; ++s) ops.push_back("ledger:" + std::to_string(s));
    auto lines = session(url, key, otherHex, "json", ops);
    ASSERT_EQ(lines.size(), upTo) << err;
    std::string prev(64, '0');
    for (const auto& l : lines) {
      rapidjson::Document d;
      d.Parse(l.c_str());
      EXPECT_EQ(std::string(d["prevHash"].GetString()), prev) << l;
      prev = d["hash"].GetString();
    }
  };
  const std::string name1 = tenantNameFor(*protocol::parseHash256(lease1));
  auto info1 = th.prov->inspect(name1);
  ASSERT_TRUE(info1.ok());

  // The runtime dies: its supervisor starts it again; the counter and the chain continue.
  auto runtimes = processesWith("runtime --config /run/sashimono/instance.json", info1->uid);
  ASSERT_EQ(runtimes.size(), 2u) << "supervisor and worker";
  ::kill(runtimes.back(), SIGKILL);
  std::vector<std::string> after;
  for (int i = 0; i < 20 && after.empty(); ++i) {
    std::this_thread::sleep_for(500ms);
    after = session(url1, key1, ownerHex, "bson", {"input:inc"});
  }
  ASSERT_EQ(after.size(), 1u) << err;
  EXPECT_EQ(outputsOf(after[0]), "counter: " + std::to_string(++expected) + ";");
  rapidjson::Document ad;
  ad.Parse(after[0].c_str());
  EXPECT_GT(ad["ledger"].GetUint64(), lastLedger);
  lastLedger = ad["ledger"].GetUint64();
  chainUnbroken(url1, key1, lastLedger);

  // The whole tenant dies with the node; the node's reconcile provisions it again.
  node_.stop(SIGKILL);
  for (auto pid : processesWith("", info1->uid)) ::kill(pid, SIGKILL);
  for (auto pid : processesWith("", info1->contractHostUid)) ::kill(pid, SIGKILL);
  startNode();
  after.clear();
  for (int i = 0; i < 60 && after.empty(); ++i) {
    std::this_thread::sleep_for(500ms);
    after = session(url1, key1, otherHex, "json", {"input:inc"});
  }
  ASSERT_EQ(after.size(), 1u) << err;
  EXPECT_EQ(outputsOf(after[0]), "counter: " + std::to_string(++expected) + ";");
  ad.Parse(after[0].c_str());
  lastLedger = ad["ledger"].GetUint64();
  chainUnbroken(url1, key1, lastLedger);

  // ---- JavaScript counter, then its second version ----
  const fs::path js = testing::jsCounterBundle(dir_.path() + "/js-counter");
  std::string lease2, url2, key2;
  acquire(lease2, url2, key2);
  if (HasFatalFailure()) return;
  deploy(lease2, js);
  if (HasFatalFailure()) return;
  auto lines = session(url2, key2, ownerHex, "json", {"input:inc", "input:inc", "input:echo hi"});
  ASSERT_EQ(lines.size(), 3u) << err;
  EXPECT_EQ(outputsOf(lines[1]), "counter: 2;");
  EXPECT_EQ(outputsOf(lines[2]), "Echo: hi;");
  {
    std::ifstream in(js / "index.js");
    std::string code((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    code = std::regex_replace(code, std::regex("`Echo: "), "`Echo v2: ");
    std::ofstream(js / "index.js") << code;
    std::ofstream(js / "contract.json")
        << R"({"version":"2.0","bin_path":"/usr/bin/node","bin_args":"index.js"})";
  }
  deploy(lease2, js);
  if (HasFatalFailure()) return;
  lines = session(url2, key2, otherHex, "bson", {"input:echo hi", "input:inc"});
  ASSERT_EQ(lines.size(), 2u) << err;
  EXPECT_EQ(outputsOf(lines[0]), "Echo v2: hi;");
  EXPECT_EQ(outputsOf(lines[1]), "counter: 3;");
}

}  // namespace
}  // namespace sashimono::node
