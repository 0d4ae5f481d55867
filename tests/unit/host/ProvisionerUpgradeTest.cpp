// Provisioner upgrades on fakes: versions pinned at create, upgrade / finish / rollback, the heal's
// restart during and after an upgrade, and pruning of unused versions.
#include <chrono>

#include <gtest/gtest.h>

#include "fakes/host/FakeHost.h"
#include "sashimono/host/Provisioner.h"

namespace sashimono::host {
namespace {

using fakes::FakeHost;
using namespace std::chrono_literals;

class ProvisionerUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    addVersion("v1", "/bin/httpd\n-f\n");
    cfg_.baseDir = "/t/base";
    cfg_.imagesDir = kImages;
    cfg_.userPrefix = "u-";
    prov_ = std::make_unique<Provisioner>(cfg_, host_.ops());
  }
  MemFileSystem& fs() { return host_.world.fs; }
  // A version as tools/build-image.sh lays it out, made current.
  void addVersion(const std::string& id, const std::string& cmd, const std::string& profile = "") {
    const std::string dir = std::string(kImages) + "/instance/versions/" + id;
    fs().makeDirs(dir + "/rootfs/bin");
    ASSERT_TRUE(fs().writeFileAtomic(dir + "/cmd", cmd, 0644, false).ok());
    if (!profile.empty()) {
      ASSERT_TRUE(fs().writeFileAtomic(dir + "/profile", profile, 0644, false).ok());
    }
    fs().makeSymlink(std::string(kImages) + "/instance/current", "versions/" + id);
    for (const char* f : {"rootfs", "cmd", "profile"})
      fs().makeSymlink(std::string(kImages) + "/instance/" + f, std::string("current/") + f);
  }
  static std::string rootfsOf(const std::string& id) {
    return std::string(kImages) + "/instance/versions/" + id + "/rootfs";
  }
  TenantRecord record(const std::string& n) {
    auto r = parseRecord(fs().readFile(prov_->layout(n).record).valueOr(""));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : TenantRecord{};
  }
  std::size_t runs() const { return host_.containers.specs.size(); }
  static std::chrono::system_clock::time_point later() { return std::chrono::system_clock::now() + 60s; }

  static constexpr const char* kImages = "/t/images";
  ProvisionerConfig cfg_;
  FakeHost host_;
  std::unique_ptr<Provisioner> prov_;
};

TEST_F(ProvisionerUpgradeTest, CreatePinsTheCurrentVersionAndUpgradeMovesToTheNewOne) {
  TenantSpec s;
  s.name = "alpha";
  ASSERT_TRUE(prov_->create(s).ok());
  EXPECT_EQ(record("alpha").rootfs, rootfsOf("v1"));
  EXPECT_TRUE(record("alpha").argsFromImage);
  EXPECT_EQ(host_.containers.specs.back().rootfs, rootfsOf("v1"));

  addVersion("v2", "/bin/httpd\n-f\n-v\n");
  // A heal restart does not move it.
  ASSERT_TRUE(prov_->restart("alpha").ok());
  EXPECT_EQ(host_.containers.specs.back().rootfs, rootfsOf("v1"));

  auto plan = prov_->planUpgrade("alpha", "instance");
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->action, UpgradeAction::kMove);
  EXPECT_EQ(plan->fromRootfs, rootfsOf("v1"));
  EXPECT_EQ(plan->toRootfs, rootfsOf("v2"));
  auto up = prov_->upgrade("alpha", "instance", later());
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(host_.containers.specs.back().rootfs, rootfsOf("v2"));
  EXPECT_EQ(host_.containers.specs.back().args, (std::vector<std::string>{"/bin/httpd", "-f", "-v"}));
  auto r = record("alpha");
  ASSERT_TRUE(r.upgrade.has_value());
  EXPECT_EQ(r.upgrade->rootfs, rootfsOf("v1"));

  // While the upgrade watches it, the heal leaves it alone.
  const auto before = runs();
  ASSERT_TRUE(prov_->restart("alpha").ok());
  EXPECT_EQ(runs(), before);

  ASSERT_TRUE(prov_->finishUpgrade("alpha").ok());
  EXPECT_FALSE(record("alpha").upgrade.has_value());
  auto again = prov_->upgrade("alpha", "instance", later());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->action, UpgradeAction::kUnchanged);
  EXPECT_EQ(runs(), before) << "an unchanged tenant is not touched";
}

TEST_F(ProvisionerUpgradeTest, RollbackAndAnExpiredUpgradeRestoreThePreviousVersion) {
  TenantSpec s;
  s.name = "alpha";
  ASSERT_TRUE(prov_->create(s).ok());
  addVersion("v2", "/bin/other\n");
  ASSERT_TRUE(prov_->upgrade("alpha", "instance", later()).ok());
  EXPECT_FALSE(prov_->upgrade("alpha", "instance", later()).ok()) << "an unfinished upgrade is refused";
  ASSERT_TRUE(prov_->rollback("alpha").ok());
  EXPECT_EQ(host_.containers.specs.back().rootfs, rootfsOf("v1"));
  EXPECT_EQ(host_.containers.specs.back().args, (std::vector<std::string>{"/bin/httpd", "-f"}));
  EXPECT_EQ(record("alpha").rootfs, rootfsOf("v1"));
  EXPECT_FALSE(prov_->rollback("alpha").ok()) << "nothing to roll back";

  // An upgrade whose command died (its deadline passed): the next heal rolls it back.
  ASSERT_TRUE(prov_->upgrade("alpha", "instance", std::chrono::system_clock::now() - 1s).ok());
  ASSERT_TRUE(prov_->restart("alpha").ok());
  EXPECT_EQ(host_.containers.specs.back().rootfs, rootfsOf("v1"));
  EXPECT_FALSE(record("alpha").upgrade.has_value());
}

TEST_F(ProvisionerUpgradeTest, RefusesAnotherProfile) {
  TenantSpec s;
  s.name = "alpha";
  ASSERT_TRUE(prov_->create(s).ok());
  addVersion("v2", "/usr/bin/sashimono\nruntime\n", "runtime\n");
  auto plan = prov_->planUpgrade("alpha", "instance");
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->action, UpgradeAction::kRefuse);
  const auto before = runs();
  EXPECT_FALSE(prov_->upgrade("alpha", "instance", later()).ok());
  EXPECT_EQ(runs(), before);
}

TEST_F(ProvisionerUpgradeTest, PrunesOnlyVersionsNoTenantUses) {
  TenantSpec s;
  s.name = "alpha";
  ASSERT_TRUE(prov_->create(s).ok());
  addVersion("v2", "/bin/httpd\n-f\n");
  addVersion("v3", "/bin/httpd\n-f\n");
  auto dry = prov_->pruneImages(true);
  ASSERT_TRUE(dry.ok()) << dry.error().message;
  EXPECT_EQ(dry->removed, std::vector<std::string>{"instance/versions/v2"});
  EXPECT_TRUE(fs().exists(rootfsOf("v2")));
  ASSERT_TRUE(prov_->upgrade("alpha", "instance", later()).ok());
  auto during = prov_->pruneImages();
  ASSERT_TRUE(during.ok());
  EXPECT_EQ(during->removed, std::vector<std::string>{"instance/versions/v2"}) << "v1 is kept for a rollback";
  EXPECT_TRUE(fs().exists(rootfsOf("v1")));
  ASSERT_TRUE(prov_->finishUpgrade("alpha").ok());
  auto after = prov_->pruneImages();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->removed, std::vector<std::string>{"instance/versions/v1"});
  EXPECT_TRUE(fs().exists(rootfsOf("v3")));
}

}  // namespace
}  // namespace sashimono::host
