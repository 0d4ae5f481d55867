// `sashimono host run` (the real binary, file-backed tenants) against a hostile board: a scripted
// WebSocket server on 127.0.0.1 that keeps a small ledger of its own. It validates the node's
// reply payments (in Sequence order, answering submit / tx / account_info like rippled) and feeds
// the node a forged stream: bad signatures, keys that do not own the account, replays, wrong
// destinations, malformed, oversized and mislabelled memos, unknown types, underpayment, issued
// currencies, partial payments, failed results, blobs that do not match the hash they are served
// under, undecodable blobs and plain garbage. Every case must end as docs/PROTOCOL.md §7–§11 says
// (exactly one refund with the right reason and amount, or nothing at all), the node must stay up,
// and the one legitimate acquire in the middle of it all must be served exactly once.
// A second test pushes deeply nested JSON messages (stack exhaustion of the parser).
#include <signal.h>
#include <sys/wait.h>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fakes/node/Child.h"
#include "fakes/node/Forge.h"
#include "fakes/node/HostileBoard.h"
#include "fakes/node/NodeHarness.h"
#include "fakes/node/Tenant.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/NodeStore.h"
#include "sashimono/protocol/Reason.h"
#include "sashimono/protocol/Verdict.h"

namespace sashimono::node {
namespace {

using namespace std::chrono_literals;
using fakes::HostileBoard;
using fakes::Planned;
using protocol::MessageType;
using protocol::Reason;

// What must become of one forged (or legitimate) transaction.
struct Case {
  std::string name;
  std::vector<crypto::Hash256> hashes;    // hashes a reply to it could name
  crypto::AccountId from{};               // the request's Account (where a reply goes)
  bool replied = false;                   // exactly one reply, else none at all
  MessageType type = MessageType::error;  // the reply's memo type
  Reason reason = Reason::badPayload;     // error replies
  std::uint64_t refund = 0;               // the reply's `refund` field (drops)
  std::optional<ledger::Amount> amount;   // the reply payment's Amount (default: refund or 1 drop)
  std::string verdict;  // prefix of the node's recorded verdict; "" = it must never reach the node
};

core::Bytes randomBytes(std::size_t n, std::uint8_t first) {
  core::Bytes b(n);
  crypto::randomBytes(b);
  if (!b.empty()) b[0] = first;
  return b;
}

std::string describe(const ledger::Amount& a) {
  return a.native ? std::to_string(a.drops) + " drops" : "issued " + core::toHex(a.issued);
}

struct Reply {
  fakes::OpenedReply opened;
  ledger::DecodedTx tx;
};

// The host's config, its node as a child process and the hostile board it listens to.
class NodeHostileTest : public ::testing::Test {
 protected:
  NodeHostileTest() {
    c.boardUrls = {board.url()};
    c.quietSeconds = 5;
    c.seedFile = dir.path() + "/host.seed";
    c.address = "127.0.0.1";
    c.offer.instances = 4;
    c.offer.pricePerMoment = 1000;
    c.offer.momentSeconds = 3600;
    c.offer.maxMoments = 10;
    c.policy.allowedImages = {"hotpocket"};
    c.dataDir = dir.path() + "/data";
    c.metricsAddress = "127.0.0.1:0";
  }
  void SetUp() override {
    ASSERT_TRUE(writeSeedFile(c.seedFile, hostSeed).ok());
    std::ofstream(configPath) << renderHostConfig(c);
  }
  // On failure, or with HOSTILE_LOG set: the cases and the node's log.
  void TearDown() override {
    if (!HasFailure() && std::getenv("HOSTILE_LOG") == nullptr) return;
    for (const auto& k : cases)
      std::cerr << "  " << core::toHex(k.hashes[0]).substr(0, 16) << "  " << k.name << "\n";
    std::ifstream in(logPath);
    std::cerr << "---- node log ----\n" << in.rdbuf() << "\n---- end of node log ----\n";
  }

  // Starts `host run` and waits until it has subscribed to the board.
  void startNode() {
    node.start({SASHIMONO_BINARY, "host", "run", "--config", configPath, "--test-provisioner", tenants,
                "--tick-ms", "100"},
               {}, logPath);
    for (auto until = std::chrono::steady_clock::now() + 10s;
         !board.subscribed() && std::chrono::steady_clock::now() < until;)
      std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(board.subscribed()) << "the node never subscribed to the board";
  }
  // Whether `host run` is still running. Child::alive() is also true for a child that has exited
  // but is not reaped yet, so ask waitid without reaping (the node is this test's only child
  // process; popen's are reaped by pclose): its status stays for Child::stop.
  bool nodeAlive() {
    if (!node.alive()) return false;
    siginfo_t si{};
    if (::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
    return si.si_pid == 0;
  }
  // How the node ended, for a failure message.
  static std::string death() {
    siginfo_t si{};
    if (::waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0) return "unknown";
    return si.si_code == CLD_EXITED ? "exit code " + std::to_string(si.si_status)
                                    : "signal " + std::to_string(si.si_status);
  }
  // One ledger closes and validates.
  void tick() {
    board.close();
    std::this_thread::sleep_for(150ms);
  }
  // The node's validated payments by the request they answer; the others counted in `unreadable`.
  std::map<crypto::Hash256, std::vector<Reply>> replies(const std::vector<core::Bytes>& payments,
                                                        std::size_t& unreadable) {
    std::map<crypto::Hash256, std::vector<Reply>> out;
    unreadable = 0;
    for (const auto& blob : payments) {
      auto d = ledger::decodeTransaction(blob);
      std::optional<fakes::OpenedReply> r;
      if (d && d->account == host.accountId()) r = fakes::openReply(*d, tenant);
      std::optional<crypto::Hash256> a;
      if (r) a = fakes::answered(r->message);
      if (!a) {
        ++unreadable;
        continue;
      }
      out[*a].push_back(Reply{*r, *d});
    }
    return out;
  }

  const std::string hostSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const crypto::KeyPair host = *crypto::KeyPair::fromSeed(hostSeed);
  const crypto::KeyPair tenant = fakes::newEdKey();  // the developer
  fakes::TempDir dir;
  HostileBoard board{host, 2};
  HostConfig c;
  const std::string configPath = dir.path() + "/host.json";
  const std::string tenants = dir.path() + "/tenants";
  const std::string logPath = dir.path() + "/node.log";
  std::vector<Case> cases;  // for the failure report
  fakes::Child node;        // last: killed first
};

TEST_F(NodeHostileTest, ForgedStreamIsRefusedOrIgnoredAndTheLegitimateAcquireIsServedOnce) {
  const auto began = std::chrono::steady_clock::now();
  const auto stranger = fakes::newEdKey();  // signs for the developer's account
  const auto other = fakes::newEdKey();     // some other account (wrong destination, IOU issuer)
  const std::string hostAddr = host.address();

  std::uint32_t seq = 1;
  const protocol::Message acquire = fakes::acquireRequest();
  auto acquirePayment = [&](std::uint64_t drops, std::vector<protocol::Memo> memos = {}) {
    if (memos.empty()) memos.push_back(fakes::requestMemo(acquire, host));
    return fakes::paymentJson(tenant.address(), hostAddr, drops, seq++, memos);
  };
  // `verdict`: how the node's store records it ("" when it must never reach the node).
  auto ignored = [&](const std::string& name, const std::string& verdict, Planned p) {
    Case k;
    k.name = name;
    k.verdict = verdict;
    k.hashes = {ledger::transactionHash(p.blob)};
    if (p.claimedHash) k.hashes.push_back(*p.claimedHash);
    cases.push_back(k);
    board.plan(std::move(p));
  };
  auto refused = [&](const std::string& name, Planned p, MessageType type, Reason reason,
                     std::uint64_t refund) {
    Case k;
    k.name = name;
    k.hashes = {ledger::transactionHash(p.blob)};
    k.from = tenant.accountId();
    k.replied = true;
    k.type = type;
    k.reason = reason;
    k.refund = refund;
    k.verdict = reason == Reason::underpaid ? "accepted: sashimono.acquire"  // refused by the lease book
                                            : "refused: " + std::string(protocol::reasonName(reason));
    cases.push_back(k);
    board.plan(std::move(p));
    return cases.size() - 1;
  };
  auto signedPlan = [&](rapidjson::Document d, std::optional<std::uint64_t> delivered = std::nullopt,
                        const crypto::KeyPair* signer = nullptr) {
    Planned p;
    p.blob = fakes::signJson(d, signer ? *signer : tenant);
    p.delivered = delivered;
    return p;
  };

  // ---- Ledger 3, before the node runs (reaches it through account_tx catch-up) ----
  {
    auto d = acquirePayment(2500);
    Planned p;
    p.blob = fakes::withBadSignature(fakes::signJson(d, tenant));
    p.delivered = 2500;
    ignored("bad signature (catch-up)", "ignored: bad signature", std::move(p));
  }
  refused("underpaid (catch-up)", signedPlan(acquirePayment(999), 999), MessageType::acquireError,
          Reason::underpaid, 999);
  refused("garbage MemoData (catch-up)",
          signedPlan(
              acquirePayment(1601, {fakes::rawMemo("sashimono.acquire", std::string(protocol::kFormatSealed),
                                                   randomBytes(120, 0x01))}),
              1601),
          MessageType::acquireError, Reason::badPayload, 1601);
  ignored("plain funding payment, no memo (catch-up)", "ignored: no sashimono memo",
          signedPlan(fakes::paymentJson(other.address(), hostAddr, 50'000'000, 1, {}), 50'000'000, &other));
  board.close();  // 3
  board.close();  // 4

  startNode();
  if (HasFatalFailure()) return;
  tick();
  tick();

  // ---- Garbage on the stream ----
  const std::vector<std::string> garbage{
      "}{ not json",
      "[1,2,3]",
      "null",
      R"("just a string")",
      R"({"type":42})",
      R"({"type":"transaction"})",
      R"({"type":"transaction","validated":true,"ledger_index":"seven","hash":"00"})",
      R"({"type":"transaction","validated":true,"ledger_index":9,"transaction":{"hash":"ZZZZ"}})",
      R"({"type":"transaction","validated":true,"ledger_index":9,"transaction":{"hash":[1]}})",
      R"({"type":"transaction","validated":true,"ledger_index":9,"hash":")" + std::string(64, 'E') + R"("})",
      R"({"type":"transaction","validated":"yes","ledger_index":-1,"meta":7})",
      R"({"type":"ledgerClosed"})",
      R"({"type":"ledgerClosed","ledger_index":-3})",
      R"({"type":"ledgerClosed","ledger_index":"12"})",
      R"({"type":"ledgerClosed","ledger_index":1})",
      R"({"id":"x","status":"success","type":"response","result":{}})",
      R"({"id":987654321,"status":"success","type":"response","result":{"ledger_index":99999}})",
      R"({"type":"response","result":null})",
      std::string(200'000, 'x'),
      std::string(1000, '['),
  };
  for (const auto& g : garbage) board.push(g);

  // ---- One ledger: forgeries around the legitimate acquire ----
  {
    auto d = acquirePayment(2500);
    ignored("SigningPubKey does not own the Account", "ignored: not signed with the account's master key",
            signedPlan(std::move(d), 2500, &stranger));
  }
  ignored("wrong Destination", "ignored: not addressed to this host",
          signedPlan(fakes::paymentJson(tenant.address(), other.address(), 2500, seq++,
                                        {fakes::requestMemo(acquire, host)}),
                     2500));
  {
    Planned p = signedPlan(acquirePayment(2500), 2500);
    crypto::Hash256 claimed = ledger::transactionHash(p.blob);
    claimed[7] ^= 0x40;
    p.claimedHash = claimed;
    p.listed = false;  // only the stream knows it, under a hash its blob does not have
    ignored("blob does not match the hash it is served under", "", std::move(p));
  }
  Planned legit = signedPlan(acquirePayment(2500), 2500);
  const crypto::Hash256 legitHash = ledger::transactionHash(legit.blob);
  const core::Bytes legitBlob = legit.blob;
  {
    Case k;
    k.name = "legitimate acquire";
    k.hashes = {legitHash};
    k.from = tenant.accountId();
    k.replied = true;
    k.type = MessageType::acquireOk;
    k.refund = 500;
    k.verdict = "accepted: sashimono.acquire";
    cases.push_back(k);
    board.plan(std::move(legit));
  }
  {
    Planned p = signedPlan(acquirePayment(2500));
    p.result = "tecUNFUNDED_PAYMENT";
    ignored("result tecUNFUNDED_PAYMENT", "ignored: transaction did not succeed", std::move(p));
  }
  {
    auto memo = fakes::requestMemo(acquire, host);
    memo.type = "sashimono.bogus";
    refused("unknown sashimono type", signedPlan(acquirePayment(1700, {memo}), 1700), MessageType::error,
            Reason::unknownType, 1700);
  }
  {
    auto memo = fakes::requestMemo(acquire, host);
    memo.type = "sashimono.acquire.ok";
    refused("a reply type sent to the host", signedPlan(acquirePayment(1750, {memo}), 1750),
            MessageType::error, Reason::unknownType, 1750);
  }
  ignored(
      "only a foreign memo (a plain payment)", "ignored: no sashimono memo",
      signedPlan(acquirePayment(1800, {fakes::rawMemo("example.note", "text/plain", core::Bytes{'h', 'i'})}),
                 1800));
  {
    auto d = acquirePayment(2500);
    d["TransactionType"].SetString(rapidjson::StringRef("AccountSet"));
    d.RemoveMember("Destination");
    d.RemoveMember("Amount");
    ignored("not a Payment", "ignored: not a Payment", signedPlan(std::move(d)));
  }
  {
    Planned p;
    p.blob = randomBytes(90, 0x12);
    ignored("undecodable blob", "ignored: undecodable", std::move(p));
  }
  tick();
  // The legitimate acquire's stream message twice more while its ledger is still open in the
  // board client (not finished before the next ledger closes): duplicate sightings.
  const std::string legitMessage = board.messageFor(legitHash);
  ASSERT_FALSE(legitMessage.empty());
  board.push(legitMessage);
  board.push(legitMessage);
  tick();

  // ---- Next ledger: memo and amount abuse ----
  {
    const std::string text = protocol::renderPayload(acquire);
    refused("wrong MemoFormat (plain JSON acquire)",
            signedPlan(
                acquirePayment(1900, {fakes::rawMemo("sashimono.acquire", std::string(protocol::kFormatJson),
                                                     core::Bytes(text.begin(), text.end()))}),
                1900),
            MessageType::acquireError, Reason::badPayload, 1900);
  }
  refused("oversized MemoData (950 bytes)",
          signedPlan(
              acquirePayment(2000, {fakes::rawMemo("sashimono.acquire", std::string(protocol::kFormatSealed),
                                                   randomBytes(950, 0x01))}),
              2000),
          MessageType::acquireError, Reason::badPayload, 2000);
  refused(
      "empty MemoData",
      signedPlan(acquirePayment(2050, {fakes::rawMemo("sashimono.acquire",
                                                      std::string(protocol::kFormatSealed), core::Bytes{})}),
                 2050),
      MessageType::acquireError, Reason::badPayload, 2050);
  {
    auto memo = fakes::requestMemo(acquire, host);
    memo.data[0] = 0x02;
    refused("unsupported envelope version", signedPlan(acquirePayment(2100, {memo}), 2100),
            MessageType::acquireError, Reason::unsupportedVersion, 2100);
  }
  refused(
      "two sashimono memos",
      signedPlan(acquirePayment(2200, {fakes::requestMemo(acquire, host), fakes::requestMemo(acquire, host)}),
                 2200),
      MessageType::error, Reason::badPayload, 2200);
  refused("underpaid (stream)", signedPlan(acquirePayment(998), 998), MessageType::acquireError,
          Reason::underpaid, 998);
  std::size_t iouCase = 0;
  ledger::Amount iouAmount;
  {
    auto d = acquirePayment(1);
    fakes::setIssuedAmount(d, "25", "USD", other.address());
    Planned p = signedPlan(std::move(d));
    iouAmount = *ledger::decodeTransaction(p.blob)->amount;
    iouCase = refused("issued-currency Amount", std::move(p), MessageType::acquireError, Reason::notXrp, 0);
    cases[iouCase].amount = iouAmount;
  }
  {
    auto d = acquirePayment(5000);
    d["Flags"].SetUint(protocol::kTfPartialPayment);
    refused("partial payment (delivered 3000 of 5000)", signedPlan(std::move(d), 3000),
            MessageType::acquireError, Reason::partialPayment, 3000);
  }
  tick();
  tick();

  // ---- A later ledger: the same signed acquire again (a replay), listed and streamed ----
  {
    Planned p;
    p.blob = legitBlob;
    p.delivered = 2500;
    board.plan(std::move(p));
  }
  tick();
  board.push(legitMessage);  // and its first sighting once more, now long finished

  // ---- Until every expected reply is validated (plus a margin for strays) ----
  std::size_t expected = 0;
  for (const auto& k : cases) expected += k.replied ? 1 : 0;
  auto until = std::chrono::steady_clock::now() + 20s;
  while (board.hostPayments().size() < expected && std::chrono::steady_clock::now() < until && nodeAlive())
    tick();
  for (int i = 0; i < 8; ++i) tick();  // nothing more may come
  const bool alive = nodeAlive();
  EXPECT_TRUE(alive) << "the node died: " << death();

  // ---- The node's payments, by the request they answer ----
  const auto payments = board.hostPayments();
  std::size_t unreadable = 0;
  const auto replies = this->replies(payments, unreadable);
  EXPECT_EQ(unreadable, 0u) << "host payments that are not a readable reply from the host";
  EXPECT_EQ(payments.size(), expected) << "host payments in all (one per refused or served request)";

  for (const auto& k : cases) {
    SCOPED_TRACE(k.name);
    std::vector<const Reply*> got;
    for (const auto& h : k.hashes)
      if (auto it = replies.find(h); it != replies.end())
        for (const auto& r : it->second) got.push_back(&r);
    if (!k.replied) {
      EXPECT_TRUE(got.empty()) << k.name << ": must be ignored, got " << got.size() << " replies";
      continue;
    }
    ASSERT_EQ(got.size(), 1u) << k.name << ": exactly one reply expected";
    const Reply& r = *got.front();
    EXPECT_EQ(r.opened.type, k.type) << k.name << ": reply type " << protocol::messageTypeName(r.opened.type);
    EXPECT_EQ(r.opened.to, k.from) << k.name << ": the reply goes to the request's Account";
    ASSERT_TRUE(r.tx.amount.has_value());
    const ledger::Amount want =
        k.amount.value_or(ledger::Amount{true, k.refund > 0 ? k.refund : 1, false, {}});
    EXPECT_EQ(r.tx.amount->native, want.native) << k.name << ": paid " << describe(*r.tx.amount);
    if (want.native)
      EXPECT_EQ(r.tx.amount->drops, want.drops) << k.name << ": paid " << describe(*r.tx.amount);
    else
      EXPECT_EQ(r.tx.amount->issued, want.issued) << k.name << ": paid " << describe(*r.tx.amount);
    if (k.type == MessageType::acquireOk) {
      const auto* ok = std::get_if<protocol::AcquireOk>(&r.opened.message);
      ASSERT_NE(ok, nullptr);
      EXPECT_EQ(ok->request, legitHash);
      EXPECT_EQ(ok->leaseId, legitHash);
      EXPECT_EQ(ok->moments, 2u);
      EXPECT_EQ(ok->refund, 500u);
      EXPECT_EQ(ok->price, 1000u);
      EXPECT_EQ(ok->momentSeconds, 3600u);
      EXPECT_EQ(ok->instance.host, "127.0.0.1");
      EXPECT_EQ(ok->instance.userPort, c.userPorts.first);
    } else {
      const auto* e = std::get_if<protocol::ErrorReply>(&r.opened.message);
      ASSERT_NE(e, nullptr) << k.name << ": not an error reply";
      EXPECT_EQ(protocol::reasonName(e->reason), protocol::reasonName(k.reason))
          << k.name << ": " << e->detail;
      EXPECT_EQ(e->refund, k.refund) << k.name;
      EXPECT_FALSE(e->leaseId.has_value()) << k.name;
    }
  }

  // The replay in a later ledger got past the board client's own dedupe (its first sighting was
  // long finished) and was fetched again: what kept it to one reply is the node's once-by-hash.
  EXPECT_GE(board.lookups(legitHash), 2);
  // Nor did the garbage cost the node its connection.
  EXPECT_EQ(board.sessions(), 1);

  // One instance, the legitimate lease's, in the test provisioner's directory.
  std::vector<std::string> instances;
  if (std::filesystem::exists(tenants))
    for (const auto& e : std::filesystem::directory_iterator(tenants))
      instances.push_back(e.path().filename());
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0], core::toHex(legitHash));

  // The node's own view: one lease, and its outbox empty (every reply confirmed by a `tx` lookup).
  if (alive) {
    std::string out;
    rapidjson::Document st;
    for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;) {
      const std::string cmd = std::string(SASHIMONO_BINARY) + " host status --json --config " + configPath;
      FILE* p = ::popen(cmd.c_str(), "r");
      ASSERT_NE(p, nullptr);
      out.clear();
      char buf[512];
      while (std::fgets(buf, sizeof buf, p)) out += buf;
      ::pclose(p);
      st.Parse(out.c_str());
      if (st.IsObject() && st.HasMember("outboxOpen") && st["outboxOpen"].IsUint() &&
          st["outboxOpen"].GetUint() == 0)
        break;
      tick();
    }
    ASSERT_TRUE(st.IsObject() && st.HasMember("leases") && st["leases"].IsUint() &&
                st.HasMember("outboxOpen") && st["outboxOpen"].IsUint())
        << out;
    EXPECT_EQ(st["leases"].GetUint(), 1u) << out;
    EXPECT_EQ(st["outboxOpen"].GetUint(), 0u) << out;
    const int code = node.stop(SIGTERM);
    EXPECT_EQ(code, 0) << "exit code of host run on SIGTERM (-1: ended by a signal)";
  }
  node.stop(SIGKILL);  // no-op if it stopped; the store is read with the node gone

  // The node's record of each transaction: delivered once, decided, for the expected reason.
  {
    auto store = NodeStore::open(c.storePath(), true);
    ASSERT_TRUE(store.ok()) << store.error().message;
    auto rows = store->requests();
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    std::map<crypto::Hash256, std::vector<RequestRow>> byHash;
    for (auto& r : *rows) byHash[r.hash].push_back(std::move(r));
    for (const auto& k : cases) {
      if (k.verdict.empty()) {
        for (const auto& h : k.hashes)
          EXPECT_EQ(byHash.count(h), 0u) << k.name << ": must never reach the node";
        continue;
      }
      auto it = byHash.find(k.hashes[0]);
      ASSERT_NE(it, byHash.end()) << k.name << ": never recorded by the node";
      ASSERT_EQ(it->second.size(), 1u) << k.name;
      const RequestRow& r = it->second.front();
      EXPECT_TRUE(r.verdict.starts_with(k.verdict)) << k.name << ": verdict '" << r.verdict << "'";
      EXPECT_TRUE(r.state == RequestState::decided || r.state == RequestState::replied)
          << k.name << ": state " << requestStateName(r.state);
    }
    // The node's own replies came back on its account's stream: recorded, and ignored.
    for (const auto& blob : payments) {
      auto it = byHash.find(ledger::transactionHash(blob));
      if (it != byHash.end()) {
        EXPECT_TRUE(it->second.front().verdict.starts_with("ignored: not addressed to this host"))
            << it->second.front().verdict;
      }
    }
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began)
          .count() /
      1000.0;
  std::cerr << "NodeHostileTest: " << cases.size() << " cases, " << payments.size() << " host payments, "
            << board.submits() << " submits, " << board.sessions() << " board session(s), " << seconds
            << " s\n";
}

// Stream messages nested a million levels deep and more ("[[[…", a few MB, well under the
// client's 64 MiB message limit) must not take the node down: parsing them must not recurse on
// the I/O thread's stack. A legitimate acquire afterwards is still served.
TEST_F(NodeHostileTest, DeeplyNestedStreamMessageDoesNotCrashTheNode) {
  startNode();
  if (HasFatalFailure()) return;
  tick();
  board.push(std::string(3'000'000, '['));                                       // truncated
  board.push(std::string(1'000'000, '[') + std::string(1'000'000, ']'));         // valid JSON
  board.push(R"({"type":"transaction","meta":)" + std::string(1'000'000, '['));  // inside an object
  tick();
  tick();
  Planned p;
  p.blob = fakes::requestPayment(tenant, host.address(), 2500, 1, fakes::acquireRequest(), host);
  p.delivered = 2500;
  Case k;
  k.name = "legitimate acquire after the nested message";
  k.hashes = {ledger::transactionHash(p.blob)};
  cases.push_back(k);
  board.plan(std::move(p));
  for (auto until = std::chrono::steady_clock::now() + 15s;
       board.hostPayments().empty() && std::chrono::steady_clock::now() < until && nodeAlive();)
    tick();
  tick();
  tick();
  EXPECT_TRUE(nodeAlive()) << "the node died: " << death();
  std::size_t unreadable = 0;
  const auto replies = this->replies(board.hostPayments(), unreadable);
  EXPECT_EQ(unreadable, 0u);
  auto it = replies.find(k.hashes[0]);
  ASSERT_NE(it, replies.end()) << "the acquire was not answered";
  ASSERT_EQ(it->second.size(), 1u);
  EXPECT_EQ(it->second.front().opened.type, MessageType::acquireOk);
}

}  // namespace
}  // namespace sashimono::node
