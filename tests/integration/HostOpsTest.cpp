// A host owner's view of a running node (`host run --test-provisioner` on the real devnet, all on
// 127.0.0.1): `host status` (one screen, --json, exit 3 when something needs attention), the
// Prometheus metrics read by the real Prometheus (Debian's package) scraping the node, SIGHUP
// reloading the offer and refusing a bad file with the field named, and SIGTERM stopping promptly.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Child.h"
#include "fakes/node/TestHostConfig.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/node/HostConfig.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;
using fakes::CliRun;
using fakes::runCli;

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// GET http://127.0.0.1:port<target>: the body, or "" when nothing answered.
std::string httpGet(std::uint16_t port, const std::string& target) {
  namespace asio = boost::asio;
  try {
    asio::io_context ioc;
    asio::ip::tcp::socket s(ioc);
    s.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(s, asio::buffer(req));
    std::string got;
    boost::system::error_code ec;
    char buf[8192];
    for (std::size_t n; (n = s.read_some(asio::buffer(buf), ec)) > 0 || !ec;) got.append(buf, n);
    const auto body = got.find("\r\n\r\n");
    return body == std::string::npos ? "" : got.substr(body + 4);
  } catch (const std::exception&) {
    return "";
  }
}

// Polls `f` every 200 ms until it returns true or `limit` passes.
template <typename F>
bool eventually(F f, std::chrono::seconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (f()) return true;
    std::this_thread::sleep_for(200ms);
  }
  return f();
}

std::uint16_t freePort() {
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

class HostOpsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    prometheus_.stop(SIGKILL);
    node_.stop(SIGKILL);
    if (HasFailure()) {
      std::cerr << "---- node log ----\n" << readAll(logPath_) << "\n";
      std::cerr << "---- prometheus log ----\n" << readAll(dir_.path() + "/prometheus.log") << "\n";
    }
  }

  // The metrics port the node logged.
  std::uint16_t metricsPort() {
    std::uint16_t port = 0;
    eventually(
        [&] {
          std::smatch m;
          const std::string log = readAll(logPath_);
          static const std::regex re("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics");
          if (std::regex_search(log, m, re)) port = static_cast<std::uint16_t>(std::stoi(m[1]));
          return port != 0;
        },
        30s);
    return port;
  }

  // The devnet, funded host, registry and developer accounts, and the host's config (`instances`
  // slots, announced to the registry) written to configPath_.
  void setUpNet(std::uint32_t instances) {
    genesis_ = board::fakes::newGenesisSeed();
    devnet_ = std::make_unique<board::fakes::DevnetProcess>(SASHIMONO_BINARY, genesis_, 200);
    wallet_ = std::make_unique<board::fakes::DevnetWallet>(devnet_->url(), genesis_);
    const std::string hostSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
    host_ = *crypto::KeyPair::fromSeed(hostSeed);
    registry_ = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
    devSeed_ = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
    for (const auto& a :
         {host_->address(), registry_->address(), crypto::KeyPair::fromSeed(devSeed_)->address()})
      wallet_->waitValidated(wallet_->pay(a, 100'000'000));
    config_ = fakes::testHostConfig(devnet_->url(), dir_.path() + "/data", instances);
    config_.registryAccount = registry_->address();
    auto path = fakes::writeTestHostConfig(config_, dir_.path(), hostSeed);
    if (!path) throw std::runtime_error(path.error().message);
    configPath_ = *path;
    logPath_ = dir_.path() + "/node.log";
  }

  // `lease acquire --json` of one moment of `image` as the developer, once the host's announcement
  // is on the registry (the CLI prices the request from it).
  CliRun acquire(const std::string& image) {
    eventually(
        [&] {
          CliRun hosts =
              runCli({"hosts", "--board", devnet_->url(), "--registry", registry_->address(), "--json"}, {});
          return hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() == 1;
        },
        30s);
    return runCli({"lease", "acquire", "--board", devnet_->url(), "--host", host_->address(), "--registry",
                   registry_->address(), "--image", image, "--contract-id",
                   "6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5b", "--moments", "1", "--timeout", "60", "--json"},
                  {"SASHIMONO_SEED=" + devSeed_});
  }

  void writeConfig(const HostConfig& c) {
    std::ofstream out(configPath_, std::ios::trunc);
    out << renderHostConfig(c);
  }

  board::fakes::TempDir dir_;
  std::string genesis_;
  std::unique_ptr<board::fakes::DevnetProcess> devnet_;
  std::unique_ptr<board::fakes::DevnetWallet> wallet_;
  std::optional<crypto::KeyPair> host_;
  std::optional<crypto::KeyPair> registry_;
  std::string devSeed_;
  HostConfig config_;
  std::string configPath_;
  std::string logPath_;
  fakes::Child prometheus_;
  fakes::Child node_;
};

TEST_F(HostOpsTest, StatusMetricsScrapedByPrometheusReloadAndStop) {
  if (!std::filesystem::exists("/usr/bin/prometheus")) GTEST_SKIP() << "Debian's prometheus is not installed";
  setUpNet(2);
  const HostConfig c = config_;
  board::fakes::DevnetProcess& devnet = *devnet_;
  const crypto::KeyPair& registry = *registry_;
  // As systemd runs it: stderr connected to the journal (JOURNAL_STREAM set).
  node_.start(fakes::hostRunArgs(configPath_, dir_.path() + "/tenants"), {"JOURNAL_STREAM=9:4242"}, logPath_);
  const std::uint16_t port = metricsPort();
  ASSERT_NE(port, 0) << "no metrics address in the node's log";
  // Journal lines: the syslog priority first (journald reads it), no timestamp of our own.
  EXPECT_NE(readAll(logPath_).find("<6>host run: metrics on http://"), std::string::npos)
      << readAll(logPath_);
  EXPECT_NE(readAll(logPath_).find("<4>host run: tenants are simulated"), std::string::npos)
      << readAll(logPath_);

  // Running, connected, nothing owed: all well.
  CliRun status;
  ASSERT_TRUE(eventually(
      [&] {
        status = runCli({"host", "status", "--json", "--config", configPath_}, {});
        return status.code == 0 && status.json.IsObject() && status.json["board"].IsObject() &&
               status.json["board"]["connected"].GetBool() && status.json["outbox"]["open"].GetUint() == 0 &&
               status.json["funds"].IsObject() &&
               std::string(status.json["funds"]["state"].GetString()) == "ok";
      },
      30s))
      << status.out;
  EXPECT_TRUE(status.json["running"].GetBool());
  EXPECT_EQ(status.json["free"].GetUint(), 2u);
  EXPECT_TRUE(status.json["attention"].Empty());
  // The devnet's fees and the host's funds (100 XRP, less what its announcements cost).
  const auto& fees = status.json["fees"];
  ASSERT_TRUE(fees.IsObject()) << status.out;
  EXPECT_GE(fees["openLedger"].GetUint64(), 10u) << status.out;
  EXPECT_EQ(fees["ceiling"].GetUint64(), 1000u);
  EXPECT_EQ(fees["waiting"].GetUint64(), 0u);
  const auto& funds = status.json["funds"];
  EXPECT_LE(funds["balance"].GetUint64(), 100'000'000u);
  EXPECT_GT(funds["balance"].GetUint64(), 99'000'000u);
  EXPECT_EQ(funds["reserve"].GetUint64(), 1'000'000u) << status.out;
  EXPECT_EQ(funds["spendable"].GetInt64(),
            static_cast<std::int64_t>(funds["balance"].GetUint64()) - 1'000'000);
  CliRun text = runCli({"host", "status", "--config", configPath_}, {});
  EXPECT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find("all well"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ceiling 1000 drops"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("reserve 1000000 (1000000 + 0 x 200000)"), std::string::npos) << text.out;

  // A lease: counted by type and verdict, its provisioning timed.
  CliRun acq = acquire("hotpocket");
  ASSERT_EQ(acq.code, 0) << acq.out;
  std::string metrics;
  ASSERT_TRUE(eventually(
      [&] {
        metrics = httpGet(port, "/metrics");
        return metrics.find("sashimono_requests_total{type=\"acquire\",verdict=\"accepted\"} 1\n") !=
               std::string::npos;
      },
      10s))
      << metrics;
  EXPECT_NE(metrics.find("sashimono_provision_duration_seconds_count{result=\"ok\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("sashimono_leases{state=\"active\"} 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sashimono_instances_free 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sashimono_board_connected 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sashimono_fee_ceiling_drops 1000\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sashimono_replies_waiting_for_fee 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sashimono_host_reserve_drops 1000000\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("sashimono_host_spendable_drops "), std::string::npos) << metrics;

  // The real Prometheus scrapes the node and reads the same value back through its query API.
  const std::uint16_t promPort = freePort();
  {
    std::ofstream cfg(dir_.path() + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: sashimono\n    static_configs:\n      - targets: ['127.0.0.1:"
        << port << "']\n";
  }
  prometheus_.start({"/usr/bin/prometheus", "--config.file=" + dir_.path() + "/prometheus.yml",
                     "--storage.tsdb.path=" + dir_.path() + "/prometheus-data",
                     "--web.listen-address=127.0.0.1:" + std::to_string(promPort)},
                    {}, dir_.path() + "/prometheus.log");
  const std::string query =
      "/api/v1/query?query=sashimono_requests_total%7Btype%3D%22acquire%22%2Cverdict%3D%22accepted%22%7D";
  std::string answer;
  ASSERT_TRUE(eventually(
      [&] {
        answer = httpGet(promPort, query);
        rapidjson::Document d;
        d.Parse(answer.c_str());
        if (d.HasParseError() || !d.IsObject() || !d.HasMember("data")) return false;
        const auto& r = d["data"]["result"];
        return r.IsArray() && r.Size() == 1 && std::string(r[0]["value"][1].GetString()) == "1" &&
               std::string(r[0]["metric"]["job"].GetString()) == "sashimono";
      },
      60s))
      << answer;
  // The scrape succeeded (up = 1: Prometheus parsed the whole exposition), and promtool's lint of
  // names, types and help finds nothing to say.
  answer = httpGet(promPort, "/api/v1/query?query=up%7Bjob%3D%22sashimono%22%7D");
  EXPECT_NE(answer.find(",\"1\"]"), std::string::npos) << answer;
  std::ofstream(dir_.path() + "/metrics.txt") << httpGet(port, "/metrics");
  fakes::Child lint;
  lint.start({"/bin/sh", "-c", "/usr/bin/promtool check metrics < '" + dir_.path() + "/metrics.txt' 2>&1"},
             {});
  std::string lintOut;
  EXPECT_EQ(lint.wait(lintOut, 30s), 0) << lintOut;

  // SIGHUP with a bad file: refused whole, the field named, the old offer kept.
  HostConfig bad = c;
  bad.offer.pricePerMoment = 2000;
  writeConfig(bad);
  {
    std::string t = readAll(configPath_);
    t.replace(t.find("\"pricePerMoment\": 2000"), 22, "\"pricePerMoment\": -5");
    std::ofstream(configPath_, std::ios::trunc) << t;
  }
  node_.signal(SIGHUP);
  ASSERT_TRUE(eventually(
      [&] { return readAll(logPath_).find("configuration not reloaded") != std::string::npos; }, 10s));
  EXPECT_NE(readAll(logPath_).find("pricePerMoment"), std::string::npos);
  EXPECT_NE(httpGet(port, "/metrics").find("sashimono_instances 2\n"), std::string::npos);

  // SIGHUP with a good one: a new price and capacity announced at once; a board change is named
  // as needing a restart and kept.
  HostConfig good = c;
  good.offer.pricePerMoment = 2000;
  good.offer.instances = 3;
  good.boardUrls.push_back("ws://127.0.0.1:1");
  good.fees.maxDrops = 2500;
  writeConfig(good);
  node_.signal(SIGHUP);
  CliRun hosts;
  ASSERT_TRUE(eventually(
      [&] {
        hosts = runCli({"hosts", "--board", devnet.url(), "--registry", registry.address(), "--json"}, {});
        return hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() == 1 &&
               hosts.json["hosts"][0]["price"].GetUint64() == 2000 &&
               hosts.json["hosts"][0]["instances"].GetUint64() == 3;
      },
      30s))
      << hosts.out;
  EXPECT_NE(httpGet(port, "/metrics").find("sashimono_instances 3\n"), std::string::npos);
  EXPECT_NE(readAll(logPath_).find("board.urls changed"), std::string::npos);
  // The fee ceiling is taken without a restart.
  EXPECT_TRUE(eventually(
      [&] {
        return httpGet(port, "/metrics").find("sashimono_fee_ceiling_drops 2500\n") != std::string::npos;
      },
      10s));
  EXPECT_NE(readAll(logPath_).find("node: fee ceiling 2500 drops"), std::string::npos);

  // SIGTERM: the node finishes what it holds and exits promptly and cleanly.
  const auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(node_.stop(SIGTERM), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 3s);
  CliRun after = runCli({"host", "status", "--config", configPath_}, {});
  EXPECT_EQ(after.code, 3) << after.out;
  EXPECT_NE(after.out.find("STOPPED"), std::string::npos) << after.out;
  EXPECT_NE(after.out.find("NEEDS ATTENTION"), std::string::npos) << after.out;
  // Its own log file, bounded in its data directory: the last lines say how it stopped.
  CliRun logs = runCli({"host", "logs", "--config", configPath_, "--lines", "3"}, {});
  EXPECT_EQ(logs.code, 0) << logs.out;
  EXPECT_NE(logs.out.find("signal 15, stopping"), std::string::npos) << logs.out;
  EXPECT_LE(std::count(logs.out.begin(), logs.out.end(), '\n'), 3) << logs.out;
}

// The heal loop on instances run as local processes (`host run --process-instances`, the real
// runtime): a runtime killed with SIGKILL is started again on the same port, with the same key and
// state, within 2 s; metrics and status count the restart.
TEST_F(HostOpsTest, AKilledInstanceServesAgainWithinTwoSeconds) {
  setUpNet(1);
  const std::string instances = dir_.path() + "/instances";
  node_.start({SASHIMONO_BINARY, "host", "run", "--config", configPath_, "--process-instances", instances,
               "--tick-ms", "100"},
              {}, logPath_);
  const std::uint16_t port = metricsPort();
  ASSERT_NE(port, 0);
  CliRun acq = acquire("hotpocket");
  ASSERT_EQ(acq.code, 0) << acq.out;
  const std::string lease = acq.json["lease_id"].GetString();
  const std::uint16_t userPort = static_cast<std::uint16_t>(acq.json["user_port"].GetUint());
  auto stat = [&] {
    return runCli({"instance", "stat", "--url", "wss://127.0.0.1:" + std::to_string(userPort), "--json",
                   "--timeout", "5"},
                  {});
  };
  ASSERT_EQ(stat().code, 0);
  // The heal loop has seen it serve (an instance is not judged while it comes up).
  ASSERT_TRUE(eventually(
      [&] {
        return httpGet(port, "/metrics").find("sashimono_instances_health{state=\"healthy\"} 1\n") !=
               std::string::npos;
      },
      10s));
  const std::string pidFile = instances + "/" + lease + "/runtime.pid";
  const pid_t pid = static_cast<pid_t>(std::stol(readAll(pidFile)));
  ASSERT_GT(pid, 1);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const auto killed = std::chrono::steady_clock::now();
  // Serving again: the same port answers the user protocol, from a new process.
  ASSERT_TRUE(eventually([&] { return stat().code == 0 && std::stol(readAll(pidFile)) != pid; }, 10s))
      << readAll(logPath_);
  const auto took = std::chrono::steady_clock::now() - killed;
  std::cerr << "killed → serving again: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_LT(took, 2s + 2s);  // goal 2 s; the check above adds CLI start-ups (ASan) on top
  CliRun again = stat();
  ASSERT_TRUE(again.json.IsObject()) << again.out;
  std::string metrics = httpGet(port, "/metrics");
  EXPECT_NE(metrics.find("sashimono_instance_restarts_total{result=\"ok\"} 1\n"), std::string::npos)
      << metrics;
  CliRun status = runCli({"host", "status", "--json", "--config", configPath_}, {});
  ASSERT_TRUE(status.json.IsObject()) << status.out;
  ASSERT_EQ(status.json["health"].Size(), 1u) << status.out;
  EXPECT_EQ(std::string(status.json["health"][0]["lease"].GetString()), lease);
  EXPECT_EQ(status.json["health"][0]["restarts"].GetUint64(), 1u);
}

}  // namespace
}  // namespace sashimono::node
