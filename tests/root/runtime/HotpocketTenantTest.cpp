// Root: a real tenant running the `hotpocket` image — the instance runtime as container root,
// the contract as the unprivileged container uid 1000 — reached through its forwarded user port
// with the runtime's own client. The image is built by the fixture (tools/build-image.sh) from
// this build's sashimono into the test's temporary images directory; tenants are confined to
// test names (root/host/TenantTestSupport.h) and nothing of them is left afterwards.
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <sodium.h>

#include "root/host/TenantTestSupport.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Config.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/UserClient.h"

namespace sashimono::host::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The runtime binary put into the image: this build's, or SASHIMONO_TEST_RUNTIME_BINARY (e.g. to
// try another build's runtime with this test).
std::string runtimeBinary() {
  const char* other = ::getenv("SASHIMONO_TEST_RUNTIME_BINARY");
  return other != nullptr && *other != '\0' ? other : SASHIMONO_BINARY;
}

// The C++ echo sample's bundle of the runtime's build (contracts-samples/CMakeLists.txt): static
// in a release build; in a sanitizer build it needs the sanitizer libraries, which the image has
// from that build's runtime.
fs::path echoBundle() {
  return fs::path(runtimeBinary()).parent_path().parent_path() / "contracts-samples/echo/bundle";
}
fs::path counterBundle() {
  return fs::path(runtimeBinary()).parent_path().parent_path() / "contracts-samples/counter/bundle";
}

// "sashimono.bundle/1\n" + the packed directory.
core::Result<core::Bytes> bundleInput(const runtime::Bundle& b) {
  auto archive = runtime::writeBundle(b);
  if (!archive) return archive.error();
  core::Bytes in(runtime::kBundleInputPrefix.begin(), runtime::kBundleInputPrefix.end());
  in.insert(in.end(), archive->begin(), archive->end());
  return in;
}

std::string outputsOf(const runtime::UserClient::InputOutcome& o) {
  std::string s;
  for (const auto& b : o.outputs) s += "[" + core::asString(b) + "]";
  return s;
}

// Connects once the runtime listens (its start in the container takes a moment).
core::Result<std::unique_ptr<runtime::UserClient>> connectWhenUp(const std::string& url,
                                                                 const runtime::InstanceKey& user,
                                                                 std::chrono::seconds within = 20s,
                                                                 std::chrono::seconds answers = 10s) {
  runtime::UserClientOptions o;
  o.timeout = answers;
  const auto deadline = std::chrono::steady_clock::now() + within;
  for (;;) {
    auto c = runtime::UserClient::connect(url, user, o);
    if (c || std::chrono::steady_clock::now() > deadline) return c;
    std::this_thread::sleep_for(100ms);
  }
}

std::uint64_t statusField(const std::string& status, const std::string& key) {
  auto at = status.find("\n" + key + ":\t");
  if (at == std::string::npos) return ~0ull;
  return std::stoull(status.substr(at + key.size() + 3), nullptr, key.rfind("Cap", 0) == 0 ? 16 : 10);
}

// Processes (pid, /proc/PID/status) of the tenant's cgroup whose command line contains `needle`.
std::vector<std::pair<pid_t, std::string>> tenantProcesses(TestHost& h, const std::string& name,
                                                           const std::string& needle) {
  std::vector<std::pair<pid_t, std::string>> out;
  auto pids = h.os.cgroups->pids(name);
  if (!pids) return out;
  for (pid_t p : *pids) {
    auto cmd = slurp("/proc/" + std::to_string(p) + "/cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (cmd.find(needle) == std::string::npos) continue;
    auto status = slurp("/proc/" + std::to_string(p) + "/status");
    if (!status.empty() && status.find("State:\tZ") == std::string::npos) out.emplace_back(p, status);
  }
  return out;
}

// Runs `fn` in a child as uid:gid (no groups); the child's exit code (fn's result).
int asIds(uid_t uid, gid_t gid, const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) ::_exit(126);
    ::_exit(fn());
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The state hash of the runtime's last ledger: a copy of its sqlite files opened in a temporary
// directory (the runtime's own files are left alone; it is idle between inputs).
core::Result<runtime::Hash> lastLedgerStateHash(const std::string& dataDir) {
  std::string tmpl = (fs::temp_directory_path() / "sashi-ledger-copy-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return core::Error::fromErrno("mkdtemp");
  std::error_code ec;
  for (const char* f : {"ledger.sqlite", "ledger.sqlite-wal"})
    if (fs::exists(dataDir + "/" + f)) fs::copy_file(dataDir + "/" + f, tmpl + "/" + f, ec);
  core::Result<runtime::Hash> out = core::Error("no ledger");
  {
    auto store = runtime::LedgerStore::open(tmpl + "/ledger.sqlite");
    if (store) {
      out = store->last().stateHash;
    } else {
      out = store.error();
    }
  }
  fs::remove_all(tmpl, ec);
  return out;
}

class HotpocketTenant : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    skip_ = missingPrerequisite();
    if (skip_.empty() && !fs::exists(runtimeBinary())) skip_ = "no sashimono binary at " + runtimeBinary();
    if (skip_.empty() && !fs::exists(fs::path(SASHIMONO_SOURCE_DIR) / "docker/hotpocket/cmd"))
      skip_ = "no hotpocket image definition (docker/hotpocket)";
    if (skip_.empty() && !fs::exists(echoBundle() / "contract.json"))
      skip_ = "the echo sample is not built (" + echoBundle().string() + "; ninja sample_echo)";
    if (!skip_.empty()) return;
    host_ = new TestHost();
    ProcessSpec p;
    p.argv = {"bash",        std::string(SASHIMONO_SOURCE_DIR) + "/tools/build-image.sh",
              "--out",       host_->images,
              "--name",      "hotpocket",
              "--sashimono", runtimeBinary()};
    p.env = {std::string("PATH=") + kSafePath};
    p.timeout = 180s;
    auto r = runChecked(*host_->os.runner, p);
    if (!r) buildError_ = r.error().message;
  }
  static void TearDownTestSuite() {
    if (host_) host_->cleanup();
    delete host_;
    host_ = nullptr;
  }
  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_TRUE(buildError_.empty()) << "building the hotpocket image: " << buildError_;
  }
  void TearDown() override {
    if (!host_) return;
    if (auto names = host_->prov->list(); names) {
      for (auto& n : *names) {
        EXPECT_TRUE(host_->prov->destroy(n).ok()) << n;
      }
    }
  }
  static TenantSpec spec(const std::string& name) {
    TenantSpec s;
    s.name = name;
    s.image = "hotpocket";
    s.limits.memoryBytes = 1024ull << 20;  // a sanitizer build of the runtime is big
    s.limits.pids = 512;
    s.diskBytes = 128ull << 20;
    return s;
  }
  Provisioner& prov() { return *host_->prov; }
  // The acquire request an owner sends for an instance of the hotpocket image.
  static protocol::AcquireRequest acquireFor(const runtime::InstanceKey& owner,
                                             const std::string& contractId) {
    protocol::AcquireRequest req;
    req.contractId = contractId;
    req.image = "hotpocket";
    std::copy(owner.publicKey().begin() + 1, owner.publicKey().end(), req.owner.begin());
    return req;
  }

  static inline std::string skip_;
  static inline std::string buildError_;
  static inline TestHost* host_ = nullptr;
};

TEST_F(HotpocketTenant, RuntimeServesDeploysAndRunsTheContractAsTheUnprivilegedUser) {
  // What the node gives the instance (node::instanceConfigFor / instanceKeyText), plain ws.
  auto hostKey = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ASSERT_TRUE(hostKey.ok());
  crypto::Hash256 lease{};
  lease[0] = 0x42;
  auto instanceKey = node::instanceKeyFor(*hostKey, lease);
  auto owner = runtime::InstanceKey::generate();
  auto req = acquireFor(owner, "b7c1d2e3-0000-4000-8000-000000000001");
  auto cfg = node::instanceConfigFor(req, node::RuntimeCeilings{});
  cfg.user.tls = "off";
  std::string keyText = node::instanceKeyText(instanceKey);
  auto info = prov().create(
      spec("hp"), {{"instance.json", runtime::renderInstanceConfig(cfg)}, {"instance.key", keyText}});
  ASSERT_TRUE(info.ok()) << info.error().message;
  const auto fp = footprintOf(*info);
  const auto l = prov().layout("hp");
  EXPECT_EQ(info->profile, ImageProfile::kRuntime);

  // Host side: the runtime's data dir and the key belong to the tenant (container root) only.
  struct stat st;
  ASSERT_EQ(::stat(l.runtimeData.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, info->uid);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  for (const char* f : {"instance.key", "instance.json"}) {
    ASSERT_EQ(::stat((l.info + "/" + f).c_str(), &st), 0) << f;
    EXPECT_EQ(st.st_uid, info->uid) << f;
    EXPECT_EQ(st.st_mode & 07777, 0400u) << f;
  }

  // The handshake: the server is the instance key the node derived.
  const std::string url = "ws://127.0.0.1:" + std::to_string(userPort(*info));
  auto client = connectWhenUp(url, owner);
  ASSERT_TRUE(client.ok()) << client.error().message << "\n" << slurp(l.logDir + "/instance.log");
  EXPECT_TRUE(std::equal(instanceKey.publicKey().begin(), instanceKey.publicKey().end(),
                         (*client)->serverKey().begin()));
  EXPECT_EQ((*client)->contractId(), req.contractId);

  // The runtime: container root = the tenant user, with exactly its capabilities, no new privileges.
  auto rt = tenantProcesses(*host_, "hp", "--contract-fs");
  ASSERT_FALSE(rt.empty()) << "no runtime process in the tenant cgroup";
  const std::uint64_t caps = (1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 5) | (1ull << 6) |
                             (1ull << 7) |
                             (1ull << 21);  // chown dac_override fowner kill setgid setuid sys_admin
  for (auto& [pid, status] : rt) {
    EXPECT_EQ(parseStatusUids(status).at(0), info->uid) << pid;
    EXPECT_EQ(statusField(status, "CapEff"), caps) << pid;
    EXPECT_EQ(statusField(status, "CapBnd"), caps) << pid;
    EXPECT_EQ(statusField(status, "CapAmb"), 0u) << pid;
    EXPECT_EQ(statusField(status, "NoNewPrivs"), 1u) << pid;
  }

  // Deploy the C++ echo sample as the owner, then use it.
  auto echo = runtime::packDirectory(echoBundle().string());
  ASSERT_TRUE(echo.ok()) << echo.error().message;
  auto deploy = bundleInput(*echo);
  ASSERT_TRUE(deploy.ok()) << deploy.error().message;
  auto deployed = (*client)->submit(*deploy);
  ASSERT_TRUE(deployed.ok()) << deployed.error().message;
  EXPECT_EQ(deployed->status, "accepted") << deployed->reason;
  EXPECT_NE(outputsOf(*deployed).find("sashimono: deployed version"), std::string::npos)
      << outputsOf(*deployed);
  auto hello = (*client)->submit(core::asBytes("hello"));
  ASSERT_TRUE(hello.ok()) << hello.error().message;
  EXPECT_EQ(hello->status, "accepted") << hello->reason;
  EXPECT_EQ(outputsOf(*hello), "[Echo: hello]") << slurp(l.runtimeData + "/log/contract.stderr.log");
  EXPECT_TRUE(hello->verified);

  // A hostile contract (busybox sh from the image) looks for the runtime's secrets, writes what
  // it found into its state, and lingers so that its process can be seen from the host.
  const std::string probe =
      "cat > /dev/null\n"
      "{\n"
      "  echo \"uid=$(id -u)\"\n"
      "  if cat /run/sashimono/instance.key > /dev/null 2>&1; then echo key=readable; else echo key=denied; "
      "fi\n"
      "  if cat /run/sashimono/instance.json > /dev/null 2>&1; then echo config=readable; else echo "
      "config=denied; fi\n"
      "  if ls /data > /dev/null 2>&1; then echo data=readable; else echo data=denied; fi\n"
      "  if touch /run/sashimono/planted 2> /dev/null; then echo info=writable; else echo info=readonly; fi\n"
      "  if touch /usr/bin/planted 2> /dev/null; then echo image=writable; else echo image=readonly; fi\n"
      "  if ls /run/statefs > /dev/null 2>&1; then echo control=readable; else echo control=denied; fi\n"
      "} > probe.out\n"
      "sleep 2\n";
  const std::string manifest = R"({"version":"probe-1","bin_path":"/bin/sh","bin_args":"probe.sh"})";
  auto bundle =
      runtime::makeBundle({{"contract.json", false, false, core::Bytes(manifest.begin(), manifest.end())},
                           {"probe.sh", false, false, core::Bytes(probe.begin(), probe.end())}});
  ASSERT_TRUE(bundle.ok()) << bundle.error().message;
  auto probeDeploy = bundleInput(*bundle);
  ASSERT_TRUE(probeDeploy.ok());
  auto pd = (*client)->submit(*probeDeploy);
  ASSERT_TRUE(pd.ok()) << pd.error().message;
  EXPECT_NE(outputsOf(*pd).find("deployed version probe-1"), std::string::npos) << outputsOf(*pd);
  std::atomic<bool> done{false};
  std::vector<std::pair<pid_t, std::string>> seen;
  std::thread watcher([&] {
    while (!done && seen.empty()) {
      seen = tenantProcesses(*host_, "hp", "probe.sh");
      std::this_thread::sleep_for(20ms);
    }
  });
  auto run = (*client)->submit(core::asBytes("go"));
  done = true;
  watcher.join();
  ASSERT_TRUE(run.ok()) << run.error().message;
  EXPECT_EQ(run->status, "accepted");
  ASSERT_FALSE(seen.empty()) << "the contract process was never seen from the host";
  for (auto& [pid, status] : seen) {
    auto uids = parseStatusUids(status);
    ASSERT_FALSE(uids.empty());
    EXPECT_EQ(uids[0], info->contractHostUid) << "contract pid " << pid;
    EXPECT_NE(uids[0], info->uid) << "the contract runs as the tenant user";
    EXPECT_EQ(statusField(status, "CapEff"), 0u) << pid;
  }
  const std::string found = slurp(l.stateMount + "/state/probe.out");
  EXPECT_NE(found.find("uid=1000\n"), std::string::npos) << found;
  for (const char* want :
       {"key=denied", "config=denied", "data=denied", "info=readonly", "image=readonly", "control=denied"})
    EXPECT_NE(found.find(want), std::string::npos) << want << " in:\n" << found;
  EXPECT_FALSE(fs::exists(l.info + "/planted"));
  // The runtime's ledger is in its data dir on the tenant's disk.
  EXPECT_TRUE(fs::exists(l.runtimeData + "/ledger.sqlite") || fs::exists(l.runtimeData + "/log/runtime.log"));

  // The state filesystem: the tenant user's process, over the tenant user's files.
  auto sfs = tenantProcesses(*host_, "hp", "statefs mount");
  ASSERT_EQ(sfs.size(), 1u) << "one statefs daemon in the tenant cgroup";
  const pid_t statefsPid = sfs[0].first;
  for (uid_t id : parseStatusUids(sfs[0].second)) EXPECT_EQ(id, info->uid) << "statefs pid " << statefsPid;
  ASSERT_EQ(::lstat((l.stateData + "/state/probe.out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, info->uid) << "what the contract wrote belongs to the tenant user on the host";
  ASSERT_EQ(::stat((l.stateMount + "/state/probe.out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, info->contractHostUid) << "and is the contract's through the mount";
  // A contract that escaped as its host uid: no write into the state, no signal to the daemon.
  const uid_t cu = info->contractHostUid;
  const gid_t cg = static_cast<gid_t>(cu);  // any gid but the tenant's group
  EXPECT_EQ(asIds(cu, cg,
                  [&] {
                    int fd = ::open((l.stateData + "/state/planted").c_str(), O_CREAT | O_WRONLY, 0644);
                    return fd < 0 ? errno : 0;
                  }),
            EACCES);
  EXPECT_EQ(asIds(cu, cg,
                  [&] {
                    int fd = ::open((l.stateData + "/state/probe.out").c_str(), O_WRONLY | O_APPEND);
                    return fd < 0 ? errno : 0;
                  }),
            EACCES);
  EXPECT_EQ(asIds(cu, cg, [&] { return ::kill(statefsPid, SIGKILL) == 0 ? 0 : errno; }), EPERM);
  EXPECT_EQ(::kill(statefsPid, 0), 0) << "the statefs daemon survived";
  // The ledger's state hash is the statefs root of the state, as `sashimono statefs hash` says.
  auto ledgerState = lastLedgerStateHash(l.runtimeData);
  ASSERT_TRUE(ledgerState.ok()) << ledgerState.error().message;
  ProcessSpec hashCmd;
  hashCmd.argv = {SASHIMONO_BINARY, "statefs", "hash", l.stateData};
  hashCmd.env = {std::string("PATH=") + kSafePath};
  hashCmd.timeout = 60s;
  auto hashed = runChecked(*host_->os.runner, hashCmd);
  ASSERT_TRUE(hashed.ok()) << hashed.error().message;
  EXPECT_EQ(core::toHexLower(*ledgerState) + "\n", hashed->out) << slurp(l.runtimeData + "/log/runtime.log");

  client->reset();
  sodium_memzero(keyText.data(), keyText.size());
  ASSERT_TRUE(prov().destroy("hp").ok());
  expectNoTraces(*host_, {fp}, true);
  EXPECT_FALSE(fs::exists(l.info));
}

// Rounds run between statefs begin and commit; read requests read a view of the committed state,
// even while a round is writing; a round interrupted by the runtime's death is rolled back when the
// runtime starts again. The contract: the counter sample behind a shell wrapper that, when the
// state holds "hang", overwrites the counter in the round and then hangs.
TEST_F(HotpocketTenant, ReadsSeeTheCommittedStateAndAnInterruptedRoundIsRolledBack) {
  if (!fs::exists(counterBundle() / "contract.json"))
    GTEST_SKIP() << "the counter sample is not built (ninja sample_counter)";
  auto hostKey = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ASSERT_TRUE(hostKey.ok());
  crypto::Hash256 lease{};
  lease[0] = 0x43;
  auto instanceKey = node::instanceKeyFor(*hostKey, lease);
  auto owner = runtime::InstanceKey::generate();
  auto req = acquireFor(owner, "b7c1d2e3-0000-4000-8000-000000000003");
  auto cfg = node::instanceConfigFor(req, node::RuntimeCeilings{});
  cfg.user.tls = "off";
  ASSERT_EQ(cfg.statefsViews, kContainerViewsDir);
  std::string keyText = node::instanceKeyText(instanceKey);
  auto info = prov().create(
      spec("rw"), {{"instance.json", runtime::renderInstanceConfig(cfg)}, {"instance.key", keyText}});
  sodium_memzero(keyText.data(), keyText.size());
  ASSERT_TRUE(info.ok()) << info.error().message;
  const auto fp = footprintOf(*info);
  const auto l = prov().layout("rw");
  const std::string url = "ws://127.0.0.1:" + std::to_string(userPort(*info));
  auto client = connectWhenUp(url, owner);
  ASSERT_TRUE(client.ok()) << client.error().message << "\n" << slurp(l.logDir + "/instance.log");

  const std::string wrap =
      "doc=$(cat)\n"
      "case \"$doc\" in *'\"readonly\":true'*) ;; *) if [ -e hang ]; then echo 1000 > counter; exec sleep "
      "60; fi ;; "
      "esac\n"
      "printf '%s' \"$doc\" | exec ./counter-contract\n";
  const std::string manifest = R"({"version":"wrap-1","bin_path":"/bin/sh","bin_args":"wrap.sh"})";
  std::ifstream bin(counterBundle() / "counter-contract", std::ios::binary);
  const std::string counterBin((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(counterBin.empty());
  auto bundle = runtime::makeBundle(
      {{"contract.json", false, false, core::Bytes(manifest.begin(), manifest.end())},
       {"wrap.sh", false, false, core::Bytes(wrap.begin(), wrap.end())},
       {"counter-contract", false, true, core::Bytes(counterBin.begin(), counterBin.end())}});
  ASSERT_TRUE(bundle.ok()) << bundle.error().message;
  auto deploy = bundleInput(*bundle);
  ASSERT_TRUE(deploy.ok());
  auto d = (*client)->submit(*deploy);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_NE(outputsOf(*d).find("deployed version wrap-1"), std::string::npos) << outputsOf(*d);
  for (const char* want : {"[counter: 1]", "[counter: 2]"}) {
    auto inc = (*client)->submit(core::asBytes("inc"));
    ASSERT_TRUE(inc.ok()) << inc.error().message;
    EXPECT_EQ(outputsOf(*inc), want) << slurp(l.runtimeData + "/log/contract.stderr.log");
  }
  auto read = (*client)->read(core::asBytes("?"));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(core::asString(*read), "counter: 2") << slurp(l.runtimeData + "/log/runtime.log");
  const std::string committed = slurp(l.stateMount + "/state/counter");

  // A round that writes, then hangs: a read meanwhile answers the committed counter.
  { std::ofstream(l.stateMount + "/state/hang") << "1\n"; }  // outside a round: committed by begin
  // (its answers time out soon: the port forward may keep its connection after the runtime dies)
  auto other = connectWhenUp(url, runtime::InstanceKey::generate(), 20s, 5s);
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto hanging = std::async(std::launch::async, [&] { return (*other)->submit(core::asBytes("inc")); });
  std::vector<std::pair<pid_t, std::string>> sleeping;
  for (auto until = std::chrono::steady_clock::now() + 20s;
       sleeping.empty() && std::chrono::steady_clock::now() < until; std::this_thread::sleep_for(50ms))
    sleeping = tenantProcesses(*host_, "rw", "sleep 60");
  ASSERT_EQ(sleeping.size(), 1u) << slurp(l.runtimeData + "/log/runtime.log");
  EXPECT_EQ(slurp(l.stateMount + "/state/counter"), "1000\n") << "the round's write is live";
  auto during = (*client)->read(core::asBytes("?"));
  ASSERT_TRUE(during.ok()) << during.error().message;
  EXPECT_EQ(core::asString(*during), "counter: 2") << "a read sees the committed state";

  // The runtime dies mid-round (the supervisor starts it again): the round is rolled back.
  const pid_t init = static_cast<pid_t>(statusField(sleeping[0].second, "PPid"));
  const pid_t worker =
      static_cast<pid_t>(statusField(slurp("/proc/" + std::to_string(init) + "/status"), "PPid"));
  ASSERT_NE(slurp("/proc/" + std::to_string(worker) + "/cmdline").find("runtime"), std::string::npos);
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  client->reset();
  client = connectWhenUp(url, owner);
  ASSERT_TRUE(client.ok()) << client.error().message;
  EXPECT_EQ(slurp(l.stateMount + "/state/counter"), committed) << slurp(l.runtimeData + "/log/runtime.log");
  EXPECT_TRUE(fs::exists(l.stateMount + "/state/hang"));
  fs::remove(l.stateMount + "/state/hang");
  auto inc = (*client)->submit(core::asBytes("inc"));
  ASSERT_TRUE(inc.ok()) << inc.error().message;
  EXPECT_EQ(outputsOf(*inc), "[counter: 3]");
  read = (*client)->read(core::asBytes("?"));
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(core::asString(*read), "counter: 3");
  // The ledger's state hash is still the state's.
  auto ledgerState = lastLedgerStateHash(l.runtimeData);
  ASSERT_TRUE(ledgerState.ok()) << ledgerState.error().message;
  ProcessSpec hashCmd;
  hashCmd.argv = {SASHIMONO_BINARY, "statefs", "hash", l.stateData};
  hashCmd.env = {std::string("PATH=") + kSafePath};
  hashCmd.timeout = 60s;
  auto hashed = runChecked(*host_->os.runner, hashCmd);
  ASSERT_TRUE(hashed.ok()) << hashed.error().message;
  EXPECT_EQ(core::toHexLower(*ledgerState) + "\n", hashed->out);
  auto lost = hanging.get();  // the interrupted round's input never got a ledger
  EXPECT_FALSE(lost.ok() && lost->status == "accepted");
  other->reset();
  client->reset();
  ASSERT_TRUE(prov().destroy("rw").ok());
  expectNoTraces(*host_, {fp}, true);
}

TEST_F(HotpocketTenant, NodeProvisionedInstanceSpeaksWssWithItsSelfSignedCertificate) {
  // The node's own path: HostProvisionerPort writes instance.json (tls self-signed) and the key.
  auto hostKey = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ASSERT_TRUE(hostKey.ok());
  node::HostProvisionerPort port(prov(), *hostKey);
  crypto::Hash256 lease{};
  lease[0] = 0x77;
  auto owner = runtime::InstanceKey::generate();
  auto req = acquireFor(owner, "b7c1d2e3-0000-4000-8000-000000000002");
  lease::InstanceSize size{1000, 1024, 0, 128};
  auto inst = port.provision(lease, req, size);
  ASSERT_TRUE(inst.ok()) << inst.error().message;
  const std::string name = node::tenantNameFor(lease);
  auto info = prov().inspect(name);
  ASSERT_TRUE(info.ok());
  const auto fp = footprintOf(*info);
  auto client = connectWhenUp("wss://127.0.0.1:" + std::to_string(inst->userPort), owner);
  ASSERT_TRUE(client.ok()) << client.error().message << "\n"
                           << slurp(prov().layout(name).logDir + "/instance.log");
  auto key = node::instanceKeyFor(*hostKey, lease);
  EXPECT_TRUE(std::equal(key.publicKey().begin() + 1, key.publicKey().end(), inst->pubkey.begin()));
  EXPECT_TRUE(std::equal(key.publicKey().begin(), key.publicKey().end(), (*client)->serverKey().begin()));
  EXPECT_EQ((*client)->contractId(), req.contractId);
  // Nothing deployed yet: the bootstrap answers.
  auto first = (*client)->submit(core::asBytes("anyone there?"));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_NE(outputsOf(*first).find("no contract is deployed"), std::string::npos) << outputsOf(*first);
  EXPECT_TRUE(fs::exists(prov().layout(name).runtimeData + "/tls"));
  client->reset();
  ASSERT_TRUE(port.destroy(lease).ok());
  expectNoTraces(*host_, {fp}, true);
}

}  // namespace
}  // namespace sashimono::host::testing
