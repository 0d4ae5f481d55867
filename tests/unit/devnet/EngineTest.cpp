#include "sashimono/devnet/Engine.h"

#include <gtest/gtest.h>

#include "TestTx.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/ShaMap.h"

using namespace sashimono;
using namespace sashimono::devnet;
using devnet::test::decoded;
using devnet::test::key;
using devnet::test::signedBlob;
using devnet::test::TxSpec;

namespace {

struct Chain {
  crypto::KeyPair g = key("genesis");
  crypto::KeyPair alice = key("alice");
  crypto::KeyPair bob = key("bob");
  Engine engine = Engine::genesis(g.accountId(), 1000).first;

  ApplyOutcome submit(const crypto::KeyPair& k, const TxSpec& s) {
    auto blob = signedBlob(k, s);
    return engine.apply(decoded(blob), blob);
  }
  std::uint64_t balance(const crypto::KeyPair& k) {
    const AccountRoot* a = engine.account(k.accountId());
    return a == nullptr ? 0 : a->balance;
  }
  std::uint32_t sequence(const crypto::KeyPair& k) { return engine.account(k.accountId())->sequence; }
};

TxSpec pay(const crypto::KeyPair& to, std::uint64_t drops, std::uint32_t seq) {
  TxSpec s;
  s.destination = to.address();
  s.amount = std::to_string(drops);
  s.sequence = seq;
  return s;
}

}  // namespace

TEST(EngineTest, GenesisHoldsAllXrp) {
  Chain c;
  EXPECT_EQ(c.balance(c.g), kGenesisDrops);
  EXPECT_EQ(c.engine.lastClosed().seq, 1u);
  EXPECT_EQ(c.engine.openSeq(), 2u);
  EXPECT_EQ(c.engine.lastClosed().totalDrops, kGenesisDrops);
}

TEST(EngineTest, PaymentCreatesAccountMovesBalanceAndBurnsFee) {
  Chain c;
  auto r = c.submit(c.g, pay(c.alice, 50'000'000, 1));
  EXPECT_EQ(r.result, Ter::tesSUCCESS);
  EXPECT_TRUE(r.included);
  EXPECT_EQ(c.balance(c.alice), 50'000'000u);
  EXPECT_EQ(c.balance(c.g), kGenesisDrops - 50'000'000 - 10);
  EXPECT_EQ(c.sequence(c.g), 2u);
  EXPECT_EQ(c.sequence(c.alice), 2u);  // new accounts start at the ledger sequence
  auto closed = c.engine.close(2000);
  EXPECT_EQ(closed.header.seq, 2u);
  EXPECT_EQ(closed.header.totalDrops, kGenesisDrops - 10);
  ASSERT_EQ(closed.txs.size(), 1u);
  EXPECT_EQ(closed.modified.size(), 2u);
  EXPECT_EQ(closed.header.hash, ledgerHash(closed.header));
}

TEST(EngineTest, MetadataDecodesWithTheCodec) {
  Chain c;
  ASSERT_EQ(c.submit(c.g, pay(c.alice, 50'000'000, 1)).result, Ter::tesSUCCESS);
  ASSERT_EQ(c.submit(c.g, pay(c.alice, 1'000'000, 2)).result, Ter::tesSUCCESS);
  auto closed = c.engine.close(2000);
  ASSERT_EQ(closed.txs.size(), 2u);
  auto meta = ledger::decode(closed.txs[1].meta);
  ASSERT_TRUE(meta.ok()) << meta.error().message;
  const auto& m = *meta;
  EXPECT_STREQ(m["TransactionResult"].GetString(), "tesSUCCESS");
  EXPECT_EQ(m["TransactionIndex"].GetUint(), 1u);
  EXPECT_STREQ(m["DeliveredAmount"].GetString(), "1000000");
  const auto& nodes = m["AffectedNodes"].GetArray();
  ASSERT_EQ(nodes.Size(), 2u);
  int modified = 0;
  for (const auto& n : nodes) {
    ASSERT_TRUE(n.HasMember("ModifiedNode"));
    const auto& mn = n["ModifiedNode"];
    EXPECT_STREQ(mn["LedgerEntryType"].GetString(), "AccountRoot");
    EXPECT_TRUE(mn.HasMember("PreviousTxnID"));
    EXPECT_TRUE(mn["FinalFields"].HasMember("Balance"));
    EXPECT_TRUE(mn["PreviousFields"].HasMember("Balance"));
    ++modified;
  }
  EXPECT_EQ(modified, 2);
  // Re-encoding gives the same bytes: the hand-written metadata is canonical.
  auto again = ledger::encode(m);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, closed.txs[1].meta);
  auto first = ledger::decode(closed.txs[0].meta);
  ASSERT_TRUE(first.ok());
  bool created = false;
  for (const auto& n : (*first)["AffectedNodes"].GetArray()) created = created || n.HasMember("CreatedNode");
  EXPECT_TRUE(created);
}

TEST(EngineTest, ReserveRules) {
  Chain c;
  EXPECT_EQ(c.submit(c.g, pay(c.alice, kReserveBase - 1, 1)).result, Ter::tecNO_DST_INSUF_XRP);
  EXPECT_EQ(c.balance(c.alice), 0u);
  EXPECT_EQ(c.sequence(c.g), 2u);  // tec consumes the sequence and the fee
  EXPECT_EQ(c.balance(c.g), kGenesisDrops - 10);
  EXPECT_EQ(c.submit(c.g, pay(c.alice, kReserveBase, 2)).result, Ter::tesSUCCESS);
  // Alice holds exactly the reserve: she cannot send anything but the fee is still taken.
  EXPECT_EQ(c.submit(c.g, pay(c.alice, 100, 3)).result, Ter::tesSUCCESS);
  EXPECT_EQ(c.submit(c.alice, pay(c.bob, kReserveBase, 2)).result, Ter::tecUNFUNDED_PAYMENT);
  EXPECT_EQ(c.balance(c.alice), kReserveBase + 100 - 10);
}

TEST(EngineTest, SequencesAndDuplicates) {
  Chain c;
  auto blob = signedBlob(c.g, pay(c.alice, 20'000'000, 1));
  EXPECT_EQ(c.engine.apply(decoded(blob), blob).result, Ter::tesSUCCESS);
  EXPECT_EQ(c.engine.apply(decoded(blob), blob).result, Ter::tefALREADY);
  EXPECT_EQ(c.submit(c.g, pay(c.alice, 20'000'000, 5)).result, Ter::terPRE_SEQ);
  auto old = pay(c.alice, 30'000'000, 1);
  EXPECT_EQ(c.submit(c.g, old).result, Ter::tefPAST_SEQ);
  (void)c.engine.close(2000);
  EXPECT_EQ(c.engine.apply(decoded(blob), blob).result, Ter::tefALREADY);  // recent closed ledger
  EXPECT_EQ(c.sequence(c.g), 2u);
}

TEST(EngineTest, LastLedgerSequence) {
  Chain c;
  auto s = pay(c.alice, 20'000'000, 1);
  s.lastLedger = 1;  // open ledger is 2
  EXPECT_EQ(c.submit(c.g, s).result, Ter::tefMAX_LEDGER);
  s.lastLedger = 2;
  EXPECT_EQ(c.submit(c.g, s).result, Ter::tesSUCCESS);
}

TEST(EngineTest, MalformedPayments) {
  Chain c;
  EXPECT_EQ(c.submit(c.g, pay(c.g, 5, 1)).result, Ter::temREDUNDANT);
  TxSpec noDst;
  noDst.amount = "5";
  EXPECT_EQ(c.submit(c.g, noDst).result, Ter::temDST_NEEDED);
  TxSpec zero = pay(c.alice, 0, 1);
  EXPECT_EQ(c.submit(c.g, zero).result, Ter::temBAD_AMOUNT);
  TxSpec lowFee = pay(c.alice, 20'000'000, 1);
  lowFee.fee = 9;
  EXPECT_EQ(c.submit(c.g, lowFee).result, Ter::telINSUF_FEE_P);
  TxSpec iou = pay(c.alice, 1, 1);
  iou.iou = true;
  EXPECT_EQ(c.submit(c.g, iou).result, Ter::tecPATH_DRY);
  EXPECT_EQ(c.sequence(c.g), 2u);
  EXPECT_EQ(c.submit(c.alice, pay(c.g, 5'000'000, 1)).result, Ter::terNO_ACCOUNT);
}

TEST(EngineTest, AccountSetChargesFeeAndSequence) {
  Chain c;
  TxSpec s;
  s.type = "AccountSet";
  s.sequence = 1;
  s.fee = 12;
  EXPECT_EQ(c.submit(c.g, s).result, Ter::tesSUCCESS);
  EXPECT_EQ(c.balance(c.g), kGenesisDrops - 12);
  EXPECT_EQ(c.sequence(c.g), 2u);
}

TEST(EngineTest, LedgerHashesAreDeterministic) {
  Chain a;
  Chain b;
  for (Chain* c : {&a, &b}) ASSERT_EQ(c->submit(c->g, pay(c->alice, 20'000'000, 1)).result, Ter::tesSUCCESS);
  // Genesis close time differs only if the clock is read; Engine takes it as a parameter.
  auto ca = a.engine.close(5000);
  auto cb = b.engine.close(5000);
  EXPECT_EQ(ca.header.hash, cb.header.hash);
  EXPECT_EQ(ca.header.txHash, cb.header.txHash);
  auto empty = a.engine.close(5000);
  EXPECT_EQ(empty.header.closeTime, 5001u);  // strictly after the parent
  EXPECT_EQ(empty.header.parentHash, ca.header.hash);
  EXPECT_EQ(empty.header.txHash, crypto::Hash256{});
}

TEST(EngineTest, ResumesFromPersistedState) {
  Chain c;
  ASSERT_EQ(c.submit(c.g, pay(c.alice, 20'000'000, 1)).result, Ter::tesSUCCESS);
  auto closed = c.engine.close(3000);
  std::vector<AccountRoot> accounts = closed.modified;
  Engine resumed(accounts, closed.header);
  EXPECT_EQ(resumed.openSeq(), 3u);
  auto blob = signedBlob(c.g, pay(c.alice, 1'000'000, 2));
  EXPECT_EQ(resumed.apply(decoded(blob), blob).result, Ter::tesSUCCESS);
}

TEST(EngineTest, TransactionTreeIsRipplesShaMap) {
  // The header's transaction_hash is what a verifier recomputes from the blobs alone
  // (ledger::transactionTreeRoot), and the header hashes as ledger::ledgerHash.
  Chain c;
  ASSERT_EQ(c.submit(c.g, pay(c.alice, 20'000'000, 1)).result, Ter::tesSUCCESS);
  auto one = c.engine.close(3000);
  ASSERT_EQ(one.txs.size(), 1u);
  std::vector<ledger::LedgerTxData> v{{one.txs[0].blob, one.txs[0].meta}};
  EXPECT_EQ(one.header.txHash, *ledger::transactionTreeRoot(v));
  // A single transaction: the root is an inner node above its leaf, not the leaf.
  EXPECT_NE(one.header.txHash, ledger::txLeafHash(one.txs[0].hash, one.txs[0].blob, one.txs[0].meta));
  EXPECT_TRUE(ledger::verifyLedger(one.header, one.header.hash, v).ok());

  for (std::uint32_t i = 0; i < 40; ++i)
    ASSERT_EQ(c.submit(c.g, pay(c.alice, 1'000'000 + i, 2 + i)).result, Ter::tesSUCCESS);
  auto many = c.engine.close(3100);
  ASSERT_EQ(many.txs.size(), 40u);
  std::vector<ledger::LedgerTxData> all;
  for (const auto& t : many.txs) all.push_back({t.blob, t.meta});
  auto st = ledger::verifyLedger(many.header, many.header.hash, all);
  EXPECT_TRUE(st.ok()) << st.error().message;
  all.pop_back();
  EXPECT_EQ(ledger::verifyLedger(many.header, many.header.hash, all).error().code, "txTreeMismatch");
}
