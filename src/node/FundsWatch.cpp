#include "sashimono/node/FundsWatch.h"

#include <algorithm>

namespace sashimono::node {

namespace {

constexpr std::uint64_t kAllDrops = 100'000'000'000'000'000ull;  // 10^17: every drop there is

// a × b, at most kAllDrops (so sums and differences of such values stay in range).
std::uint64_t capped(std::uint64_t a, std::uint64_t b = 1) {
  a = std::min(a, kAllDrops);
  if (b != 0 && a > kAllDrops / b) return kAllDrops;
  return std::min(a * b, kAllDrops);
}

std::string drops(std::uint64_t d) { return std::to_string(d) + " drops"; }

}  // namespace

std::string_view fundsStateName(FundsState s) {
  switch (s) {
    case FundsState::ok:
      return "ok";
    case FundsState::low:
      return "low";
    case FundsState::exhausted:
      return "exhausted";
    case FundsState::unknown:
      break;
  }
  return "unknown";
}

std::optional<std::uint64_t> FundsWatch::replyCost() const {
  if (!fee_) return std::nullopt;
  const std::uint64_t fee = std::min(std::max({fee_->openLedger, fee_->base, minFee_}), limits_.maxDrops);
  return capped(fee) + 1;
}

std::optional<std::uint64_t> FundsWatch::reserve() const {
  if (!reserves_) return std::nullopt;
  const std::uint32_t owned = account_ ? account_->ownerCount : 0;
  return capped(capped(reserves_->base) + capped(reserves_->increment, owned));
}

std::optional<std::uint64_t> FundsWatch::balance() const {
  if (unfunded_) return 0;
  if (!account_) return std::nullopt;
  return capped(account_->balance);
}

std::optional<std::int64_t> FundsWatch::spendable() const {
  const auto b = balance();
  const auto r = reserve();
  if (!b || !r) return std::nullopt;
  return static_cast<std::int64_t>(*b) - static_cast<std::int64_t>(*r);
}

FundsState FundsWatch::assess() const {
  if (unfunded_) return FundsState::exhausted;
  const auto sp = spendable();
  const auto cost = replyCost();
  if (!sp || !cost) return FundsState::unknown;
  if (*sp < static_cast<std::int64_t>(*cost)) return FundsState::exhausted;
  const std::uint64_t k = limits_.lowBalanceReplies;
  if (k == 0) return FundsState::ok;
  if (*sp < static_cast<std::int64_t>(capped(*cost, k))) return FundsState::low;
  // Leaving low (or exhausted) needs a margin.
  const bool wasShort = state_ == FundsState::low || state_ == FundsState::exhausted;
  if (wasShort && *sp < static_cast<std::int64_t>(capped(*cost, k + k / 10))) return FundsState::low;
  return FundsState::ok;
}

std::vector<FundsNotice> FundsWatch::update(std::int64_t now) {
  std::vector<FundsNotice> out;
  const std::string feeNow =
      fee_ ? "the open-ledger fee is " + drops(fee_->openLedger) : std::string("the fee is unknown");
  if (waiting_ > 0 && !waitingSince_) {
    waitingSince_ = now;
    out.push_back(
        {FundsNotice::Level::warning,
         std::to_string(waiting_) + " payment(s) wait for fees: " + feeNow + ", above the ceiling of " +
             drops(limits_.maxDrops) +
             " (fees.maxDrops); nothing is signed until the fee comes down or the ceiling goes up"});
  } else if (waiting_ == 0 && waitingSince_) {
    out.push_back({FundsNotice::Level::info,
                   "payments no longer wait for fees (" + feeNow + ", the ceiling " +
                       drops(limits_.maxDrops) + "); they waited " +
                       std::to_string(std::max<std::int64_t>(0, now - *waitingSince_)) + " s"});
    waitingSince_.reset();
  }
  const FundsState next = assess();
  if (next != state_) {
    const FundsState before = state_;
    state_ = next;
    const auto sp = spendable();
    const auto cost = replyCost();
    const std::string money = sp && cost ? std::to_string(*sp) + " drops spendable (balance " +
                                               std::to_string(*balance()) + ", reserve " +
                                               std::to_string(*reserve()) + ")"
                                         : std::string();
    const std::string replies =
        sp && cost ? std::to_string(std::max<std::int64_t>(0, *sp) / static_cast<std::int64_t>(*cost)) +
                         " replies at " + drops(*cost)
                   : std::string();
    switch (next) {
      case FundsState::exhausted:
        out.push_back(
            {FundsNotice::Level::error,
             unfunded_ ? std::string("the host account is not funded: it cannot pay for any reply; fund it")
                       : "the host account cannot pay for a reply: " + money + ", a reply costs " +
                             drops(*cost) + "; fund it"});
        break;
      case FundsState::low:
        out.push_back({FundsNotice::Level::warning, "the host account's balance is low: " + money +
                                                        " pay for " + replies + ", fewer than " +
                                                        std::to_string(limits_.lowBalanceReplies) +
                                                        " (fees.lowBalanceReplies); fund it"});
        break;
      case FundsState::ok:
        if (before != FundsState::unknown)
          out.push_back({FundsNotice::Level::info,
                         "the host account's balance is enough again: " + money + " pay for " + replies});
        break;
      case FundsState::unknown:
        break;
    }
  }
  return out;
}

FeesRow FundsWatch::feesRow() const {
  FeesRow r;
  r.fee = fee_;
  r.ceiling = limits_.maxDrops;
  r.waiting = waiting_;
  r.waitingSince = waitingSince_;
  return r;
}

FundsRow FundsWatch::fundsRow() const {
  FundsRow r;
  r.state = std::string(fundsStateName(state_));
  r.unfunded = unfunded_;
  if (account_) {
    r.ledger = account_->ledger;
    r.balance = account_->balance;
    r.ownerCount = account_->ownerCount;
  }
  if (reserves_) {
    r.reserveBase = reserves_->base;
    r.reserveIncrement = reserves_->increment;
  }
  r.reserve = reserve().value_or(0);
  r.spendable = spendable().value_or(0);
  r.replyCost = replyCost().value_or(0);
  r.lowReplies = limits_.lowBalanceReplies;
  return r;
}

}  // namespace sashimono::node
