// The fees and funds the node watches: the wait for fees, the low-balance thresholds, their
// clearing, and one notice per change of state.
#include "sashimono/node/FundsWatch.h"

#include <gtest/gtest.h>

namespace sashimono::node {
namespace {

constexpr std::uint64_t kReserve = 1'000'000 + 2 * 200'000;  // base + 2 owned objects × increment
constexpr std::uint64_t kMaxFee = 100'000'000;

// A watch with a 1000-drop ceiling, a warning below 100 replies, a 12-drop open-ledger fee (a
// reply costs 13 drops) and an account owning 2 objects with `spendable` drops above its reserve.
struct Funds {
  explicit Funds(std::int64_t spendable) : watch(FeeLimits{1000, 100}, 10) {
    watch.sawFee({10, 12, 10});
    watch.sawReserves({1'000'000, 200'000});
    setSpendable(spendable);
  }
  void setSpendable(std::int64_t s) {
    watch.sawAccount(
        AccountView{5, static_cast<std::uint64_t>(static_cast<std::int64_t>(kReserve) + s), 2, 77});
  }
  std::vector<FundsNotice> update() { return watch.update(now += 5); }
  FundsWatch watch;
  std::int64_t now = 1'800'000'000;
};

bool says(const std::vector<FundsNotice>& n, FundsNotice::Level level, const std::string& what) {
  return n.size() == 1 && n[0].level == level && n[0].text.find(what) != std::string::npos;
}

TEST(FundsWatchTest, NothingIsJudgedBeforeFeeReservesAndAccountAreRead) {
  FundsWatch w(FeeLimits{}, 10);
  EXPECT_TRUE(w.update(1).empty());
  w.sawFee({10, 12, 10});
  w.sawReserves({1'000'000, 200'000});
  EXPECT_TRUE(w.update(2).empty());
  EXPECT_EQ(w.state(), FundsState::unknown);
  EXPECT_EQ(w.fundsRow().state, "unknown");
  w.sawAccount(AccountView{1, 100'000'000, 0, 9});
  EXPECT_TRUE(w.update(3).empty()) << "all well from the start: nothing to say";
  EXPECT_EQ(w.state(), FundsState::ok);
  EXPECT_EQ(w.spendable(), 99'000'000);
  EXPECT_EQ(w.replyCost(), 13u);
}

TEST(FundsWatchTest, WarnsBelowTheThresholdOnceAndErrsWhenNoReplyIsPaid) {
  Funds f(13 * 100);  // exactly 100 replies: not below
  EXPECT_TRUE(f.update().empty());
  EXPECT_EQ(f.watch.state(), FundsState::ok);

  f.setSpendable(13 * 100 - 1);  // 99 replies
  auto n = f.update();
  EXPECT_TRUE(says(n, FundsNotice::Level::warning,
                   "balance is low: 1299 drops spendable (balance 1401299, "
                   "reserve 1400000) pay for 99 replies at 13 drops"))
      << (n.empty() ? "" : n[0].text);
  EXPECT_EQ(f.watch.state(), FundsState::low);
  f.setSpendable(500);
  EXPECT_TRUE(f.update().empty()) << "logged once per state, not per ledger";
  EXPECT_EQ(f.watch.fundsRow().state, "low");

  f.setSpendable(12);  // less than one reply
  n = f.update();
  EXPECT_TRUE(says(n, FundsNotice::Level::error, "cannot pay for a reply: 12 drops spendable"));
  EXPECT_EQ(f.watch.state(), FundsState::exhausted);
  f.setSpendable(-300);  // below the reserve (raised reserves)
  EXPECT_TRUE(f.update().empty());
  EXPECT_EQ(f.watch.fundsRow().spendable, -300);
}

TEST(FundsWatchTest, ClearsWithAMarginSoABalanceNearTheThresholdDoesNotFlap) {
  Funds f(13 * 50);
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::warning, "balance is low"));
  f.setSpendable(13 * 105);  // above the threshold, inside the 10 % margin
  EXPECT_TRUE(f.update().empty());
  EXPECT_EQ(f.watch.state(), FundsState::low);
  f.setSpendable(13 * 110);
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::info, "enough again: 1430 drops spendable"));
  EXPECT_EQ(f.watch.state(), FundsState::ok);
  f.setSpendable(13 * 100);  // ok stays ok down to the threshold itself
  EXPECT_TRUE(f.update().empty());

  // From exhausted straight to plenty.
  f.setSpendable(0);
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::error, "cannot pay"));
  f.setSpendable(1'000'000);
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::info, "enough again"));
}

TEST(FundsWatchTest, TheCostOfAReplyFollowsTheFeeUpToTheCeiling) {
  Funds f(13 * 100);
  EXPECT_TRUE(f.update().empty());
  f.watch.sawFee({10, 20, 10});  // 21 drops a reply: 1300 drops pay for 61
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::warning, "61 replies at 21 drops"));
  f.watch.sawFee({10, 50'000, 10});  // above the ceiling: counted at the ceiling
  EXPECT_EQ(f.watch.replyCost(), 1001u);
  EXPECT_TRUE(f.update().empty());
  EXPECT_EQ(f.watch.state(), FundsState::low);
  f.setSpendable(1000);
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::error, "a reply costs 1001 drops"));
  f.watch.setLimits(FeeLimits{1000, 0});  // no low warning at all
  f.watch.sawFee({10, 12, 10});
  f.setSpendable(13);
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::info, "enough again"));
  EXPECT_EQ(f.watch.state(), FundsState::ok);
}

TEST(FundsWatchTest, AnUnfundedAccountCannotPay) {
  Funds f(1'000'000);
  EXPECT_TRUE(f.update().empty());
  f.watch.sawUnfunded();
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::error, "not funded"));
  const auto row = f.watch.fundsRow();
  EXPECT_TRUE(row.unfunded);
  EXPECT_EQ(row.state, "exhausted");
  EXPECT_EQ(row.balance, 0u);
  EXPECT_EQ(row.spendable, -1'000'000) << "what it needs before it even exists";
  f.setSpendable(1'000'000);
  EXPECT_TRUE(says(f.update(), FundsNotice::Level::info, "enough again"));
  EXPECT_FALSE(f.watch.fundsRow().unfunded);
}

TEST(FundsWatchTest, TheWaitForFeesIsToldWhenItStartsAndEnds) {
  Funds f(1'000'000);
  EXPECT_TRUE(f.update().empty());
  f.watch.sawFee({10, 5000, 10});
  f.watch.sawWaiting(3);
  auto n = f.watch.update(100);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].level, FundsNotice::Level::warning);
  EXPECT_NE(n[0].text.find("3 payment(s) wait for fees: the open-ledger fee is 5000 drops, above the ceiling "
                           "of 1000 drops (fees.maxDrops)"),
            std::string::npos)
      << n[0].text;
  f.watch.sawWaiting(5);
  EXPECT_TRUE(f.watch.update(110).empty());
  auto row = f.watch.feesRow();
  EXPECT_EQ(row.waiting, 5u);
  EXPECT_EQ(row.waitingSince, 100);
  EXPECT_EQ(row.ceiling, 1000u);
  ASSERT_TRUE(row.fee.has_value());
  EXPECT_EQ(row.fee->openLedger, 5000u);
  f.watch.sawFee({10, 40, 10});
  f.watch.sawWaiting(0);
  n = f.watch.update(130);
  ASSERT_EQ(n.size(), 1u);
  EXPECT_EQ(n[0].level, FundsNotice::Level::info);
  EXPECT_NE(
      n[0].text.find("no longer wait for fees (the open-ledger fee is 40 drops, the ceiling 1000 drops); "
                     "they waited 30 s"),
      std::string::npos)
      << n[0].text;
  EXPECT_FALSE(f.watch.feesRow().waitingSince.has_value());
  EXPECT_TRUE(f.watch.update(140).empty());
}

TEST(FundsWatchTest, AbsurdFiguresFromABoardStayInRange) {
  FundsWatch w(FeeLimits{kMaxFee, 1'000'000'000}, 10);
  w.sawFee({UINT64_MAX, UINT64_MAX, UINT64_MAX});
  w.sawReserves({UINT64_MAX, UINT64_MAX});
  w.sawAccount(AccountView{1, UINT64_MAX, UINT32_MAX, 1});
  (void)w.update(1);
  ASSERT_TRUE(w.spendable().has_value());
  EXPECT_LE(*w.spendable(), 100'000'000'000'000'000LL);
  EXPECT_GE(*w.spendable(), -100'000'000'000'000'000LL);
  EXPECT_EQ(w.replyCost(), kMaxFee + 1);
}

}  // namespace
}  // namespace sashimono::node
