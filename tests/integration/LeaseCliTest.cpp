// The developer's commands (`sashimono hosts`, `sashimono lease acquire|extend|terminate|list`) as child
// processes against the real devnet and a real host node (`host run --test-provisioner`), all on
// 127.0.0.1. The developer's seed reaches the CLI only through its environment.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/node/Child.h"
#include "fakes/node/TestHostConfig.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/Outbox.h"
#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/Messages.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {
namespace {

using namespace std::chrono_literals;

using node::fakes::Child;
using node::fakes::CliRun;
using node::fakes::runCli;

// The devnet, a registry account and a host node (`host run --test-provisioner`) offering 2
// hotpocket instances at 1000 drops per 3600 s moment; all on 127.0.0.1.
class HostUnderTest {
 public:
  HostUnderTest()
      : genesis_(board::fakes::newGenesisSeed()),
        devnet_(SASHIMONO_BINARY, genesis_, 200),
        wallet_(devnet_.url(), genesis_),
        hostSeed_(crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519))),
        host_(*crypto::KeyPair::fromSeed(hostSeed_)),
        registry_(*crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519))) {
    fund(host_.address());
    fund(registry_.address());
    node::HostConfig c = node::fakes::testHostConfig(devnet_.url(), dir_.path() + "/data");
    c.registryAccount = registry_.address();
    auto configPath = node::fakes::writeTestHostConfig(c, dir_.path(), hostSeed_);
    if (!configPath) throw std::runtime_error("cannot write the host config: " + configPath.error().message);
    logPath_ = dir_.path() + "/node.log";
    node_.start(node::fakes::hostRunArgs(*configPath, dir_.path() + "/tenants"), {}, logPath_);
  }
  ~HostUnderTest() {
    if (::testing::Test::HasFailure()) {
      std::ifstream in(logPath_);
      std::cerr << "---- node log ----\n" << in.rdbuf() << "\n";
    }
  }
  HostUnderTest(const HostUnderTest&) = delete;
  HostUnderTest& operator=(const HostUnderTest&) = delete;

  void fund(const std::string& address) { wallet_.waitValidated(wallet_.pay(address, 100'000'000)); }

  // Submits a signed transaction and waits until it is validated.
  void submitAndWait(const core::Bytes& blob) {
    auto r = wallet_.client().submit(blob);
    if (!r.ok() || r->engineResult != "tesSUCCESS") throw std::runtime_error("submit failed");
    wallet_.waitValidated(core::toHex(ledger::transactionHash(blob)));
  }
  board::BoardClient& client() { return wallet_.client(); }

  // `hosts --json` once the host's announcement has reached the registry (or the last try).
  CliRun waitAnnounced() {
    CliRun hosts;
    for (auto end = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < end;) {
      hosts = runCli({"hosts", "--board", board(), "--registry", registry_.address(), "--json"}, {});
      if (hosts.code == 0 && hosts.json.IsObject() && hosts.json["hosts"].Size() > 0) break;
      std::this_thread::sleep_for(500ms);
    }
    return hosts;
  }

  // `lease extend --json` of `leaseId` by one moment, as the developer with `env`.
  [[nodiscard]] CliRun extendByOne(const std::string& leaseId, const std::vector<std::string>& env) const {
    return runCli({"lease", "extend", "--board", board(), "--host", host_.address(), "--lease", leaseId,
                   "--moments", "1", "--timeout", "60", "--json"},
                  env);
  }

  // A validated transaction by hash (upper hex), decoded.
  ledger::DecodedTx validatedTx(const std::string& hashHex) {
    board::TxQuery q;
    auto b = core::fromHex(hashHex);
    if (!b || b->size() != 32) throw std::runtime_error("bad hash " + hashHex);
    std::copy(b->begin(), b->end(), q.hash.begin());
    auto t = wallet_.client().tx(q);
    if (!t.ok() || !t->validated) throw std::runtime_error("tx " + hashHex + " not found validated");
    auto tx = ledger::decodeTransaction(t->tx.blob);
    if (!tx) throw std::runtime_error("tx " + hashHex + " does not decode");
    return *tx;
  }

  [[nodiscard]] std::string board() const { return devnet_.url(); }
  [[nodiscard]] const crypto::KeyPair& host() const { return host_; }
  [[nodiscard]] const crypto::KeyPair& registry() const { return registry_; }

 private:
  std::string genesis_;
  board::fakes::DevnetProcess devnet_;
  board::fakes::DevnetWallet wallet_;
  std::string hostSeed_;
  crypto::KeyPair host_;
  crypto::KeyPair registry_;
  board::fakes::TempDir dir_;
  std::string logPath_;
  Child node_;
};

// The one sashimono memo of a transaction, opened with `key` (nullopt if it does not open).
std::optional<protocol::Message> openOnlyMemo(const ledger::DecodedTx& tx, const crypto::KeyPair& key) {
  if (tx.memos.size() != 1) return std::nullopt;
  auto msg = protocol::openMemo(protocol::memoFromLedger(tx.memos[0]), &key);
  if (!msg) return std::nullopt;
  return *msg;
}

// The CLI's reply key for a secp256k1 seed (docs/PROTOCOL.md §13.1), computed independently:
// the ed25519 seed with entropy = SHA512Half("sashimono.replykey" || seed entropy)[0..16).
crypto::Seed expectedReplySeed(const std::string& walletSeed) {
  const auto seed = *crypto::decodeSeed(walletSeed);
  const std::string domain = "sashimono.replykey";
  core::Bytes data(domain.begin(), domain.end());
  data.insert(data.end(), seed.entropy().begin(), seed.entropy().end());
  const auto h = crypto::sha512Half(data);
  std::array<std::uint8_t, 16> entropy{};
  std::copy_n(h.begin(), 16, entropy.begin());
  return crypto::Seed(crypto::KeyType::ed25519, entropy);
}

protocol::Ed25519Key ed25519KeyOf(const crypto::KeyPair& kp) {
  protocol::Ed25519Key k{};
  std::copy(kp.publicKey().begin() + 1, kp.publicKey().end(), k.begin());
  return k;
}

TEST(LeaseCliTest, HostsAcquireTerminateListThroughTheCli) {
  HostUnderTest net;
  const std::string devSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto dev = *crypto::KeyPair::fromSeed(devSeed);
  net.fund(dev.address());
  const auto& host = net.host();
  const auto& registry = net.registry();

  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  const std::string board = net.board();

  // The host's announcement reaches the registry.
  CliRun hosts = net.waitAnnounced();
  ASSERT_EQ(hosts.code, 0) << hosts.out;
  ASSERT_TRUE(hosts.json.IsObject()) << hosts.out;
  ASSERT_EQ(hosts.json["hosts"].Size(), 1u) << hosts.out;
  const auto& h = hosts.json["hosts"][0];
  EXPECT_EQ(std::string(h["account"].GetString()), host.address());
  EXPECT_EQ(h["price"].GetUint64(), 1000u);
  EXPECT_EQ(h["free"].GetUint64(), 2u);
  EXPECT_EQ(h["instances"].GetUint64(), 2u);

  // Acquire 2 moments: price computed from the announcement.
  CliRun acq = runCli({"lease", "acquire", "--board", board, "--host", host.address(), "--registry",
                       registry.address(), "--image", "hotpocket", "--contract-id",
                       "6f1c2a3e-4b5d-4e6f-8a9b-0c1d2e3f4a5b", "--moments", "2", "--timeout", "60", "--json"},
                      env);
  ASSERT_EQ(acq.code, 0) << acq.out;
  ASSERT_TRUE(acq.json.IsObject()) << acq.out;
  EXPECT_EQ(std::string(acq.json["type"].GetString()), "sashimono.acquire.ok");
  EXPECT_EQ(std::string(acq.json["result"].GetString()), "ok");
  EXPECT_GT(acq.json["user_port"].GetUint(), 0u) << acq.out;
  EXPECT_GT(acq.json["peer_port"].GetUint(), 0u) << acq.out;
  EXPECT_EQ(acq.json["moments"].GetUint64(), 2u);
  EXPECT_EQ(std::string(acq.json["host"].GetString()), "127.0.0.1");
  EXPECT_EQ(std::string(acq.json["instance_key"].GetString()).substr(0, 2), "ED");
  const std::string leaseId = acq.json["lease_id"].GetString();
  EXPECT_EQ(leaseId.size(), 64u);

  // Extend by one moment.
  CliRun ext = net.extendByOne(leaseId, env);
  ASSERT_EQ(ext.code, 0) << ext.out;
  ASSERT_TRUE(ext.json.IsObject()) << ext.out;
  EXPECT_EQ(std::string(ext.json["type"].GetString()), "sashimono.extend.ok");
  EXPECT_EQ(ext.json["moments"].GetUint64(), 1u);
  EXPECT_EQ(ext.json["expiry"].GetUint64(), acq.json["expiry"].GetUint64() + 3600);

  // Terminate: the unused moments, refunded with the terminate's own drop.
  CliRun term = runCli({"lease", "terminate", "--board", board, "--host", host.address(), "--registry",
                        registry.address(), "--lease", leaseId, "--timeout", "60", "--json"},
                       env);
  ASSERT_EQ(term.code, 0) << term.out;
  ASSERT_TRUE(term.json.IsObject()) << term.out;
  EXPECT_EQ(std::string(term.json["type"].GetString()), "sashimono.terminate.ok");
  EXPECT_EQ(std::string(term.json["lease_id"].GetString()), leaseId);
  EXPECT_GE(term.json["refund"].GetUint64(), 1u + 2 * 1000);
  EXPECT_EQ(term.json["amount"].GetUint64(), term.json["refund"].GetUint64());

  // An unknown lease gets an error reply with the refund; exit code 1.
  CliRun bad = runCli({"lease", "terminate", "--board", board, "--host", host.address(), "--registry",
                       registry.address(), "--lease", std::string(64, 'A'), "--timeout", "60", "--json"},
                      env);
  EXPECT_EQ(bad.code, 1) << bad.out;
  ASSERT_TRUE(bad.json.IsObject()) << bad.out;
  EXPECT_EQ(std::string(bad.json["result"].GetString()), "error");
  EXPECT_FALSE(std::string(bad.json["reason"].GetString()).empty());

  // The history shows the four requests, each with its reply.
  CliRun list = runCli({"lease", "list", "--board", board, "--json"}, env);
  ASSERT_EQ(list.code, 0) << list.out;
  ASSERT_TRUE(list.json.IsObject()) << list.out;
  ASSERT_EQ(list.json["requests"].Size(), 4u) << list.out;
  EXPECT_EQ(std::string(list.json["reply_key"].GetString()), core::toHex(dev.publicKey()));
  for (const auto& r : list.json["requests"].GetArray()) EXPECT_EQ(r["replies"].Size(), 1u) << list.out;

  // The text forms name the same things.
  CliRun hostsText = runCli({"hosts", "--board", board, "--registry", registry.address()}, {});
  EXPECT_EQ(hostsText.code, 0);
  EXPECT_NE(hostsText.out.find(host.address()), std::string::npos) << hostsText.out;
  CliRun listText = runCli({"lease", "list", "--board", board}, env);
  EXPECT_EQ(listText.code, 0);
  EXPECT_NE(listText.out.find(leaseId), std::string::npos) << listText.out;
  EXPECT_NE(listText.out.find("user_port"), std::string::npos) << listText.out;

  // The seed is never an argument; without one the command refuses.
  CliRun noSeed = runCli({"lease", "list", "--board", board}, {"SASHIMONO_SEED="});
  EXPECT_NE(noSeed.code, 0);
}

// A secp256k1 wallet cannot open sealed boxes: the CLI derives an ed25519 reply key from its
// seed, names it as replyKey (and owner) in its requests and unseals the replies with it.
TEST(LeaseCliTest, Secp256k1WalletUsesItsDerivedReplyKey) {
  HostUnderTest net;
  const std::string devSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
  const auto dev = *crypto::KeyPair::fromSeed(devSeed);
  ASSERT_EQ(dev.type(), crypto::KeyType::secp256k1);
  net.fund(dev.address());
  const auto& host = net.host();
  const std::string board = net.board();
  const std::vector<std::string> env{"SASHIMONO_SEED=" + devSeed};
  const crypto::Seed replySeed = expectedReplySeed(devSeed);
  const auto reply = *crypto::KeyPair::fromSeed(replySeed);
  const protocol::Ed25519Key replyKey = ed25519KeyOf(reply);
  const std::string replyKeyText = protocol::formatEd25519Key(replyKey);

  // `lease key` shows the derived key, and its seed on request (no board involved).
  CliRun key = runCli({"lease", "key", "--json", "--export-seed"}, env);
  ASSERT_EQ(key.code, 0) << key.out;
  ASSERT_TRUE(key.json.IsObject()) << key.out;
  EXPECT_EQ(std::string(key.json["account"].GetString()), dev.address());
  EXPECT_EQ(std::string(key.json["key_type"].GetString()), "secp256k1");
  EXPECT_EQ(std::string(key.json["reply_key"].GetString()), replyKeyText);
  EXPECT_EQ(std::string(key.json["reply_source"].GetString()), "derived");
  EXPECT_EQ(std::string(key.json["reply_seed"].GetString()), crypto::encodeSeed(replySeed));

  CliRun hosts = net.waitAnnounced();
  ASSERT_EQ(hosts.code, 0) << hosts.out;
  ASSERT_TRUE(hosts.json.IsObject() && hosts.json["hosts"].Size() == 1u) << hosts.out;

  // Acquire: the request names the derived key as replyKey and owner; the reply opens with it.
  CliRun acq = runCli({"lease", "acquire", "--board", board, "--host", host.address(), "--image", "hotpocket",
                       "--moments", "2", "--timeout", "60", "--json"},
                      env);
  ASSERT_EQ(acq.code, 0) << acq.out;
  ASSERT_TRUE(acq.json.IsObject()) << acq.out;
  EXPECT_EQ(std::string(acq.json["type"].GetString()), "sashimono.acquire.ok");
  EXPECT_GT(acq.json["user_port"].GetUint(), 0u) << acq.out;
  EXPECT_GT(acq.json["peer_port"].GetUint(), 0u) << acq.out;
  EXPECT_EQ(std::string(acq.json["host"].GetString()), "127.0.0.1");
  const std::string leaseId = acq.json["lease_id"].GetString();
  ASSERT_EQ(leaseId.size(), 64u);
  {
    auto tx = net.validatedTx(leaseId);
    EXPECT_EQ(tx.signingPubKey, core::Bytes(dev.publicKey().begin(), dev.publicKey().end()));
    auto req = openOnlyMemo(tx, host);
    ASSERT_TRUE(req.has_value());
    const auto* a = std::get_if<protocol::AcquireRequest>(&*req);
    ASSERT_NE(a, nullptr);
    ASSERT_TRUE(a->replyKey.has_value());
    EXPECT_EQ(*a->replyKey, replyKey);
    EXPECT_EQ(a->owner, replyKey);
    auto rep = net.validatedTx(acq.json["reply_hash"].GetString());
    auto ok = openOnlyMemo(rep, reply);
    ASSERT_TRUE(ok.has_value()) << "the acquire.ok does not open with the derived reply key";
    ASSERT_NE(std::get_if<protocol::AcquireOk>(&*ok), nullptr);
    EXPECT_EQ(core::toHex(std::get<protocol::AcquireOk>(*ok).leaseId), leaseId);
    const auto other = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
    EXPECT_FALSE(openOnlyMemo(rep, other).has_value());
  }

  // The history shows the lease with its endpoints, unsealed with the derived key.
  CliRun list = runCli({"lease", "list", "--board", board, "--json"}, env);
  ASSERT_EQ(list.code, 0) << list.out;
  ASSERT_TRUE(list.json.IsObject()) << list.out;
  EXPECT_EQ(std::string(list.json["reply_key"].GetString()), replyKeyText);
  ASSERT_EQ(list.json["requests"].Size(), 1u) << list.out;
  {
    const auto& r = list.json["requests"][0];
    EXPECT_EQ(std::string(r["request"].GetString()), leaseId);
    EXPECT_EQ(std::string(r["type"].GetString()), "sashimono.acquire");
    ASSERT_EQ(r["replies"].Size(), 1u) << list.out;
    EXPECT_EQ(std::string(r["replies"][0]["lease_id"].GetString()), leaseId);
    EXPECT_EQ(r["replies"][0]["user_port"].GetUint(), acq.json["user_port"].GetUint());
    EXPECT_EQ(r["replies"][0]["peer_port"].GetUint(), acq.json["peer_port"].GetUint());
  }

  // Extend and terminate also name the reply key.
  CliRun ext = net.extendByOne(leaseId, env);
  ASSERT_EQ(ext.code, 0) << ext.out;
  ASSERT_TRUE(ext.json.IsObject()) << ext.out;
  EXPECT_EQ(std::string(ext.json["type"].GetString()), "sashimono.extend.ok");
  EXPECT_EQ(ext.json["expiry"].GetUint64(), acq.json["expiry"].GetUint64() + 3600);
  {
    auto req = openOnlyMemo(net.validatedTx(ext.json["request"].GetString()), host);
    ASSERT_TRUE(req.has_value());
    const auto* e = std::get_if<protocol::ExtendRequest>(&*req);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->replyKey, std::optional<protocol::Ed25519Key>(replyKey));
    EXPECT_TRUE(openOnlyMemo(net.validatedTx(ext.json["reply_hash"].GetString()), reply).has_value());
  }
  CliRun term = runCli({"lease", "terminate", "--board", board, "--host", host.address(), "--lease", leaseId,
                        "--timeout", "60", "--json"},
                       env);
  ASSERT_EQ(term.code, 0) << term.out;
  ASSERT_TRUE(term.json.IsObject()) << term.out;
  EXPECT_EQ(std::string(term.json["type"].GetString()), "sashimono.terminate.ok");
  EXPECT_GE(term.json["refund"].GetUint64(), 1u + 2 * 1000);
  {
    auto req = openOnlyMemo(net.validatedTx(term.json["request"].GetString()), host);
    ASSERT_TRUE(req.has_value());
    const auto* t = std::get_if<protocol::TerminateRequest>(&*req);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->replyKey, std::optional<protocol::Ed25519Key>(replyKey));
    EXPECT_TRUE(openOnlyMemo(net.validatedTx(term.json["reply_hash"].GetString()), reply).has_value());
  }

  // All three requests with their replies; the text form too.
  list = runCli({"lease", "list", "--board", board, "--json"}, env);
  ASSERT_EQ(list.code, 0) << list.out;
  ASSERT_TRUE(list.json.IsObject()) << list.out;
  ASSERT_EQ(list.json["requests"].Size(), 3u) << list.out;
  for (const auto& r : list.json["requests"].GetArray()) EXPECT_EQ(r["replies"].Size(), 1u) << list.out;
  CliRun listText = runCli({"lease", "list", "--board", board}, env);
  EXPECT_EQ(listText.code, 0);
  EXPECT_NE(listText.out.find(leaseId), std::string::npos) << listText.out;
  EXPECT_NE(listText.out.find(replyKeyText), std::string::npos) << listText.out;

  // --reply-seed-file overrides the reply key; list still opens the replies sealed to the
  // derived one. A secp256k1 seed is refused as a reply seed.
  board::fakes::TempDir dir;
  const std::string overrideSeed = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  const auto overrideKey = *crypto::KeyPair::fromSeed(overrideSeed);
  std::ofstream(dir.path() + "/reply.seed") << overrideSeed << "\n";
  std::filesystem::permissions(dir.path() + "/reply.seed",
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CliRun key2 = runCli({"lease", "key", "--reply-seed-file", dir.path() + "/reply.seed", "--json"}, env);
  ASSERT_EQ(key2.code, 0) << key2.out;
  ASSERT_TRUE(key2.json.IsObject()) << key2.out;
  EXPECT_EQ(std::string(key2.json["reply_key"].GetString()), core::toHex(overrideKey.publicKey()));
  EXPECT_EQ(std::string(key2.json["reply_source"].GetString()), "file");
  CliRun list2 = runCli(
      {"lease", "list", "--board", board, "--reply-seed-file", dir.path() + "/reply.seed", "--json"}, env);
  ASSERT_EQ(list2.code, 0) << list2.out;
  ASSERT_TRUE(list2.json.IsObject()) << list2.out;
  ASSERT_EQ(list2.json["requests"].Size(), 3u) << list2.out;
  for (const auto& r : list2.json["requests"].GetArray()) EXPECT_EQ(r["replies"].Size(), 1u) << list2.out;
  std::ofstream(dir.path() + "/secp.seed") << devSeed << "\n";
  std::filesystem::permissions(dir.path() + "/secp.seed",
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  CliRun badKey = runCli({"lease", "key", "--reply-seed-file", dir.path() + "/secp.seed"}, env);
  EXPECT_NE(badKey.code, 0);
}

}  // namespace
}  // namespace sashimono::cli

namespace sashimono::cli {
namespace {

// An announcement's `time` is the host's own claim: one dated far in the future would keep a
// dead host "fresh" forever, so `hosts` hides it (PROTOCOL.md §12) unless asked for --all.
TEST(LeaseCliTest, HostsHidesAnnouncementsDatedInTheFuture) {
  HostUnderTest net;
  CliRun before = net.waitAnnounced();
  ASSERT_EQ(before.code, 0) << before.out;
  ASSERT_EQ(before.json["hosts"].Size(), 1u) << before.out;

  const auto liar = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  net.fund(liar.address());
  protocol::HostAnnouncement a;
  a.version = "0.1.0";
  std::copy(liar.publicKey().begin() + 1, liar.publicKey().end(), a.key.begin());
  a.host = "liar.example.com";
  a.instances = a.free = 9;
  a.cpuMillis = 1000;
  a.memoryMiB = a.diskMiB = 512;
  a.price = a.momentSeconds = a.maxMoments = 1;
  a.images = {"hotpocket"};
  a.heartbeatSeconds = 600;
  a.time = static_cast<std::uint64_t>(std::time(nullptr)) + 86400;  // "sent" tomorrow
  const auto info = net.client().accountInfo(liar.address(), false);
  ASSERT_TRUE(info.ok());
  const auto ledger = net.client().ledgerCurrent();
  ASSERT_TRUE(ledger.ok());
  auto blob = node::signEntry(node::outboxEntryFor(net.registry().accountId(), a), liar, info->sequence,
                              *ledger + 20, 12);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  net.submitAndWait(*blob);

  const std::string board = net.board();
  CliRun fresh = runCli({"hosts", "--board", board, "--registry", net.registry().address(), "--json"}, {});
  ASSERT_EQ(fresh.code, 0) << fresh.out;
  ASSERT_EQ(fresh.json["hosts"].Size(), 1u) << fresh.out;
  EXPECT_EQ(std::string(fresh.json["hosts"][0]["account"].GetString()), net.host().address());
  CliRun all =
      runCli({"hosts", "--board", board, "--registry", net.registry().address(), "--all", "--json"}, {});
  ASSERT_EQ(all.code, 0) << all.out;
  EXPECT_EQ(all.json["hosts"].Size(), 2u) << all.out;
}

}  // namespace
}  // namespace sashimono::cli
