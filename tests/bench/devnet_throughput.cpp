// Devnet throughput: pre-signed XRP payments submitted over real WebSocket connections on
// loopback, counted when validated (ledgerClosed txn_count on a ledger-stream subscriber), beside
// the rate at which the same machine only verifies those signatures on the same number of threads.
//
//   bench_devnet_throughput [--txs N] [--senders N] [--window N] [--interval-ms N]
//                           [--work-threads N] [--io-threads N]
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>
#include <unistd.h>

#include "fakes/board/TestTx.h"
#include "sashimono/core/Log.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/DevnetServer.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/ledger/Signing.h"
#include "sashimono/net/WsClient.h"

using namespace sashimono;
using Clock = std::chrono::steady_clock;

namespace {

crypto::KeyPair keyFor(std::uint32_t n) {
  std::array<std::uint8_t, 16> e{};
  e[0] = 0xBE;
  e[1] = 0x7C;
  std::memcpy(e.data() + 4, &n, sizeof n);
  return *crypto::KeyPair::fromSeed(crypto::Seed(crypto::KeyType::ed25519, e));
}

using board::fakes::signedPayment;

std::string submitText(const core::Bytes& blob, std::uint64_t id) {
  return R"({"id":)" + std::to_string(id) + R"(,"command":"submit","tx_blob":")" + core::toHex(blob) + "\"}";
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (const char* level = std::getenv("SASHIMONO_LOG")) sashimono::core::initLogging(level);
  std::uint32_t txs = 60000;
  std::uint32_t senders = 8;
  std::uint32_t window = 2000;
  std::uint32_t intervalMs = 250;
  unsigned workThreads = 0;
  unsigned ioThreads = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    std::uint32_t v = static_cast<std::uint32_t>(std::stoul(argv[i + 1]));
    if (a == "--txs")
      txs = v;
    else if (a == "--senders")
      senders = v;
    else if (a == "--window")
      window = v;
    else if (a == "--interval-ms")
      intervalMs = v;
    else if (a == "--work-threads")
      workThreads = v;
    else if (a == "--io-threads")
      ioThreads = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (workThreads == 0) workThreads = cores;
  const std::uint32_t perSender = txs / senders;
  txs = perSender * senders;

  std::string dirTemplate = (std::filesystem::temp_directory_path() / "sashi-bench-XXXXXX").string();
  std::filesystem::path dir = ::mkdtemp(dirTemplate.data());
  auto genesis = keyFor(0);
  devnet::DevnetOptions o;
  o.dataDir = dir.string();
  o.genesisSeed = crypto::encodeSeed(crypto::Seed(crypto::KeyType::ed25519, {0xBE, 0x7C}));
  o.ledgerInterval = std::chrono::milliseconds(intervalMs);
  genesis = *crypto::KeyPair::fromSeed(o.genesisSeed);
  auto node = devnet::Devnet::open(o);
  if (!node.ok()) {
    std::fprintf(stderr, "devnet: %s\n", node.error().message.c_str());
    return 1;
  }
  devnet::DevnetServerOptions so;
  so.workThreads = workThreads;
  so.ioThreads = ioThreads;
  devnet::DevnetServer server(**node, so);
  auto port = server.listen("127.0.0.1", 0);
  if (!port.ok()) return 1;
  const std::string url = "ws://127.0.0.1:" + std::to_string(*port);

  // Fund senders and two receivers directly (not measured).
  std::vector<crypto::KeyPair> from;
  for (std::uint32_t s = 0; s < senders; ++s) from.push_back(keyFor(100 + s));
  std::vector<std::string> to = {keyFor(1).address(), keyFor(2).address()};
  std::uint32_t gseq = 1;
  for (const auto& k : from)
    (void)(*node)->submit(signedPayment(genesis, k.address(), 1'000'000'000'000, gseq++));
  for (const auto& a : to) (void)(*node)->submit(signedPayment(genesis, a, 1'000'000'000, gseq++));
  auto funded = (*node)->closeLedger();
  if (!funded.ok()) return 1;
  (*node)->start();

  // Pre-sign: sender s uses sequences 2.. (accounts created in ledger 2 start at sequence 2).
  std::printf("signing %u payments from %u senders...\n", txs, senders);
  auto s0 = Clock::now();
  std::vector<std::vector<std::string>> requests(senders);
  std::vector<core::Bytes> blobs;
  blobs.reserve(txs);
  for (std::uint32_t s = 0; s < senders; ++s) {
    for (std::uint32_t i = 0; i < perSender; ++i) {
      blobs.push_back(signedPayment(from[s], to[i % 2], 1000 + i, funded->seq + i));
      requests[s].push_back(submitText(blobs.back(), i));
    }
  }

  std::printf("signed in %.2f s; measuring\n", seconds(Clock::now() - s0));
  std::fflush(stdout);
  // Ledger-stream subscriber counts validated transactions.
  std::mutex mu;
  std::condition_variable cv;
  std::uint64_t validatedTxs = 0;
  Clock::time_point lastValidated;
  net::ClientOptions lo;
  lo.onMessage = [&](std::string&& m) {
    if (m.find("\"ledgerClosed\"") == std::string::npos) return;
    rapidjson::Document d;
    d.Parse(m.c_str());
    std::lock_guard lock(mu);
    std::uint32_t n = d["txn_count"].GetUint();
    if (n == 0) return;
    validatedTxs += n;
    lastValidated = Clock::now();
    cv.notify_all();
  };
  auto listener = net::WsClient::connect(url, lo);
  if (!listener.ok()) return 1;
  (void)(*listener)->send(R"({"id":0,"command":"subscribe","streams":["ledger"]})");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  {
    std::lock_guard lock(mu);
    validatedTxs = 0;
  }

  struct Conn {
    std::unique_ptr<net::WsClient> client;
    std::atomic<std::uint32_t> answered{0};
    std::atomic<std::uint32_t> failed{0};
    std::mutex sendMu;  // sends happen in index order, from the main thread or the I/O thread
    std::uint32_t sent = 0;
    void sendNext(const std::vector<std::string>& reqs) {
      std::lock_guard lock(sendMu);
      if (sent < reqs.size()) (void)client->send(reqs[sent++]);
    }
  };
  std::vector<std::unique_ptr<Conn>> conns;
  std::atomic<std::uint32_t> totalAnswered{0};
  for (std::uint32_t s = 0; s < senders; ++s) conns.push_back(std::make_unique<Conn>());
  for (std::uint32_t s = 0; s < senders; ++s) {
    Conn* c = conns[s].get();
    const auto* reqs = &requests[s];
    net::ClientOptions co;
    co.onMessage = [c, reqs, &totalAnswered, &cv](std::string&& m) {
      if (m.find("\"engine_result\":\"tesSUCCESS\"") == std::string::npos && c->failed++ == 0)
        std::fprintf(stderr, "first failure: %.300s\n", m.c_str());
      ++c->answered;
      c->sendNext(*reqs);
      if (++totalAnswered % 1000 == 0) cv.notify_all();
    };
    auto client = net::WsClient::connect(url, co);
    if (!client.ok()) {
      std::fprintf(stderr, "connect: %s\n", client.error().message.c_str());
      return 1;
    }
    c->client = std::move(*client);
  }

  auto t0 = Clock::now();
  for (std::uint32_t s = 0; s < senders; ++s) {
    Conn* c = conns[s].get();
    std::uint32_t first = std::min<std::uint32_t>(window, perSender);
    for (std::uint32_t i = 0; i < first; ++i) c->sendNext(requests[s]);
  }
  Clock::time_point submitted;
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(600), [&] { return totalAnswered.load() >= txs; });
    submitted = Clock::now();
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return validatedTxs >= txs; });
  }
  // Verify-only rate: the same signatures, on `workThreads` threads.
  std::vector<ledger::DecodedTx> decoded;
  decoded.reserve(blobs.size());
  for (const auto& b : blobs) decoded.push_back(*ledger::decodeTransaction(b));
  std::atomic<std::uint32_t> bad{0};
  auto v0 = Clock::now();
  {
    std::vector<std::thread> ts;
    for (unsigned t = 0; t < workThreads; ++t) {
      ts.emplace_back([&, t] {
        for (std::size_t i = t; i < decoded.size(); i += workThreads) {
          const auto& d = decoded[i];
          if (!crypto::verify(d.signingPubKey, d.signingData, d.signature).ok()) ++bad;
        }
      });
    }
    for (auto& t : ts) t.join();
  }
  double verifySecs = seconds(Clock::now() - v0);
  double verifyRate = txs / verifySecs;
  if (bad != 0) std::printf("warning: %u signatures did not verify\n", bad.load());

  std::uint32_t failed = 0;
  for (auto& c : conns) failed += c->failed;
  double submitSecs = seconds(submitted - t0);
  double totalSecs = seconds(lastValidated - t0);
  double rate = validatedTxs / totalSecs;

  std::printf(
      "machine: %u cores; server: %u io thread(s), %u work threads; %u connections, window %u; "
      "ledger interval %u ms\n",
      cores, ioThreads, workThreads, senders, window, intervalMs);
  std::printf("submitted %u payments in %.3f s (%.0f/s), %u not tesSUCCESS\n", txs, submitSecs,
              txs / submitSecs, failed);
  std::printf("validated %llu payments in %.3f s: %.0f payments/s (submitted -> validated)\n",
              static_cast<unsigned long long>(validatedTxs), totalSecs, rate);
  std::printf("verify only (%u threads): %.0f signatures/s\n", workThreads, verifyRate);
  std::printf("ratio validated/verify-only: %.3f\n", rate / verifyRate);

  for (auto& c : conns) c->client.reset();
  listener->reset();
  server.stop();
  (*node)->stop();
  node->reset();
  std::filesystem::remove_all(dir);
  return (failed == 0 && validatedTxs >= txs) ? 0 : 1;
}
