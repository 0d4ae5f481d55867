// The developer's commands (`sashimono hosts`, `sashimono lease acquire|extend|terminate|list`) as child
// processes against the real devnet and a real host node (`host run --test-provisioner`), all on
// 127.0.0.1. The developer's seed reaches the CLI only through its environment.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostConfig.h"

namespace sashimono::cli {
namespace {

using namespace std::chrono_literals;

// A child process that dies with the test and is killed by the destructor.
class Child {
 public:
  Child() = default;
  ~Child() { stop(SIGKILL); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Starts `args` with `env` added; stdout to a pipe (captured) or to `logPath`.
  void start(std::vector<std::string> args, const std::vector<std::string>& env,
             const std::string& logPath = {}) {
    int fds[2] = {-1, -1};
    if (logPath.empty() && ::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
      if (logPath.empty()) {
        ::dup2(fds[1], 1);
        ::close(fds[0]);
        ::close(fds[1]);
      } else {
        int fd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
        }
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    if (logPath.empty()) {
      ::close(fds[1]);
      out_ = fds[0];
    }
  }

  // Reads stdout until EOF or `limit`, then reaps: the exit code (-1 on timeout or signal).
  int wait(std::string& output, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (out_ >= 0 && std::chrono::steady_clock::now() < end) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      output.append(buf, static_cast<std::size_t>(n));
    }
    if (std::chrono::steady_clock::now() >= end) {
      stop(SIGKILL);
      return -1;
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    closeOut();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  void stop(int sig) {
    closeOut();
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  void closeOut() {
    if (out_ >= 0) ::close(out_);
    out_ = -1;
  }
  pid_t pid_ = -1;
  int out_ = -1;
};

struct CliRun {
  int code = -1;
  std::string out;
  rapidjson::Document json;
};

CliRun runCli(std::vector<std::string> args, const std::vector<std::string>& env) {
  args.insert(args.begin(), SASHIMONO_BINARY);
  Child c;
  c.start(std::move(args), env);
  CliRun r;
  r.code = c.wait(r.out, 120s);
  r.json.Parse(r.out.c_str());
  return r;
}

TEST(LeaseCliTest, HostsAcquireTerminateListThroughTheCli) {
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, 200);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const std::string hostSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto host = *crypto::KeyPair::fromSeed(hostSeed);
  const std::string devSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto dev = *crypto::KeyPair::fromSeed(devSeed);
  const auto registry = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  wallet.waitValidated(wallet.pay(host.address(), 100'000'000));
  wallet.waitValidated(wallet.pay(dev.address(), 100'000'000));
  wallet.waitValidated(wallet.pay(registry.address(), 100'000'000));

  board::fakes::TempDir dir;
  node::HostConfig c;
  c.boardUrls = {devnet.url()};
  c.seedFile = dir.path() + "/host.seed";
  c.address = "127.0.0.1";
  c.offer.instances = 2;
  c.offer.pricePerMoment = 1000;
  c.offer.momentSeconds = 3600;
  c.offer.maxMoments = 10;
  c.policy.allowedImages = {"hotpocket"};
  c.dataDir = dir.path() + "/data";
  c.quietSeconds = 5;
  c.registryAccount = registry.address();
  ASSERT_TRUE(node::writeSeedFile(c.seedFile, hostSeed).ok());
  const std::string configPath = dir.path() + "/host.json";
  std::ofstream(configPath) << node::renderHostConfig(c);
  const std::string logPath = dir.path() + "/node.log";
  Child node;
  node.start({SASHIMONO_BINARY, "host", "run", "--config", configPath, "--test-provisioner",
              dir.path() + "/tenants", "--tick-ms", "100"},
             {}, logPath);

  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  const std::string board = devnet.url();

  // The host's announcement reaches the registry.
  CliRun hosts;
  for (auto end = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < end;) {
    hosts = runCli({"hosts", "--board", board, "--registry", registry.address(), "--json"}, {});
    if (hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() > 0) break;
    std::this_thread::sleep_for(500ms);
  }
  ASSERT_EQ(hosts.code, 0) << hosts.out;
  ASSERT_TRUE(hosts.json.IsObject()) << hosts.out;
  ASSERT_EQ(hosts.json["hosts"].Size(), 1u) << hosts.out;
  const auto& h = hosts.json["hosts"][0];
  EXPECT_EQ(std::string(h["account"].GetString()), host.address());
  EXPECT_EQ(h["price"].GetUint64(), 1000u);
  EXPECT_EQ(h["free"].GetUint64(), 2u);
  EXPECT_EQ(h["instances"].GetUint64(), 2u);

  // Acquire 2 moments: price computed from the announcement.
  CliRun acq = runCli({"lease", "acquire", "--board", board, "--host", host.address(), "--registry",
                       registry.address(), "--image", "hotpocket", "--contract-id",
                       "6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5b", "--moments", "2", "--timeout", "60", "--json"},
                      env);
  ASSERT_EQ(acq.code, 0) << acq.out;
  ASSERT_TRUE(acq.json.IsObject()) << acq.out;
  EXPECT_EQ(std::string(acq.json["type"].GetString()), "sashimono.acquire.ok");
  EXPECT_EQ(std::string(acq.json["result"].GetString()), "ok");
  EXPECT_GT(acq.json["user_port"].GetUint(), 0u) << acq.out;
  EXPECT_GT(acq.json["peer_port"].GetUint(), 0u) << acq.out;
  EXPECT_EQ(acq.json["moments"].GetUint64(), 2u);
  EXPECT_EQ(std::string(acq.json["host"].GetString()), "127.0.0.1");
  EXPECT_EQ(std::string(acq.json["instance_key"].GetString()).substr(0, 2), "ED");
  const std::string leaseId = acq.json["lease_id"].GetString();
  EXPECT_EQ(leaseId.size(), 64u);

  // Extend by one moment.
  CliRun ext = runCli({"lease", "extend", "--board", board, "--host", host.address(), "--lease", leaseId,
                       "--moments", "1", "--timeout", "60", "--json"},
                      env);
  ASSERT_EQ(ext.code, 0) << ext.out;
  ASSERT_TRUE(ext.json.IsObject()) << ext.out;
  EXPECT_EQ(std::string(ext.json["type"].GetString()), "sashimono.extend.ok");
  EXPECT_EQ(ext.json["moments"].GetUint64(), 1u);
  EXPECT_EQ(ext.json["expiry"].GetUint64(), acq.json["expiry"].GetUint64() + 3600);

  // Terminate: the unused moments, refunded with the terminate's own drop.
  CliRun term = runCli({"lease", "terminate", "--board", board, "--host", host.address(), "--registry",
                        registry.address(), "--lease", leaseId, "--timeout", "60", "--json"},
                       env);
  ASSERT_EQ(term.code, 0) << term.out;
  ASSERT_TRUE(term.json.IsObject()) << term.out;
  EXPECT_EQ(std::string(term.json["type"].GetString()), "sashimono.terminate.ok");
  EXPECT_EQ(std::string(term.json["lease_id"].GetString()), leaseId);
  EXPECT_GE(term.json["refund"].GetUint64(), 1u + 2 * 1000);
  EXPECT_EQ(term.json["amount"].GetUint64(), term.json["refund"].GetUint64());

  // An unknown lease gets an error reply with the refund; exit code 1.
  CliRun bad = runCli({"lease", "terminate", "--board", board, "--host", host.address(), "--registry",
                       registry.address(), "--lease", std::string(64, 'A'), "--timeout", "60", "--json"},
                      env);
  EXPECT_EQ(bad.code, 1) << bad.out;
  ASSERT_TRUE(bad.json.IsObject()) << bad.out;
  EXPECT_EQ(std::string(bad.json["result"].GetString()), "error");
  EXPECT_FALSE(std::string(bad.json["reason"].GetString()).empty());

  // The history shows the four requests, each with its reply.
  CliRun list = runCli({"lease", "list", "--board", board, "--json"}, env);
  ASSERT_EQ(list.code, 0) << list.out;
  ASSERT_TRUE(list.json.IsObject()) << list.out;
  ASSERT_EQ(list.json["requests"].Size(), 4u) << list.out;
  for (const auto& r : list.json["requests"].GetArray()) EXPECT_EQ(r["replies"].Size(), 1u) << list.out;

  // The text forms name the same things.
  CliRun hostsText = runCli({"hosts", "--board", board, "--registry", registry.address()}, {});
  EXPECT_EQ(hostsText.code, 0);
  EXPECT_NE(hostsText.out.find(host.address()), std::string::npos) << hostsText.out;
  CliRun listText = runCli({"lease", "list", "--board", board}, env);
  EXPECT_EQ(listText.code, 0);
  EXPECT_NE(listText.out.find(leaseId), std::string::npos) << listText.out;
  EXPECT_NE(listText.out.find("user_port"), std::string::npos) << listText.out;

  // The seed is never an argument; without one the command refuses.
  CliRun noSeed = runCli({"lease", "list", "--board", board}, {"SASHIMONO_SEED="});
  EXPECT_NE(noSeed.code, 0);

  if (::testing::Test::HasFailure()) {
    std::ifstream in(logPath);
    std::cerr << "---- node log ----\n" << in.rdbuf() << "\n";
  }
}

}  // namespace
}  // namespace sashimono::cli
