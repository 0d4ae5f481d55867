// `sashimono devnet` as a process, with a real WebSocket client on 127.0.0.1: malformed input,
// an oversized frame, a slow reader, and kill -9 keeping every transaction reported validated.
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/wait.h>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/TestTx.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/net/WsClient.h"

using namespace sashimono;
using namespace std::chrono_literals;

namespace {

const char* kSeed = "sEdTM1uX8pu2do5XvTnutH6HsouMaM2";  // any valid ed25519 seed

using board::fakes::DevnetProcess;

rapidjson::Document parse(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.c_str());
  return d;
}

// Sends a request and returns the response with the same id (skipping stream messages).
rapidjson::Document request(net::WsClient& c, const std::string& text, int id) {
  EXPECT_TRUE(c.send(text).ok());
  for (int i = 0; i < 1000; ++i) {
    auto m = c.receive(10s);
    if (!m.ok()) {
      ADD_FAILURE() << "no response to " << text << ": " << m.error().message;
      return parse("{}");
    }
    auto d = parse(*m);
    if (d.IsObject() && d.HasMember("id") && d["id"].IsInt() && d["id"].GetInt() == id) return d;
  }
  return parse("{}");
}

// A signed payment, hex.
std::string payment(const crypto::KeyPair& from, const std::string& to, std::uint32_t seq,
                    std::uint64_t drops) {
  return core::toHex(board::fakes::signedPayment(from, to, drops, seq));
}

}  // namespace

TEST(DevnetProcessTest, BadInputGetsErrorsAndServerStaysUp) {
  DevnetProcess dn(SASHIMONO_BINARY, kSeed, 0);
  ASSERT_FALSE(dn.url().empty());
  auto c = net::WsClient::connect(dn.url());
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto& ws = **c;
  ASSERT_TRUE(ws.send("{\"id\":1,").ok());
  auto m = ws.receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(parse(*m)["error"], "jsonInvalid");
  auto r = request(ws, R"({"id":2,"command":"no_such"})", 2);
  EXPECT_EQ(r["error"], "unknownCmd");
  r = request(ws, R"({"id":3,"command":"account_tx","account":"rrrrrrrrrrrrrrrrrrrrrhoLvTp","limit":"ten"})",
              3);
  EXPECT_EQ(r["error"], "invalidParams");
  r = request(ws, R"({"id":4,"command":"submit","tx_blob":"12000022800000002400000001"})", 4);
  EXPECT_EQ(r["error"], "invalidTransaction");
  std::string junk(300, ' ');
  for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(33 + (i * 37) % 90);
  ASSERT_TRUE(ws.send(junk).ok());
  m = ws.receive(5s);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(parse(*m)["error"], "jsonInvalid");

  // An oversized frame (over the 1 MiB limit) closes that connection with 1009 …
  std::string huge = R"({"id":5,"command":"ping","pad":")" + std::string(1100 * 1024, 'x') + "\"}";
  ASSERT_TRUE(ws.send(huge).ok());
  auto closed = ws.receive(10s);
  EXPECT_FALSE(closed.ok());
  EXPECT_EQ(ws.closeCode(), 1009);
  // … and the server goes on serving.
  auto c2 = net::WsClient::connect(dn.url());
  ASSERT_TRUE(c2.ok());
  r = request(**c2, R"({"id":6,"command":"ping"})", 6);
  EXPECT_EQ(r["status"], "success");
}

TEST(DevnetProcessTest, SlowReaderIsDisconnected) {
  DevnetProcess dn(SASHIMONO_BINARY, kSeed, 0, {"--max-queued-bytes", "2097152"});
  ASSERT_FALSE(dn.url().empty());
  // A ledger with 300 payments: each `ledger … expand` answer is ~0.5 MB for a tiny request.
  auto genesis = *crypto::KeyPair::fromSeed(kSeed);
  auto setup = net::WsClient::connect(dn.url());
  ASSERT_TRUE(setup.ok());
  std::string dest =
      crypto::KeyPair::fromSeed(crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519)))
          ->address();
  for (std::uint32_t seq = 1; seq <= 300; ++seq) {
    ASSERT_TRUE((*setup)
                    ->send(R"({"id":)" + std::to_string(seq) + R"(,"command":"submit","tx_blob":")" +
                           payment(genesis, dest, seq, 2'000'000) + "\"}")
                    .ok());
  }
  for (int i = 0; i < 300; ++i) {
    auto m = (*setup)->receive(10s);
    ASSERT_TRUE(m.ok());
    ASSERT_EQ(parse(*m)["result"]["engine_result"], "tesSUCCESS");
  }
  auto acc = request(**setup, R"({"id":1,"command":"ledger_accept"})", 1);
  ASSERT_EQ(acc["status"], "success");

  net::ClientOptions slow;
  slow.autoRead = false;
  auto c = net::WsClient::connect(dn.url(), slow);
  ASSERT_TRUE(c.ok());
  // 150 answers of ~0.5 MB exceed the outgoing queue limit (2 MiB here) once the socket buffers
  // are full, because this client never reads.
  std::string req = R"({"id":1,"command":"ledger","ledger_index":2,"transactions":true,"expand":true})";
  for (int i = 0; i < 150; ++i) {
    if (!(*c)->send(req).ok()) break;
  }
  // Meanwhile a normal client is served.
  auto r = request(**setup, R"({"id":9,"command":"ping"})", 9);
  EXPECT_EQ(r["status"], "success");
  // The slow connection gets dropped: our side sees the connection closed when writing.
  bool dropped = false;
  for (int i = 0; i < 600 && !dropped; ++i) {
    std::this_thread::sleep_for(50ms);
    dropped = !(*c)->send(R"({"id":2,"command":"ping"})").ok();
  }
  EXPECT_TRUE(dropped);
  r = request(**setup, R"({"id":10,"command":"ping"})", 10);
  EXPECT_EQ(r["status"], "success");
}

TEST(DevnetProcessTest, KillDashNineKeepsEveryValidatedTransaction) {
  auto genesis = *crypto::KeyPair::fromSeed(kSeed);
  std::vector<std::string> validated;
  std::string dest;
  DevnetProcess dn(SASHIMONO_BINARY, kSeed, 50);
  {
    ASSERT_FALSE(dn.url().empty());
    auto c = net::WsClient::connect(dn.url());
    ASSERT_TRUE(c.ok());
    auto& ws = **c;
    auto sub = request(ws, R"({"id":1,"command":"subscribe","accounts":[")" + genesis.address() + "\"]}", 1);
    ASSERT_EQ(sub["status"], "success");
    dest = crypto::KeyPair::fromSeed(crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519)))
               ->address();
    for (std::uint32_t seq = 1; seq <= 300; ++seq) {
      ASSERT_TRUE(ws.send(R"({"id":100,"command":"submit","tx_blob":")" +
                          payment(genesis, dest, seq, 2'000'000) + "\"}")
                      .ok());
    }
    // Collect stream messages (validated transactions) for a while, then kill -9 mid-stream.
    auto until = std::chrono::steady_clock::now() + 400ms;
    while (std::chrono::steady_clock::now() < until) {
      auto m = ws.receive(100ms);
      if (!m.ok()) continue;
      auto d = parse(*m);
      if (d.HasMember("type") && d["type"] == "transaction" && d["validated"].GetBool())
        validated.emplace_back(d["transaction"]["hash"].GetString());
    }
    int status = dn.kill(SIGKILL);
    EXPECT_TRUE(WIFSIGNALED(status));
    while (true) {  // messages already delivered before the kill count too
      auto m = ws.receive(200ms);
      if (!m.ok()) break;
      auto d = parse(*m);
      if (d.HasMember("type") && d["type"] == "transaction")
        validated.emplace_back(d["transaction"]["hash"].GetString());
    }
  }
  ASSERT_FALSE(validated.empty());
  dn.start();  // the same data (and port)
  ASSERT_FALSE(dn.url().empty());
  auto c = net::WsClient::connect(dn.url());
  ASSERT_TRUE(c.ok());
  int id = 1000;
  for (const auto& h : validated) {
    auto r =
        request(**c, R"({"id":)" + std::to_string(id) + R"(,"command":"tx","transaction":")" + h + "\"}", id);
    ++id;
    ASSERT_EQ(r["status"], "success") << h;
    EXPECT_TRUE(r["result"]["validated"].GetBool());
  }
  // The chain continues: the next sequence of genesis follows the last validated one.
  auto info = request(**c, R"({"id":1,"command":"account_info","account":")" + genesis.address() + "\"}", 1);
  EXPECT_GE(info["result"]["account_data"]["Sequence"].GetUint(), validated.size() + 1);
}
