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

}  // namespace
}  // namespace sashimono::node
