// node::ProcessProvisionerPort (instances as local processes, for tests and development) with the
// real runtime: an instance is started on the ports of the host's ranges and answers the user
// protocol with its instance key; provision is idempotent; the membership file is written whole;
// the instances stop with the port and start again when it is opened again; an instance that died
// is started again by provision; destroy leaves no process and no file.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "fakes/board/DevnetProcess.h"
#include "sashimono/core/File.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/node/ProcessProvisionerPort.h"
#include "sashimono/runtime/ClusterFile.h"
#include "sashimono/runtime/UserClient.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

bool alive(pid_t pid) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return false;
  auto stat = core::readFile("/proc/" + std::to_string(pid) + "/stat");
  return stat && stat->find(") Z ") == std::string::npos;
}

// Waits a little for `pid` to be gone (a zombie counts as gone).
bool gone(pid_t pid) {
  for (int i = 0; i < 100 && alive(pid); ++i) std::this_thread::sleep_for(20ms);
  return !alive(pid);
}

protocol::AcquireRequest request() {
  protocol::AcquireRequest r;
  r.contractId = "0f0e0d0c-0b0a-4908-8706-050403020100";
  r.image = "hotpocket";
  crypto::randomBytes(r.owner);
  return r;
}

crypto::Hash256 randomLease() {
  crypto::Hash256 h{};
  crypto::randomBytes(h);
  return h;
}

// Connects to the instance as a user and asks its status; the instance must present `key`.
core::Status answers(std::uint16_t port, const crypto::KeyPair& key) {
  runtime::UserClientOptions o;
  runtime::PubKey k{};
  std::copy(key.publicKey().begin(), key.publicKey().end(), k.begin());
  o.trustedServer = k;
  o.timeout = 10s;
  auto c = runtime::UserClient::connect("wss://127.0.0.1:" + std::to_string(port),
                                        runtime::InstanceKey::generate(), o);
  if (!c) return c.error();
  auto st = (*c)->stat();
  if (!st) return st.error();
  return {};
}

TEST(ProcessProvisionerPortTest, RunsRestartsAndDestroysInstancesAsLocalProcesses) {
  board::fakes::TempDir dir;
  const auto hostKey = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ProcessInstancesOptions o;
  o.dir = dir.path() + "/instances";
  o.binary = SASHIMONO_BINARY;
  o.listen = "127.0.0.1";
  const auto user = board::fakes::freePort();
  auto peer = board::fakes::freePort();
  while (peer == user) peer = board::fakes::freePort();
  o.userPorts = {user, user};  // room for one instance
  o.peerPorts = {peer, peer};
  const auto id = randomLease();
  const auto key = instanceKeyFor(hostKey, id);
  const std::string instanceDir = o.dir + "/" + core::toHex(id);

  auto port = ProcessProvisionerPort::open(o, hostKey);
  ASSERT_TRUE(port.ok()) << port.error().message;
  auto info = (*port)->provision(id, request(), {});
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->userPort, user);
  EXPECT_EQ(info->peerPort, peer);
  EXPECT_TRUE(std::equal(info->pubkey.begin(), info->pubkey.end(), key.publicKey().begin() + 1));
  const pid_t first = (*port)->pidOf(id);
  EXPECT_TRUE(alive(first));
  auto st = answers(user, key);
  EXPECT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(fs::status(instanceDir + "/instance.key").permissions() & fs::perms::group_all, fs::perms::none);

  // Idempotent: the same instance, the same process.
  auto again = (*port)->provision(id, request(), {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *info);
  EXPECT_EQ((*port)->pidOf(id), first);
  // No free port for a second instance: refused, nothing left of it.
  auto second = (*port)->provision(randomLease(), request(), {});
  EXPECT_FALSE(second.ok());
  auto listed = (*port)->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(*listed, std::vector<crypto::Hash256>{id});

  // The membership, as the runtime reads it.
  protocol::ClusterMember m{info->pubkey, "127.0.0.1:" + std::to_string(peer)};
  ASSERT_TRUE((*port)->deliverCluster(id, {m}).ok());
  auto text = core::readFile(instanceDir + "/cluster.json");
  ASSERT_TRUE(text.ok());
  auto parsed = runtime::parseClusterFile(*text, "cluster.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->members.size(), 1u);
  EXPECT_FALSE((*port)->deliverCluster(randomLease(), {m}).ok());

  // The node stops: its instances stop with it; opened again, they run again on their files.
  port->reset();
  EXPECT_TRUE(gone(first));
  EXPECT_TRUE(fs::exists(instanceDir + "/instance.json"));
  port = ProcessProvisionerPort::open(o, hostKey);
  ASSERT_TRUE(port.ok()) << port.error().message;
  const pid_t restarted = (*port)->pidOf(id);
  EXPECT_TRUE(alive(restarted));
  EXPECT_NE(restarted, first);
  st = answers(user, key);
  EXPECT_TRUE(st.ok()) << st.error().message;

  // An instance that died is started again by provision.
  ::kill(restarted, SIGKILL);
  EXPECT_TRUE(gone(restarted));
  auto revived = (*port)->provision(id, request(), {});
  ASSERT_TRUE(revived.ok()) << revived.error().message;
  EXPECT_EQ(*revived, *info);
  const pid_t third = (*port)->pidOf(id);
  EXPECT_TRUE(alive(third)) << core::readFile(instanceDir + "/runtime.log").valueOr("(no log)");

  // Destroy: no process, no directory; again: nothing to do.
  ASSERT_TRUE((*port)->destroy(id).ok());
  EXPECT_TRUE(gone(third));
  EXPECT_FALSE(fs::exists(instanceDir));
  EXPECT_TRUE((*port)->destroy(id).ok());
  listed = (*port)->list();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

}  // namespace
}  // namespace sashimono::node
