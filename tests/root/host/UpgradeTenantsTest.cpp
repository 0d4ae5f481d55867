// `sashimono host upgrade-tenants` on live tenants (root): three tenants of the `instance` image
// (busybox httpd) move to a new version built by tools/build-image.sh while a client polls one of
// them every 20 ms; a second run moves nothing; a version whose rootfs lacks /bin/httpd (does not
// start) and one whose command never serves (starts, then times out) are rolled back on the first
// tenant and the others are left alone; --dry-run changes nothing; old versions go only when no
// tenant uses them.
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

#include "fakes/board/DevnetProcess.h"
#include "fakes/node/Child.h"
#include "fakes/node/TestHostConfig.h"
#include "root/host/TenantTestSupport.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::host::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// GET / every 20 ms on a thread: the longest time between two answered requests.
class Poller {
 public:
  explicit Poller(std::uint16_t port) : port_(port) {
    thread_ = std::thread([this] {
      auto last = std::chrono::steady_clock::now();
      while (!stop_) {
        const auto t = std::chrono::steady_clock::now();
        if (!httpGet(port_).empty()) {
          longest_ = std::max(longest_.load(), std::chrono::duration<double, std::milli>(t - last).count());
          last = t;
          ++answered_;
        }
        std::this_thread::sleep_until(t + 20ms);
      }
    });
  }
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  double longestMs() const { return longest_; }
  int answered() const { return answered_; }

 private:
  std::uint16_t port_;
  std::atomic<bool> stop_{false};
  std::atomic<double> longest_{0};
  std::atomic<int> answered_{0};
  std::thread thread_;
};

class UpgradeTenantsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = missingPrerequisite(); !why.empty()) GTEST_SKIP() << why;
    host_ = std::make_unique<TestHost>();
  }
  void TearDown() override {
    if (host_) host_->cleanup();
  }

  std::string configFile() {
    node::HostConfig c = node::fakes::testHostConfig("ws://127.0.0.1:1", dir_.path() + "/data", 3);
    c.policy.allowedImages = {"instance"};
    c.imagesDir = host_->images;
    const auto& pr = host_->prov->config().ports;
    c.userPorts = {pr.user.first, pr.user.last};
    c.peerPorts = {pr.peer.first, pr.peer.last};
    c.generalPorts = {pr.generalTcp.first, pr.generalTcp.last};
    c.generalPerInstance = 1;
    c.bindAddress = "127.0.0.1";
    auto path = node::fakes::writeTestHostConfig(
        c, dir_.path(), crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519)));
    if (!path) throw std::runtime_error(path.error().message);
    return *path;
  }

  node::fakes::CliRun upgrade(const std::string& config, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"host",          "upgrade-tenants", "--config",
                                     config,          "--image",         "instance",
                                     "--tenants-dir", host_->base,       "--tenant-prefix",
                                     host_->prefix,   "--cgroup-parent", host_->cgroupParent,
                                     "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = node::fakes::runCli(args, {}, 120s);
    std::cout << "upgrade-tenants " << (extra.empty() ? "" : extra[0]) << " -> " << r.code << ": " << r.out;
    return r;
  }

  // Builds a new current version of `instance` whose index.html says `page`: its directory.
  std::string buildVersion(const std::string& page) {
    const std::string www = dir_.path() + "/www-" + page;
    fs::create_directories(www);
    std::ofstream(www + "/index.html") << page << "\n";
    ProcessSpec p;
    p.argv = {"bash",  std::string(SASHIMONO_SOURCE_DIR) + "/tools/build-image.sh",
              "--out", host_->images,
              "--www", www};
    p.env = {std::string("PATH=") + kSafePath};
    auto r = runChecked(*host_->os.runner, p);
    if (!r) throw std::runtime_error(r.error().message);
    return fs::canonical(host_->images + "/instance/current").string();
  }

  std::vector<std::string> versions() {
    std::vector<std::string> out;
    for (auto& e : fs::directory_iterator(host_->images + "/instance/versions"))
      out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<TestHost> host_;
  board::fakes::TempDir dir_;
};

TEST_F(UpgradeTenantsTest, MovesLiveTenantsOneAtATimeAndRollsBackABrokenVersion) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string first = fs::canonical(host_->images + "/instance/current").string();
  std::vector<TenantInfo> tenants;
  for (const char* n : {"up1", "up2", "up3"}) {
    TenantSpec s;
    s.name = n;
    auto t = host_->prov->create(s);
    ASSERT_TRUE(t.ok()) << t.error().message;
    tenants.push_back(*t);
  }
  for (auto& t : tenants) {
    ASSERT_TRUE(waitServing(userPort(t))) << t.name;
    EXPECT_EQ(httpGet(userPort(t)), "sashimono instance\n");
  }
  const std::string config = configFile();
  Poller poller(userPort(tenants[1]));

  // A new version: --dry-run says what it would do and changes nothing.
  const std::string v2 = buildVersion("v2");
  ASSERT_NE(v2, first);
  auto dry = upgrade(config, {"--dry-run"});
  ASSERT_EQ(dry.code, 0);
  ASSERT_TRUE(dry.json.IsObject());
  for (auto& t : dry.json["tenants"].GetArray()) EXPECT_STREQ(t["action"].GetString(), "would-move");
  EXPECT_EQ(dry.json["wouldRemove"].Size(), 0u) << "the first version is in use";
  EXPECT_EQ(versions().size(), 2u);
  for (auto& t : tenants) EXPECT_EQ(httpGet(userPort(t)), "sashimono instance\n");

  // The upgrade: every tenant serves the new page on its own ports; the first version is pruned.
  auto up = upgrade(config);
  ASSERT_EQ(up.code, 0);
  ASSERT_TRUE(up.json.IsObject());
  ASSERT_EQ(up.json["tenants"].Size(), 3u);
  for (auto& t : up.json["tenants"].GetArray()) {
    EXPECT_STREQ(t["action"].GetString(), "moved");
    EXPECT_LT(t["unreachableMs"].GetDouble(), 1000.0) << t["name"].GetString();
    std::cout << "unreachable while upgraded: " << t["name"].GetString() << " "
              << t["unreachableMs"].GetDouble() << " ms\n";
  }
  for (auto& t : tenants) {
    EXPECT_EQ(httpGet(userPort(t)), "v2\n") << t.name;
    auto now = host_->prov->inspect(t.name);
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(now->ports, t.ports);
  }
  EXPECT_EQ(versions(), std::vector<std::string>{fs::path(v2).filename().string()});
  std::cout << "client's longest gap while 3 tenants were upgraded: " << poller.longestMs() << " ms\n";
  EXPECT_LT(poller.longestMs(), 1000.0);

  // A second run: up to date, nothing touched.
  const double before = poller.longestMs();
  auto again = upgrade(config);
  ASSERT_EQ(again.code, 0);
  for (auto& t : again.json["tenants"].GetArray()) {
    EXPECT_STREQ(t["action"].GetString(), "up-to-date");
    EXPECT_EQ(t["unreachableMs"].GetDouble(), 0.0);
  }

  // A version that does not start (no /bin/httpd): the first tenant is rolled back, the others
  // are not touched, nothing is pruned.
  // The tenant's oldest process (its statefs; httpd forks a child per request, so not the set).
  auto pidsOf = [&](const std::string& n) {
    auto i = host_->prov->inspect(n);
    return i.ok() && !i->pids.empty() ? *std::min_element(i->pids.begin(), i->pids.end()) : pid_t{0};
  };
  const auto up2Pids = pidsOf("up2"), up3Pids = pidsOf("up3");
  const std::string broken = buildVersion("v3");
  fs::remove(broken + "/rootfs/bin/httpd");
  auto bad = upgrade(config, {"--timeout", "5"});
  EXPECT_EQ(bad.code, 1);
  ASSERT_TRUE(bad.json.IsObject());
  ASSERT_EQ(bad.json["tenants"].Size(), 1u);
  EXPECT_STREQ(bad.json["tenants"][0]["name"].GetString(), "up1");
  EXPECT_STREQ(bad.json["tenants"][0]["action"].GetString(), "rolled-back");
  for (auto& t : tenants) EXPECT_EQ(httpGet(userPort(t)), "v2\n") << t.name;
  EXPECT_TRUE(fs::exists(broken)) << "the current version is kept";

  // A version that starts but never serves: rolled back after --timeout.
  const std::string silent = buildVersion("v4");
  std::ofstream(silent + "/cmd", std::ios::trunc) << "/bin/sleep\n600\n";
  auto hang = upgrade(config, {"--timeout", "3"});
  EXPECT_EQ(hang.code, 1);
  ASSERT_TRUE(hang.json.IsObject());
  ASSERT_EQ(hang.json["tenants"].Size(), 1u);
  EXPECT_STREQ(hang.json["tenants"][0]["action"].GetString(), "rolled-back");
  for (auto& t : tenants) EXPECT_EQ(httpGet(userPort(t)), "v2\n") << t.name;
  for (auto& t : tenants) {
    auto r = parseRecord(slurp(host_->prov->layout(t.name).record));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->rootfs, v2 + "/rootfs") << t.name;
    EXPECT_FALSE(r->upgrade.has_value());
  }
  poller.stop();
  std::cout << "client's longest gap after the upgrade (second run, two rollbacks of another tenant): "
            << poller.longestMs() << " ms (before: " << before << " ms); " << poller.answered()
            << " answers\n";
  EXPECT_LT(poller.longestMs(), 1000.0);
  EXPECT_EQ(pidsOf("up2"), up2Pids) << "the others are not touched";
  EXPECT_EQ(pidsOf("up3"), up3Pids) << "the others are not touched";
  std::cout << "test took " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()
            << " s\n";
}

}  // namespace
}  // namespace sashimono::host::testing
