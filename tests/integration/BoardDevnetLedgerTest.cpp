// Whole ledgers from the real devnet (`sashimono devnet` as a child process) through a BoardClient:
// renderLedger → the devnet's binary `ledger` answer → parseLedger → verifyLedger. Trusting one
// hash (the last closed ledger's), every earlier ledger is verified through its child's
// parent_hash, and every payment sent is found in exactly the ledger the devnet said validated it.
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "fakes/board/DevnetProcess.h"
#include "fakes/board/DevnetWallet.h"
#include "sashimono/board/BoardClient.h"
#include "sashimono/board/Requests.h"
#include "sashimono/board/Responses.h"

using namespace sashimono;
using namespace sashimono::board;
using namespace sashimono::board::fakes;

TEST(BoardDevnetLedgerTest, LedgersVerifyBackFromOneTrustedHash) {
  const std::string seed = newGenesisSeed();
  DevnetProcess devnet(SASHIMONO_BINARY, seed, 150);
  DevnetWallet wallet(devnet.url(), seed);
  std::map<std::string, std::uint32_t> sent;  // tx hash -> validated ledger
  std::vector<std::string> order;
  const std::string to = newKey().address();
  order.push_back(wallet.pay(to, 10'000'000));
  for (int i = 0; i < 12; ++i) order.push_back(wallet.pay(newKey().address(), 2'000'000 + i));
  for (const auto& h : order) sent[h] = wallet.waitValidated(h);

  BoardClient& c = wallet.client();
  auto closed = c.ledgerClosed();
  ASSERT_TRUE(closed.ok()) << closed.error().message;
  auto trusted = core::fromHex(closed->ledgerHash);
  ASSERT_TRUE(trusted.ok() && trusted->size() == 32);
  crypto::Hash256 expected{};
  std::copy(trusted->begin(), trusted->end(), expected.begin());

  std::set<std::string> found;
  std::size_t withTxs = 0;
  for (std::uint32_t seq = closed->ledgerIndex; seq >= 1; --seq) {
    auto answer = c.request(renderLedger(seq, true));
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    auto l = parseLedger(*answer);
    ASSERT_TRUE(l.ok()) << seq << ": " << l.error().message;
    ASSERT_EQ(l->header.seq, seq);
    auto st = verifyLedger(*l, expected);
    ASSERT_TRUE(st.ok()) << st.error().message;
    for (const auto& t : l->txs) {
      const std::string h = core::toHex(t.hash);
      ASSERT_TRUE(sent.count(h)) << "ledger " << seq << " holds a transaction never sent: " << h;
      EXPECT_EQ(sent[h], seq) << h;
      EXPECT_TRUE(found.insert(h).second) << h << " in two ledgers";
      EXPECT_EQ(t.blob, wallet.blob(h));
    }
    if (!l->txs.empty()) ++withTxs;
    // A lie in any transaction of this ledger is caught.
    if (!l->txs.empty()) {
      LedgerData forged = *l;
      forged.txs.back().meta.back() ^= 1;
      EXPECT_EQ(verifyLedger(forged, expected).error().code, "txTreeMismatch");
      forged = *l;
      forged.txs.pop_back();
      EXPECT_EQ(verifyLedger(forged, expected).error().code, "txTreeMismatch");
    }
    expected = l->header.parentHash;  // the next ledger down is the one this header names
  }
  EXPECT_EQ(found.size(), sent.size());
  EXPECT_GE(withTxs, 1u);
}
