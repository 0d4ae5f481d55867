#pragma once
// What the host's replies cost and whether its account can pay for them: the outbox's wait for
// fees (Outbox.h: nothing is signed while the open-ledger fee is above the ceiling) and the
// account's spendable balance, balance − (reserve base + owner count × reserve increment), in
// replies at the current fee. Pure: the node feeds it what the board said (each validated
// ledger, each outbox pass) and logs the notices it returns, one per change of state.
//
// Funds states: exhausted — the spendable balance cannot pay for one reply (or the account does
// not exist); low — it pays for fewer than lowBalanceReplies; ok — otherwise; unknown — not all
// of fee, reserves and account read yet. Leaving `low` needs 10 % more than lowBalanceReplies, so
// a balance near the threshold (requests pay in, replies pay out, the fee moves) does not flap.
//
// Thread-safety: none (the node's thread).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/node/BoardPort.h"
#include "sashimono/node/HostStatus.h"

namespace sashimono::node {

// The host configuration's "fees" section; both reloadable (SIGHUP).
struct FeeLimits {
  std::uint64_t maxDrops = 1000;           // the outbox's ceiling: no payment is signed above it
  std::uint64_t lowBalanceReplies = 1000;  // warn below this many replies; 0: never
  bool operator==(const FeeLimits&) const = default;
};

enum class FundsState { unknown, ok, low, exhausted };
std::string_view fundsStateName(FundsState s);

struct FundsNotice {
  enum class Level { info, warning, error };
  Level level = Level::info;
  std::string text;
};

class FundsWatch {
 public:
  // minFee: the outbox's floor (OutboxOptions::minFee).
  FundsWatch(FeeLimits limits, std::uint64_t minFee) : limits_(limits), minFee_(minFee) {}
  void setLimits(const FeeLimits& limits) { limits_ = limits; }
  [[nodiscard]] const FeeLimits& limits() const { return limits_; }

  void sawFee(const FeeView& fee) { fee_ = fee; }
  void sawReserves(const ReserveView& r) { reserves_ = r; }
  void sawAccount(const AccountView& a) {
    account_ = a;
    unfunded_ = false;
  }
  // account_info said actNotFound: the account was never funded (or was deleted).
  void sawUnfunded() {
    account_.reset();
    unfunded_ = true;
  }
  // An outbox pass: how many entries wait for the fee (0: none).
  void sawWaiting(std::size_t waiting) { waiting_ = waiting; }

  // Takes in what was seen since the last call: the states it changed, each once (entering and
  // leaving the wait for fees; the funds state), to log.
  [[nodiscard]] std::vector<FundsNotice> update(std::int64_t now);

  [[nodiscard]] FundsState state() const { return state_; }
  // What a 1-drop reply costs now: the fee the outbox would sign at (at most the ceiling) + 1.
  [[nodiscard]] std::optional<std::uint64_t> replyCost() const;
  [[nodiscard]] std::optional<std::int64_t> spendable() const;
  [[nodiscard]] std::optional<std::uint64_t> reserve() const;
  [[nodiscard]] std::optional<std::uint64_t> balance() const;
  [[nodiscard]] std::optional<FeeView> fee() const { return fee_; }
  [[nodiscard]] std::size_t waiting() const { return waiting_; }
  [[nodiscard]] FeesRow feesRow() const;
  [[nodiscard]] FundsRow fundsRow() const;

 private:
  [[nodiscard]] FundsState assess() const;

  FeeLimits limits_;
  std::uint64_t minFee_;
  std::optional<FeeView> fee_;
  std::optional<ReserveView> reserves_;
  std::optional<AccountView> account_;
  bool unfunded_ = false;
  std::size_t waiting_ = 0;
  std::optional<std::int64_t> waitingSince_;
  FundsState state_ = FundsState::unknown;
};

}  // namespace sashimono::node
