#include <chrono>

#include "sashimono/runtime/Consensus.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {

std::uint64_t nowMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

SoloConsensus::SoloConsensus(InstanceKey key, std::uint64_t roundTimeMs, bool periodic,
                             std::uint64_t busyRoundMs)
    : key_(std::move(key)), roundTimeMs_(roundTimeMs), periodic_(periodic), busyRoundMs_(busyRoundMs) {}

void SoloConsensus::submit(RoundInput in) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(in));
  }
  cv_.notify_all();
}

void SoloConsensus::wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void SoloConsensus::stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

void SoloConsensus::interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_all();
}

std::vector<RoundInput> SoloConsensus::takePending() {
  std::lock_guard lock(mu_);
  std::vector<RoundInput> out(std::make_move_iterator(pending_.begin()),
                              std::make_move_iterator(pending_.end()));
  pending_.clear();
  return out;
}

void SoloConsensus::setPacing(std::uint64_t roundTimeMs, bool periodic, std::uint64_t busyRoundMs) {
  {
    std::lock_guard lock(mu_);
    roundTimeMs_ = roundTimeMs;
    periodic_ = periodic;
    busyRoundMs_ = busyRoundMs;
  }
  cv_.notify_all();
}

std::size_t SoloConsensus::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

std::optional<RoundPlan> SoloConsensus::nextRound(const LedgerRecord& lcl,
                                                  std::vector<PubKey> connectedUsers) {
  std::unique_lock lock(mu_);
  // Busy: inputs arrived while the previous round ran. They wait until busyRoundMs after its start.
  // One is not load: a user's next input, sent as soon as the round's output reached it (outputs
  // go out before the round's state commit), may well be here already.
  if (pending_.size() >= 2 && busyRoundMs_ != 0 && lastStart_) {
    const auto notBefore = *lastStart_ + std::chrono::milliseconds(busyRoundMs_);
    cv_.wait_until(lock, notBefore, [&] { return stopped_ || interrupted_; });
  }
  auto due = [&] { return stopped_ || interrupted_ || woken_ || !pending_.empty(); };
  if (periodic_) {
    // Next window boundary after the last ledger.
    auto wait = std::chrono::milliseconds(roundTimeMs_);
    auto last = lcl.timestamp;
    auto now = nowMs();
    if (last + roundTimeMs_ > now)
      wait = std::chrono::milliseconds(last + roundTimeMs_ - now);
    else
      wait = std::chrono::milliseconds(0);
    cv_.wait_for(lock, wait, due);
  } else {
    cv_.wait(lock, due);
  }
  if (stopped_) return std::nullopt;
  if (interrupted_) {
    interrupted_ = false;
    return std::nullopt;
  }
  woken_ = false;
  lastStart_ = std::chrono::steady_clock::now();
  RoundPlan p;
  p.seqNo = lcl.seqNo + 1;
  p.timestamp = std::max(nowMs(), lcl.timestamp + 1);
  p.inputs.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()));
  pending_.clear();
  p.users = std::move(connectedUsers);
  return p;
}

Agreed SoloConsensus::agree(const RoundPlan&, const Hash& outputRoot, const Hash&, const Hash& ledgerHash,
                            const std::function<void()>&) {
  Agreed a;
  a.rootSignatures.emplace_back(key_.publicKey(), key_.sign(outputRoot));
  a.ledgerSignatures.emplace_back(key_.publicKey(), key_.sign(ledgerDigest(ledgerHash)));
  return a;
}

}  // namespace sashimono::runtime
