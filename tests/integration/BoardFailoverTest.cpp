// The board client against scripted test boards on real sockets, with the real devnet as the
// healthy server: a board that goes quiet is abandoned for the next URL without loss or
// duplicates; forged, duplicate and garbage messages do not crash it or reach the consumer.
#include <set>

#include <gtest/gtest.h>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/board/Recorder.h"
#include "fakes/board/ScriptedBoard.h"
#include "sashimono/board/BoardClient.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace sashimono::board::fakes;
using namespace std::chrono_literals;

namespace {
std::set<std::string> hashSet(const std::vector<BoardTx>& txs) {
  std::set<std::string> s;
  for (const auto& t : txs) s.insert(core::toHex(t.hash));
  return s;
}
std::string errorReply(std::uint64_t id, const char* token) {
  return R"({"id":)" + std::to_string(id) + R"(,"status":"error","type":"response","error":")" + token +
         "\"}";
}
}  // namespace

TEST(BoardFailoverTest, QuietBoardFailsOverToTheDevnetWithoutLossOrDuplicates) {
  const std::string seed = newGenesisSeed();
  DevnetProcess devnet(SASHIMONO_BINARY, seed, 250);
  DevnetWallet wallet(devnet.url(), seed);
  const std::string host = newKey().address();

  // A first payment, validated before the node starts; the node's cursor is just before it.
  const std::string p1 = wallet.pay(host, 10'000'000);
  const std::uint32_t l1 = wallet.waitValidated(p1);
  TxQuery q;
  std::copy_n(core::fromHex(p1)->begin(), 32, q.hash.begin());
  auto p1tx = wallet.client().tx(q);
  ASSERT_TRUE(p1tx.ok());
  const std::string p1Blob = core::toHex(p1tx->tx.blob);
  const std::string p1Meta = core::toHex(p1tx->tx.meta);

  // The quiet board knows P1 (it serves it in catch-up), streams a replay of it and a forged
  // transaction it cannot back with a blob, then never closes a ledger.
  ScriptedBoard quiet([&](net::WsSession& s, std::uint64_t id, const std::string& cmd,
                          const rapidjson::Document&) {
    if (cmd == "subscribe") {
      s.send(ScriptedBoard::success(id, R"({"ledger_index":)" + std::to_string(l1) + "}"));
      s.send(R"({"type":"transaction","validated":true,"ledger_index":)" + std::to_string(l1) +
             R"(,"engine_result":"tesSUCCESS","transaction":{"hash":")" + p1 + R"("}})");
      s.send(R"({"type":"transaction","validated":true,"ledger_index":)" + std::to_string(l1 + 1) +
             R"(,"engine_result":"tesSUCCESS","transaction":{"hash":")" + std::string(64, 'F') + R"("}})");
    } else if (cmd == "account_tx") {
      s.send(ScriptedBoard::success(id, R"({"transactions":[{"ledger_index":)" + std::to_string(l1) +
                                            R"(,"meta":")" + p1Meta + R"(","tx_blob":")" + p1Blob +
                                            R"(","validated":true}]})"));
    } else if (cmd == "tx") {
      s.send(errorReply(id, "txnNotFound"));
    } else {
      s.send(ScriptedBoard::success(id, "{}"));
    }
  });

  BoardOptions o;
  o.urls = {quiet.url(), devnet.url()};
  o.account = host;
  o.requestTimeout = 3000ms;
  o.quietTimeout = 1500ms;
  o.backoffMin = 50ms;
  Recorder rec;
  BoardClient client(o, rec.events());
  ASSERT_TRUE(client.start(l1 - 1).ok());
  ASSERT_TRUE(rec.waitCount(1, 10s));
  EXPECT_EQ(client.status().url, quiet.url());
  EXPECT_EQ(core::toHex(rec.txs()[0].hash), p1);

  std::set<std::string> sent{p1};
  for (int i = 0; i < 3; ++i) sent.insert(wallet.pay(host, 1000 + i));
  ASSERT_TRUE(rec.waitCount(4, 20s));
  EXPECT_EQ(client.status().url, devnet.url());
  for (int i = 0; i < 2; ++i) sent.insert(wallet.pay(host, 3000 + i));
  ASSERT_TRUE(rec.waitCount(6, 20s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(hashSet(rec.txs()), sent);
  EXPECT_EQ(rec.txs().size(), sent.size());
  EXPECT_TRUE(rec.noDuplicates());
  EXPECT_GE(client.status().reconnects, 1u);
  EXPECT_EQ(rec.regressions(), 0);
}

TEST(BoardFailoverTest, GarbageBoardsDoNotCrashItAndItMovesOn) {
  const std::string seed = newGenesisSeed();
  DevnetProcess devnet(SASHIMONO_BINARY, seed, 250);
  DevnetWallet wallet(devnet.url(), seed);
  const std::string host = newKey().address();

  // Each connection gets a different kind of nonsense.
  std::atomic<int> conn{0};
  ScriptedBoard garbage([&](net::WsSession& s, std::uint64_t id, const std::string& cmd,
                            const rapidjson::Document&) {
    const int mode = conn % 5;
    if (cmd == "subscribe") {
      ++conn;
      switch (mode) {
        case 0:  // not JSON, a wrong id, then an ill-typed result
          s.send("}{ not json");
          s.send(ScriptedBoard::success(id + 1000, R"({"ledger_index":5})"));
          s.send(ScriptedBoard::success(id, R"({"ledger_index":"abc"})"));
          break;
        case 1:  // never answers
          break;
        case 2:  // subscribes, then serves an account_tx page with a bad blob
        case 3:  // subscribes, then a marker that never advances
        case 4:  // subscribes, then drops the connection
          s.send(ScriptedBoard::success(id, R"({"ledger_index":100})"));
          if (mode == 4) s.close();
          break;
      }
      return;
    }
    if (cmd == "account_tx") {
      if (mode == 3) {
        s.send(ScriptedBoard::success(id, R"({"transactions":[],"marker":{"k":1}})"));
      } else {
        s.send(ScriptedBoard::success(
            id, R"({"transactions":[{"ledger_index":50,"meta":"00","tx_blob":"XYZ","validated":true}]})"));
      }
      return;
    }
    s.send("[1,2,3]");
  });

  {
    BoardOptions o;
    o.urls = {garbage.url()};
    o.account = host;
    o.requestTimeout = 300ms;
    o.quietTimeout = 1000ms;
    o.backoffMin = 10ms;
    o.backoffMax = 20ms;
    Recorder rec;
    BoardClient client(o, rec.events());
    ASSERT_TRUE(client.start(10).ok());
    auto end = std::chrono::steady_clock::now() + 15s;
    while (conn < 6 && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(20ms);
    EXPECT_GE(conn.load(), 6);
    EXPECT_TRUE(rec.txs().empty());
    EXPECT_EQ(rec.finished(), 0u);  // the cursor never moved on garbage
    EXPECT_FALSE(client.status().lastError.empty());
    client.stop();
  }

  // With the devnet as second URL, payments arrive once.
  BoardOptions o;
  o.urls = {garbage.url(), devnet.url()};
  o.account = host;
  o.requestTimeout = 500ms;
  o.quietTimeout = 1500ms;
  o.backoffMin = 10ms;
  auto closed = wallet.client().ledgerClosed();
  ASSERT_TRUE(closed.ok());
  ASSERT_LT(closed->ledgerIndex, 90u);  // below the garbage board's claimed ledger 100
  Recorder rec;
  BoardClient client(o, rec.events());
  ASSERT_TRUE(client.start(closed->ledgerIndex).ok());
  ASSERT_TRUE(client.waitConnected(15s));
  std::set<std::string> sent;
  sent.insert(wallet.pay(host, 10'000'000));
  sent.insert(wallet.pay(host, 777));
  ASSERT_TRUE(rec.waitCount(2, 15s));
  EXPECT_EQ(hashSet(rec.txs()), sent);
  EXPECT_EQ(client.status().url, devnet.url());
}

TEST(BoardFailoverTest, TlsFailuresAreFailedOver) {
  const std::string seed = newGenesisSeed();
  DevnetProcess devnet(SASHIMONO_BINARY, seed, 250);
  DevnetWallet wallet(devnet.url(), seed);
  const std::string host = newKey().address();
  const std::string port = std::to_string(devnet.port());

  // wss:// to a plain server (TLS handshake fails), then a missing CA file, then the devnet.
  BoardOptions o;
  o.urls = {"wss://127.0.0.1:" + port + "/", devnet.url()};
  o.account = host;
  o.connectTimeout = 2000ms;
  o.backoffMin = 10ms;
  Recorder rec;
  {
    BoardOptions bad = o;
    bad.caFile = "/nonexistent/ca.pem";
    bad.urls = {"wss://127.0.0.1:" + port + "/"};
    BoardClient c(bad);
    ASSERT_TRUE(c.start(std::nullopt).ok());
    auto end = std::chrono::steady_clock::now() + 10s;
    while (c.status().reconnects < 1 && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(20ms);
    EXPECT_NE(c.status().lastError.find("CA file"), std::string::npos) << c.status().lastError;
  }
  BoardClient client(o, rec.events());
  ASSERT_TRUE(client.start(std::nullopt).ok());
  ASSERT_TRUE(client.waitConnected(15s));
  EXPECT_EQ(client.status().url, devnet.url());
  EXPECT_GE(client.status().reconnects, 1u);
  const std::string h = wallet.pay(host, 10'000'000);
  ASSERT_TRUE(rec.waitCount(1, 15s));
  EXPECT_EQ(core::toHex(rec.txs()[0].hash), h);
}
