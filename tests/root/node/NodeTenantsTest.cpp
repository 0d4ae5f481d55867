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
#include <string>
#include <thread>
#include <vector>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Child.h"
#include "fakes/node/TestHostConfig.h"
#include "root/host/TenantTestSupport.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;
using fakes::CliRun;
using fakes::runCli;
using host::testing::TestHost;

class NodeTenantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = host::testing::missingPrerequisite(); !why.empty()) GTEST_SKIP() << why;
    host_ = std::make_unique<TestHost>();
  }
  void TearDown() override {
    node_.stop(SIGKILL);
    if (HasFailure() && !logPath_.empty()) {
      std::ifstream in(logPath_);
      std::cerr << "---- node log ----\n" << in.rdbuf() << "\n";
    }
    if (host_) host_->cleanup();
  }

  std::unique_ptr<TestHost> host_;
  fakes::Child node_;
  std::string logPath_;
};

bool tenantExists(TestHost& h, const std::string& name) {
  auto names = h.prov->list();
  return names.ok() && std::find(names->begin(), names->end(), name) != names->end();
}

TEST_F(NodeTenantsTest, AcquireServesExtendTerminateAndExpiryDestroys) {
  TestHost& th = *host_;
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, 200);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const std::string hostSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto hostKey = *crypto::KeyPair::fromSeed(hostSeed);
  const auto registry = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const std::string devSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto dev = *crypto::KeyPair::fromSeed(devSeed);
  for (const auto& a : {hostKey.address(), registry.address(), dev.address()})
    wallet.waitValidated(wallet.pay(a, 100'000'000));

  board::fakes::TempDir dir;
  HostConfig c = fakes::testHostConfig(devnet.url(), dir.path() + "/data");
  c.offer.size = lease::InstanceSize{500, 128, 0, 64};
  c.offer.momentSeconds = 5;
  c.policy.allowedImages = {"instance"};
  c.imagesDir = th.images;
  const auto& pr = th.prov->config().ports;
  c.userPorts = {pr.user.first, pr.user.last};
  c.peerPorts = {pr.peer.first, pr.peer.last};
  c.generalPorts = {pr.generalTcp.first, pr.generalTcp.last};
  c.generalPerInstance = 1;
  c.bindAddress = "127.0.0.1";
  c.registryAccount = registry.address();
  const auto configPath = fakes::writeTestHostConfig(c, dir.path(), hostSeed);
  ASSERT_TRUE(configPath.ok()) << configPath.error().message;
  logPath_ = dir.path() + "/node.log";
  node_.start({SASHIMONO_BINARY, "host", "run", "--config", *configPath, "--tenants-dir", th.base,
               "--tenant-prefix", th.prefix, "--cgroup-parent", th.cgroupParent, "--tick-ms", "100"},
              {}, logPath_);

  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  const std::string board = devnet.url();
  const std::vector<std::string> common{"--board",         board,        "--host",
                                        hostKey.address(), "--registry", registry.address(),
                                        "--timeout",       "60",         "--json"};
  auto lease = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "lease");
    args.insert(args.end(), common.begin(), common.end());
    return runCli(std::move(args), env);
  };

  // The node has started once its announcement is on the registry.
  bool announced = false;
  for (auto end = std::chrono::steady_clock::now() + 30s;
       !announced && std::chrono::steady_clock::now() < end;) {
    CliRun hosts = runCli({"hosts", "--board", board, "--registry", registry.address(), "--json"}, {});
    announced = hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() == 1;
    if (!announced) std::this_thread::sleep_for(300ms);
  }
  ASSERT_TRUE(announced) << "the host never announced itself";

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
  EXPECT_EQ(info->state, "ready");
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
  CliRun status = runCli({"host", "status", "--json", "--config", *configPath}, {});
  ASSERT_EQ(status.code, 0) << status.out;
  EXPECT_EQ(status.json["leases"].GetUint(), 0u) << status.out;
  EXPECT_EQ(status.json["free"].GetUint(), 2u) << status.out;
  EXPECT_EQ(node_.stop(SIGTERM), 0) << "host run did not stop cleanly on SIGTERM";
}

}  // namespace
}  // namespace sashimono::node
