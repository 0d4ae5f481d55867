// SoloConsensus: when rounds start. A lone input starts its round at once, even one that arrived
// as the previous round ended; two or more inputs that arrived while a round ran wait until busyRoundMs after
// that round's start (so ledgers cannot outrun the clients' max_ledger_seq_no windows); stop() ends any wait.
#include <chrono>
#include <future>
#include <thread>

#include <gtest/gtest.h>

#include "sashimono/runtime/Consensus.h"

namespace sashimono::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

RoundInput input(std::uint8_t tag) {
  RoundInput in;
  in.user[0] = tag;
  in.hash[0] = tag;
  in.nonce = tag;
  in.maxLedgerSeqNo = 100;
  return in;
}

LedgerRecord ledgerAfter(const RoundPlan& p) {
  LedgerRecord r;
  r.seqNo = p.seqNo;
  r.timestamp = p.timestamp;
  return r;
}

TEST(SoloConsensusTest, ALoneInputStartsItsRoundAtOnce) {
  SoloConsensus c(InstanceKey::generate(), 1000, false, 500);
  c.submit(input(1));
  auto first = c.nextRound(LedgerRecord{}, {});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->seqNo, 1u);
  ASSERT_EQ(first->inputs.size(), 1u);
  // Nothing waits when the engine asks again: the next input, arriving later, runs at once even
  // though the previous round started less than busyRoundMs ago.
  auto next = std::async(std::launch::async, [&] { return c.nextRound(ledgerAfter(*first), {}); });
  std::this_thread::sleep_for(20ms);
  const auto sent = Clock::now();
  c.submit(input(2));
  ASSERT_EQ(next.wait_for(2s), std::future_status::ready);
  auto second = next.get();
  EXPECT_LT(Clock::now() - sent, 200ms) << "a lone input waited for the busy gap";
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->seqNo, 2u);
  EXPECT_GT(second->timestamp, first->timestamp);
}

// A closed-loop user gets its output before the round's state is committed, and its next input
// can be here before the engine asks for the next round: that is not load.
TEST(SoloConsensusTest, OneInputThatArrivedAsTheRoundEndedIsNotPaced) {
  SoloConsensus c(InstanceKey::generate(), 1000, false, 500);
  c.submit(input(1));
  auto first = c.nextRound(LedgerRecord{}, {});
  ASSERT_TRUE(first.has_value());
  c.submit(input(2));
  const auto t = Clock::now();
  auto second = c.nextRound(ledgerAfter(*first), {});
  EXPECT_LT(Clock::now() - t, 200ms) << "a lone input waited for the busy gap";
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->inputs.size(), 1u);
}

TEST(SoloConsensusTest, InputsWaitingAfterARoundShareTheNextOneNoSoonerThanTheGap) {
  SoloConsensus c(InstanceKey::generate(), 1000, false, 300);
  c.submit(input(1));
  const auto firstStart = Clock::now();
  auto first = c.nextRound(LedgerRecord{}, {});
  ASSERT_TRUE(first.has_value());
  // Inputs arrive while round 1 "runs".
  c.submit(input(2));
  c.submit(input(3));
  auto second = c.nextRound(ledgerAfter(*first), {});
  const auto waited = Clock::now() - firstStart;
  ASSERT_TRUE(second.has_value());
  EXPECT_GE(waited, 295ms) << "a busy round started before the gap";
  EXPECT_LT(waited, 2s);
  EXPECT_EQ(second->inputs.size(), 2u) << "the waiting inputs share one round";
}

TEST(SoloConsensusTest, NoGapWhenBusyRoundMsIsZeroOrTheRoundTookLonger) {
  {
    SoloConsensus c(InstanceKey::generate(), 1000, false, 0);
    c.submit(input(1));
    auto first = c.nextRound(LedgerRecord{}, {});
    ASSERT_TRUE(first.has_value());
    c.submit(input(2));
    c.submit(input(3));
    const auto t = Clock::now();
    auto second = c.nextRound(ledgerAfter(*first), {});
    ASSERT_TRUE(second.has_value());
    EXPECT_LT(Clock::now() - t, 100ms);
  }
  {
    SoloConsensus c(InstanceKey::generate(), 1000, false, 100);
    c.submit(input(1));
    auto first = c.nextRound(LedgerRecord{}, {});
    ASSERT_TRUE(first.has_value());
    std::this_thread::sleep_for(150ms);  // the round itself took longer than the gap
    c.submit(input(2));
    c.submit(input(3));
    const auto t = Clock::now();
    auto second = c.nextRound(ledgerAfter(*first), {});
    ASSERT_TRUE(second.has_value());
    EXPECT_LT(Clock::now() - t, 50ms);
  }
}

TEST(SoloConsensusTest, StopEndsABusyWaitAndAnIdleWait) {
  SoloConsensus c(InstanceKey::generate(), 1000, false, 60000);
  c.submit(input(1));
  auto first = c.nextRound(LedgerRecord{}, {});
  ASSERT_TRUE(first.has_value());
  c.submit(input(2));
  c.submit(input(3));
  auto busy = std::async(std::launch::async, [&] { return c.nextRound(ledgerAfter(*first), {}); });
  std::this_thread::sleep_for(50ms);
  c.stop();
  ASSERT_EQ(busy.wait_for(2s), std::future_status::ready) << "stop() did not end the busy wait";
  EXPECT_FALSE(busy.get().has_value());

  SoloConsensus idle(InstanceKey::generate(), 1000, false, 50);
  auto waiting = std::async(std::launch::async, [&] { return idle.nextRound(LedgerRecord{}, {}); });
  std::this_thread::sleep_for(50ms);
  idle.stop();
  ASSERT_EQ(waiting.wait_for(2s), std::future_status::ready);
  EXPECT_FALSE(waiting.get().has_value());
}

}  // namespace
}  // namespace sashimono::runtime
