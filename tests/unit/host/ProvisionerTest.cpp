// Provisioner logic on fakes of every host interface and an in-memory file system.
#include "sashimono/host/Provisioner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <gtest/gtest.h>

#include "fakes/host/FakeHost.h"

namespace sashimono::host {
namespace {

using fakes::FakeHost;

class ProvisionerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs().makeDirs(dir_ + "/images/instance/rootfs/bin");
    put(dir_ + "/images/instance/cmd", "/bin/httpd\n-f\n");
    cfg_.baseDir = dir_ + "/base";
    cfg_.imagesDir = dir_ + "/images";
    cfg_.userPrefix = "u-";
    prov_ = std::make_unique<Provisioner>(cfg_, host_.ops());
  }
  MemFileSystem& fs() { return host_.world.fs; }
  void put(const std::string& path, const std::string& content) {
    ASSERT_TRUE(fs().writeFileAtomic(path, content, 0644, false).ok()) << path;
  }
  std::string read(const std::string& path) { return fs().readFile(path).valueOr(""); }
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
  bool recordExists(const std::string& n) { return fs().exists(prov_->layout(n).record); }

  const std::string dir_ = "/t";
  ProvisionerConfig cfg_;
  FakeHost host_;
  std::unique_ptr<Provisioner> prov_;
};

TEST_F(ProvisionerTest, CreatesInOrderStateFsBeforeDaemonAndReportsPorts) {
  auto info = prov_->create(spec("alpha"));
  ASSERT_TRUE(info.ok()) << info.error().message;
  std::vector<std::string> want = {"users.create", "users.alias",    "cgroups.create",
                                   "disks.create", "disks.reown",    "statefs.mount",
                                   "daemon.start", "containers.run", "ports.add"};
  EXPECT_EQ(ops(), want);
  EXPECT_EQ(info->state, TenantState::kReady);
  EXPECT_TRUE(info->running);
  ASSERT_EQ(info->ports.size(), 6u);
  EXPECT_EQ(info->ports[0].role, "user");
  EXPECT_EQ(info->ports[0].hostPort, cfg_.ports.user.first);
  EXPECT_EQ(info->ports[0].containerPort, kContainerUserPort);
  // The contract uid maps into the tenant's own range; the state filesystem runs as the tenant
  // user and shows its files as the contract's (uid and gid 1000 in the container).
  EXPECT_EQ(info->contractHostUid, info->subuid.start + kContractUid - 1);
  ASSERT_EQ(host_.stateFs.calls.size(), 1u);
  const auto& m = host_.stateFs.calls[0];
  const auto l = prov_->layout("alpha");
  EXPECT_EQ(m.as.uid, info->uid);
  ASSERT_TRUE(m.present.has_value());
  EXPECT_EQ(m.present->uid, info->contractHostUid);
  EXPECT_EQ(m.present->gid, host_.world.users.at(l.user).subgid.start + kContractUid - 1);
  EXPECT_EQ(m.source, l.stateData);
  EXPECT_EQ(m.tree, l.home + "/statefs/tree.sqlite");
  EXPECT_EQ(m.control, l.home + "/control/statefs.sock");
  EXPECT_EQ(m.undo, l.home + "/statefs/undo");  // rounds' undo log, on the tenant's disk
  EXPECT_EQ(m.views, l.home + "/views");
  // Home, state, mountpoint, tree, undo, control and views directories: the tenant's only, 0700.
  for (const auto* d :
       {&l.home, &l.stateData, &l.stateMount, &l.statefsDir, &l.undoDir, &l.controlDir, &l.viewsMount}) {
    auto it = host_.world.attrs.find(*d);
    ASSERT_NE(it, host_.world.attrs.end()) << *d;
    EXPECT_EQ(it->second.mode, 0700u) << *d;
    EXPECT_EQ(it->second.uid, info->uid) << *d;
  }
  // What an earlier version left owned by the contract's uid goes to the tenant user.
  ASSERT_EQ(host_.disks.reowned.size(), 1u);
  EXPECT_EQ(host_.disks.reowned[0].first, l.stateData);
  EXPECT_EQ(host_.disks.reowned[0].second.fromUid, info->contractHostUid);
  EXPECT_EQ(host_.disks.reowned[0].second.toUid, info->uid);
  EXPECT_EQ(host_.disks.reowned[0].second.fromGid, m.present->gid);
  EXPECT_EQ(host_.disks.reowned[0].second.toGid, host_.world.users.at(l.user).gid);
  // A plain image's container gets no control socket.
  EXPECT_TRUE(host_.containers.specs.at(0).controlDir.empty());
  EXPECT_TRUE(host_.containers.specs.at(0).viewsDir.empty());
  ASSERT_EQ(host_.containers.specs.size(), 1u);
  EXPECT_EQ(host_.containers.specs[0].args, (std::vector<std::string>{"/bin/httpd", "-f"}));  // image default
  EXPECT_EQ(host_.containers.specs[0].rootfs, cfg_.imagesDir + "/instance/rootfs");
}

TEST_F(ProvisionerTest, FailureAtEveryStepRollsBackEverything) {
  for (const char* at : {"users.create", "users.alias", "cgroups.create", "disks.create", "disks.reown",
                         "statefs.mount", "daemon.start", "containers.run", "ports.add"}) {
    host_.world.failAt = at;
    auto info = prov_->create(spec("beta"));
    ASSERT_FALSE(info.ok()) << at;
    EXPECT_NE(info.error().message.find(std::string("injected failure at ") + at), std::string::npos)
        << info.error().message;
    EXPECT_TRUE(host_.world.empty()) << "leak after failing at " << at;
    EXPECT_FALSE(recordExists("beta")) << at;
    EXPECT_FALSE(fs().exists(prov_->layout("beta").home)) << at;
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
    put(prov_->layout("half").record, renderRecord(rec));
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
    Spy(fakes::World& w, Provisioner*& p) : FakeDaemon(w), world(w), prov(p) {}
    fakes::World& world;
    Provisioner*& prov;
    std::string seen;
    core::Result<pid_t> start(const TenantLayout& l, const Credentials& c, const std::vector<std::string>& p,
                              const std::vector<std::string>& h) override {
      seen = world.fs.readFile(l.record).valueOr("");
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

TEST_F(ProvisionerTest, ABadImageCommandFileFailsBeforeAnySideEffect) {
  put(dir_ + "/images/instance/cmd", "/bin/httpd\r\n-f\r\n");
  auto r = prov_->create(spec("crlf"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message,
            "image 'instance': " + cfg_.imagesDir +
                "/instance/cmd: line 1: invalid argument '/bin/httpd?': must be printable ASCII");
  put(dir_ + "/images/instance/cmd", "\n");
  r = prov_->create(spec("empty"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no command"), std::string::npos) << r.error().message;
  EXPECT_TRUE(host_.world.log.empty());
  auto s = spec("given");
  s.args = {"/bin/own"};  // the image's command is not read when the spec has one
  ASSERT_TRUE(prov_->create(s).ok());
}

TEST_F(ProvisionerTest, InspectReportsStatesAndAnUnknownStateOnDiskClearly) {
  ASSERT_TRUE(prov_->create(spec("known")).ok());
  host_.world.cgroups.insert("stray");  // a piece without a record
  auto stray = prov_->inspect("stray");
  ASSERT_TRUE(stray.ok()) << stray.error().message;
  EXPECT_EQ(stray->state, TenantState::kOrphaned);
  const auto rec = prov_->layout("known").record;
  auto text = read(rec);
  const std::string field = "\"state\": \"ready\"";
  ASSERT_NE(text.find(field), std::string::npos) << text;
  text.replace(text.find(field), field.size(), "\"state\": \"paused\"");
  put(rec, text);
  auto bad = prov_->inspect("known");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, rec + ": tenant record: unknown state 'paused'");
}

TEST_F(ProvisionerTest, KeepsItsDirectoriesAndLockInTheBaseDir) {
  ASSERT_TRUE(prov_->list().ok());
  EXPECT_EQ(fs().mode(cfg_.baseDir), 0711u);
  EXPECT_EQ(fs().mode(cfg_.baseDir + "/records"), 0700u);
  EXPECT_EQ(fs().mode(cfg_.baseDir + "/disks"), 0700u);
  EXPECT_EQ(fs().mode(cfg_.baseDir + "/homes"), 0711u);
  EXPECT_TRUE(fs().exists(cfg_.baseDir + "/lock"));
  // Held for the whole operation: while another holder has it, list waits.
  auto held = fs().lockExclusive(cfg_.baseDir + "/lock");
  ASSERT_TRUE(held.ok());
  std::atomic<bool> done{false};
  std::thread t([&] {
    EXPECT_TRUE(prov_->list().ok());
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(done.load());
  held->reset();
  t.join();
  EXPECT_TRUE(done.load());
}

class ProvisionerProfileTest : public ProvisionerTest {
 protected:
  void SetUp() override {
    ProvisionerTest::SetUp();
    fs().makeDirs(dir_ + "/images/hotpocket/rootfs/bin");
    fs().makeDirs(dir_ + "/images/hotpocket/rootfs/run/statefs");
    fs().makeDirs(dir_ + "/images/hotpocket/rootfs/run/views");
    put(dir_ + "/images/hotpocket/cmd", "/usr/bin/sashimono\nruntime\n");
    put(dir_ + "/images/hotpocket/profile", "runtime\n");
  }
  std::optional<fakes::World::Attrs> attrs(const std::string& path) {
    auto it = host_.world.attrs.find(path);
    if (it == host_.world.attrs.end()) return std::nullopt;
    return it->second;
  }
  static std::size_t indexOf(const std::vector<std::string>& log, const std::string& entry) {
    return static_cast<std::size_t>(std::find(log.begin(), log.end(), entry) - log.begin());
  }
};

TEST_F(ProvisionerProfileTest, RuntimeImageGetsItsDataDirAndInfoFilesOwnedByContainerRootBeforeItStarts) {
  auto s = spec("rt");
  s.image = "hotpocket";
  auto info = prov_->create(s, {{"instance.json", "{}"}, {"instance.key", "edsecret"}});
  ASSERT_TRUE(info.ok()) << info.error().message;
  const auto l = prov_->layout("rt");
  EXPECT_EQ(info->profile, ImageProfile::kRuntime);
  // The runtime's private data dir: the tenant's (container root's) only.
  auto data = attrs(l.runtimeData);
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(data->mode, 0700u);
  EXPECT_EQ(data->uid, info->uid);
  // The files the runtime reads: container root's, 0400, so the contract (uid 1000) cannot.
  for (const char* f : {"instance.json", "instance.key"}) {
    auto a = attrs(l.info + "/" + f);
    ASSERT_TRUE(a.has_value()) << f;
    EXPECT_EQ(a->mode, 0400u) << f;
    EXPECT_EQ(a->uid, info->uid) << f;
    EXPECT_NE(a->uid, info->contractHostUid) << f;
  }
  EXPECT_EQ(read(l.info + "/instance.key"), "edsecret");
  // Written before anything of the tenant runs.
  const auto& log = host_.world.log;
  EXPECT_LT(indexOf(log, "disks.writeFile " + l.info + "/instance.key"),
            indexOf(log, "statefs.mount " + l.stateMount));
  EXPECT_LT(indexOf(log, "disks.writeFile " + l.info + "/instance.json"), indexOf(log, "containers.run rt"));
  ASSERT_EQ(host_.containers.specs.size(), 1u);
  EXPECT_EQ(host_.containers.specs[0].profile, ImageProfile::kRuntime);
  EXPECT_EQ(host_.containers.specs[0].dataDir, l.runtimeData);
  EXPECT_EQ(host_.containers.specs[0].controlDir, l.controlDir);  // bound at /run/statefs
  EXPECT_EQ(host_.containers.specs[0].viewsDir, l.viewsMount);    // bound at /run/views
  EXPECT_EQ(host_.containers.specs[0].args, (std::vector<std::string>{"/usr/bin/sashimono", "runtime"}));
  // Not journaled: the key never lands in the record.
  std::string recText = read(l.record);
  EXPECT_EQ(recText.find("edsecret"), std::string::npos);
  EXPECT_NE(recText.find("\"profile\": \"runtime\""), std::string::npos) << recText;
  // Later files (cluster membership) go to the same reader.
  ASSERT_TRUE(prov_->writeInfo("rt", "cluster.json", "{}").ok());
  EXPECT_EQ(attrs(l.info + "/cluster.json")->uid, info->uid);
}

TEST_F(ProvisionerProfileTest, InstanceImageKeepsContractOwnedInfoFilesAndNoDataDir) {
  auto info = prov_->create(spec("plain"), {{"hello.txt", "hi"}});
  ASSERT_TRUE(info.ok()) << info.error().message;
  const auto l = prov_->layout("plain");
  EXPECT_EQ(info->profile, ImageProfile::kInstance);
  EXPECT_FALSE(attrs(l.runtimeData).has_value());
  auto a = attrs(l.info + "/hello.txt");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->uid, info->contractHostUid);
  EXPECT_EQ(a->mode, 0400u);
  ASSERT_EQ(host_.containers.specs.size(), 1u);
  EXPECT_EQ(host_.containers.specs[0].profile, ImageProfile::kInstance);
  EXPECT_TRUE(host_.containers.specs[0].dataDir.empty());
}

TEST_F(ProvisionerProfileTest, RestartUsesTheRecordedProfileEvenIfTheImageChanged) {
  auto s = spec("keep");
  s.image = "hotpocket";
  ASSERT_TRUE(prov_->create(s).ok());
  // The image is rebuilt without a profile, and the tenant's daemons died (a reboot).
  ASSERT_TRUE(fs().removeFile(dir_ + "/images/hotpocket/profile").ok());
  host_.world.running.erase(prov_->layout("keep").home);
  auto rep = prov_->reconcile();
  ASSERT_TRUE(rep.ok()) << rep.error().message;
  EXPECT_EQ(rep->resumed, std::vector<std::string>{"keep"});
  ASSERT_EQ(host_.containers.specs.size(), 2u);
  EXPECT_EQ(host_.containers.specs[1].profile, ImageProfile::kRuntime);
  EXPECT_EQ(host_.containers.specs[1].dataDir, prov_->layout("keep").runtimeData);
}

TEST_F(ProvisionerProfileTest, BadInfoFileNamesOrProfilesFailBeforeAnySideEffect) {
  auto s = spec("bad");
  s.image = "hotpocket";
  for (const char* f : {"", ".hidden", "../x", "a/b", "UPPER"})
    EXPECT_FALSE(prov_->create(s, {{f, "x"}}).ok()) << f;
  put(dir_ + "/images/hotpocket/profile", "superuser\n");
  auto r = prov_->create(s);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown image profile"), std::string::npos) << r.error().message;
  EXPECT_TRUE(host_.world.log.empty());
}

}  // namespace
}  // namespace sashimono::host
