// Ledger verification: the time to check that a ledger a board sent is the one validators signed
// (ledger::verifyLedger: header hash + transaction tree from the blobs), for ledgers of 10, 100 and
// 1,000 signed XRP payments with the metadata the devnet writes, beside a baseline measured in the
// same run: one SHA-512 pass over the same bytes (header + every blob and meta), the least any
// check of those bytes costs. Also the full path from the answer's text (JSON parse, which the
// board connection does for any answer, then board::parseLedger with its hex decoding and tx ids,
// then verification), beside the same baseline. Goal: verification < 5 ms per ledger at the
// devnet's sizes.
//
//   bench_ledger_verify [--sizes 10,100,1000] [--reps N]     (N: runs per size, default 200)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "BenchUtil.h"
#include "fakes/board/TestTx.h"
#include "sashimono/board/Responses.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/devnet/Engine.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/ledger/LedgerHeader.h"
#include "sashimono/ledger/ShaMap.h"

using namespace sashimono;
using Clock = std::chrono::steady_clock;

namespace {

crypto::KeyPair keyFor(std::uint32_t n) {
  std::array<std::uint8_t, 16> e{};
  e[0] = 0x1E;
  e[1] = 0xD6;
  std::memcpy(e.data() + 4, &n, sizeof n);
  return *crypto::KeyPair::fromSeed(crypto::Seed(crypto::KeyType::ed25519, e));
}

// A devnet ledger of `count` payments from 8 funded senders to fresh accounts.
devnet::ClosedLedger makeLedger(std::uint32_t count) {
  crypto::KeyPair genesis = keyFor(0);
  auto [engine, g] = devnet::Engine::genesis(genesis.accountId(), 1000);
  auto apply = [&engine](const core::Bytes& blob) {
    auto tx = ledger::decodeTransaction(blob);
    if (!tx.ok() || engine.apply(*tx, blob).result != devnet::Ter::tesSUCCESS) {
      std::fprintf(stderr, "cannot apply a payment\n");
      std::exit(1);
    }
  };
  constexpr std::uint32_t kSenders = 8;
  std::vector<crypto::KeyPair> senders;
  for (std::uint32_t i = 0; i < kSenders; ++i) {
    senders.push_back(keyFor(1 + i));
    apply(board::fakes::signedPayment(genesis, senders.back().address(), 1'000'000'000'000, 1 + i));
  }
  (void)engine.close(1001);
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto& from = senders[i % kSenders];
    apply(board::fakes::signedPayment(from, keyFor(1000 + i).address(), 20'000'000, 2 + i / kSenders));
  }
  return engine.close(1002);
}

// The devnet's binary `ledger` answer (API v2) for the ledger.
std::string answerText(const devnet::ClosedLedger& l) {
  std::ostringstream o;
  o << R"({"id":1,"status":"success","type":"response","result":{"ledger":{"closed":true,"ledger_data":")"
    << core::toHex(ledger::serializeHeader(l.header)) << R"(","transactions":[)";
  for (std::size_t i = 0; i < l.txs.size(); ++i) {
    o << (i ? "," : "") << R"({"hash":")" << core::toHex(l.txs[i].hash) << R"(","meta_blob":")"
      << core::toHex(l.txs[i].meta) << R"(","tx_blob":")" << core::toHex(l.txs[i].blob) << "\"}";
  }
  o << R"(]},"ledger_hash":")" << core::toHex(l.header.hash) << R"(","ledger_index":)" << l.header.seq
    << R"(,"validated":true}})";
  return o.str();
}

template <typename F>
double medianMs(int reps, F&& f) {
  std::vector<double> t;
  t.reserve(static_cast<std::size_t>(reps));
  for (int i = 0; i < reps; ++i) {
    auto t0 = Clock::now();
    f();
    t.push_back(bench::ms(Clock::now() - t0));
  }
  return bench::pct(t, 0.5);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::uint32_t> sizes{10, 100, 1000};
  int reps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--reps") {
      reps = std::atoi(argv[i + 1]);
    } else if (a == "--sizes") {
      sizes.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string part; std::getline(ss, part, ',');)
        sizes.push_back(static_cast<std::uint32_t>(std::stoul(part)));
    } else {
      std::fprintf(stderr, "usage: bench_ledger_verify [--sizes 10,100,1000] [--reps N]\n");
      return 2;
    }
  }
  std::printf("%6s %9s | %10s %10s %6s | %10s %6s %10s | %10s\n", "txs", "bytes", "verify ms", "sha512 ms",
              "ratio", "answer ms", "ratio", "(json ms)", "goal <5 ms");
  int failures = 0;
  for (std::uint32_t n : sizes) {
    devnet::ClosedLedger l = makeLedger(n);
    std::vector<ledger::LedgerTxData> views;
    core::Bytes all = ledger::serializeHeader(l.header);
    for (const auto& t : l.txs) {
      views.push_back({t.blob, t.meta});
      all.insert(all.end(), t.blob.begin(), t.blob.end());
      all.insert(all.end(), t.meta.begin(), t.meta.end());
    }
    const std::string text = answerText(l);
    bool ok = true;
    volatile std::uint8_t sink = 0;
    const double verify =
        medianMs(reps, [&] { ok = ok && ledger::verifyLedger(l.header, l.header.hash, views).ok(); });
    const double base = medianMs(reps, [&] { sink = sink ^ crypto::sha512(all)[0]; });
    const double json = medianMs(reps, [&] {
      rapidjson::Document d;
      d.Parse(text.c_str(), text.size());
      ok = ok && d.IsObject();
    });
    const double answer = medianMs(reps, [&] {
      rapidjson::Document d;
      d.Parse(text.c_str(), text.size());
      auto parsed = board::parseLedger(d);
      ok = ok && parsed.ok() && board::verifyLedger(*parsed, l.header.hash).ok();
    });
    if (!ok) {
      std::fprintf(stderr, "ledger of %u payments did not verify\n", n);
      ++failures;
    }
    std::printf("%6u %9zu | %10.3f %10.3f %6.2f | %10.3f %6.2f %10.3f | %10s\n", n, all.size(), verify, base,
                verify / base, answer, answer / base, json, verify < 5.0 ? "met" : "MISSED");
  }
  std::printf(
      "(median of %d runs each; ratio = ours / one SHA-512 pass over the ledger's bytes; verify: header + "
      "tree\n"
      " from the blobs; answer: the binary `ledger` answer's text parsed (json ms of it), parseLedger, "
      "verify)\n",
      reps);
  return failures == 0 ? 0 : 1;
}
