// HostRun (the composition root of `host run`) and SimulatedProvisionerPort, without root and
// without a board: what open() refuses before anything starts, and the simulated tenants.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostRun.h"
#include "sashimono/node/SimulatedProvisionerPort.h"

namespace sashimono::node {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "sashi-hostrun-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

crypto::Hash256 leaseId(std::uint8_t tag) {
  crypto::Hash256 h{};
  h[0] = tag;
  h[31] = tag;
  return h;
}

TEST(SimulatedProvisionerPortTest, ProvisionIsIdempotentPortsAreReusedAndListFollows) {
  TempDir d;
  SimulatedProvisionerPort p((d.path / "tenants").string(), 26000);
  auto a = p.provision(leaseId(1), {}, {});
  auto b = p.provision(leaseId(2), {}, {});
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(a->userPort, 26000);
  EXPECT_EQ(a->peerPort, 26001);
  EXPECT_NE(b->userPort, a->userPort);
  auto again = p.provision(leaseId(1), {}, {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->userPort, a->userPort) << "a second provision of the same lease is the same instance";
  auto listed = p.list();
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 2u);
  ASSERT_TRUE(p.destroy(leaseId(1)).ok());
  ASSERT_TRUE(p.destroy(leaseId(1)).ok()) << "destroying twice is fine";
  listed = p.list();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0], leaseId(2));
  auto c = p.provision(leaseId(3), {}, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->userPort, 26000) << "the freed port is given again";
}

HostConfig configIn(const TempDir& d) {
  HostConfig c;
  c.boardUrls = {"ws://127.0.0.1:1/"};
  c.seedFile = (d.path / "host.seed").string();
  c.dataDir = (d.path / "data").string();
  c.offer.instances = 2;
  c.offer.pricePerMoment = 1000;
  c.offer.momentSeconds = 600;
  c.offer.maxMoments = 10;
  return c;
}

TEST(HostRunTest, OpenRefusesAMissingOrReadableSeedFileNamingIt) {
  TempDir d;
  HostRunOptions o;
  o.simulatedTenantsDir = (d.path / "tenants").string();
  auto missing = HostRun::open(configIn(d), o);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("host.seed"), std::string::npos) << missing.error().message;

  {
    std::ofstream out(d.path / "host.seed");
    out << crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519)) << "\n";
  }
  ::chmod((d.path / "host.seed").c_str(), 0644);
  auto readable = HostRun::open(configIn(d), o);
  ASSERT_FALSE(readable.ok());
  EXPECT_NE(readable.error().message.find("chmod 600"), std::string::npos) << readable.error().message;
  EXPECT_FALSE(fs::exists(d.path / "data" / "node.sqlite")) << "nothing is created before the key is read";
}

TEST(HostRunTest, OpensWithSimulatedTenantsAndRealTenantsNeedRoot) {
  TempDir d;
  ASSERT_TRUE(writeSeedFile((d.path / "host.seed").string(),
                            crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519)))
                  .ok());
  HostRunOptions simulated;
  simulated.simulatedTenantsDir = (d.path / "tenants").string();
  auto node = HostRun::open(configIn(d), simulated);
  ASSERT_TRUE(node.ok()) << node.error().message;
  EXPECT_TRUE(fs::exists(d.path / "data" / "node.sqlite"));
  EXPECT_FALSE((*node)->fatal());
  node->reset();
  if (::geteuid() != 0) {
    auto real = HostRun::open(configIn(d), HostRunOptions{});
    ASSERT_FALSE(real.ok());
    EXPECT_NE(real.error().message.find("root"), std::string::npos) << real.error().message;
  }
}

}  // namespace
}  // namespace sashimono::node
