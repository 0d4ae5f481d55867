// ImageVersions: pinned rootfs paths, version labels, upgrade decisions, unused versions; the
// record's rootfs / upgrade fields.
#include <gtest/gtest.h>

#include "sashimono/host/ImageVersions.h"
#include "sashimono/host/TenantRecord.h"

namespace sashimono::host {
namespace {

TEST(ImageVersionsLogic, ValidatesPinnedRootfsPaths) {
  EXPECT_TRUE(
      validateRootfsPath("/var/lib/sashimono/images/instance/versions/abc-20260101T000000Z/rootfs").ok());
  EXPECT_TRUE(validateRootfsPath("/img/instance/rootfs").ok());
  for (const char* bad : {"", "rootfs", "/rootfs", "/img/instance/rootfs/", "/img/../etc/rootfs",
                          "/img//x/rootfs", "/img/a b/rootfs", "/img/./rootfs", "/img/x/root"})
    EXPECT_FALSE(validateRootfsPath(bad).ok()) << bad;
  EXPECT_NE(validateRootfsPath("/img/a;b/rootfs").error().message.find("/img/a;b/rootfs"), std::string::npos);
}

TEST(ImageVersionsLogic, LabelsAndDirectories) {
  EXPECT_EQ(versionDirOf("/i/x/versions/v1/rootfs"), "/i/x/versions/v1");
  EXPECT_EQ(versionLabel("/i", "x", "/i/x/versions/v1/rootfs"), "v1");
  EXPECT_EQ(versionLabel("/i", "x", "/i/x/rootfs"), "flat");
  EXPECT_EQ(versionLabel("/i", "x", ""), "unpinned");
  EXPECT_EQ(versionLabel("/i", "x", "/elsewhere/rootfs"), "/elsewhere/rootfs");
}

TEST(ImageVersionsLogic, DecidesUpgrades) {
  const auto inst = ImageProfile::kInstance, rt = ImageProfile::kRuntime;
  EXPECT_EQ(decideUpgrade("/a/rootfs", inst, "/a/rootfs", inst).action, UpgradeAction::kUnchanged);
  EXPECT_EQ(decideUpgrade("/a/rootfs", inst, "/b/rootfs", inst).action, UpgradeAction::kMove);
  EXPECT_EQ(decideUpgrade("", inst, "/b/rootfs", inst).action, UpgradeAction::kMove)
      << "unpinned: pinned by moving";
  auto refused = decideUpgrade("/a/rootfs", rt, "/b/rootfs", inst);
  EXPECT_EQ(refused.action, UpgradeAction::kRefuse);
  EXPECT_NE(refused.reason.find("runtime"), std::string::npos) << refused.reason;
}

TEST(ImageVersionsLogic, UnusedVersionsKeepCurrentAndWhatTenantsUse) {
  const std::vector<std::string> v = {"v3", "v1", ".build.12", "v2", "v4"};
  auto unused = unusedVersions("/i/x", v, "/i/x/versions/v4", {"/i/x/versions/v2/rootfs", ""});
  EXPECT_EQ(unused, (std::vector<std::string>{"v1", "v3"}));
  EXPECT_TRUE(unusedVersions("/i/x", v, "", {}).empty()) << "no current version: nothing is removed";
}

TEST(ImageVersionsLogic, RecordsKeepTheVersionAndThePendingUpgrade) {
  TenantRecord r;
  r.spec.name = "rt";
  r.rootfs = "/i/x/versions/v2/rootfs";
  r.argsFromImage = true;
  r.upgrade = PendingUpgrade{"x", "/i/x/versions/v1/rootfs", {"/bin/httpd", "-f"}, 1700000000};
  auto back = parseRecord(renderRecord(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->rootfs, r.rootfs);
  EXPECT_TRUE(back->argsFromImage);
  ASSERT_TRUE(back->upgrade.has_value());
  EXPECT_EQ(*back->upgrade, *r.upgrade);
  // Older records: none of the fields.
  TenantRecord old;
  old.spec.name = "rt";
  auto plain = parseRecord(renderRecord(old));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->rootfs, "");
  EXPECT_FALSE(plain->argsFromImage);
  EXPECT_FALSE(plain->upgrade.has_value());
  EXPECT_EQ(renderRecord(old).find("rootfs"), std::string::npos);
  // Read back strictly.
  auto text = renderRecord(r);
  auto bad = text;
  bad.replace(bad.find("/i/x/versions/v2/rootfs"), 23, "/i/x/../../etc/x/rootfs");
  EXPECT_FALSE(parseRecord(bad).ok());
  bad = text;
  bad.replace(bad.find("\"previousImage\": \"x\""), 20, "\"previousImage\": \"..\"");
  EXPECT_FALSE(parseRecord(bad).ok());
}

}  // namespace
}  // namespace sashimono::host
