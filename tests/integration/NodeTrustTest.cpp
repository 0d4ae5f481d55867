// The host node in trust mode (board.validators: the devnet's own validator, quorum 1) against
// the real devnet, directly and behind a lying proxy that slips a validly signed acquire request
// the tenant never submitted into every ledger it serves with transactions. The forged request is
// never acted on, the liar is named in the status row and its attention list, a node with only the
// liar waits, and on a network whose id is above 1024 every reply carries NetworkID.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "fakes/Eventually.h"
#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/board/HostileProxy.h"
#include "fakes/node/FakeProvisioner.h"
#include "fakes/node/NodeHarness.h"
#include "fakes/node/Tenant.h"
#include "fakes/node/TestHostConfig.h"
#include "sashimono/lease/Clock.h"
#include "sashimono/node/HostStatus.h"
#include "sashimono/node/NodeService.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;
using board::fakes::HostileProxy;

// A reply of the host to the tenant, as validated on the devnet.
struct Reply {
  ledger::DecodedTx tx;
  fakes::OpenedReply opened;
};

// A proxy hook that appends `blob` (with the metadata of the answer's first transaction) to every
// binary `ledger` answer that carries transactions, counting the ledgers it forged.
HostileProxy::Hook slipIn(const core::Bytes& blob, std::shared_ptr<std::atomic<int>> forged) {
  const std::string hex = core::toHex(blob);
  const std::string hash = core::toHex(ledger::transactionHash(blob));
  return [hex, hash, forged](const std::string& cmd, rapidjson::Document& d) {
    if (cmd != "ledger" || !d.HasMember("result") || !d["result"].HasMember("ledger")) return true;
    auto& l = d["result"]["ledger"];
    if (!l.HasMember("transactions") || !l["transactions"].IsArray() || l["transactions"].Empty())
      return true;
    auto& txs = l["transactions"];
    const auto& first = txs[0];
    const char* metaKey = first.HasMember("meta_blob") ? "meta_blob" : "meta";
    if (!first.IsObject() || !first.HasMember(metaKey) || !first[metaKey].IsString()) return true;
    auto& a = d.GetAllocator();
    rapidjson::Value e(rapidjson::kObjectType);
    e.AddMember("hash", rapidjson::Value(hash.c_str(), a), a);
    e.AddMember(rapidjson::StringRef(metaKey), rapidjson::Value(first[metaKey].GetString(), a), a);
    e.AddMember("tx_blob", rapidjson::Value(hex.c_str(), a), a);
    txs.PushBack(e, a);
    ++*forged;
    return true;
  };
}

struct Fixture {
  explicit Fixture(std::vector<std::string> devnetArgs = {}, std::optional<std::uint32_t> network = {})
      : networkId(network),
        genesis(board::fakes::newGenesisSeed()),
        devnet(SASHIMONO_BINARY, genesis, 200, std::move(devnetArgs)),
        wallet(devnet.url(), genesis, network),
        host(fakes::newEdKey()),
        tenant(fakes::newEdKey()) {
    const auto a = wallet.pay(host.address(), 100'000'000);
    const auto b = wallet.pay(tenant.address(), 100'000'000);
    wallet.waitValidated(a);
    funded = wallet.waitValidated(b);
    config = fakes::testHostConfig(devnet.url(), dir.path());
    auto r = wallet.client().request(R"({"command":"server_info"})");
    if (!r.ok()) throw std::runtime_error("server_info: " + r.error().message);
    config.validators = {(*r)["result"]["info"]["pubkey_validator"].GetString()};
    config.validatorQuorum = 1;
  }

  std::unique_ptr<NodeService> startNode() {
    auto s = std::make_unique<NodeService>(config, *store, provisioner, host, clock,
                                           ServiceOptions{.tickInterval = 100ms,
                                                          .requestTimeout = 3000ms,
                                                          .verifyPeer = true,
                                                          .metrics = nullptr,
                                                          .problems = nullptr});
    auto st = s->start();
    if (!st) throw std::runtime_error("node start: " + st.error().message);
    // A first start in trust mode begins at the first quorum-validated ledger: requests are sent
    // after it.
    if (!sashimono::fakes::eventually([&] { return s->boardStatus().finished.has_value(); }, 5s))
      throw std::runtime_error("node start: no first ledger");
    return s;
  }

  std::uint32_t tenantSequence() {
    auto info = wallet.client().accountInfo(tenant.address(), false);
    if (!info) throw std::runtime_error("account_info: " + info.error().message);
    return info->sequence;
  }

  // A signed acquire request from the tenant with `sequence` (not submitted).
  core::Bytes request(std::uint32_t sequence) {
    return fakes::requestPayment(tenant, host.address(), 2500, sequence, fakes::acquireRequest(), host, 12,
                                 networkId);
  }

  std::string submit(const core::Bytes& blob) {
    auto r = wallet.client().submit(blob);
    if (!r || r->engineResult != "tesSUCCESS")
      throw std::runtime_error("submit: " + (r ? r->engineResult : r.error().message));
    return core::toHex(ledger::transactionHash(blob));
  }

  // Validated payments from the host to the tenant, opened with the tenant's key.
  std::vector<Reply> replies() {
    std::vector<Reply> out;
    board::AccountTxQuery q;
    q.account = tenant.address();
    auto page = wallet.client().accountTx(q);
    if (!page) return out;
    for (const auto& t : page->transactions) {
      auto d = ledger::decodeTransaction(t.blob);
      if (!d || d->account != host.accountId()) continue;
      if (auto r = fakes::openReply(*d, tenant)) out.push_back(Reply{*d, *r});
    }
    return out;
  }

  std::vector<Reply> waitReplies(std::size_t n, std::chrono::milliseconds limit) {
    std::vector<Reply> r;
    (void)sashimono::fakes::eventually([&] { return (r = replies()).size() >= n; }, limit, 100ms);
    return r;
  }

  // What `sashimono host status` reads: the store (a second, read-only handle) and the status row
  // the running node writes.
  std::pair<StatusView, StatusAssessment> status() {
    StatusView v;
    auto s = NodeStore::open(storePath, true);
    if (!s) throw std::runtime_error("status: " + s.error().message);
    if (auto c = s->cursor(); c.ok()) v.cursor = *c;
    if (auto st = s->status(); st.ok() && *st) readStatusRow((*st)->json, (*st)->updatedAt, v);
    return {v, assessStatus(v, static_cast<std::int64_t>(clock.now()))};
  }

  // The status row names a fault of `url`, and so does the attention list.
  bool reportsFault(const std::string& url) {
    auto [v, a] = status();
    if (!v.board) return false;
    bool fault = false, attention = false;
    for (const auto& f : v.board->faults) fault = fault || f.url == url;
    for (const auto& s : a.attention) attention = attention || s.find(url) != std::string::npos;
    return fault && attention;
  }

  std::optional<std::uint32_t> networkId;
  std::uint32_t funded = 0;  // the ledger of the host's and tenant's funding
  std::string genesis;
  board::fakes::DevnetProcess devnet;
  board::fakes::DevnetWallet wallet;
  crypto::KeyPair host;
  crypto::KeyPair tenant;
  fakes::TempDir dir;
  HostConfig config;
  fakes::FakeProvisioner provisioner;
  lease::SystemClock clock;
  std::string storePath = dir.path() + "/node.sqlite";
  std::unique_ptr<NodeStore> store = fakes::openStore(storePath);
};

std::string answeredHex(const fakes::OpenedReply& r) {
  auto h = fakes::answered(r.message);
  return h ? core::toHex(*h) : std::string();
}

TEST(NodeTrustTest, ForgedRequestFromALiarIsNeverActedOnAndTheHonestBoardServesTheRealOne) {
  Fixture f;
  const std::uint32_t seq = f.tenantSequence();
  const core::Bytes forged = f.request(seq + 50);  // signed by the tenant, never submitted
  const std::string forgedHash = core::toHex(ledger::transactionHash(forged));
  auto slipped = std::make_shared<std::atomic<int>>(0);
  HostileProxy liar(f.devnet.url(), slipIn(forged, slipped));
  f.config.boardUrls = {liar.url(), f.devnet.url()};
  auto node = f.startNode();
  // A first start in trust mode does not walk the chain back to its beginning.
  EXPECT_GE(node->boardStatus().finished.value_or(0), f.funded);
  const std::string acquire = f.submit(f.request(seq));

  auto replies = f.waitReplies(1, 8s);
  ASSERT_EQ(replies.size(), 1u);
  std::this_thread::sleep_for(1s);  // five more ledgers: nothing else may arrive
  replies = f.replies();
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].opened.type, protocol::MessageType::acquireOk);
  EXPECT_EQ(core::toHex(std::get<protocol::AcquireOk>(replies[0].opened.message).leaseId), acquire);
  EXPECT_NE(answeredHex(replies[0].opened), forgedHash);
  EXPECT_EQ(f.provisioner.instances.size(), 1u);
  EXPECT_GT(slipped->load(), 0);  // the liar did serve the forged request

  EXPECT_TRUE(sashimono::fakes::eventually([&] { return f.reportsFault(liar.url()); }, 3s, 100ms));
  auto [v, a] = f.status();
  ASSERT_TRUE(v.board);
  EXPECT_TRUE(v.board->verifying);
  EXPECT_GT(v.board->ledgersVerified, 0u);
  EXPECT_EQ(v.board->url, f.devnet.url());
  for (const auto& fault : v.board->faults) {
    EXPECT_EQ(fault.url, liar.url()) << fault.evidence;
    EXPECT_NE(fault.evidence.find("txTreeMismatch"), std::string::npos) << fault.evidence;
  }
  EXPECT_EQ(v.board->avoided, std::vector<std::string>{liar.url()});
  EXPECT_FALSE(node->fatal());
}

TEST(NodeTrustTest, OnlyALiarMeansTheNodeWaitsAndReports) {
  Fixture f;
  const std::uint32_t seq = f.tenantSequence();
  auto slipped = std::make_shared<std::atomic<int>>(0);
  HostileProxy liar(f.devnet.url(), slipIn(f.request(seq + 50), slipped));
  f.config.boardUrls = {liar.url()};
  auto node = f.startNode();
  const std::string acquire = f.submit(f.request(seq));
  const std::uint32_t acquireLedger = f.wallet.waitValidated(acquire);

  EXPECT_TRUE(sashimono::fakes::eventually([&] { return f.reportsFault(liar.url()); }, 4s, 100ms));
  std::this_thread::sleep_for(2500ms);  // a dozen more ledgers, validated by the quorum, pass
  EXPECT_TRUE(f.replies().empty());
  EXPECT_TRUE(f.provisioner.instances.empty());
  EXPECT_GT(slipped->load(), 0);
  const auto bs = node->boardStatus();
  EXPECT_GT(bs.quorumLedger, acquireLedger);          // it knows the network moved on …
  EXPECT_LT(bs.finished.value_or(0), acquireLedger);  // … and does not move without proof
  auto [v, a] = f.status();
  ASSERT_TRUE(v.cursor);
  EXPECT_LT(*v.cursor, acquireLedger);
  EXPECT_FALSE(a.attention.empty());

  // With the honest devnet beside the liar the node resumes from its cursor and serves the
  // acquire, once.
  node->stop();
  node.reset();
  f.config.boardUrls = {liar.url(), f.devnet.url()};
  node = f.startNode();
  auto replies = f.waitReplies(1, 8s);
  std::this_thread::sleep_for(600ms);
  replies = f.replies();
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].opened.type, protocol::MessageType::acquireOk);
  EXPECT_EQ(core::toHex(std::get<protocol::AcquireOk>(replies[0].opened.message).leaseId), acquire);
  EXPECT_EQ(f.provisioner.instances.size(), 1u);
}

TEST(NodeTrustTest, NetworkIdAbove1024IsOnEveryReply) {
  Fixture f({"--network-id", "21337"}, 21337);
  // The devnet refuses a request without it …
  auto bare = fakes::requestPayment(f.tenant, f.host.address(), 2500, f.tenantSequence(),
                                    fakes::acquireRequest(), f.host);
  auto refused = f.wallet.client().submit(bare);
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  EXPECT_EQ(refused->engineResult, "telREQUIRES_NETWORK_ID");

  // … and the node, in trust mode, serves one that carries it, with a reply that carries it too.
  auto node = f.startNode();
  const std::string acquire = f.submit(f.request(f.tenantSequence()));
  auto replies = f.waitReplies(1, 8s);
  ASSERT_EQ(replies.size(), 1u);
  ASSERT_EQ(replies[0].opened.type, protocol::MessageType::acquireOk);
  EXPECT_EQ(core::toHex(std::get<protocol::AcquireOk>(replies[0].opened.message).leaseId), acquire);
  EXPECT_EQ(replies[0].tx.networkId, std::optional<std::uint32_t>(21337));
  board::TxQuery q;
  q.hash = replies[0].tx.hash;
  auto t = f.wallet.client().tx(q);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->validated);
  EXPECT_EQ(ledger::decodeTransaction(t->tx.blob)->networkId, std::optional<std::uint32_t>(21337));
  EXPECT_TRUE(node->boardStatus().verifying);
  EXPECT_TRUE(node->boardStatus().faults.empty());
}

}  // namespace
}  // namespace sashimono::node
