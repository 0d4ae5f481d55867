// What trusting keys costs the host node: two board clients follow the same host account on the
// same devnet at the same time — one trusting the board (the baseline), one trusting only the
// devnet's validator key (every ledger fetched whole, its header and transaction tree checked) —
// and each payment to the host is timed from submit to delivery in both. The difference is the
// latency verification adds per request; the trust client also reports the CPU time of its last
// ledger check.
//
//   bench_board_trust [--payments N=40] [--burst N=1] [--ledger-ms MS=1000]
//   (--burst K: K payments per ledger, to see larger ledgers)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "BenchUtil.h"
#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "sashimono/board/BoardClient.h"
#include "sashimono/crypto/NodeKeys.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace sashimono::board::fakes;
using Clock = std::chrono::steady_clock;

namespace {

struct Arrivals {
  std::mutex mu;
  std::map<crypto::Hash256, Clock::time_point> at;
  BoardEvents events() {
    BoardEvents e;
    e.onTransaction = [this](const BoardTx& t) {
      std::lock_guard lock(mu);
      at.emplace(t.hash, Clock::now());
    };
    return e;
  }
  std::optional<Clock::time_point> get(const crypto::Hash256& h) {
    std::lock_guard lock(mu);
    auto it = at.find(h);
    if (it == at.end()) return std::nullopt;
    return it->second;
  }
};

}  // namespace

int main(int argc, char** argv) {
  int payments = 40;
  int burst = 1;
  int ledgerMs = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--payments")) payments = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--burst")) burst = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--ledger-ms")) ledgerMs = std::atoi(argv[i + 1]);
  }
  const std::string seed = newGenesisSeed();
  DevnetProcess devnet(SASHIMONO_BINARY, seed, ledgerMs);
  DevnetWallet wallet(devnet.url(), seed);
  auto info = wallet.client().request(R"({"command":"server_info"})");
  if (!info.ok()) return std::fprintf(stderr, "server_info: %s\n", info.error().message.c_str()), 1;
  auto key = crypto::decodeNodePublic((*info)["result"]["info"]["pubkey_validator"].GetString());
  if (!key.ok()) return std::fprintf(stderr, "validator key: %s\n", key.error().message.c_str()), 1;
  const std::string host = newKey().address();

  BoardOptions base;
  base.urls = {devnet.url()};
  base.account = host;
  BoardOptions trusting = base;
  trusting.trust.validators = {*key};
  trusting.trust.quorum = 1;
  Arrivals plain, verified;
  BoardClient a(base, plain.events());
  BoardClient b(trusting, verified.events());
  if (!a.start(std::nullopt).ok() || !b.start(std::nullopt).ok()) return 1;
  if (!a.waitConnected(std::chrono::seconds(10)) || !b.waitConnected(std::chrono::seconds(10))) return 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(2 * ledgerMs));

  std::vector<std::pair<crypto::Hash256, Clock::time_point>> sent;
  for (int i = 0; i < payments; i += burst) {
    for (int k = 0; k < burst && i + k < payments; ++k) {
      const auto t0 = Clock::now();
      const std::string h = wallet.pay(host, 1'000'000 + static_cast<std::uint64_t>(i + k));
      crypto::Hash256 hash{};
      auto bytes = core::fromHex(h);
      std::copy(bytes->begin(), bytes->end(), hash.begin());
      sent.emplace_back(hash, t0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(ledgerMs));
  }
  const auto deadline = Clock::now() + std::chrono::milliseconds(10 * ledgerMs + 5000);
  std::vector<double> plainMs, trustMs, addedMs;
  for (const auto& [hash, t0] : sent) {
    std::optional<Clock::time_point> pa, pb;
    while (Clock::now() < deadline && (!(pa = plain.get(hash)) || !(pb = verified.get(hash))))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (!pa || !pb) return std::fprintf(stderr, "a payment was not delivered to both clients\n"), 1;
    plainMs.push_back(bench::ms(*pa - t0));
    trustMs.push_back(bench::ms(*pb - t0));
    addedMs.push_back(bench::ms(*pb - *pa));
  }
  const auto st = b.status();
  std::printf("board trust: %d payments (%d per ledger), ledger every %d ms, %llu ledgers checked\n",
              payments, burst, ledgerMs, static_cast<unsigned long long>(st.ledgersVerified));
  std::printf("  submit -> delivered, trusting the board (baseline): p50 %.1f ms  p95 %.1f ms\n",
              bench::pct(plainMs, 0.50), bench::pct(plainMs, 0.95));
  std::printf("  submit -> delivered, trusting the validator keys:  p50 %.1f ms  p95 %.1f ms  (ratio %.3f)\n",
              bench::pct(trustMs, 0.50), bench::pct(trustMs, 0.95),
              bench::pct(trustMs, 0.50) / bench::pct(plainMs, 0.50));
  std::printf("  added per request: p50 %.2f ms  p95 %.2f ms  max %.2f ms\n", bench::pct(addedMs, 0.50),
              bench::pct(addedMs, 0.95), bench::pct(addedMs, 1.0));
  std::printf("  last ledger check (header + transaction tree, CPU): %.3f ms\n",
              static_cast<double>(st.verifyMicros) / 1000.0);
  a.stop();
  b.stop();
  return 0;
}
