// bench_node_bench, part 3 on the hostile board: a legitimate acquire's delay behind a ledger of
// forged signatures, and not one forgery answered.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "BenchHost.h"
#include "NodeBench.h"
#include "fakes/node/Forge.h"
#include "fakes/node/HostileBoard.h"
#include "fakes/node/Tenant.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node_bench {

// Part 3, on the hostile board: forged signatures cannot reach the devnet (it checks them), so a
// second node, in-process as before (own store, same provisioner), listens to a
// node::fakes::HostileBoard on 127.0.0.1 that closes a ledger every --ledger-ms on its own
// thread and validates the node's replies. A legitimate acquire alone; then one ledger of
// --forged transactions with forged signatures (half with a TxnSignature byte altered, half
// signed by a key that does not own the Account; every one a well-formed acquire paying the
// price), the legitimate acquire LAST in that ledger. Validation times are the board's own close
// times (just before the ledger's first stream message leaves).
int runForged(const Options& opt, BenchHost& th) {
  const crypto::KeyPair hostKey = node::fakes::newEdKey();
  node::fakes::HostileBoard board(hostKey, 2);
  board.closeEvery(std::chrono::milliseconds(opt.ledgerMs));
  BenchNode bn(opt, th, hostKey, board.url());
  const node::HostConfig& c = bn.config;
  auto& port = bn.port;
  auto& steps = bn.steps;
  auto checkNode = [&] { bn.check(); };
  bn.waitConnected("the node never connected to the hostile board");
  // Two ledgers with nothing in them: the node's start-up (announcement, leftovers) is over.
  for (const auto first = board.lastClosed(); board.lastClosed() < first + 2;) {
    checkNode();
    checkInterrupted();
    std::this_thread::sleep_for(20ms);
  }

  const std::string hostAddr = hostKey.address();
  const auto limit = std::chrono::seconds(std::max(30, 20 * opt.ledgerMs / 1000));
  struct Run {
    Clock::time_point planned, validated, replied;
    std::uint32_t ledger = 0, replyLedger = 0;
    std::string replyType;
    std::optional<Clock::time_point> createStarts, provisioned, submitted;
  };
  // `before` and then a legitimate acquire from `a`, all into the next ledger.
  auto acquire = [&](Account& a, std::vector<node::fakes::Planned> before) {
    Run r;
    node::fakes::Planned legit;
    legit.blob =
        node::fakes::requestPayment(a.key, hostAddr, c.offer.pricePerMoment, a.sequence++,
                                    protocol::Message{node::fakes::acquireRequest("instance")}, hostKey);
    legit.delivered = c.offer.pricePerMoment;
    const crypto::Hash256 hash = ledger::transactionHash(legit.blob);
    before.push_back(std::move(legit));
    r.planned = Clock::now();
    board.plan(std::move(before));
    const auto end = Clock::now() + limit;
    std::optional<std::uint32_t> at;
    while (!(at = board.ledgerOf(hash))) {
      checkInterrupted();
      if (Clock::now() > end) throw std::runtime_error("the acquire was never validated");
      std::this_thread::sleep_for(2ms);
    }
    r.ledger = *at;
    r.validated = *board.closedAt(*at);
    const crypto::AccountId to = a.key.accountId();
    while (Clock::now() < end) {
      checkNode();
      checkInterrupted();
      for (const auto& p : board.hostPaymentsWithLedger()) {
        auto d = ledger::decodeTransaction(p.blob);
        if (!d || d->destination != to) continue;
        auto opened = node::fakes::openReply(*d, a.key);
        r.replyLedger = p.ledger;
        r.replied = *board.closedAt(p.ledger);
        r.replyType = opened ? std::string(protocol::messageTypeName(opened->type)) : "unreadable";
        break;
      }
      if (r.replyLedger != 0) break;
      std::this_thread::sleep_for(5ms);
    }
    if (r.replyLedger == 0) return r;
    if (port.lastStart() > r.validated) {
      r.createStarts = port.lastStart();
      r.provisioned = steps.first("provisioned", *r.createStarts);
      if (r.provisioned) r.submitted = steps.first("outbox.submitted", *r.provisioned);
    }
    return r;
  };
  auto show = [&](const char* name, const Run& r) {
    std::printf("  %-40s %9.1f ms (%s); validated → create starts %.1f ms, → reply submitted %.1f ms\n", name,
                ms(r.replied - r.validated), r.replyType.c_str(),
                r.createStarts ? ms(*r.createStarts - r.validated) : -1.0,
                r.submitted ? ms(*r.submitted - r.validated) : -1.0);
  };

  Account aloneT{node::fakes::newEdKey(), 1};
  Account floodT{node::fakes::newEdKey(), 1};
  auto alone = acquire(aloneT, {});
  if (alone.replyLedger == 0) throw std::runtime_error("forged part: the acquire alone got no reply");

  // The forgeries, built before the ledger they go into: from --flood-senders accounts (of the
  // board's imagination: it checks no balance), each a sealed acquire paying the price.
  std::vector<Account> senders;
  for (int i = 0; i < opt.floodSenders; ++i) senders.push_back({node::fakes::newEdKey(), 1});
  const crypto::KeyPair stranger = node::fakes::newEdKey();
  const auto buildStart = Clock::now();
  std::vector<node::fakes::Planned> forged;
  std::set<crypto::AccountId> forgers;
  for (int i = 0; i < opt.forged; ++i) {
    Account& s = senders[static_cast<std::size_t>(i) % senders.size()];
    forgers.insert(s.key.accountId());
    auto d = node::fakes::paymentJson(
        s.key.address(), hostAddr, c.offer.pricePerMoment, s.sequence++,
        {node::fakes::requestMemo(protocol::Message{node::fakes::acquireRequest("instance")}, hostKey)});
    node::fakes::Planned p;
    p.blob = i % 2 == 0 ? node::fakes::withBadSignature(node::fakes::signJson(d, s.key),
                                                        10 + static_cast<std::size_t>(i) % 50)
                        : node::fakes::signJson(d, stranger);
    p.delivered = c.offer.pricePerMoment;
    forged.push_back(std::move(p));
  }
  const double buildMs = ms(Clock::now() - buildStart);
  // Wait for a fresh ledger so that the plan is not split by a close already under way.
  for (const auto l = board.lastClosed(); board.lastClosed() == l;) std::this_thread::sleep_for(1ms);
  auto flooded = acquire(floodT, std::move(forged));

  // Some more ledgers: no forgery may be answered late either.
  for (const auto l = board.lastClosed(); board.lastClosed() < l + 3;) {
    checkNode();
    checkInterrupted();
    std::this_thread::sleep_for(20ms);
  }
  std::size_t answeredForged = 0;
  for (const auto& p : board.hostPaymentsWithLedger())
    if (auto d = ledger::decodeTransaction(p.blob); d && d->destination && forgers.count(*d->destination))
      ++answeredForged;
  // The node's work on the forgeries: what it verified between the ledger's close and the start
  // of the legitimate acquire's create.
  auto [nVerified, firstVerified, lastVerified] =
      steps.span("classified", flooded.validated, flooded.createStarts.value_or(Clock::now()));

  const double interval = opt.ledgerMs;
  std::printf(
      "\nforged: %d transactions with forged signatures (half a TxnSignature byte altered, half signed by "
      "a key that does not own the account) in one ledger of the hostile board, the legit acquire last "
      "in it (forgeries built in %.0f ms)\n",
      opt.forged, buildMs);
  show("legit acquire alone", alone);
  double delay = -1;
  if (flooded.replyLedger != 0) {
    show("legit acquire last after the forgeries", flooded);
    std::printf(
        "  ledgers: alone: acquire %u, reply %u (+%u); flooded: acquire %u (with %d forgeries), reply %u "
        "(+%u)\n",
        alone.ledger, alone.replyLedger, alone.replyLedger - alone.ledger, flooded.ledger, opt.forged,
        flooded.replyLedger, flooded.replyLedger - flooded.ledger);
    if (nVerified > 0)
      std::printf(
          "  node: %zu transactions verified (the forgeries, then the legit acquire) before its create "
          "started, the first %.1f ms and the last %.1f ms after the ledger closed\n",
          nVerified, ms(firstVerified - flooded.validated), ms(lastVerified - flooded.validated));
    std::printf("  replies to the forgeries: %zu (must be 0)\n", answeredForged);
    delay = ms(flooded.replied - flooded.validated) - ms(alone.replied - alone.validated);
    const bool pass = delay < interval && answeredForged == 0 && flooded.replyType == "sashimono.acquire.ok";
    std::printf("  delay %.1f ms vs goal < one ledger (%.0f ms): ratio %.2f %s\n", delay, interval,
                delay / interval, pass ? "PASS" : "FAIL");
    if (alone.submitted && flooded.submitted)
      std::printf(
          "  continuous: validated → reply submitted, flooded − alone = %.1f ms (ratio %.2f of a ledger)\n",
          ms(*flooded.submitted - flooded.validated) - ms(*alone.submitted - alone.validated),
          (ms(*flooded.submitted - flooded.validated) - ms(*alone.submitted - alone.validated)) / interval);
  } else {
    std::printf("  legit acquire after the forgeries: NO REPLY within %lld s: FAIL\n",
                static_cast<long long>(limit.count()));
  }
  std::fflush(stdout);

  std::fprintf(stderr, "node_bench: stopping the forged part's node\n");
  bn.stop();
  board.stopClosing();
  return 0;
}

}  // namespace sashimono::node_bench
