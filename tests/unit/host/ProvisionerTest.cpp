#include "sashimono/host/Provisioner.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "fakes/host/FakeHost.h"

namespace sashimono::host {
namespace {

using fakes::FakeHost;

class ProvisionerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("prov-unit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / "images/instance/rootfs/bin");
    std::ofstream(dir_ / "images/instance/cmd") << "/bin/httpd\n-f\n";
    cfg_.baseDir = (dir_ / "base").string();
    cfg_.imagesDir = (dir_ / "images").string();
    cfg_.userPrefix = "u-";
    prov_ = std::make_unique<Provisioner>(cfg_, host_.ops());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static TenantSpec spec(const std::string& n) {
    TenantSpec s;
    s.name = n;
    return s;
  }
  std::vector<std::string> ops() {
    std::vector<std::string> out;
    for (auto& l : host_.world.log) out.push_back(l.substr(0, l.find(' ')));
    return out;
  }
  bool recordExists(const std::string& n) { return std::filesystem::exists(prov_->layout(n).record); }

  std::filesystem::path dir_;
  ProvisionerConfig cfg_;
  FakeHost host_;
  std::unique_ptr<Provisioner> prov_;
};

TEST_F(ProvisionerTest, CreatesInOrderStateFsBeforeDaemonAndReportsPorts) {
  auto info = prov_->create(spec("alpha"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  std::vector<std::string> want = {"users.create",  "users.alias",  "cgroups.create", "disks.create",
                                   "statefs.mount", "daemon.start", "containers.run", "ports.add"};
  EXPECT_EQ(ops(), want);
  EXPECT_EQ(info->state, "ready");
  EXPECT_TRUE(info->running);
  ASSERT_EQ(info->ports.size(), 6u);
  EXPECT_EQ(info->ports[0].role, "user");
  EXPECT_EQ(info->ports[0].hostPort, cfg_.ports.user.first);
  EXPECT_EQ(info->ports[0].containerPort, kContainerUserPort);
  // The contract uid maps into the tenant's own range, and the state filesystem runs as it.
  EXPECT_EQ(info->contractHostUid, info->subuid.start + kContractUid - 1);
  ASSERT_EQ(host_.stateFs.calls.size(), 1u);
  EXPECT_EQ(host_.stateFs.calls[0].as.uid, info->contractHostUid);
  ASSERT_EQ(host_.containers.specs.size(), 1u);
  EXPECT_EQ(host_.containers.specs[0].args, (std::vector<std::string>{"/bin/httpd", "-f"}));  // image default
  EXPECT_EQ(host_.containers.specs[0].rootfs, cfg_.imagesDir + "/instance/rootfs");
}

TEST_F(ProvisionerTest, FailureAtEveryStepRollsBackEverything) {
  for (const char* at : {"users.create", "users.alias", "cgroups.create", "disks.create", "statefs.mount",
                         "daemon.start", "containers.run", "ports.add"}) {
    host_.world.failAt = at;
    auto info = prov_->create(spec("beta"));
    ASSERT_FALSE(info.ok()) << at;
    EXPECT_NE(info.error().message.find(std::string("injected failure at ") + at), std::string::npos)
        << info.error().message;
    EXPECT_TRUE(host_.world.empty()) << "leak after failing at " << at;
    EXPECT_FALSE(recordExists("beta")) << at;
    EXPECT_FALSE(std::filesystem::exists(prov_->layout("beta").home)) << at;
  }
}

TEST_F(ProvisionerTest, DestroyIsIdempotentAndReleasesPortsForReuse) {
  auto a = prov_->create(spec("a"));
  auto b = prov_->create(spec("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->ports[0].hostPort, b->ports[0].hostPort);
  ASSERT_TRUE(prov_->destroy("a").ok());
  ASSERT_TRUE(prov_->destroy("a").ok());
  ASSERT_TRUE(prov_->destroy("never-existed").ok());
  auto c = prov_->create(spec("c"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->ports, a->ports) << "released ports are reused";
  ASSERT_TRUE(prov_->destroy("b").ok());
  ASSERT_TRUE(prov_->destroy("c").ok());
  EXPECT_TRUE(host_.world.empty());
}

TEST_F(ProvisionerTest, RejectsBadInputBeforeAnySideEffect) {
  for (auto name : {"", "Upper", "a b", "x;rm", "../etc", "-lead", "trail-", "waytoolongnameforatenantx"})
    EXPECT_FALSE(prov_->create(spec(name)).ok()) << name;
  auto s = spec("ok");
  s.env = {"BAD KEY=1"};
  EXPECT_FALSE(prov_->create(s).ok());
  s.env = {};
  s.image = "../../etc";
  EXPECT_FALSE(prov_->create(s).ok());
  s.image = "missing";
  auto r = prov_->create(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not found"), std::string::npos);
  EXPECT_TRUE(host_.world.log.empty());
}

TEST_F(ProvisionerTest, CreateRefusesExistingTenantOrLeftovers) {
  ASSERT_TRUE(prov_->create(spec("dup")).ok());
  auto again = prov_->create(spec("dup"));
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already exists"), std::string::npos);
  host_.world.cgroups.insert("left");  // a piece without a record
  auto left = prov_->create(spec("left"));
  ASSERT_FALSE(left.ok());
  EXPECT_NE(left.error().message.find("reconcile"), std::string::npos);
  EXPECT_TRUE(host_.world.cgroups.count("left")) << "create must not touch what it did not make";
}

TEST_F(ProvisionerTest, ReconcileRemovesHalfMadeAndOrphanedKeepsRunningRestartsStopped) {
  ASSERT_TRUE(prov_->create(spec("live")).ok());
  ASSERT_TRUE(prov_->create(spec("stopped")).ok());
  // "stopped": its daemons died.
  host_.world.running.erase(prov_->layout("stopped").home);
  // "half": a crash during create (record says creating; some pieces exist).
  host_.world.failAt = "daemon.start";
  TenantSpec half = spec("half");
  (void)prov_->create(half);  // rolled back...
  host_.world.failAt.clear();
  {
    TenantRecord rec;  // ...so simulate the crash: a record in state creating plus pieces
    rec.spec = half;
    rec.spec.args = {"/bin/x"};
    rec.step = "daemon";
    std::ofstream(prov_->layout("half").record) << renderRecord(rec);
    host_.world.users["u-half"] = UserInfo{"u-half", 3000, 3000, "", "", {900000, 65536}, {900000, 65536}};
    host_.world.cgroups.insert("half");
    host_.world.disks.insert(prov_->layout("half").image);
  }
  // "orphan": pieces without any record.
  host_.world.users["u-orphan_c"] = UserInfo{"u-orphan_c", 3001, 3001, "", "", {}, {}};
  host_.world.cgroups.insert("orphan");

  auto rep = prov_->reconcile();
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->kept, std::vector<std::string>{"live"});
  EXPECT_EQ(rep->resumed, std::vector<std::string>{"stopped"});
  EXPECT_EQ(rep->removed, (std::vector<std::string>{"half", "orphan"}));
  EXPECT_TRUE(rep->failed.empty());
  EXPECT_FALSE(host_.world.users.count("u-half"));
  EXPECT_FALSE(host_.world.users.count("u-orphan_c"));
  EXPECT_FALSE(host_.world.cgroups.count("orphan"));
  EXPECT_FALSE(recordExists("half"));
  EXPECT_TRUE(host_.daemon.childPid(prov_->layout("stopped")).ok());
  auto names = prov_->list();
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"live", "stopped"}));
}

TEST_F(ProvisionerTest, JournalRecordIsWrittenBeforeEachSideEffect) {
  // When each side effect runs, the record on disk already names that step.
  struct Spy : fakes::FakeDaemon {
    Spy(fakes::World& w, Provisioner*& p) : FakeDaemon(w), prov(p) {}
    Provisioner*& prov;
    std::string seen;
    core::Result<pid_t> start(const TenantLayout& l, const Credentials& c, const std::vector<std::string>& p,
                              const std::vector<std::string>& h) override {
      std::ifstream in(l.record);
      seen.assign(std::istreambuf_iterator<char>(in), {});
      return FakeDaemon::start(l, c, p, h);
    }
  };
  Provisioner* self = nullptr;
  Spy spy(host_.world, self);
  auto ops = host_.ops();
  ops.daemon = &spy;
  Provisioner p(cfg_, ops);
  self = &p;
  ASSERT_TRUE(p.create(spec("journal")).ok());
  EXPECT_NE(spy.seen.find("\"step\": \"daemon\""), std::string::npos) << spy.seen;
  EXPECT_NE(spy.seen.find("\"state\": \"creating\""), std::string::npos);
}

TEST_F(ProvisionerTest, OtherTenantsMountsAreHiddenFromANewDaemon) {
  ASSERT_TRUE(prov_->create(spec("first")).ok());
  ASSERT_TRUE(prov_->create(spec("second")).ok());
  ASSERT_EQ(host_.daemon.hidden.size(), 2u);
  EXPECT_TRUE(host_.daemon.hidden[0].empty());
  auto first = prov_->layout("first");
  EXPECT_EQ(host_.daemon.hidden[1], (std::vector<std::string>{first.home, first.stateMount}));
}

}  // namespace
}  // namespace sashimono::host
