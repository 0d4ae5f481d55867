// The whole product with real tenants: the devnet and `sashimono host run` (real provisioner:
// users, cgroups, disk images, statefs, rootless containerd) as child processes, and a developer
// using `sashimono lease …` — acquire → the instance serves on its port → extend → terminate
// (instance gone, unused moments refunded), and a second lease left to expire (instance
// destroyed, `expired` notice on the board). All on 127.0.0.1; the node's tenants use the test
// names of TestHost (user prefix, cgroup parent, base directory), which cleans them up.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "HostRunFixture.h"
#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Child.h"
#include "fakes/node/Tenant.h"
#include "fakes/node/TestHostConfig.h"
#include "root/host/TenantTestSupport.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;
using fakes::CliRun;
using fakes::runCli;
using host::testing::TestHost;

class NodeTenantsTest : public testing::HostRunTest {
 protected:
  void SetUp() override {
    if (auto why = host::testing::missingPrerequisite(); !why.empty()) GTEST_SKIP() << why;
    host_ = std::make_unique<TestHost>();
  }

  // The devnet, funded host/registry/developer accounts, and a host config offering
  // `instances` real instances (0.5 core, 128 MiB, 64 MiB disk) of moments of `momentSeconds`,
  // its tenants confined to TestHost's names and ports.
  void setUpNet(std::uint64_t momentSeconds, std::uint32_t instances = 2) {
    genesis_ = board::fakes::newGenesisSeed();
    devnet_ = std::make_unique<board::fakes::DevnetProcess>(SASHIMONO_BINARY, genesis_, 200);
    wallet_ = std::make_unique<board::fakes::DevnetWallet>(devnet_->url(), genesis_);
    hostSeed_ = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
    hostKey_ = *crypto::KeyPair::fromSeed(hostSeed_);
    registry_ = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
    devSeed_ = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
    dev_ = *crypto::KeyPair::fromSeed(devSeed_);
    for (const auto& a : {hostKey_->address(), registry_->address(), dev_->address()})
      wallet_->waitValidated(wallet_->pay(a, 100'000'000));
    HostConfig c = fakes::testHostConfig(devnet_->url(), dir_.path() + "/data", instances);
    c.offer.size = lease::InstanceSize{500, 128, 0, 64};
    c.offer.momentSeconds = momentSeconds;
    c.policy.allowedImages = {"instance"};
    confine(c);
    c.registryAccount = registry_->address();
    auto path = fakes::writeTestHostConfig(c, dir_.path(), hostSeed_);
    if (!path) throw std::runtime_error(path.error().message);
    configPath_ = *path;
    logPath_ = dir_.path() + "/node.log";
  }

  std::string genesis_;
  std::unique_ptr<board::fakes::DevnetProcess> devnet_;
  std::unique_ptr<board::fakes::DevnetWallet> wallet_;
  std::string hostSeed_;
  std::optional<crypto::KeyPair> hostKey_;
  std::optional<crypto::KeyPair> registry_;
  std::string devSeed_;
  std::optional<crypto::KeyPair> dev_;
};

bool tenantExists(TestHost& h, const std::string& name) {
  auto names = h.prov->list();
  return names.ok() && std::find(names->begin(), names->end(), name) != names->end();
}

TEST_F(NodeTenantsTest, AcquireServesExtendTerminateAndExpiryDestroys) {
  TestHost& th = *host_;
  setUpNet(5);
  const auto& hostKey = *hostKey_;
  const auto& registry = *registry_;
  const std::string& devSeed = devSeed_;
  const std::string configPath = configPath_;
  const auto& pr = th.prov->config().ports;
  startNode();

  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  const std::string board = devnet_->url();
  const std::vector<std::string> common{"--board",         board,        "--host",
                                        hostKey.address(), "--registry", registry.address(),
                                        "--timeout",       "60",         "--json"};
  auto lease = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "lease");
    args.insert(args.end(), common.begin(), common.end());
    return runCli(std::move(args), env);
  };

  // The node has started once its announcement is on the registry.
  ASSERT_TRUE(announced(board, registry.address())) << "the host never announced itself";

  // Acquire 4 moments (20 s): the reply names a port where the instance serves.
  const auto t0 = std::chrono::steady_clock::now();
  CliRun acq = lease({"acquire", "--image", "instance", "--moments", "4"});
  const auto acquireMs =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(acq.code, 0) << acq.out;
  ASSERT_TRUE(acq.json.IsObject()) << acq.out;
  ASSERT_EQ(std::string(acq.json["result"].GetString()), "ok") << acq.out;
  const std::string leaseId = acq.json["lease_id"].GetString();
  const auto userPort = static_cast<std::uint16_t>(acq.json["user_port"].GetUint());
  EXPECT_GE(userPort, pr.user.first);
  EXPECT_LE(userPort, pr.user.last);
  EXPECT_EQ(std::string(acq.json["host"].GetString()), "127.0.0.1");
  ASSERT_TRUE(host::testing::waitServing(userPort, 10000)) << "instance not serving on " << userPort;
  EXPECT_NE(host::testing::httpGet(userPort).find("sashimono instance"), std::string::npos);
  std::cerr << "acquire → reply (CLI, devnet closes every 200 ms): " << acquireMs << " ms\n";
  const std::string name = tenantNameFor(*protocol::parseHash256(leaseId));
  auto info = th.prov->inspect(name);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info->running);
  EXPECT_EQ(info->state, host::TenantState::kReady);
  const auto footprint = host::testing::footprintOf(*info);
  // The instance knows its lease and key (its environment, from the node).
  bool sawLease = false;
  for (const auto& e : info->spec.env) sawLease |= e == "SASHIMONO_LEASE_ID=" + leaseId;
  EXPECT_TRUE(sawLease);
  EXPECT_EQ(info->spec.image, "instance");

  // Extend by 2 moments: expiry moves 10 s.
  CliRun ext = lease({"extend", "--lease", leaseId, "--moments", "2"});
  ASSERT_EQ(ext.code, 0) << ext.out;
  EXPECT_EQ(std::string(ext.json["type"].GetString()), "sashimono.extend.ok") << ext.out;
  EXPECT_EQ(ext.json["expiry"].GetUint64(), acq.json["expiry"].GetUint64() + 10) << ext.out;
  EXPECT_TRUE(host::testing::waitServing(userPort, 2000));

  // Cluster: the instance reads its peers (itself and another host's) from /run/sashimono.
  const std::string self = std::string(acq.json["instance_key"].GetString());
  const std::string peerKey = "ED" + std::string(64, 'A');
  CliRun cl = lease({"cluster", "--lease", leaseId, "--member",
                     self + "@127.0.0.1:" + std::to_string(acq.json["peer_port"].GetUint()), "--member",
                     peerKey + "@peer.example.com:22000"});
  ASSERT_EQ(cl.code, 0) << cl.out;
  EXPECT_EQ(std::string(cl.json["type"].GetString()), "sashimono.cluster.ok") << cl.out;
  EXPECT_EQ(cl.json["members"].GetUint64(), 2u) << cl.out;
  std::string members;
  for (int tries = 0; tries < 50 && members.find(peerKey) == std::string::npos; ++tries) {
    auto r = th.prov->exec(name, {"/bin/cat", "/run/sashimono/cluster.json"});
    if (r.ok()) members = r->out;
    if (members.find(peerKey) == std::string::npos) std::this_thread::sleep_for(100ms);
  }
  rapidjson::Document cj;
  cj.Parse<rapidjson::kParseIterativeFlag>(members.c_str());
  ASSERT_TRUE(cj.IsObject()) << members;
  EXPECT_EQ(std::string(cj["lease"].GetString()), leaseId);
  ASSERT_EQ(cj["members"].Size(), 2u) << members;
  EXPECT_EQ(std::string(cj["members"][0]["key"].GetString()), self);
  EXPECT_EQ(std::string(cj["members"][1]["peer"].GetString()), "peer.example.com:22000");

  // Terminate: the instance is destroyed before the reply; unused whole moments come back.
  CliRun term = lease({"terminate", "--lease", leaseId});
  ASSERT_EQ(term.code, 0) << term.out;
  EXPECT_EQ(std::string(term.json["type"].GetString()), "sashimono.terminate.ok") << term.out;
  EXPECT_GE(term.json["refund"].GetUint64(), 1u + 3 * 1000) << term.out;
  EXPECT_FALSE(tenantExists(th, name));
  EXPECT_FALSE(host::testing::tcpConnects(userPort));
  host::testing::expectNoTraces(th, {footprint});

  // A one-moment lease left alone: destroyed at expiry, then the notice arrives.
  CliRun acq2 = lease({"acquire", "--image", "instance", "--moments", "1"});
  ASSERT_EQ(acq2.code, 0) << acq2.out;
  const std::string lease2 = acq2.json["lease_id"].GetString();
  const auto port2 = static_cast<std::uint16_t>(acq2.json["user_port"].GetUint());
  const auto expiry2 = acq2.json["expiry"].GetUint64();
  ASSERT_TRUE(host::testing::waitServing(port2, 10000));
  const std::string name2 = tenantNameFor(*protocol::parseHash256(lease2));
  auto info2 = th.prov->inspect(name2);
  ASSERT_TRUE(info2.ok()) << info2.error().message;
  const auto footprint2 = host::testing::footprintOf(*info2);
  bool notified = false;
  std::uint64_t expiredAt = 0;
  for (auto end = std::chrono::steady_clock::now() + 30s;
       !notified && std::chrono::steady_clock::now() < end;) {
    std::this_thread::sleep_for(500ms);
    CliRun list = runCli({"lease", "list", "--board", board, "--json"}, env);
    if (list.code != 0 || !list.json.IsObject() || !list.json.HasMember("notices")) continue;
    for (const auto& n : list.json["notices"].GetArray()) {
      if (n.HasMember("lease_id") && std::string(n["lease_id"].GetString()) == lease2 &&
          std::string(n["result"].GetString()) == "expired") {
        notified = true;
        expiredAt = n["expired_at"].GetUint64();
      }
    }
  }
  ASSERT_TRUE(notified) << "no expired notice for " << lease2;
  EXPECT_GE(expiredAt, expiry2);
  EXPECT_LE(expiredAt, expiry2 + 3);
  EXPECT_FALSE(tenantExists(th, name2));  // destroyed before the notice
  EXPECT_FALSE(host::testing::tcpConnects(port2));
  host::testing::expectNoTraces(th, {footprint2});

  // The node's view agrees: nothing leased, all capacity free.
  CliRun status = runCli({"host", "status", "--json", "--config", configPath}, {});
  ASSERT_EQ(status.code, 0) << status.out;
  EXPECT_EQ(status.json["leases"].GetUint(), 0u) << status.out;
  EXPECT_EQ(status.json["free"].GetUint(), 2u) << status.out;
  EXPECT_EQ(node_.stop(SIGTERM), 0) << "host run did not stop cleanly on SIGTERM";
}

}  // namespace
}  // namespace sashimono::node

namespace sashimono::node {
namespace {

// kill -9 of `host run` while it creates real tenants, again and again, then terminates: every
// request gets exactly one reply, the tenants that exist are exactly the leases the replies
// granted (nothing half-made survives the restarts), and after the terminates nothing of any
// test tenant is left on the machine.
TEST_F(NodeTenantsTest, KilledWhileProvisioningLeavesNoOrphanAndAnswersOnce) {
  TestHost& th = *host_;
  setUpNet(3600, 3);
  const auto& hostKey = *hostKey_;
  const auto tenant = fakes::newEdKey();
  wallet_->waitValidated(wallet_->pay(tenant.address(), 100'000'000));
  startNode();

  auto& client = wallet_->client();
  std::uint32_t seq = client.accountInfo(tenant.address(), false)->sequence;
  std::vector<crypto::Hash256> requests;
  auto send = [&](std::uint64_t drops, const protocol::Message& m) {
    auto blob = fakes::requestPayment(tenant, hostKey.address(), drops, seq++, m, hostKey);
    auto r = client.submit(blob);
    ASSERT_TRUE(r.ok() && r->engineResult == "tesSUCCESS");
    requests.push_back(ledger::transactionHash(blob));
  };
  auto replies = [&] {
    std::map<crypto::Hash256, std::vector<fakes::OpenedReply>> out;
    board::AccountTxQuery q;
    q.account = tenant.address();
    q.limit = 400;
    auto page = client.accountTx(q);
    if (!page) return out;
    for (const auto& t : page->transactions) {
      auto d = ledger::decodeTransaction(t.blob);
      if (!d || d->account != hostKey.accountId()) continue;
      auto r = fakes::openReply(*d, tenant);
      if (!r) continue;
      if (auto a = fakes::answered(r->message)) out[*a].push_back(*r);
    }
    return out;
  };
  auto waitAnswered = [&](std::size_t n) {
    for (auto end = std::chrono::steady_clock::now() + 90s; std::chrono::steady_clock::now() < end;) {
      if (replies().size() >= n) break;
      std::this_thread::sleep_for(200ms);
    }
    std::this_thread::sleep_for(1s);  // nothing more may come
    return replies();
  };

  // Four acquires for three slots (one must be refused: no capacity) and an underpaid one,
  // with the node killed three times while it creates their tenants.
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < 3; ++round) {
    if (round < 2) send(1000, fakes::acquireRequest("instance"));
    if (round == 0) send(1000, fakes::acquireRequest("instance"));
    if (round == 1) send(10, fakes::acquireRequest("instance"));
    if (round == 2) send(1000, fakes::acquireRequest("instance"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 500));
    node_.stop(SIGKILL);
    startNode();
  }
  auto r = waitAnswered(requests.size());
  ASSERT_TRUE(node_.running()) << "the node died";
  std::set<std::string> granted;
  int ok = 0, refused = 0;
  for (const auto& id : requests) {
    ASSERT_EQ(r[id].size(), 1u) << "request " << core::toHex(id);
    if (r[id][0].type == protocol::MessageType::acquireOk) {
      ++ok;
      granted.insert(tenantNameFor(id));
    } else {
      ++refused;
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(refused, 2);
  // The tenants on the machine are exactly the granted leases, each ready and serving.
  auto names = th.prov->list();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(std::set<std::string>(names->begin(), names->end()), granted);
  std::vector<host::testing::Footprint> footprints;
  for (const auto& n : granted) {
    auto info = th.prov->inspect(n);
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(info->state, host::TenantState::kReady) << n;
    EXPECT_TRUE(info->running) << n;
    EXPECT_TRUE(host::testing::waitServing(host::testing::userPort(*info), 10000)) << n;
    footprints.push_back(host::testing::footprintOf(*info));
  }

  // Terminate them all (the node killed once more in the middle): nothing of any tenant is left.
  const std::size_t before = requests.size();
  for (const auto& id : std::vector<crypto::Hash256>(requests.begin(), requests.end()))
    if (r[id][0].type == protocol::MessageType::acquireOk)
      send(1, protocol::TerminateRequest{id, std::nullopt});
  std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 300));
  node_.stop(SIGKILL);
  startNode();
  r = waitAnswered(requests.size());
  for (std::size_t i = before; i < requests.size(); ++i) {
    ASSERT_EQ(r[requests[i]].size(), 1u) << "terminate " << core::toHex(requests[i]);
    EXPECT_EQ(r[requests[i]][0].type, protocol::MessageType::terminateOk);
  }
  EXPECT_TRUE(th.prov->list()->empty());
  host::testing::expectNoTraces(th, footprints);
  // What the restarts found (for the record: half-made tenants removed, drift repaired).
  std::ifstream log(logPath_);
  for (std::string line; std::getline(log, line);)
    if (line.find("host run: tenants:") != std::string::npos || line.find("drift") != std::string::npos)
      std::cerr << "  " << line.substr(line.find(' ') + 1) << "\n";
  EXPECT_EQ(node_.stop(SIGTERM), 0);
}

}  // namespace
}  // namespace sashimono::node
