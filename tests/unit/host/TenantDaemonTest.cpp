// TenantDaemon logic (and the TenantLayout it works in): containerd config, rootlesskit argv, env.
#include <gtest/gtest.h>

#include <algorithm>

#include "sashimono/host/TenantDaemon.h"
#include "sashimono/host/TenantLayout.h"

namespace sashimono::host {
namespace {

TEST(DaemonLogic, ConfigAndArgvStayInTheTenantHome) {
  auto l = tenantLayout("/b", "sashi-", "t");
  EXPECT_EQ(l.user, "sashi-t");
  EXPECT_EQ(l.contractUser, "sashi-t_c");
  EXPECT_EQ(l.home, "/b/homes/t");
  EXPECT_EQ(l.record, "/b/records/t.json");
  EXPECT_EQ(l.image, "/b/disks/t.img");
  auto cfg = renderContainerdConfig(l);
  EXPECT_NE(cfg.find("root = \"/b/homes/t/containerd\""), std::string::npos);
  EXPECT_NE(cfg.find("address = \"/b/homes/t/run/containerd.sock\""), std::string::npos);
  EXPECT_NE(cfg.find("io.containerd.grpc.v1.cri"), std::string::npos);
  auto argv = rootlesskitArgv(l);
  EXPECT_EQ(argv[0], "rootlesskit");
  for (auto flag : {"--net=slirp4netns", "--disable-host-loopback", "--port-driver=builtin",
                    "--state-dir=/b/homes/t/run/rk"})
    EXPECT_NE(std::find(argv.begin(), argv.end(), flag), argv.end()) << flag;
  auto env = tenantEnv(l);
  EXPECT_NE(std::find(env.begin(), env.end(), "XDG_RUNTIME_DIR=/b/homes/t/run"), env.end());
}

}  // namespace
}  // namespace sashimono::host
