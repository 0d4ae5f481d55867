// bench_node_bench, parts 1 and 2 on the devnet: the stages of an acquire beside the
// provisioner's own create, and a legitimate acquire's delay behind a flood of invalid requests.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "BenchHost.h"
#include "NodeBench.h"
#include "Observer.h"
#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Forge.h"
#include "fakes/node/Tenant.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node_bench {

// Parts 1 and 2, on the devnet.
int runDevnet(const Options& opt, BenchHost& th) {
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, opt.ledgerMs);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const crypto::KeyPair hostKey = node::fakes::newEdKey();

  // Accounts: the host, one tenant per acquire, two for the flood's legitimate acquires, the
  // flood's senders; funded in one ledger.
  std::vector<Account> tenants;
  for (int i = 0; i < opt.acquires + 2; ++i) tenants.push_back({node::fakes::newEdKey(), 0});
  std::vector<Account> senders;
  for (int i = 0; i < (opt.flood > 0 ? opt.floodSenders : 0); ++i)
    senders.push_back({node::fakes::newEdKey(), 0});
  std::string last = wallet.pay(hostKey.address(), 1'000'000'000);
  for (auto* group : {&tenants, &senders})
    for (auto& a : *group) last = wallet.pay(a.key.address(), 1'000'000'000);
  wallet.waitValidated(last, 30s);
  auto seqOf = [&](Account& a) {
    auto info = wallet.client().accountInfo(a.key.address(), false);
    if (!info) throw std::runtime_error("account_info: " + info.error().message);
    a.sequence = info->sequence;
  };
  for (auto* group : {&tenants, &senders})
    for (auto& a : *group) seqOf(a);

  Observer observer(devnet.url(), hostKey.address());

  // The node, in-process, as `host run` builds it.
  BenchNode bn(opt, th, hostKey, devnet.url());
  const node::HostConfig& c = bn.config;
  auto& port = bn.port;
  auto& steps = bn.steps;
  auto checkNode = [&] { bn.check(); };

  const std::string hostAddr = hostKey.address();
  const auto replyLimit = std::chrono::seconds(std::max(30, 20 * opt.ledgerMs / 1000));

  // One acquire through the node; returns {acquire validated, reply validated, acquire hash}.
  struct AcquireRun {
    Clock::time_point submitted, validated, replied, provisionStarted;
    std::uint32_t ledger = 0, replyLedger = 0;
    crypto::Hash256 id{};
    std::string replyType;
  };
  auto acquire = [&](Account& a, std::chrono::milliseconds limit) {
    AcquireRun r;
    auto req = node::fakes::acquireRequest("instance");
    auto blob = node::fakes::requestPayment(a.key, hostAddr, c.offer.pricePerMoment, a.sequence++,
                                            protocol::Message{req}, hostKey);
    r.id = ledger::transactionHash(blob);
    r.submitted = Clock::now();
    const std::string hash = submit(wallet.client(), blob);
    auto v = observer.waitFor([&](const SeenTx& t) { return t.hash == hash; }, replyLimit);
    if (!v) throw std::runtime_error("acquire " + hash + " never validated");
    r.ledger = v->ledger;
    r.validated = observer.ledgerValidatedAt(v->ledger);
    const std::string to = a.key.address();
    auto rep = observer.waitFor(
        [&](const SeenTx& t) {
          return t.account == hostAddr && t.destination == to &&
                 t.memoType.rfind("sashimono.acquire", 0) == 0;
        },
        limit);
    checkNode();
    if (!rep) return r;  // replied stays empty
    r.replyLedger = rep->ledger;
    r.replied = observer.ledgerValidatedAt(rep->ledger);
    r.replyType = rep->memoType;
    r.provisionStarted = port.lastStart();
    return r;
  };
  auto terminate = [&](Account& a, const crypto::Hash256& lease) {
    const std::string hash = submit(wallet.client(), terminatePayment(a, hostKey, lease));
    const std::string to = a.key.address();
    auto rep = observer.waitFor(
        [&](const SeenTx& t) {
          return t.account == hostAddr && t.destination == to &&
                 t.memoType.rfind("sashimono.terminate", 0) == 0;
        },
        replyLimit);
    if (!rep) throw std::runtime_error("no reply to terminate " + hash);
  };
  auto baselineSpec = [&](int i) {
    // What HostProvisionerPort::provision builds for the same request and size.
    host::TenantSpec s;
    char name[32];
    std::snprintf(name, sizeof name, "b%016x",
                  static_cast<unsigned>(::getpid()) * 1000u + static_cast<unsigned>(i));
    s.name = name;
    s.image = "instance";
    const auto& size = c.offer.size;
    s.limits.cpuQuotaUs = size.cpuMillis * 100;
    s.limits.cpuPeriodUs = 100000;
    s.limits.memoryBytes = size.memoryMiB << 20;
    s.limits.swapBytes = size.swapMiB << 20;
    s.diskBytes = size.diskMiB << 20;
    const std::string hex(64, 'A');
    s.env = {"SASHIMONO_LEASE_ID=" + hex,
             "SASHIMONO_CONTRACT_ID=3f2504e0-4f89-41d3-9a0c-0305e82c3301",
             "SASHIMONO_OWNER=ed" + std::string(64, 'a'),
             "SASHIMONO_IMAGE=instance",
             "SASHIMONO_INSTANCE_KEY=ED" + hex,
             "SASHIMONO_ROUNDTIME_MS=1000"};
    return s;
  };

  // Wait for the node's board to be connected (its first ledger finished).
  bn.waitConnected("the node's board never connected");

  // ---- part 1: stages, beside the provisioner's own create ----
  std::vector<double> sSeen, sVerified, sProvisioned, sCreateInNode, sReply, sReplySubmit, sReplyLedger,
      sTotal, baseCreate, overheadEach, sOwn, sOwnOverhead;
  for (int i = 0; i < opt.acquires; ++i) {
    checkInterrupted();
    auto spec = baselineSpec(i);
    auto t = Clock::now();
    auto info = th.prov->create(spec);
    const double created = ms(Clock::now() - t);
    if (!info) throw std::runtime_error("baseline create: " + info.error().message);
    if (auto st = th.prov->destroy(spec.name); !st)
      throw std::runtime_error("baseline destroy: " + st.error().message);
    baseCreate.push_back(created);

    auto r = acquire(tenants[static_cast<size_t>(i)], replyLimit);
    if (r.replied == Clock::time_point{})
      throw std::runtime_error("acquire " + std::to_string(i) + ": no reply");
    if (r.replyType != "sashimono.acquire.ok")
      throw std::runtime_error("acquire " + std::to_string(i) + " answered " + r.replyType +
                               " (SASHIMONO_LOG=info shows why)");
    auto admitted = steps.first("admitted", r.submitted);
    auto classified = admitted ? steps.first("classified", *admitted) : std::nullopt;
    auto provisioned = classified ? steps.first("provisioned", *classified) : std::nullopt;
    auto signedAt = provisioned ? steps.first("outbox.signed", *provisioned) : std::nullopt;
    auto submitted = signedAt ? steps.first("outbox.submitted", *signedAt) : std::nullopt;
    if (!admitted || !classified || !provisioned || !submitted)
      throw std::runtime_error("missing node steps");
    sSeen.push_back(ms(*admitted - r.validated));
    sVerified.push_back(ms(*classified - *admitted));
    sProvisioned.push_back(ms(*provisioned - *classified));
    sCreateInNode.push_back(port.last());
    sReply.push_back(ms(r.replied - *provisioned));
    sReplySubmit.push_back(ms(*submitted - *provisioned));
    sReplyLedger.push_back(ms(r.replied - *submitted));
    sTotal.push_back(ms(r.replied - r.validated));
    overheadEach.push_back(sTotal.back() - port.last());
    sOwn.push_back(ms(*submitted - r.validated));
    sOwnOverhead.push_back(sOwn.back() - port.last());
    std::printf("  acquire %2d: total %7.1f ms (create in node %6.1f ms), baseline create %6.1f ms\n", i,
                sTotal.back(), port.last(), created);
    std::fflush(stdout);
    terminate(tenants[static_cast<size_t>(i)], r.id);
  }

  const double interval = opt.ledgerMs;
  if (opt.acquires > 0) {
    std::printf("\nacquire validated → reply validated, %d acquires (ms)      p50       p95\n", opt.acquires);
    printRow("validated → admitted (board → node)", sSeen);
    printRow("admitted → classified", sVerified);
    printRow("classified → provisioned (committed, create inside)", sProvisioned);
    printRow("  of which Provisioner::create in node", sCreateInNode);
    printRow("provisioned → reply validated", sReply);
    printRow("  provisioned → reply submitted", sReplySubmit);
    printRow("  reply submitted → validated", sReplyLedger);
    printRow("total", sTotal);
    printRow("baseline: Provisioner::create alone", baseCreate);
    printRow("overhead per acquire (total − its create)", overheadEach);
    printRow("node's own: validated → reply submitted", sOwn);
    printRow("  minus its create (the node's work)", sOwnOverhead);
    for (double p : {0.5, 0.95}) {
      const double create = pct(baseCreate, p);
      const double overhead = pct(sTotal, p) - create;
      const double allowed = interval + 0.10 * create;
      std::printf(
          "  p%02d: total %.1f = %.2f × create %.1f; overhead %.1f ms vs allowed %.1f ms "
          "(ledger %.0f + 10 %% create): ratio %.2f %s\n",
          p == 0.5 ? 50 : 95, pct(sTotal, p), pct(sTotal, p) / create, create, overhead, allowed, interval,
          overhead / allowed, overhead <= allowed ? "PASS" : "FAIL");
    }
    std::fflush(stdout);
  }

  // ---- part 2: a flood of invalid requests ----
  if (opt.flood > 0 && !senders.empty()) {
    Account& aloneT = tenants[static_cast<size_t>(opt.acquires)];
    Account& floodT = tenants[static_cast<size_t>(opt.acquires + 1)];
    auto alone = acquire(aloneT, replyLimit);
    if (alone.replied == Clock::time_point{}) throw std::runtime_error("alone acquire: no reply");
    const double aloneMs = ms(alone.replied - alone.validated);

    // Pre-signed: half underpaid acquires (10 drops), half acquires whose memo is garbage.
    std::vector<std::vector<core::Bytes>> blobs(senders.size());
    for (int i = 0; i < opt.flood; ++i) {
      Account& s = senders[static_cast<size_t>(i) % senders.size()];
      if (i % 2 == 0) {
        blobs[static_cast<size_t>(i) % senders.size()].push_back(
            node::fakes::requestPayment(s.key, hostAddr, 10, s.sequence++,
                                        protocol::Message{node::fakes::acquireRequest("instance")}, hostKey));
      } else {
        core::Bytes junk(96);
        for (std::size_t k = 0; k < junk.size(); ++k)
          junk[k] = static_cast<std::uint8_t>((i * 31 + k * 7) & 0xff);
        auto d = node::fakes::paymentJson(s.key.address(), hostAddr, 1000, s.sequence++,
                                          {node::fakes::rawMemo("sashimono.acquire", "", junk)});
        blobs[static_cast<size_t>(i) % senders.size()].push_back(node::fakes::signJson(d, s.key));
      }
    }
    std::vector<std::unique_ptr<board::BoardClient>> clients;
    for (std::size_t k = 0; k < senders.size(); ++k) clients.push_back(newClient(devnet.url()));
    const auto floodStart = Clock::now();
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    std::string firstFailure;
    std::mutex failMu;
    for (std::size_t k = 0; k < senders.size(); ++k)
      threads.emplace_back([&, k] {
        for (const auto& b : blobs[k]) {
          try {
            (void)submit(*clients[k], b);
          } catch (const std::exception& e) {
            if (failures++ == 0) {
              std::lock_guard lk(failMu);
              firstFailure = e.what();
            }
          }
        }
      });
    for (auto& t : threads) t.join();
    const double submitMs = ms(Clock::now() - floodStart);
    if (failures > 0)
      std::printf("  flood: %d submits failed, first: %s\n", failures.load(), firstFailure.c_str());
    const auto floodLimit = std::chrono::seconds(opt.floodTimeoutS);
    auto flooded = acquire(floodT, floodLimit);
    std::set<std::string> senderAddrs;
    for (auto& s : senders) senderAddrs.insert(s.key.address());
    auto isFloodTx = [&](const SeenTx& t) {
      return t.destination == hostAddr && senderAddrs.count(t.account);
    };
    auto isRefund = [&](const SeenTx& t) {
      return t.account == hostAddr && senderAddrs.count(t.destination);
    };
    std::size_t floodValidated = 0, refunds = 0;
    auto lastFlood = observer.waitCount(isFloodTx, static_cast<size_t>(opt.flood), 5s, &floodValidated);
    const auto refundLimit = std::max(5000ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  floodStart + floodLimit - Clock::now()));
    auto lastRefund = observer.waitCount(isRefund, static_cast<size_t>(opt.flood), refundLimit, &refunds);
    auto [nVerified, firstVerified, lastVerified] = steps.span("classified", floodStart);
    auto [firstFloodLedger, lastFloodLedger] = observer.ledgerRange(isFloodTx);
    auto [nSigned, firstSigned, lastSigned] = steps.span("outbox.signed", floodStart);

    std::printf("\nflood: %d invalid requests (half underpaid, half malformed memo) from %zu accounts\n",
                opt.flood, senders.size());
    std::printf("  submitted in %.0f ms; %zu validated%s\n", submitMs, floodValidated,
                lastFlood ? "" : " (not all within 5 s of the last submit)");
    std::printf("  legit acquire alone                     %9.1f ms (validated → reply validated)\n",
                aloneMs);
    double delay = -1;
    if (flooded.replied != Clock::time_point{}) {
      const double floodedMs = ms(flooded.replied - flooded.validated);
      delay = floodedMs - aloneMs;
      std::printf("  legit acquire after the flood           %9.1f ms (%s)\n", floodedMs,
                  flooded.replyType.c_str());
      std::printf(
          "  ledgers: alone: acquire %u, reply %u (+%u); flooded: flood in %u..%u, acquire %u, reply %u "
          "(+%u)\n",
          alone.ledger, alone.replyLedger, alone.replyLedger - alone.ledger, firstFloodLedger,
          lastFloodLedger, flooded.ledger, flooded.replyLedger, flooded.replyLedger - flooded.ledger);
      if (alone.provisionStarted > alone.validated && flooded.provisionStarted > flooded.validated)
        std::printf(
            "  acquire validated → its create starts: alone %.1f ms, after the flood %.1f ms (+%.1f ms)\n",
            ms(alone.provisionStarted - alone.validated), ms(flooded.provisionStarted - flooded.validated),
            ms(flooded.provisionStarted - flooded.validated) - ms(alone.provisionStarted - alone.validated));
      std::printf("  delay %.1f ms vs goal < one ledger (%.0f ms): ratio %.2f %s\n", delay, interval,
                  delay / interval, delay < interval ? "PASS" : "FAIL");
    } else {
      std::printf("  legit acquire after the flood: NO REPLY within %d s: FAIL\n", opt.floodTimeoutS);
    }
    if (lastRefund && lastFlood)
      std::printf("  all %d refunds validated %.1f s after the last flood request was validated\n", opt.flood,
                  ms(*lastRefund - *lastFlood) / 1000);
    else
      std::printf("  refunds validated so far: %zu of %d (gave up after %d s)\n", refunds, opt.flood,
                  opt.floodTimeoutS);
    if (nVerified > 0)
      std::printf(
          "  node: %zu transactions verified (flood, legit, the host's own replies) over %.1f s (%.2f ms "
          "each); %zu replies signed over %.1f s "
          "(%.2f ms each)\n",
          nVerified, ms(lastVerified - firstVerified) / 1000,
          nVerified > 1 ? ms(lastVerified - firstVerified) / static_cast<double>(nVerified - 1) : 0.0,
          nSigned, ms(lastSigned - firstSigned) / 1000,
          nSigned > 1 ? ms(lastSigned - firstSigned) / static_cast<double>(nSigned - 1) : 0.0);
    std::fflush(stdout);
  }

  std::fprintf(stderr, "node_bench: stopping the node\n");
  const auto stopStart = Clock::now();
  bn.stop();
  std::fprintf(stderr, "node_bench: node stopped in %.0f ms\n", ms(Clock::now() - stopStart));
  return 0;
}

}  // namespace sashimono::node_bench
