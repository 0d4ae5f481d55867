// The board client against the real devnet (`sashimono devnet` as a child process): payments to a
// host account arrive once each, validated, as raw blobs; a restart from the cursor receives
// exactly what was missed; a devnet crash mid-stream loses nothing.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "fakes/board/Recorder.h"
#include "sashimono/board/BoardClient.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace sashimono::board::fakes;
using namespace std::chrono_literals;

namespace {
BoardOptions hostOptions(const std::string& url, const std::string& account) {
  BoardOptions o;
  o.urls = {url};
  o.account = account;
  o.requestTimeout = 5000ms;
  o.quietTimeout = 5000ms;
  o.backoffMin = 50ms;
  o.backoffMax = 300ms;
  return o;
}

std::set<std::string> hashSet(const std::vector<BoardTx>& txs) {
  std::set<std::string> s;
  for (const auto& t : txs) s.insert(core::toHex(t.hash));
  return s;
}

bool inLedgerOrder(const std::vector<BoardTx>& txs) {
  for (std::size_t i = 1; i < txs.size(); ++i) {
    if (txs[i].ledgerIndex < txs[i - 1].ledgerIndex) return false;
    if (txs[i].ledgerIndex == txs[i - 1].ledgerIndex && txs[i].txIndex < txs[i - 1].txIndex) return false;
  }
  return true;
}
}  // namespace

TEST(BoardDevnetTest, ReceivesPaymentsOnceAndResumesFromTheCursor) {
  const std::string seed = newGenesisSeed();
  DevnetProcess devnet(SASHIMONO_BINARY, seed, 250);
  DevnetWallet wallet(devnet.url(), seed);
  const std::string host = newKey().address();

  Recorder rec;
  auto client = std::make_unique<BoardClient>(hostOptions(devnet.url(), host), rec.events());
  ASSERT_TRUE(client->start(std::nullopt).ok());
  ASSERT_TRUE(client->waitConnected(10s));

  std::set<std::string> first;
  first.insert(wallet.pay(host, 10'000'000));  // creates the account
  for (int i = 0; i < 2; ++i) first.insert(wallet.pay(host, 1000 + i));
  ASSERT_TRUE(rec.waitCount(3, 15s));
  auto got = rec.txs();
  EXPECT_EQ(hashSet(got), first);
  for (const auto& t : got) {
    EXPECT_EQ(t.result, "tesSUCCESS");
    EXPECT_EQ(t.blob, wallet.blob(core::toHex(t.hash)));  // the raw signed bytes
    EXPECT_FALSE(t.meta.empty());
    EXPECT_GT(t.ledgerIndex, 0u);
  }
  EXPECT_TRUE(inLedgerOrder(got));
  const std::uint32_t last = std::max_element(got.begin(), got.end(), [](auto& a, auto& b) {
                               return a.ledgerIndex < b.ledgerIndex;
                             })->ledgerIndex;
  ASSERT_TRUE(rec.waitFinished(last, 10s));
  EXPECT_TRUE(rec.allAfterCursor());

  // The node goes down; the consumer persisted its cursor.
  const std::uint32_t cursor = rec.finished();
  client->stop();
  client.reset();
  std::set<std::string> missed;
  for (int i = 0; i < 4; ++i) missed.insert(wallet.pay(host, 2000 + i));
  for (const auto& h : missed) wallet.waitValidated(h);

  Recorder rec2;
  BoardClient again(hostOptions(devnet.url(), host), rec2.events());
  ASSERT_TRUE(again.start(cursor).ok());
  ASSERT_TRUE(rec2.waitCount(4, 15s));
  std::this_thread::sleep_for(1000ms);  // nothing more may arrive
  EXPECT_EQ(hashSet(rec2.txs()), missed);
  EXPECT_EQ(rec2.txs().size(), 4u);
  EXPECT_TRUE(inLedgerOrder(rec2.txs()));
  EXPECT_TRUE(rec2.noDuplicates());

  // Request helpers on the live connection.
  auto info = again.serverInfo();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_GT(info->validatedLedger, 0u);
  auto acct = again.accountInfo(host, true);
  ASSERT_TRUE(acct.ok()) << acct.error().message;
  EXPECT_GT(acct->balance, 10'000'000u);
  auto fee = again.fee();
  ASSERT_TRUE(fee.ok());
  EXPECT_GT(fee->baseFee, 0u);
  auto cur = again.ledgerCurrent();
  ASSERT_TRUE(cur.ok());
  auto closed = again.ledgerClosed();
  ASSERT_TRUE(closed.ok());
  EXPECT_LT(closed->ledgerIndex, *cur);
  AccountTxQuery q;
  q.account = host;
  q.limit = 2;
  auto page = again.accountTx(q);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(page->transactions.size(), 2u);
  EXPECT_TRUE(page->marker.has_value());
  TxQuery nf;
  nf.hash[0] = 1;
  auto missing = again.tx(nf);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "txnNotFound");
  auto bad = again.submit(core::Bytes{0x12, 0x00});
  ASSERT_FALSE(bad.ok());
}

TEST(BoardDevnetTest, DevnetCrashMidStreamLosesNothing) {
  const std::string seed = newGenesisSeed();
  DevnetProcess devnet(SASHIMONO_BINARY, seed, 250);
  const std::string host = newKey().address();
  Recorder rec;
  BoardClient client(hostOptions(devnet.url(), host), rec.events());
  std::set<std::string> sent;
  {
    DevnetWallet wallet(devnet.url(), seed);
    ASSERT_TRUE(client.start(std::nullopt).ok());
    ASSERT_TRUE(client.waitConnected(10s));
    sent.insert(wallet.pay(host, 10'000'000));
    sent.insert(wallet.pay(host, 1234));
    ASSERT_TRUE(rec.waitCount(2, 15s));
  }
  devnet.kill(SIGKILL);
  std::this_thread::sleep_for(500ms);
  devnet.start();  // same port, same data
  {
    DevnetWallet wallet(devnet.url(), seed);
    for (int i = 0; i < 3; ++i) sent.insert(wallet.pay(host, 5000 + i));
    ASSERT_TRUE(rec.waitCount(5, 20s));
  }
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(hashSet(rec.txs()), sent);
  EXPECT_EQ(rec.txs().size(), 5u);
  EXPECT_TRUE(rec.noDuplicates());
  EXPECT_GE(client.status().reconnects, 1u);
  EXPECT_TRUE(client.status().connected);
}
