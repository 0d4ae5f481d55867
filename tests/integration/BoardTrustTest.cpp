// The board client trusting keys, not servers: the real devnet (its validator signs every ledger)
// behind hostile proxies that withhold, alter, invent and skip. With an honest board beside the
// hostile one every payment is delivered exactly once and nothing forged is; with only the hostile
// one nothing unproven is delivered and the board is reported.
#include <fstream>
#include <functional>
#include <memory>
#include <set>

#include <gtest/gtest.h>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/board/HostileProxy.h"
#include "fakes/board/Recorder.h"
#include "sashimono/board/BoardClient.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/ledger/Validation.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace sashimono::board::fakes;
using namespace std::chrono_literals;

namespace {

// The devnet's validator master key, from server_info (the test trusts its own devnet).
crypto::PublicKey validatorKey(DevnetWallet& wallet) {
  auto r = wallet.client().request(R"({"command":"server_info"})");
  if (!r.ok()) throw std::runtime_error("server_info: " + r.error().message);
  const auto& info = (*r)["result"]["info"];
  auto k = crypto::decodeNodePublic(info["pubkey_validator"].GetString());
  if (!k.ok()) throw std::runtime_error("pubkey_validator: " + k.error().message);
  return *k;
}

BoardOptions trustOptions(std::vector<std::string> urls, const std::string& account, crypto::PublicKey key) {
  BoardOptions o;
  o.urls = std::move(urls);
  o.account = account;
  o.requestTimeout = 3000ms;
  o.quietTimeout = 3000ms;
  o.backoffMin = 50ms;
  o.backoffMax = 200ms;
  o.trust.validators = {key};
  o.trust.quorum = 1;
  return o;
}

std::string hex(const crypto::Hash256& h) { return core::toHex(h); }

// The `transactions` array of a `ledger` answer (null if absent).
rapidjson::Value* ledgerTxs(rapidjson::Document& d) {
  if (!d.HasMember("result") || !d["result"].HasMember("ledger")) return nullptr;
  auto& l = d["result"]["ledger"];
  if (!l.HasMember("transactions") || !l["transactions"].IsArray()) return nullptr;
  return &l["transactions"];
}

const char* metaKey(const rapidjson::Value& t) { return t.HasMember("meta_blob") ? "meta_blob" : "meta"; }

// A hook that changes the last hex digit of one field of the first transaction of every `ledger`
// answer; `field` names that field of the transaction.
HostileProxy::Hook flipLastDigitOfFirstTx(std::function<const char*(const rapidjson::Value& tx)> field) {
  return [field = std::move(field)](const std::string& cmd, rapidjson::Document& d) {
    if (cmd != "ledger") return true;
    auto* txs = ledgerTxs(d);
    if (txs == nullptr || txs->Empty()) return true;
    auto& t = (*txs)[0];
    const char* name = field(t);
    std::string digits = t[name].GetString();
    digits.back() = digits.back() == '0' ? '1' : '0';
    t[name].SetString(digits.c_str(), static_cast<rapidjson::SizeType>(digits.size()), d.GetAllocator());
    return true;
  };
}

struct Fixture {
  std::string seed = newGenesisSeed();
  DevnetProcess devnet{SASHIMONO_BINARY, seed, 250};
  DevnetWallet wallet{devnet.url(), seed};
  std::string host = newKey().address();
  crypto::PublicKey key = validatorKey(wallet);
};

// A board client over `urls` trusting the devnet's validator key, its events going to `rec`:
// started, and past its first ledger within `limit`.
std::unique_ptr<BoardClient> startTrusting(const Fixture& f, std::vector<std::string> urls, Recorder& rec,
                                           std::chrono::milliseconds limit = 10s) {
  auto client = std::make_unique<BoardClient>(trustOptions(std::move(urls), f.host, f.key), rec.events());
  if (auto st = client->start(std::nullopt); !st.ok())
    throw std::runtime_error("start: " + st.error().message);
  if (!rec.waitFinished(1, limit)) throw std::runtime_error("no ledger finished in time");
  return client;
}

}  // namespace

TEST(BoardTrustTest, HonestDevnetDeliversEveryPaymentOnceFromVerifiedLedgers) {
  Fixture f;
  Recorder rec;
  BoardClient client(trustOptions({f.devnet.url()}, f.host, f.key), rec.events());
  ASSERT_TRUE(client.start(std::nullopt).ok());
  ASSERT_TRUE(client.waitConnected(10s));
  ASSERT_TRUE(rec.waitFinished(1, 10s));
  std::set<std::string> paid;
  for (int i = 0; i < 3; ++i) paid.insert(f.wallet.pay(f.host, 1'000'000 + i));
  ASSERT_TRUE(rec.waitCount(3, 15s));
  std::set<std::string> got;
  for (const auto& t : rec.txs()) {
    got.insert(hex(t.hash));
    EXPECT_EQ(t.result, "tesSUCCESS");
    EXPECT_TRUE(t.txIndex.has_value());
  }
  EXPECT_EQ(got, paid);
  EXPECT_TRUE(rec.noDuplicates());
  EXPECT_TRUE(rec.allAfterCursor());
  EXPECT_EQ(rec.regressions(), 0);
  auto st = client.status();
  EXPECT_TRUE(st.verifying);
  EXPECT_GT(st.ledgersVerified, 0u);
  EXPECT_GT(st.validationsCounted, 0u);
  EXPECT_TRUE(st.faults.empty());
  EXPECT_LT(st.verifyMicros, 5000u);
}

TEST(BoardTrustTest, AlteredMetadataIsRefusedAndTheHonestBoardServesIt) {
  Fixture f;
  HostileProxy liar(f.devnet.url(), flipLastDigitOfFirstTx(metaKey));  // one nibble of the metadata
  Recorder rec;
  auto client = startTrusting(f, {liar.url(), f.devnet.url()}, rec);
  const std::string p = f.wallet.pay(f.host, 2'000'000);
  ASSERT_TRUE(rec.waitCount(1, 20s));
  const auto txs = rec.txs();
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(hex(txs[0].hash), p);
  EXPECT_EQ(txs[0].result, "tesSUCCESS");
  auto st = client->status();
  ASSERT_FALSE(st.faults.empty());
  EXPECT_EQ(st.faults.front().url, liar.url());
  EXPECT_NE(st.faults.front().evidence.find("txTreeMismatch"), std::string::npos)
      << st.faults.front().evidence;
  EXPECT_EQ(st.avoided, std::vector<std::string>{liar.url()});
  EXPECT_EQ(st.url, f.devnet.url());
}

TEST(BoardTrustTest, AWithheldRequestIsNoticedAndServedByTheHonestBoard) {
  Fixture f;
  // The liar hides the payment to the host (the only transaction of its ledger) from the ledger
  // it serves; everything else it passes on.
  HostileProxy liar(f.devnet.url(), [](const std::string& cmd, rapidjson::Document& d) {
    if (cmd != "ledger") return true;
    auto* txs = ledgerTxs(d);
    if (txs != nullptr && !txs->Empty()) txs->Erase(txs->Begin());
    return true;
  });
  Recorder rec;
  auto client = startTrusting(f, {liar.url(), f.devnet.url()}, rec);
  const std::string p = f.wallet.pay(f.host, 3'000'000);
  ASSERT_TRUE(rec.waitCount(1, 20s));
  ASSERT_EQ(rec.txs().size(), 1u);
  EXPECT_EQ(hex(rec.txs()[0].hash), p);
  auto st = client->status();
  ASSERT_FALSE(st.faults.empty());
  EXPECT_EQ(st.faults.front().url, liar.url());
}

TEST(BoardTrustTest, OnlyALiarConfiguredMeansNothingIsDeliveredAndItIsReported) {
  Fixture f;
  HostileProxy liar(f.devnet.url(),
                    flipLastDigitOfFirstTx([](const rapidjson::Value&) { return "tx_blob"; }));
  Recorder rec;
  auto client = startTrusting(f, {liar.url()}, rec);
  const std::string p = f.wallet.pay(f.host, 4'000'000);
  const std::uint32_t l = f.wallet.waitValidated(p);
  std::this_thread::sleep_for(2s);
  EXPECT_TRUE(rec.txs().empty());
  EXPECT_LT(rec.finished(), l);
  auto st = client->status();
  ASSERT_FALSE(st.faults.empty());
  EXPECT_EQ(st.faults.back().url, liar.url());
}

TEST(BoardTrustTest, UnsignedLedgersAndUnknownValidatorsMoveNothing) {
  Fixture f;
  HostileProxy liar(f.devnet.url());
  Recorder rec;
  auto client = startTrusting(f, {liar.url()}, rec);
  const std::uint32_t now = rec.finished();
  // A far-ahead ledger the validators never signed, and validations of it by an unknown key.
  crypto::Hash256 fake{};
  crypto::randomBytes(std::span<std::uint8_t>(fake));
  liar.inject(R"({"type":"ledgerClosed","ledger_index":)" + std::to_string(now + 1000) +
              R"(,"ledger_hash":")" + hex(fake) + R"(","txn_count":0,"validated_ledgers":"1-)" +
              std::to_string(now + 1000) + "\"}");
  auto stranger = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
  ASSERT_TRUE(stranger.ok());
  ledger::ValidationFields vf;
  vf.ledgerSequence = now + 1000;
  vf.ledgerHash = fake;
  vf.signingTime = 1;
  const auto forged = ledger::signValidation(vf, *stranger);
  liar.inject(R"({"type":"validationReceived","data":")" + core::toHex(forged) + R"(","ledger_index":")" +
              std::to_string(now + 1000) + R"(","ledger_hash":")" + hex(fake) + R"(","full":true})");
  const std::string p = f.wallet.pay(f.host, 5'000'000);
  ASSERT_TRUE(rec.waitCount(1, 15s));
  EXPECT_EQ(hex(rec.txs()[0].hash), p);
  std::this_thread::sleep_for(1s);
  EXPECT_LT(rec.finished(), now + 100);
  auto st = client->status();
  EXPECT_LT(st.quorumLedger, now + 100);
  EXPECT_GT(st.validationsRefused, 0u);
  EXPECT_TRUE(st.faults.empty());
}

TEST(BoardTrustTest, ABoardThatSkipsLedgersCannotMakeTheCursorSkipThem) {
  Fixture f;
  // The liar passes on the validations and ledger closes of every other ledger only.
  HostileProxy liar(f.devnet.url(), [](const std::string& cmd, rapidjson::Document& d) {
    if (!cmd.empty() || !d.HasMember("type") || !d.HasMember("ledger_index")) return true;
    const auto& i = d["ledger_index"];
    const std::uint64_t seq = i.IsString() ? std::stoull(i.GetString()) : i.GetUint64();
    return seq % 4 == 0;
  });
  Recorder rec;
  auto client = startTrusting(f, {liar.url()}, rec, 15s);
  std::set<std::string> paid;
  for (int i = 0; i < 4; ++i) {
    paid.insert(f.wallet.pay(f.host, 6'000'000 + i));
    std::this_thread::sleep_for(300ms);  // spread over several ledgers
  }
  ASSERT_TRUE(rec.waitCount(4, 20s));
  std::set<std::string> got;
  for (const auto& t : rec.txs()) got.insert(hex(t.hash));
  EXPECT_EQ(got, paid);
  EXPECT_TRUE(rec.noDuplicates());
  EXPECT_EQ(rec.regressions(), 0);
  EXPECT_GT(liar.dropped(), 0);
}
