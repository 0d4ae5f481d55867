// BoardClient against in-process fake boards (no sockets): catch-up, live stream, audit, dedupe,
// failover and reconnects.
#include "sashimono/board/BoardClient.h"

#include <gtest/gtest.h>

#include "fakes/board/FakeBoard.h"
#include "fakes/board/Recorder.h"
#include "fakes/board/TestTx.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace sashimono::board::fakes;
using namespace std::chrono_literals;

namespace {

struct Txs {
  crypto::KeyPair sender = newKey();
  std::string host = newKey().address();
  std::uint32_t seq = 1;
  FakeTx make(std::uint32_t index = 0) {
    auto t = fakeTx(signedPayment(sender, host, 1000 + seq, seq), metaBlob(index));
    ++seq;
    return t;
  }
};

BoardOptions optionsFor(const std::string& account, TransportFactory f,
                        std::vector<std::string> urls = {"ws://fake-a/"}) {
  BoardOptions o;
  o.urls = std::move(urls);
  o.account = account;
  o.transport = std::move(f);
  o.requestTimeout = 2000ms;
  o.quietTimeout = 5000ms;
  o.backoffMin = 20ms;
  o.backoffMax = 100ms;
  return o;
}

// Dispatches by URL to several fake boards.
TransportFactory byUrl(std::map<std::string, std::shared_ptr<FakeBoard>> boards) {
  return [boards](const std::string& url, const net::ClientOptions& o,
                  MessageFn fn) -> core::Result<std::unique_ptr<Transport>> {
    auto it = boards.find(url);
    if (it == boards.end()) return core::Error("no such fake board " + url);
    return it->second->factory()(url, o, std::move(fn));
  };
}

std::vector<std::string> hashes(const std::vector<BoardTx>& txs) {
  std::vector<std::string> out;
  for (const auto& t : txs) out.push_back(core::toHex(t.hash));
  return out;
}

}  // namespace

TEST(BoardClientTest, CatchesUpPagedInLedgerOrderThenStreams) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  std::vector<FakeTx> history;
  for (int l = 0; l < 3; ++l) {
    std::vector<FakeTx> txs{g.make(0), g.make(1)};
    history.insert(history.end(), txs.begin(), txs.end());
    board->closeLedger(txs);  // ledgers 11..13, before the client runs
  }
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(rec.waitCount(6));
  EXPECT_TRUE(client.waitConnected(2000ms));
  EXPECT_GE(board->accountTxCalls.load(), 3);  // page size 2
  auto got = rec.txs();
  for (std::size_t i = 0; i < history.size(); ++i) EXPECT_EQ(core::toHex(got[i].hash), history[i].hashHex);
  EXPECT_EQ(got[0].ledgerIndex, 11u);
  EXPECT_EQ(got[5].ledgerIndex, 13u);
  EXPECT_EQ(got[1].txIndex, 1u);
  EXPECT_EQ(got[0].result, "tesSUCCESS");
  EXPECT_TRUE(rec.waitFinished(12));

  auto live = g.make();
  board->closeLedger({live});  // 14
  ASSERT_TRUE(rec.waitCount(7));
  EXPECT_EQ(core::toHex(rec.txs()[6].hash), live.hashHex);
  board->closeLedger({});  // 15: 14 finished
  EXPECT_TRUE(rec.waitFinished(14));
  EXPECT_TRUE(rec.noDuplicates());
  EXPECT_TRUE(rec.allAfterCursor());
  EXPECT_EQ(rec.regressions(), 0);
  client.stop();
  EXPECT_EQ(client.status().delivered, 7u);
}

TEST(BoardClientTest, NoCursorStartsAtTheCurrentLedger) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  board->closeLedger({g.make()});  // 11: history, not wanted
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(std::nullopt).ok());
  ASSERT_TRUE(client.waitConnected(3000ms));
  EXPECT_EQ(rec.finished(), 11u);
  auto t = g.make();
  board->closeLedger({t});
  ASSERT_TRUE(rec.waitCount(1));
  EXPECT_EQ(core::toHex(rec.txs()[0].hash), t.hashHex);
}

TEST(BoardClientTest, RippledOrderLedgerClosedBeforeItsTransactions) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(client.waitConnected(3000ms));
  auto a = g.make(0);
  auto b = g.make(1);
  board->closeLedger({a, b}, /*ledgerFirst=*/true);  // 11
  board->closeLedger({}, true);                      // 12: 11 finished
  ASSERT_TRUE(rec.waitFinished(11));
  EXPECT_EQ(hashes(rec.txs()), (std::vector<std::string>{a.hashHex, b.hashHex}));
}

TEST(BoardClientTest, AuditDeliversWhatTheStreamLost) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(client.waitConnected(3000ms));
  board->streamTransactions = false;
  auto lost = g.make();
  board->closeLedger({lost});  // 11, its transaction never streamed
  board->closeLedger({});      // 12: the audit of 11 finds it
  ASSERT_TRUE(rec.waitFinished(11));
  ASSERT_EQ(rec.txs().size(), 1u);
  EXPECT_EQ(core::toHex(rec.txs()[0].hash), lost.hashHex);
  EXPECT_TRUE(rec.allAfterCursor());
}

TEST(BoardClientTest, DuplicateAndForgedStreamMessagesAreRefused) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(client.waitConnected(3000ms));
  auto t = g.make();
  board->closeLedger({t});                             // 11
  board->streamRaw(FakeBoard::transactionMsg(t, 11));  // replayed
  board->streamRaw(FakeBoard::transactionMsg(t, 12));  // replayed, claimed in another ledger
  // A transaction the board has no blob for, and garbage.
  board->streamRaw(R"({"type":"transaction","validated":true,"ledger_index":12,"transaction":{"hash":")" +
                   std::string(64, 'A') + R"("}})");
  board->streamRaw("not json");
  board->streamRaw(R"({"type":"transaction","ledger_index":"x"})");
  board->streamRaw(R"({"id":999999,"status":"success","result":{}})");
  board->closeLedger({});  // 12
  board->closeLedger({});  // 13
  ASSERT_TRUE(rec.waitFinished(12));
  ASSERT_EQ(rec.txs().size(), 1u);
  EXPECT_TRUE(client.status().duplicates >= 1);
  EXPECT_TRUE(client.status().connected);
}

TEST(BoardClientTest, CorruptBlobFromTxIsIgnoredAndTheAuditDeliversTheRealOne) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(client.waitConnected(3000ms));
  board->corruptTxBlobs = true;
  auto t = g.make();
  board->closeLedger({t});
  board->closeLedger({});
  ASSERT_TRUE(rec.waitFinished(11));
  ASSERT_EQ(rec.txs().size(), 1u);
  EXPECT_EQ(core::toHex(rec.txs()[0].hash), t.hashHex);
  EXPECT_EQ(core::toHex(ledger::transactionHash(rec.txs()[0].blob)), t.hashHex);
}

TEST(BoardClientTest, ReconnectsAndCatchesUpWhatWasMissed) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(client.waitConnected(3000ms));
  board->closeLedger({g.make()});  // 11
  ASSERT_TRUE(rec.waitCount(1));
  board->refuseConnections = true;
  board->dropAll();
  auto m1 = g.make();
  auto m2 = g.make();
  board->closeLedger({m1});  // 12, while disconnected
  board->closeLedger({m2});  // 13
  std::this_thread::sleep_for(100ms);
  board->refuseConnections = false;
  ASSERT_TRUE(rec.waitCount(3));
  EXPECT_EQ(core::toHex(rec.txs()[1].hash), m1.hashHex);
  EXPECT_EQ(core::toHex(rec.txs()[2].hash), m2.hashHex);
  EXPECT_GE(client.status().reconnects, 1u);
  EXPECT_TRUE(rec.noDuplicates());
}

TEST(BoardClientTest, QuietServerFailsOverToTheNextWithoutLossOrDuplicates) {
  Txs g;
  auto quiet = std::make_shared<FakeBoard>(10);
  auto good = std::make_shared<FakeBoard>(10);
  auto t1 = g.make();
  quiet->closeLedger({t1});  // both know ledger 11
  good->closeLedger({t1});
  auto opts = optionsFor(g.host, byUrl({{"ws://quiet/", quiet}, {"ws://good/", good}}),
                         {"ws://quiet/", "ws://good/"});
  opts.quietTimeout = 400ms;
  Recorder rec;
  BoardClient client(opts, rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(rec.waitCount(1));
  EXPECT_EQ(client.status().url, "ws://quiet/");
  // The quiet one never closes another ledger; the good one moves on.
  auto t2 = g.make();
  auto t3 = g.make();
  good->closeLedger({t2});
  good->closeLedger({t3});
  ASSERT_TRUE(rec.waitCount(3, 5000ms));
  EXPECT_EQ(client.status().url, "ws://good/");
  EXPECT_EQ(hashes(rec.txs()), (std::vector<std::string>{t1.hashHex, t2.hashHex, t3.hashHex}));
  good->closeLedger({});
  EXPECT_TRUE(rec.waitFinished(13));
  EXPECT_TRUE(rec.noDuplicates());
}

TEST(BoardClientTest, CatchUpInterruptedHalfWayKeepsItsProgress) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  std::vector<std::string> all;
  for (int l = 0; l < 4; ++l) {
    auto t = g.make();
    all.push_back(t.hashHex);
    board->closeLedger({t});  // 11..14
  }
  board->pageSize = 1;
  board->dropOnAccountTxCall = 3;  // after the pages of ledgers 11 and 12
  Recorder rec;
  BoardClient client(optionsFor(g.host, board->factory()), rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(rec.waitCount(4));
  ASSERT_TRUE(client.waitConnected(3000ms));
  EXPECT_EQ(hashes(rec.txs()), all);
  auto mins = board->accountTxMins();
  ASSERT_GE(mins.size(), 4u);
  EXPECT_EQ(mins[0], 11u);
  EXPECT_EQ(mins[3], 12u);  // the second session resumed after ledger 11, which page 2 finished
  EXPECT_TRUE(rec.noDuplicates());
  EXPECT_EQ(rec.regressions(), 0);
}

TEST(BoardClientTest, AStreamFloodEndsTheSession) {
  Txs g;
  auto board = std::make_shared<FakeBoard>(10);
  board->floodBeforeSubscribe = 100;
  auto o = optionsFor(g.host, board->factory());
  o.maxQueuedEvents = 20;
  Recorder rec;
  BoardClient client(o, rec.events());
  ASSERT_TRUE(client.start(10).ok());
  ASSERT_TRUE(client.waitConnected(3000ms));  // only the second session (no flood) gets here
  EXPECT_EQ(board->connections.load(), 2);
  EXPECT_EQ(client.status().reconnects, 1u);
  EXPECT_NE(client.status().lastError.find("flood"), std::string::npos) << client.status().lastError;
  auto t = g.make();
  board->closeLedger({t});
  ASSERT_TRUE(rec.waitCount(1));
}

TEST(BoardClientTest, RequestHelpersNeedAConnection) {
  BoardOptions o;
  o.urls = {"ws://nowhere/"};
  BoardClient client(o);
  auto r = client.serverInfo();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "notConnected");
  BoardOptions none;
  BoardClient c2(none);
  EXPECT_FALSE(c2.start(0).ok());
  BoardOptions bad;
  bad.urls = {"http://x/"};
  BoardClient c3(bad);
  EXPECT_FALSE(c3.start(0).ok());
}
