#pragma once
// A host node against the real devnet binary (child process), with a fake provisioner: the
// devnet (200 ms ledgers), a wallet of its genesis account, a funded host and tenant, the host's
// config and store, and the developer's side (requests sent, replies read back from the ledger).
// For NodeDevnetTest and NodeFeeDevnetTest; SASHIMONO_BINARY names the binary.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fakes/Eventually.h"
#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/FakeProvisioner.h"
#include "fakes/node/NodeHarness.h"
#include "fakes/node/Tenant.h"
#include "fakes/node/TestHostConfig.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/node/NodeService.h"

namespace sashimono::node::fakes {

struct DevnetNodeFixture {
  // The host account gets `hostDrops`, the tenant 100 XRP; the node reports to `metrics` (null:
  // a registry of its own).
  explicit DevnetNodeFixture(std::uint64_t hostDrops = 100'000'000,
                             std::shared_ptr<core::MetricsRegistry> metricsTo = nullptr)
      : genesis(board::fakes::newGenesisSeed()),
        devnet(SASHIMONO_BINARY, genesis, 200),
        wallet(devnet.url(), genesis),
        host(newEdKey()),
        tenant(newEdKey()),
        metrics(std::move(metricsTo)) {
    wallet.waitValidated(wallet.pay(host.address(), hostDrops));
    wallet.waitValidated(wallet.pay(tenant.address(), 100'000'000));
    config = testHostConfig(devnet.url(), dir.path());
    config.quietSeconds = 10;
  }

  std::unique_ptr<NodeService> startNode() {
    using namespace std::chrono_literals;
    auto s = std::make_unique<NodeService>(config, *store, provisioner, host, clock,
                                           ServiceOptions{.tickInterval = 100ms,
                                                          .requestTimeout = 5000ms,
                                                          .verifyPeer = true,
                                                          .metrics = metrics,
                                                          .problems = nullptr});
    auto st = s->start();
    if (!st) throw std::runtime_error("node start: " + st.error().message);
    // Following the board: a first start in trust mode begins at the first signed ledger, and a
    // request sent before that would be history it does not read.
    for (auto end = std::chrono::steady_clock::now() + 10s;
         !s->boardStatus().finished && std::chrono::steady_clock::now() < end;)
      std::this_thread::sleep_for(20ms);
    return s;
  }

  // The developer's request `m` paying `drops` to the host with fee `fee` (at least the devnet's
  // open-ledger fee, or it is refused); the transaction's hash.
  std::string sendRequest(std::uint64_t drops, const protocol::Message& m, std::uint64_t fee = 12) {
    auto info = wallet.client().accountInfo(tenant.address(), false);
    if (!info) throw std::runtime_error("account_info: " + info.error().message);
    auto blob = requestPayment(tenant, host.address(), drops, info->sequence, m, host, fee);
    auto r = wallet.client().submit(blob);
    if (!r) throw std::runtime_error("submit: " + r.error().message);
    if (r->engineResult != "tesSUCCESS") throw std::runtime_error("submit: " + r->engineResult);
    return core::toHex(ledger::transactionHash(blob));
  }

  // Validated payments from the host to the tenant.
  std::vector<ledger::DecodedTx> paymentsToTenant() {
    std::vector<ledger::DecodedTx> out;
    board::AccountTxQuery q;
    q.account = tenant.address();
    auto page = wallet.client().accountTx(q);
    if (!page) return out;
    for (const auto& t : page->transactions) {
      auto d = ledger::decodeTransaction(t.blob);
      if (d && d->account == host.accountId()) out.push_back(std::move(*d));
    }
    return out;
  }

  // Polls paymentsToTenant() until there are at least `n` or `limit` passes; the last read.
  std::vector<ledger::DecodedTx> waitPaymentsToTenant(std::size_t n, std::chrono::milliseconds limit) {
    std::vector<ledger::DecodedTx> out;
    sashimono::fakes::eventually(
        [&] {
          out = paymentsToTenant();
          return out.size() >= n;
        },
        limit, std::chrono::milliseconds(50));
    return out;
  }

  // The same, opened with the tenant's key (those that open).
  std::vector<OpenedReply> repliesToTenant() {
    std::vector<OpenedReply> out;
    for (const auto& d : paymentsToTenant())
      if (auto r = openReply(d, tenant)) out.push_back(*r);
    return out;
  }

  std::string genesis;
  board::fakes::DevnetProcess devnet;
  board::fakes::DevnetWallet wallet;
  crypto::KeyPair host;
  crypto::KeyPair tenant;
  TempDir dir;
  HostConfig config;
  FakeProvisioner provisioner;
  lease::SystemClock clock;
  std::shared_ptr<core::MetricsRegistry> metrics;
  std::unique_ptr<NodeStore> store = openStore(dir.path() + "/node.sqlite");
};

}  // namespace sashimono::node::fakes
