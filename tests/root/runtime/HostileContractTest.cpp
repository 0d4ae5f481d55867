// Hostile contracts against a whole runtime (an in-process runtime::Instance, the contract run
// as uid 65534 as a tenant's contract runs as an unprivileged uid): one that never exits, that
// allocates or forks without bound, forks a daemon and exits, writes outside its state, fills
// its disk, reads the runtime's key and ledger, looks for the private key in its stdin, and
// signals or ptraces the runtime. After each, the runtime still serves: the next contract runs
// and answers. Each contract is tests/fakes/runtime/TestContract.cpp in one of its modes. Root
// only (uid switching, a small tmpfs as the contract's disk).
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fakes/host/Processes.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/UserClient.h"

#ifndef SASHIMONO_TEST_CONTRACT
#error "SASHIMONO_TEST_CONTRACT must name the test contract program (tests/CMakeLists.txt)"
#endif

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;

constexpr uid_t kNobody = 65534;

bool processWith(const std::string& marker) { return !host::fakes::processesWith(marker).empty(); }

class HostileContractTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/sashi-hostile-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    data_ = root_ + "/data";
    fsDir_ = root_ + "/fs";
    bundles_ = root_ + "/bundles";
    fs::create_directories(fsDir_);
    fs::create_directories(bundles_);
    // The contract's disk: 8 MiB, so filling it is quick.
    ASSERT_EQ(::mount("tmpfs", fsDir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0755"), 0)
        << std::strerror(errno);
    mounted_ = true;
    marker_ = "sashi-hostile-" + std::to_string(::getpid());
    InstanceConfig c;
    c.contractId = "hostile";
    c.owner = owner_.publicKey();
    c.keyFile = root_ + "/instance.key";
    {
      std::ofstream k(c.keyFile);
      k << key_.privateHex() << "\n";
    }
    fs::permissions(c.keyFile, fs::perms::owner_read | fs::perms::owner_write);
    c.user.listen = "127.0.0.1";
    c.user.port = 0;
    c.user.tls = "off";
    c.runAs = std::make_pair(kNobody, kNobody);
    c.roundLimits.execTimeoutMs = 1500;
    c.roundLimits.procMemBytes = 256ull << 20;
    c.roundLimits.procCount = 64;
    auto inst = Instance::create(c, key_, data_, fsDir_);
    ASSERT_TRUE(inst.ok()) << inst.error().message;
    instance_ = std::move(*inst);
    auto port = instance_->start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    UserClientOptions o;
    o.trustedServer = key_.publicKey();
    o.timeout = std::chrono::seconds(20);
    auto client = UserClient::connect("ws://127.0.0.1:" + std::to_string(*port), owner_, o);
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(*client);
  }

  void TearDown() override {
    client_.reset();
    if (instance_) instance_->stop();
    instance_.reset();
    if (mounted_) ::umount2(fsDir_.c_str(), MNT_DETACH);
    if (!root_.empty()) fs::remove_all(root_);
  }

  // Installs the test contract in `mode` (as if the owner deployed it) and sends one input;
  // returns the outputs of the input's round.
  std::vector<std::string> run(const std::string& mode, const std::string& input = "x") {
    const std::string dir = bundles_ + "/" + std::to_string(++n_);
    fs::create_directories(dir);
    std::ofstream(dir + "/contract.json")
        << R"({"version":")" << n_ << R"(","bin_path":")" << SASHIMONO_TEST_CONTRACT << R"(","bin_args":")"
        << mode << R"("})";
    auto bundle = packDirectory(dir);
    EXPECT_TRUE(bundle.ok()) << bundle.error().message;
    if (!bundle) return {};
    instance_->requestInstall(*bundle);
    auto r = client_->submit(core::asBytes(input));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r) return {};
    EXPECT_EQ(r->status, "accepted") << r->reason;
    EXPECT_TRUE(r->verified);
    std::vector<std::string> out;
    for (const auto& o : r->outputs) out.push_back(core::asString(o));
    return out;
  }

  // The runtime still serves a well-behaved contract.
  void stillServes() {
    auto out = run("echo");
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0], "Echo: x");
  }

  std::string root_, data_, fsDir_, bundles_, marker_;
  bool mounted_ = false;
  InstanceKey key_ = InstanceKey::generate();
  InstanceKey owner_ = InstanceKey::generate();
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<UserClient> client_;
  int n_ = 0;
};

TEST_F(HostileContractTest, NeverExitsIsKilledAtTheTimeoutAndTheNextRoundRuns) {
  auto start = std::chrono::steady_clock::now();
  auto out = run("hang " + marker_);
  EXPECT_TRUE(out.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1400));
  EXPECT_FALSE(processWith(marker_));
  stillServes();
}

TEST_F(HostileContractTest, AllocatesWithoutBound) {
  auto out = run("alloc");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rfind("alloc-failed ", 0), 0u) << out[0];
  EXPECT_LE(std::stoul(out[0].substr(13)), 256u);  // RLIMIT_DATA from proc_mem_bytes
  stillServes();
}

TEST_F(HostileContractTest, ForksWithoutBoundAndForksADaemon) {
  auto bomb = run("forkbomb " + marker_);
  EXPECT_FALSE(processWith(marker_));
  auto daemon = run("daemon " + marker_ + "-d");
  EXPECT_FALSE(processWith(marker_ + "-d"));
  stillServes();
}

TEST_F(HostileContractTest, CannotWriteOutsideItsStateNorReadTheRuntimesSecrets) {
  auto out = run("rofs " + data_);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "inside=0 outside=" + std::to_string(EACCES));
  for (const auto& secret : {root_ + "/instance.key", data_ + "/ledger.sqlite", data_ + "/log/runtime.log"}) {
    auto r = run("read " + secret);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0], "read=" + std::to_string(EACCES)) << secret;
  }
  auto pk = run("privkey");
  ASSERT_EQ(pk.size(), 1u);
  EXPECT_EQ(pk[0], "privkey=");  // not exposed unless patch.cfg asks
  stillServes();
}

TEST_F(HostileContractTest, FillsItsDisk) {
  auto out = run("fill");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rfind("fill=" + std::to_string(ENOSPC), 0), 0u) << out[0];
  fs::remove(fsDir_ + "/state/fill");
  stillServes();
}

TEST_F(HostileContractTest, CannotSignalOrTraceTheRuntime) {
  auto out = run("probe " + std::to_string(::getpid()));
  auto has = [&](const std::string& kv) { return std::find(out.begin(), out.end(), kv) != out.end(); };
  EXPECT_TRUE(has("uid=65534,65534")) << ::testing::PrintToString(out);
  EXPECT_TRUE(has("killhost=" + std::to_string(ESRCH))) << ::testing::PrintToString(out);
  EXPECT_TRUE(has("kill1=" + std::to_string(EPERM))) << ::testing::PrintToString(out);
  EXPECT_TRUE(has("ptrace1=" + std::to_string(EPERM))) << ::testing::PrintToString(out);
  stillServes();
}

}  // namespace
}  // namespace sashimono::runtime
