// `sashimono tenant ...` end to end: the host owner's commands, their output and their errors.
#include "TenantTestSupport.h"

namespace sashimono::host::testing {
namespace {

class TenantCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    skip_ = missingPrerequisite();
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    host_ = std::make_unique<TestHost>();
  }
  void TearDown() override {
    if (host_) host_->cleanup();
  }
  ProcessResult cli(std::vector<std::string> args, std::optional<Credentials> as = std::nullopt) {
    ProcessSpec p;
    p.argv = {SASHIMONO_BINARY, "--log-level", "off", "tenant"};
    p.argv.insert(p.argv.end(), args.begin(), args.end());
    for (auto [k, v] :
         std::vector<std::pair<std::string, std::string>>{{"--base-dir", host_->base},
                                                          {"--images-dir", host_->images},
                                                          {"--user-prefix", host_->prefix},
                                                          {"--cgroup-parent", host_->cgroupParent}}) {
      p.argv.push_back(k);
      p.argv.push_back(v);
    }
    p.env = {"ASAN_OPTIONS=detect_leaks=0"};
    p.as = as;
    auto r = host_->os.runner->run(p);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : ProcessResult{};
  }
  std::string skip_;
  std::unique_ptr<TestHost> host_;
};

TEST_F(TenantCommand, CreateInspectListDestroyWithClearErrors) {
  auto c = cli({"create", "cli", "--memory", "128", "--pids", "300", "--disk", "32", "--env", "MODE=test"});
  ASSERT_EQ(c.exitCode, 0) << c.err;
  EXPECT_NE(c.out.find("state:         ready (running)"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("memory 128 MiB"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("user="), std::string::npos);
  auto i = cli({"inspect", "cli"});
  EXPECT_EQ(i.exitCode, 0);
  EXPECT_NE(i.out.find("pids 300, disk 32 MiB"), std::string::npos) << i.out;
  auto l = cli({"list"});
  EXPECT_EQ(l.out, "cli\tready running\n");
  auto dup = cli({"create", "cli"});
  EXPECT_EQ(dup.exitCode, 1);
  EXPECT_EQ(dup.err, "sashimono tenant: tenant cli already exists\n");
  auto bad = cli({"create", "Bad;name"});
  EXPECT_EQ(bad.exitCode, 1);
  EXPECT_NE(bad.err.find("invalid tenant name"), std::string::npos) << bad.err;
  auto opt = cli({"create", "x", "--memory", "lots"});
  EXPECT_EQ(opt.exitCode, 2);
  EXPECT_NE(opt.err.find("option --memory: expected a non-negative integer, got 'lots'"), std::string::npos)
      << opt.err;
  auto img = cli({"create", "y", "--image", "nope"});
  EXPECT_EQ(img.exitCode, 1);
  EXPECT_NE(img.err.find("image 'nope' not found"), std::string::npos) << img.err;
  auto notRoot = cli({"list"}, Credentials{65534, 65534});
  EXPECT_EQ(notRoot.exitCode, 1);
  EXPECT_NE(notRoot.err.find("must run as root"), std::string::npos) << notRoot.err;
  auto d = cli({"destroy", "cli"});
  EXPECT_EQ(d.exitCode, 0) << d.err;
  EXPECT_EQ(d.out, "destroyed cli\n");
  auto gone = cli({"inspect", "cli"});
  EXPECT_EQ(gone.exitCode, 1);
  EXPECT_EQ(gone.err, "sashimono tenant: no tenant named cli\n");
  auto rec = cli({"reconcile"});
  EXPECT_EQ(rec.exitCode, 0);
  EXPECT_EQ(rec.out, "");
  expectNoTraces(*host_, {}, true);
}

}  // namespace
}  // namespace sashimono::host::testing
