// `sashimono host run` as a child process against the real devnet, killed with SIGKILL at
// random moments while requests arrive and restarted: in the end every request has exactly one
// validated reply. Tenants are the file-backed stand-in (--test-provisioner): no root needed.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <thread>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/NodeHarness.h"
#include "fakes/node/Tenant.h"
#include "sashimono/node/HostConfig.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;

class NodeProcess {
 public:
  NodeProcess(std::string config, std::string tenants, std::string log)
      : config_(std::move(config)), tenants_(std::move(tenants)), log_(std::move(log)) {}
  ~NodeProcess() { kill(SIGKILL); }
  void start() {
    std::vector<std::string> args{SASHIMONO_BINARY,     "host",   "run",       "--config", config_,
                                  "--test-provisioner", tenants_, "--tick-ms", "100"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
  }
  // Returns the wait status.
  int kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  bool alive() {
    if (pid_ <= 0) return false;
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }

 private:
  std::string config_, tenants_, log_;
  pid_t pid_ = -1;
};

TEST(NodeKillTest, KilledRepeatedlyEveryRequestGetsExactlyOneReply) {
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, 200);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const std::string hostSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto host = *crypto::KeyPair::fromSeed(hostSeed);
  const auto tenant = fakes::newEdKey();
  wallet.waitValidated(wallet.pay(host.address(), 100'000'000));
  wallet.waitValidated(wallet.pay(tenant.address(), 100'000'000));

  fakes::TempDir dir;
  HostConfig c;
  c.boardUrls = {devnet.url()};
  c.seedFile = dir.path() + "/host.seed";
  c.address = "127.0.0.1";
  c.offer.instances = 4;
  c.offer.pricePerMoment = 1000;
  c.offer.momentSeconds = 3600;
  c.offer.maxMoments = 10;
  c.policy.allowedImages = {"hotpocket"};
  c.dataDir = dir.path() + "/data";
  c.quietSeconds = 5;
  const std::string registry = fakes::newEdKey().address();
  wallet.waitValidated(wallet.pay(registry, 100'000'000));
  c.registryAccount = registry;
  ASSERT_TRUE(writeSeedFile(c.seedFile, hostSeed).ok());
  const std::string configPath = dir.path() + "/host.json";
  std::ofstream(configPath) << renderHostConfig(c);
  const std::string logPath = dir.path() + "/node.log";
  NodeProcess node(configPath, dir.path() + "/tenants", logPath);
  node.start();

  std::mt19937 rng(std::random_device{}());
  std::vector<std::string> requests;
  std::uint32_t seq = wallet.client().accountInfo(tenant.address(), false)->sequence;
  auto send = [&](std::uint64_t drops, const protocol::Message& m) {
    auto blob = fakes::requestPayment(tenant, host.address(), drops, seq++, m, host);
    auto r = wallet.client().submit(blob);
    ASSERT_TRUE(r.ok() && r->engineResult == "tesSUCCESS");
    requests.push_back(core::toHex(ledger::transactionHash(blob)));
  };
  // Per round: an acquire, an underpaid acquire, a refused image; an extend of the previous
  // round's lease and a terminate of the one before it. Killed at a random moment each round.
  std::vector<crypto::Hash256> leases;
  for (int round = 0; round < 6; ++round) {
    send(2500, fakes::acquireRequest());
    leases.push_back(*protocol::parseHash256(requests.back()));
    send(10, fakes::acquireRequest());
    send(1000, fakes::acquireRequest("other"));
    if (round >= 1) send(1000, protocol::ExtendRequest{leases[round - 1], std::nullopt});
    if (round >= 2) send(1, protocol::TerminateRequest{leases[round - 2], std::nullopt});
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 600));
    node.kill(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    node.start();
  }

  std::map<protocol::MessageType, int> types;
  auto replies = [&] {
    std::map<std::string, int> count;
    types.clear();
    board::AccountTxQuery q;
    q.account = tenant.address();
    q.limit = 400;
    auto page = wallet.client().accountTx(q);
    if (!page) return count;
    for (const auto& t : page->transactions) {
      auto d = ledger::decodeTransaction(t.blob);
      if (!d || d->account != host.accountId()) continue;
      auto r = fakes::openReply(*d, tenant);
      if (!r) continue;
      if (r->type == protocol::MessageType::expired) continue;
      ++types[r->type];
      if (auto a = fakes::answered(r->message)) ++count[core::toHex(*a)];
    }
    return count;
  };
  std::map<std::string, int> count;
  for (auto end = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < end;) {
    count = replies();
    if (count.size() >= requests.size()) break;
    std::this_thread::sleep_for(200ms);
  }
  std::this_thread::sleep_for(2s);  // nothing more may come
  count = replies();
  EXPECT_TRUE(node.alive()) << "node died";

  for (const auto& r : requests) EXPECT_EQ(count[r], 1) << "request " << r;
  EXPECT_EQ(count.size(), requests.size());
  // One instance per served acquire (4 slots, 4 ok acquires).
  std::size_t instances = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() + "/tenants"))
    if (e.path().extension() != ".tmp") ++instances;
  EXPECT_EQ(static_cast<int>(instances),
            types[protocol::MessageType::acquireOk] - types[protocol::MessageType::terminateOk]);
  EXPECT_GE(types[protocol::MessageType::terminateOk], 1);
  EXPECT_GE(types[protocol::MessageType::extendOk], 1);
  // Announcements reached the registry through the same outbox.
  board::AccountTxQuery rq;
  rq.account = registry;
  auto reg = wallet.client().accountTx(rq);
  ASSERT_TRUE(reg.ok());
  int announcements = 0;
  for (const auto& t : reg->transactions) {
    auto d = ledger::decodeTransaction(t.blob);
    if (d && d->account == host.accountId()) ++announcements;
  }
  EXPECT_GE(announcements, 1);
  // `host status` reads the store while the node runs.
  {
    std::string cmd = std::string(SASHIMONO_BINARY) + " host status --json --config " + configPath;
    FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    EXPECT_EQ(::pclose(p), 0);
    rapidjson::Document d;
    d.Parse(out.c_str());
    ASSERT_TRUE(d.IsObject()) << out;
    EXPECT_EQ(d["leases"].GetUint(), instances) << out;
    EXPECT_EQ(d["free"].GetUint(), 4 - instances) << out;
    EXPECT_TRUE(d["node"]["board"]["connected"].GetBool()) << out;
  }
  // SIGTERM stops it cleanly.
  const int status = node.kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  if (::testing::Test::HasFailure()) {
    std::cerr << "requests:";
    for (const auto& r : requests) std::cerr << " " << r.substr(0, 16);
    std::ifstream in(logPath);
    std::cerr << "\n---- node log ----\n" << in.rdbuf() << "\n";
  }
}

}  // namespace
}  // namespace sashimono::node
