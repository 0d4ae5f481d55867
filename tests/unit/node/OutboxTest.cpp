#include "sashimono/node/Outbox.h"

#include <gtest/gtest.h>

#include "fakes/node/NodeHarness.h"

namespace sashimono::node {
namespace {

using fakes::Crash;
using fakes::FakeBoard;
using fakes::TempDir;

struct OutboxTest : ::testing::Test {
  OutboxTest() : key(fakes::newEdKey()), tenant(fakes::newEdKey()) {}

  NodeStore& store() {
    if (!store_) store_ = fakes::openStore(dir.path() + "/node.sqlite");
    return *store_;
  }
  void reopen() { store_.reset(); }

  std::int64_t add(std::uint64_t drops) {
    protocol::ErrorReply e;
    e.request = crypto::Hash256{static_cast<std::uint8_t>(++n)};
    e.reason = protocol::Reason::underpaid;
    e.detail = "test";
    e.refund = drops;
    auto reply = lease::errorReply(tenant.accountId(), protocol::MessageType::acquireError, e,
                                   ledger::Amount{true, drops, false, {}});
    EXPECT_TRUE(store().addOutbox(outboxEntryFor(reply)).ok());
    return n;
  }

  std::vector<fakes::LedgerTx> sent() const { return board.validatedFrom(key.accountId()); }

  TempDir dir;
  FakeBoard board;
  crypto::KeyPair key;
  crypto::KeyPair tenant;
  std::unique_ptr<NodeStore> store_;
  int n = 0;
};

TEST_F(OutboxTest, SignsInSequenceFromTheAccountAndTracksTheNext) {
  board.setSequence(key.accountId(), 7);
  add(10);
  add(20);
  add(30);
  Outbox o(store(), board, key, {});
  auto p = o.pump();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->signed_, 3u);
  auto entries = *store().outbox();
  ASSERT_EQ(entries.size(), 3u);
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(*entries[i].sequence, 7 + i);
    EXPECT_EQ(*entries[i].lastLedger, board.ledger() + 20);
    EXPECT_EQ(entries[i].fee, 12u);
    EXPECT_EQ(*entries[i].hash, ledger::transactionHash(entries[i].blob));
  }
  EXPECT_EQ(**store().nextSequence(), 10u);
  board.close();
  p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->confirmed, 3u);
  EXPECT_EQ(p->open, 0u);
  ASSERT_EQ(sent().size(), 3u);
  EXPECT_EQ(sent()[2].tx.amount->drops, 30u);
  // A new entry continues from the stored sequence without asking the board.
  add(40);
  board.down = false;
  ASSERT_TRUE(o.pump().ok());
  EXPECT_EQ(*store().outbox()->front().sequence, 10u);
}

TEST_F(OutboxTest, ResignsOnlyAfterLastLedgerSequencePassed) {
  add(10);
  OutboxOptions opts;
  opts.lastLedgerWindow = 3;
  Outbox o(store(), board, key, opts);
  board.loseSubmits = true;  // the submit never reaches the ledger
  ASSERT_TRUE(o.pump().ok());
  auto first = store().outbox()->front();
  for (int i = 0; i < 2; ++i) {
    board.close();
    auto p = o.pump();
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->resigned, 0u) << "re-signed while the first could still validate";
  }
  board.loseSubmits = false;
  board.close();  // now past the LastLedgerSequence
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->resigned, 1u);
  auto second = store().outbox()->front();
  EXPECT_NE(*second.hash, *first.hash);
  EXPECT_EQ(*second.sequence, *first.sequence);  // the dead one never used its sequence
  EXPECT_EQ(second.attempts, 2u);
  board.close();
  ASSERT_TRUE(o.pump().ok());
  EXPECT_EQ(sent().size(), 1u);
  EXPECT_TRUE(store().outbox()->empty());
}

TEST_F(OutboxTest, WithCheckedLedgersOnlyDeliveriesConfirmAndOnlyTheCursorProvesDeath) {
  board.verifies = true;
  OutboxOptions opts;
  opts.lastLedgerWindow = 3;
  Outbox o(store(), board, key, opts);
  add(10);
  ASSERT_TRUE(o.pump().ok()) << "no cursor yet: nothing to do";
  EXPECT_EQ(store().outbox()->front().state, OutboxState::pending);
  ASSERT_TRUE(store().setCursor(board.ledger()).ok());
  auto p = o.pump();
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->signed_, 1u);
  const auto first = store().outbox()->front();
  EXPECT_EQ(*first.lastLedger, board.ledger() + 3);  // from the cursor
  // The board's ledger has it, and its `tx` says so: not enough.
  board.close();
  ASSERT_TRUE(store().setCursor(board.ledger()).ok());
  p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->confirmed, 0u);
  EXPECT_EQ(store().outbox()->size(), 1u);
  // Delivered from a checked ledger: sent.
  board::BoardTx tx;
  tx.hash = *first.hash;
  tx.ledgerIndex = board.ledger();
  tx.result = "tesSUCCESS";
  auto n = o.confirmDelivered(std::span(&tx, 1));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_TRUE(store().outbox()->empty());

  // Lost on the way: dead only once the cursor passed its LastLedgerSequence.
  add(20);
  board.loseSubmits = true;
  ASSERT_TRUE(o.pump().ok());
  const auto second = store().outbox()->front();
  ASSERT_TRUE(second.hash);
  ASSERT_TRUE(store().setCursor(*second.lastLedger - 1).ok());
  p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->resigned, 0u) << "re-signed while it could still be in a ledger not yet checked";
  board.loseSubmits = false;
  ASSERT_TRUE(store().setCursor(*second.lastLedger).ok());
  p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->resigned, 1u);
  EXPECT_EQ(*store().outbox()->front().sequence, *second.sequence);
}

TEST_F(OutboxTest, AlreadyValidatedIsDetectedAfterACrash) {
  add(10);
  {
    Outbox o(store(), board, key, {});
    ASSERT_TRUE(o.pump().ok());
  }
  board.close();  // validated while the node was down
  reopen();
  Outbox o(store(), board, key, {});
  const auto before = board.submits;
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->confirmed, 1u);
  EXPECT_EQ(p->signed_, 0u);
  EXPECT_EQ(board.submits, before);
  EXPECT_EQ(sent().size(), 1u);
}

TEST_F(OutboxTest, CrashWhileSigningStoresNothingAndSignsAgain) {
  add(10);
  add(20);
  OutboxOptions crashing;
  int signedCount = 0;
  crashing.onStep = [&](std::string_view s) {
    if (s == "outbox.signed" && ++signedCount == 2) throw Crash();
  };
  {
    Outbox o(store(), board, key, crashing);
    EXPECT_THROW((void)o.pump(), Crash);
  }
  EXPECT_EQ(board.submits, 0u);
  reopen();
  auto left = store().outbox();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 2u);
  for (const auto& e : *left) EXPECT_FALSE(e.hash.has_value()) << "the batch was rolled back";
  Outbox o(store(), board, key, {});
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->signed_, 2u);
  board.close();
  ASSERT_TRUE(o.pump().ok());
  EXPECT_EQ(sent().size(), 2u);
}

TEST_F(OutboxTest, CrashBetweenSigningAndSubmittingSendsTheStoredBlob) {
  add(10);
  OutboxOptions crashing;
  crashing.onStep = [](std::string_view s) {
    if (s == "outbox.stored") throw Crash();
  };
  {
    Outbox o(store(), board, key, crashing);
    EXPECT_THROW((void)o.pump(), Crash);
  }
  EXPECT_EQ(board.submits, 0u);
  reopen();
  auto stored = store().outbox()->front();
  ASSERT_TRUE(stored.hash.has_value());
  Outbox o(store(), board, key, {});
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->signed_, 0u);
  board.close();
  ASSERT_TRUE(o.pump().ok());
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].tx.hash, *stored.hash);
}

TEST_F(OutboxTest, BoardDownSignsNothing) {
  add(10);
  board.down = true;
  Outbox o(store(), board, key, {});
  EXPECT_FALSE(o.pump().ok());
  EXPECT_EQ(store().outbox()->front().state, OutboxState::pending);
}

TEST_F(OutboxTest, SealedReplyOpensWithTheTenantKey) {
  protocol::ExtendOk ok;
  ok.request = crypto::Hash256{1};
  ok.leaseId = crypto::Hash256{2};
  ok.moments = 3;
  ok.expiry = 1'700'000'000;
  auto reply = lease::okReply(tenant.accountId(), ok.request, ok, fakes::edKeyOf(tenant), 0);
  ASSERT_TRUE(store().addOutbox(outboxEntryFor(reply)).ok());
  Outbox o(store(), board, key, {});
  ASSERT_TRUE(o.pump().ok());
  board.close();
  ASSERT_EQ(sent().size(), 1u);
  auto opened = fakes::openReply(sent()[0].tx, tenant);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(std::get<protocol::ExtendOk>(opened->message), ok);
  EXPECT_EQ(opened->drops, 1u);
  EXPECT_FALSE(fakes::openReply(sent()[0].tx, fakes::newEdKey()).has_value());
}

TEST(OutboxFeeTest, SignsAtTheOpenLedgerFeeWithinTheCeiling) {
  EXPECT_EQ(feeToSign({10, 12, 10}, 10, 1000), 12u);
  EXPECT_EQ(feeToSign({10, 1000, 10}, 10, 1000), 1000u);  // at the ceiling: still signed
  EXPECT_EQ(feeToSign({10, 1001, 10}, 10, 1000), std::nullopt);
  EXPECT_EQ(feeToSign({20, 5, 10}, 10, 1000), 20u);  // never below the base fee
  EXPECT_EQ(feeToSign({5, 5, 5}, 10, 1000), 10u);    // nor below the floor
  EXPECT_EQ(feeToSign({2000, 10, 10}, 10, 1000), std::nullopt);
}

TEST_F(OutboxTest, FeeAboveTheCeilingSignsNothingUntilItComesDown) {
  add(10);
  add(20);
  board.fees = FeeView{10, 5000, 10};
  OutboxOptions opts;
  opts.maxFee = 1000;
  Outbox o(store(), board, key, opts);
  for (int i = 0; i < 3; ++i) {
    auto p = o.pump();
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->signed_, 0u);
    EXPECT_EQ(p->waitingForFee, 2u);
    EXPECT_EQ(p->open, 2u);
    ASSERT_TRUE(p->fee.has_value());
    EXPECT_EQ(p->fee->openLedger, 5000u);
    board.close();
  }
  EXPECT_EQ(board.submits, 0u);
  EXPECT_EQ(board.accountCalls, 0u) << "no sequence is needed for what is not signed";
  const auto waiting = *store().outbox();  // a copy: the Result is a temporary
  for (const auto& e : waiting) {
    EXPECT_EQ(e.state, OutboxState::pending);
    EXPECT_FALSE(e.hash.has_value());
  }
  // The fee comes down below the ceiling: signed at the open-ledger fee, not at the ceiling.
  board.fees = FeeView{10, 300, 10};
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->signed_, 2u);
  EXPECT_EQ(p->waitingForFee, 0u);
  const auto signedAt = *store().outbox();
  for (const auto& e : signedAt) EXPECT_EQ(e.fee, 300u);
  board.close();
  ASSERT_TRUE(o.pump().ok());
  ASSERT_EQ(sent().size(), 2u);
  for (const auto& t : sent()) EXPECT_EQ(t.tx.fee, 300u);
  EXPECT_TRUE(store().outbox()->empty());
}

TEST_F(OutboxTest, ARaisedCeilingSignsAtTheOpenLedgerFee) {
  add(10);
  board.fees = FeeView{10, 5000, 10};
  Outbox o(store(), board, key, {});
  ASSERT_EQ(o.pump()->waitingForFee, 1u);
  o.setMaxFee(8000);
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->signed_, 1u);
  EXPECT_EQ(store().outbox()->front().fee, 5000u);
  board.close();
  ASSERT_TRUE(o.pump().ok());
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].tx.fee, 5000u);
}

TEST_F(OutboxTest, InFlightEntriesKeepTheirBlobWhileTheFeeIsHigh) {
  add(10);
  OutboxOptions opts;
  opts.lastLedgerWindow = 5;
  Outbox o(store(), board, key, opts);
  ASSERT_TRUE(o.pump().ok());
  const auto first = store().outbox()->front();
  ASSERT_TRUE(first.hash.has_value());
  // The network gets busy before it validates: the blob at 12 drops no longer gets in.
  board.fees = FeeView{10, 5000, 10};
  add(20);
  std::size_t resubmitted = 0;
  for (int i = 0; i < 3; ++i) {
    board.close();
    auto p = o.pump();
    ASSERT_TRUE(p.ok()) << p.error().message;
    EXPECT_EQ(p->signed_, 0u);
    EXPECT_EQ(p->resigned, 0u);
    EXPECT_EQ(p->waitingForFee, 1u) << "only the new entry waits";
    resubmitted += p->resubmitted;
    const auto entries = *store().outbox();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(*entries[0].hash, *first.hash) << "an in-flight blob is never replaced";
    EXPECT_FALSE(entries[1].hash.has_value());
  }
  EXPECT_EQ(resubmitted, 3u);
  EXPECT_TRUE(sent().empty());
  // Back to normal before its LastLedgerSequence: the same blob validates, the other is signed.
  board.fees = FeeView{10, 12, 10};
  board.close();
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->confirmed, 1u);
  EXPECT_EQ(p->signed_, 1u);
  board.close();
  ASSERT_TRUE(o.pump().ok());
  ASSERT_EQ(sent().size(), 2u);
  EXPECT_EQ(sent()[0].tx.hash, *first.hash);
  EXPECT_EQ(sent()[1].tx.sequence, *first.sequence + 1);
}

TEST_F(OutboxTest, ADeadEntryWaitsForTheFeeBeforeItIsResigned) {
  add(10);
  OutboxOptions opts;
  opts.lastLedgerWindow = 2;
  Outbox o(store(), board, key, opts);
  ASSERT_TRUE(o.pump().ok());
  const auto first = store().outbox()->front();
  board.fees = FeeView{10, 5000, 10};
  for (int i = 0; i < 3; ++i) {  // past its LastLedgerSequence without getting in
    board.close();
    ASSERT_TRUE(o.pump().ok());
  }
  ASSERT_GT(board.ledger(), *first.lastLedger);
  auto p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->waitingForFee, 1u);
  EXPECT_EQ(p->resigned, 0u);
  EXPECT_EQ(*store().outbox()->front().hash, *first.hash);
  // Known dead: the waiting entry is not looked up again at every pass.
  const auto lookups = board.lookups;
  for (int i = 0; i < 3; ++i) ASSERT_EQ(o.pump()->waitingForFee, 1u);
  EXPECT_EQ(board.lookups, lookups);
  board.fees = FeeView{10, 200, 10};
  p = o.pump();
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->resigned, 1u);
  const auto second = store().outbox()->front();
  EXPECT_NE(*second.hash, *first.hash);
  EXPECT_EQ(*second.sequence, *first.sequence);
  EXPECT_EQ(second.fee, 200u);
  board.close();
  ASSERT_TRUE(o.pump().ok());
  ASSERT_EQ(sent().size(), 1u);
  EXPECT_EQ(sent()[0].tx.hash, *second.hash);
  EXPECT_TRUE(store().outbox()->empty());
}

TEST_F(OutboxTest, AnUnknownFeeSignsNothing) {
  add(10);
  board.feeDown = true;
  Outbox o(store(), board, key, {});
  EXPECT_FALSE(o.pump().ok());
  EXPECT_EQ(store().outbox()->front().state, OutboxState::pending);
  EXPECT_EQ(board.submits, 0u);
  board.feeDown = false;
  EXPECT_EQ(o.pump()->signed_, 1u);
}

}  // namespace
}  // namespace sashimono::node
