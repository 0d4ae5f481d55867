// `sashimono host run` as a child process against the real devnet, killed with SIGKILL at
// random moments while a burst of requests arrives, and restarted; in two rounds the requests
// are sent and validated while the node is down. Tenants are the file-backed stand-in
// (--test-provisioner): no root needed. In the end:
//  - every request has exactly one validated reply, whose refund is the one the protocol's
//    arithmetic (docs/PROTOCOL.md §9) gives, computed here independently of the node;
//  - the host's balance equals its balance before the burst + payments received − payments
//    sent − fees, all read from the ledger, and those payments are exactly the requests, the
//    expected replies and the announcements (nothing sent twice, nothing unexplained);
//  - the instances on disk are exactly the leases live in the node's store and in the replies,
//    by lease id (no orphan, none missing).
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Child.h"
#include "fakes/node/NodeHarness.h"
#include "fakes/node/Tenant.h"
#include "fakes/node/TestHostConfig.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/Node.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;

// Prints the node's log when the test failed, however it ends (ASSERT included).
struct LogOnFailure {
  std::string path;
  std::function<std::string()> context;
  ~LogOnFailure() {
    if (!::testing::Test::HasFailure()) return;
    std::ifstream in(path);
    std::cerr << context() << "\n---- node log ----\n" << in.rdbuf() << "\n";
  }
};

std::int64_t unixNow() { return static_cast<std::int64_t>(std::time(nullptr)); }

// Every validated transaction of `account` in ledgers [min, max] (-1: open), all pages.
std::vector<board::BoardTx> history(board::BoardClient& client, const std::string& account,
                                    std::int64_t min = -1, std::int64_t max = -1) {
  std::vector<board::BoardTx> out;
  board::AccountTxQuery q;
  q.account = account;
  q.ledgerMin = min;
  q.ledgerMax = max;
  q.limit = 200;
  for (int page = 0; page < 100; ++page) {
    auto p = client.accountTx(q);
    if (!p) throw std::runtime_error("account_tx: " + p.error().message);
    for (auto& t : p->transactions) out.push_back(std::move(t));
    if (!p->marker) return out;
    q.marker = p->marker;
  }
  throw std::runtime_error("account_tx: too many pages");
}

// The drops a validated payment delivered (0 unless tesSUCCESS), from its metadata.
std::uint64_t deliveredDrops(const board::BoardTx& t, const ledger::DecodedTx& d) {
  const auto outcome = outcomeOf(t.result, t.meta);
  if (!outcome.succeeded || d.type != ledger::txtype::kPayment) return 0;
  if (outcome.delivered) return outcome.delivered->native ? outcome.delivered->drops : 0;
  return d.amount && d.amount->native ? d.amount->drops : 0;
}

enum class Kind { acquire, underpaid, badImage, extend, terminate };
const char* kindName(Kind k) {
  switch (k) {
    case Kind::acquire:
      return "acquire";
    case Kind::underpaid:
      return "underpaid acquire";
    case Kind::badImage:
      return "acquire of an image not offered";
    case Kind::extend:
      return "extend";
    case Kind::terminate:
      return "terminate";
  }
  return "?";
}

struct Sent {
  std::string hash;  // upper hex: the request id (and lease id for an acquire)
  Kind kind = Kind::acquire;
  std::uint64_t drops = 0;
  std::string lease;  // extend / terminate: the lease concerned
  bool whileDown = false;
  std::int64_t sentAt = 0;  // Unix seconds just before submit: the node handles it later
  int round = 0;
};

struct Reply {
  fakes::OpenedReply opened;
  std::uint64_t delivered = 0;
};

constexpr std::uint64_t kPrice = 1000;
constexpr std::uint64_t kMoment = 3600;
constexpr std::uint32_t kInstances = 4;

TEST(NodeKillTest, KilledRepeatedlyEveryRequestGetsExactlyOneReply) {
  const std::string genesis = board::fakes::newGenesisSeed();
  board::fakes::DevnetProcess devnet(SASHIMONO_BINARY, genesis, 200);
  board::fakes::DevnetWallet wallet(devnet.url(), genesis);
  const std::string hostSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto host = *crypto::KeyPair::fromSeed(hostSeed);
  const auto tenant = fakes::newEdKey();
  const std::string registry = fakes::newEdKey().address();
  wallet.pay(host.address(), 100'000'000);
  wallet.pay(tenant.address(), 100'000'000);
  wallet.waitValidated(wallet.pay(registry, 100'000'000));

  fakes::TempDir dir;
  HostConfig c = fakes::testHostConfig(devnet.url(), dir.path() + "/data", kInstances);
  c.offer.pricePerMoment = kPrice;
  c.offer.momentSeconds = kMoment;
  c.registryAccount = registry;
  const auto configPath = fakes::writeTestHostConfig(c, dir.path(), hostSeed);
  ASSERT_TRUE(configPath.ok()) << configPath.error().message;
  const std::string logPath = dir.path() + "/node.log";
  const std::string tenantsDir = dir.path() + "/tenants";

  std::vector<Sent> requests;
  LogOnFailure logGuard{logPath, [&] {
                          std::string s = "requests:";
                          for (const auto& r : requests)
                            s += std::string("\n  ") + r.hash.substr(0, 16) + " round " +
                                 std::to_string(r.round) + " " + kindName(r.kind) + " " +
                                 std::to_string(r.drops) +
                                 (r.lease.empty() ? "" : " lease " + r.lease.substr(0, 16)) +
                                 (r.whileDown ? " (sent while down)" : "");
                          return s;
                        }};

  // The host's balance before anything of the burst (the node's first announcement included).
  auto before = wallet.client().accountInfo(host.address(), true);
  ASSERT_TRUE(before.ok()) << before.error().message;
  const std::uint64_t initialBalance = before->balance;
  const std::uint32_t initialLedger = before->ledgerIndex;

  fakes::Child node;
  auto startNode = [&] { node.start(fakes::hostRunArgs(*configPath, tenantsDir), {}, logPath); };
  startNode();

  std::mt19937 rng(std::random_device{}());
  std::uint32_t seq = wallet.client().accountInfo(tenant.address(), false)->sequence;
  bool down = false;
  int round = 0;
  auto send = [&](Kind kind, std::uint64_t drops, const protocol::Message& m, std::string lease = {}) {
    auto blob = fakes::requestPayment(tenant, host.address(), drops, seq++, m, host);
    Sent s{core::toHex(ledger::transactionHash(blob)), kind, drops, std::move(lease), down, unixNow(), round};
    auto r = wallet.client().submit(blob);
    ASSERT_TRUE(r.ok() && r->engineResult == "tesSUCCESS") << s.hash;
    requests.push_back(std::move(s));
  };
  auto leaseId = [](const std::string& hex) { return *protocol::parseHash256(hex); };
  // Per round: an acquire (2 moments, 500 back), an underpaid acquire, a refused image; an
  // extend of the previous round's lease with 1.5 moments (500 back) and a terminate of the one
  // before it (unused whole moments back); in the last round also an extend of a lease already
  // terminated. Rounds 1 and 3 are sent while the node is down and validated before it comes
  // back; the others race a kill at a random moment.
  std::vector<std::string> leases;
  for (round = 0; round < 6; ++round) {
    down = round == 1 || round == 3;
    if (down) {
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 500));
      node.stop(SIGKILL);
    }
    send(Kind::acquire, 2500, fakes::acquireRequest());
    if (::testing::Test::HasFatalFailure()) return;
    leases.push_back(requests.back().hash);
    send(Kind::underpaid, 10, fakes::acquireRequest());
    send(Kind::badImage, 1000, fakes::acquireRequest("other"));
    if (round >= 1)
      send(Kind::extend, 1500, protocol::ExtendRequest{leaseId(leases[round - 1]), std::nullopt},
           leases[round - 1]);
    if (round >= 2)
      send(Kind::terminate, 1, protocol::TerminateRequest{leaseId(leases[round - 2]), std::nullopt},
           leases[round - 2]);
    if (round == 5)
      send(Kind::extend, 1500, protocol::ExtendRequest{leaseId(leases[1]), std::nullopt}, leases[1]);
    if (::testing::Test::HasFatalFailure()) return;
    if (down) {
      // Validated on the board while nobody listens; the node must catch up on them.
      wallet.waitValidated(requests.back().hash);
      startNode();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng() % 600));
      node.stop(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
      startNode();
    }
  }
  ASSERT_GE(requests.size(), 20u);
  std::set<std::string> requested;
  for (const auto& r : requests) requested.insert(r.hash);

  // The host's validated payments to the tenant, by the request they answer.
  std::map<std::string, std::vector<Reply>> replies;
  std::vector<std::string> strays;  // host → tenant payments that answer nothing we sent
  auto collect = [&] {
    replies.clear();
    strays.clear();
    for (const auto& t : history(wallet.client(), tenant.address())) {
      auto d = ledger::decodeTransaction(t.blob);
      if (!d || d->account != host.accountId()) continue;
      const std::uint64_t delivered = deliveredDrops(t, *d);
      auto r = fakes::openReply(*d, tenant);
      auto a = r ? fakes::answered(r->message) : std::nullopt;
      if (!r || !a || !requested.count(core::toHex(*a)) || r->type == protocol::MessageType::expired) {
        strays.push_back(core::toHex(d->hash) + " " + t.result);
        continue;
      }
      replies[core::toHex(*a)].push_back(Reply{*r, delivered});
    }
  };
  for (auto end = std::chrono::steady_clock::now() + 45s; std::chrono::steady_clock::now() < end;) {
    collect();
    if (replies.size() >= requested.size()) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(node.running()) << "node died";

  // `host status` reads the store while the node runs.
  auto status = [&](rapidjson::Document& d) {
    std::string cmd = std::string(SASHIMONO_BINARY) + " host status --json --config " + *configPath;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return std::string("popen failed");
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    if (::pclose(p) != 0) return "host status failed: " + out;
    d.Parse(out.c_str());
    if (!d.IsObject() || !d.HasMember("outboxOpen") || !d.HasMember("leases")) return "bad status: " + out;
    return std::string();
  };
  // The outbox drained: every payment the node owes is validated.
  rapidjson::Document st;
  std::string stError;
  for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;) {
    stError = status(st);
    if (stError.empty() && st["outboxOpen"].GetUint() == 0) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_TRUE(stError.empty()) << stError;
  EXPECT_EQ(st["outboxOpen"].GetUint(), 0u) << "outbox not drained";
  std::this_thread::sleep_for(2s);  // nothing more may come
  collect();
  const std::int64_t endedAt = unixNow() + 1;

  // ---- exactly one reply per request, with the protocol's refund ----
  // The lease book replayed in ledger (= submission) order from the protocol's rules; lease
  // times come from the acquire.ok replies, checked against when the acquire was sent.
  struct Live {
    std::uint64_t expiry = 0;
    std::uint64_t moments = 0;
  };
  std::map<std::string, Live> live;
  std::uint64_t expectedToTenant = 0, receivedFromTenant = 0;
  int acquired = 0, extended = 0, terminated = 0, served = 0, servedWhileDown = 0;
  for (const auto& s : requests) {
    receivedFromTenant += s.drops;
    const auto& rs = replies[s.hash];
    SCOPED_TRACE(std::string(kindName(s.kind)) + " " + s.hash + " round " + std::to_string(s.round) +
                 (s.whileDown ? " (sent while the node was down)" : ""));
    EXPECT_EQ(rs.size(), 1u) << "replies to this request";
    if (rs.empty()) continue;
    ++served;
    if (s.whileDown) ++servedWhileDown;
    const auto& r = rs.front();
    std::uint64_t refund = 0;
    auto expectError = [&](protocol::MessageType type, protocol::Reason reason) {
      refund = s.drops;  // every refusal returns all delivered
      EXPECT_EQ(r.opened.type, type);
      const auto* e = std::get_if<protocol::ErrorReply>(&r.opened.message);
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->reason, reason) << protocol::reasonName(e->reason) << ": " << e->detail;
      EXPECT_EQ(e->refund, refund);
    };
    switch (s.kind) {
      case Kind::acquire: {
        if (live.size() >= kInstances) {
          expectError(protocol::MessageType::acquireError, protocol::Reason::noCapacity);
          break;
        }
        refund = s.drops - 2 * kPrice;
        const auto* ok = std::get_if<protocol::AcquireOk>(&r.opened.message);
        ASSERT_NE(ok, nullptr) << protocol::messageTypeName(r.opened.type);
        EXPECT_EQ(core::toHex(ok->leaseId), s.hash);
        EXPECT_EQ(ok->moments, 2u);
        EXPECT_EQ(ok->momentSeconds, kMoment);
        EXPECT_EQ(ok->price, kPrice);
        EXPECT_EQ(ok->refund, refund);
        // Started when provisioned: after the request was sent, before we looked.
        const auto start = static_cast<std::int64_t>(ok->expiry - 2 * kMoment);
        EXPECT_GE(start, s.sentAt);
        EXPECT_LE(start, endedAt);
        live[s.hash] = Live{ok->expiry, 2};
        ++acquired;
        break;
      }
      case Kind::underpaid:
        expectError(protocol::MessageType::acquireError, protocol::Reason::underpaid);
        break;
      case Kind::badImage:
        expectError(protocol::MessageType::acquireError, protocol::Reason::imageNotAllowed);
        break;
      case Kind::extend: {
        auto it = live.find(s.lease);
        if (it == live.end()) {
          expectError(protocol::MessageType::extendError, protocol::Reason::unknownLease);
          break;
        }
        // held = 2 or 3 moments of at most 10: one more fits; the half moment comes back.
        refund = s.drops - kPrice;
        const auto* ok = std::get_if<protocol::ExtendOk>(&r.opened.message);
        ASSERT_NE(ok, nullptr) << protocol::messageTypeName(r.opened.type);
        EXPECT_EQ(core::toHex(ok->leaseId), s.lease);
        EXPECT_EQ(ok->moments, 1u);
        EXPECT_EQ(ok->expiry, it->second.expiry + kMoment);
        EXPECT_EQ(ok->refund, refund);
        it->second.expiry += kMoment;
        it->second.moments += 1;
        ++extended;
        break;
      }
      case Kind::terminate: {
        auto it = live.find(s.lease);
        if (it == live.end()) {
          expectError(protocol::MessageType::terminateError, protocol::Reason::unknownLease);
          break;
        }
        const auto* ok = std::get_if<protocol::TerminateOk>(&r.opened.message);
        ASSERT_NE(ok, nullptr) << protocol::messageTypeName(r.opened.type);
        EXPECT_EQ(core::toHex(ok->leaseId), s.lease);
        // Handled at some t in [sentAt, endedAt]: u = ⌊(expiry − t) / moment⌋ whole moments unused.
        const auto expiry = static_cast<std::int64_t>(it->second.expiry);
        const auto most = std::min<std::uint64_t>(
            it->second.moments,
            static_cast<std::uint64_t>(std::max<std::int64_t>(0, expiry - s.sentAt)) / kMoment);
        const auto least = static_cast<std::uint64_t>(std::max<std::int64_t>(0, expiry - endedAt)) / kMoment;
        EXPECT_GE(ok->moments, least);
        EXPECT_LE(ok->moments, most);
        EXPECT_GE(ok->moments, it->second.moments - 1) << "the moment in progress only is kept";
        refund = s.drops + ok->moments * kPrice;
        EXPECT_EQ(ok->refund, refund);
        live.erase(it);
        ++terminated;
        break;
      }
    }
    if (::testing::Test::HasFatalFailure()) return;
    const std::uint64_t amount = std::max<std::uint64_t>(refund, 1);  // 1 drop when nothing comes back
    EXPECT_EQ(r.opened.drops, amount) << "the reply payment's Amount";
    EXPECT_EQ(r.delivered, amount) << "delivered by the reply";
    expectedToTenant += amount;
  }
  EXPECT_EQ(served, static_cast<int>(requests.size()));
  EXPECT_EQ(replies.size(), requests.size());
  EXPECT_TRUE(strays.empty()) << strays.size()
                              << " host payment(s) to the tenant answering nothing sent, first "
                              << (strays.empty() ? "" : strays.front());
  int sentWhileDown = 0;
  for (const auto& s : requests) sentWhileDown += s.whileDown ? 1 : 0;
  EXPECT_GE(sentWhileDown, 8);
  EXPECT_EQ(servedWhileDown, sentWhileDown) << "requests validated while the node was down";
  EXPECT_EQ(acquired, 6);
  EXPECT_EQ(extended, 5);
  EXPECT_EQ(terminated, 4);

  // ---- no orphan: instances on disk = live leases (store) = live leases (replies) ----
  std::set<std::string> files, stored, fromReplies;
  for (const auto& e : std::filesystem::directory_iterator(tenantsDir))
    files.insert(e.path().filename().string());
  for (const auto& [id, l] : live) fromReplies.insert(id);
  {
    auto store = NodeStore::open(c.dataDir + "/node.sqlite", true);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto ls = store->leases();
    ASSERT_TRUE(ls.ok()) << ls.error().message;
    for (const auto& l : *ls) {
      stored.insert(core::toHex(l.id));
      EXPECT_EQ(l.state, lease::LeaseState::active) << core::toHex(l.id);
    }
  }
  EXPECT_EQ(files, fromReplies) << "instances on disk vs leases the replies left live";
  EXPECT_EQ(stored, fromReplies) << "the node's leases vs leases the replies left live";
  EXPECT_EQ(fromReplies.size(), 2u);

  {
    rapidjson::Document d;
    const auto err = status(d);
    ASSERT_TRUE(err.empty()) << err;
    EXPECT_EQ(d["leases"].GetUint(), fromReplies.size());
    EXPECT_EQ(d["free"].GetUint(), kInstances - fromReplies.size());
    EXPECT_TRUE(d["node"]["board"]["connected"].GetBool());
  }

  // SIGTERM stops it cleanly; after that the host's account no longer moves.
  const int exitStatus = node.stopStatus(SIGTERM);
  EXPECT_TRUE(WIFEXITED(exitStatus) && WEXITSTATUS(exitStatus) == 0) << "status " << exitStatus;
  std::this_thread::sleep_for(1s);

  // ---- the host's balance, from the ledger ----
  auto after = wallet.client().accountInfo(host.address(), true);
  ASSERT_TRUE(after.ok()) << after.error().message;
  std::uint64_t received = 0, sent = 0, fees = 0, sentToTenant = 0, sentToRegistry = 0, announcements = 0;
  std::map<std::string, int> hostTxs;  // by hash: each at most once in the history
  std::set<std::string> paidRequests;
  const auto tenantId = tenant.accountId();
  const auto registryId = *crypto::decodeAddress(registry);
  for (const auto& t : history(wallet.client(), host.address(), initialLedger + 1, after->ledgerIndex)) {
    auto d = ledger::decodeTransaction(t.blob);
    ASSERT_TRUE(d.ok());
    ++hostTxs[core::toHex(d->hash)];
    const std::uint64_t delivered = deliveredDrops(t, *d);
    if (d->account == host.accountId()) {
      fees += d->fee;  // consumed whatever the result
      sent += delivered;
      if (d->destination && *d->destination == tenantId) sentToTenant += delivered;
      if (d->destination && *d->destination == registryId) {
        sentToRegistry += delivered;
        if (delivered > 0) ++announcements;
      }
    } else if (d->destination && *d->destination == host.accountId()) {
      received += delivered;
      EXPECT_EQ(d->account, tenantId) << "only the tenant pays the host during the burst";
    }
  }
  for (const auto& [h, n] : hostTxs) EXPECT_EQ(n, 1) << h;
  EXPECT_EQ(after->balance, initialBalance + received - sent - fees)
      << "initial " << initialBalance << " received " << received << " sent " << sent << " fees " << fees;
  EXPECT_EQ(received, receivedFromTenant) << "every request's amount reached the host";
  EXPECT_EQ(sentToTenant, expectedToTenant) << "refunds and 1-drop replies, each paid once";
  EXPECT_EQ(sent, sentToTenant + sentToRegistry) << "the host pays only replies and announcements";
  EXPECT_EQ(sentToRegistry, announcements) << "announcements are 1 drop";
  EXPECT_GE(announcements, 1u);
  EXPECT_GT(fees, 0u);
  std::cout << "burst: " << requests.size() << " requests (" << sentWhileDown
            << " sent while the node was down), " << acquired << " acquired, " << extended << " extended, "
            << terminated << " terminated; host balance " << initialBalance << " + " << received
            << " received - " << sent << " sent (" << sentToTenant << " to the tenant, " << announcements
            << " announcements) - " << fees << " fees = " << after->balance << "\n";
}

}  // namespace
}  // namespace sashimono::node
