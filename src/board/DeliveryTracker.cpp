#include "sashimono/board/DeliveryTracker.h"

#include <cstring>

namespace sashimono::board {

std::size_t DeliveryTracker::HashKey::operator()(const crypto::Hash256& h) const noexcept {
  std::size_t v = 0;
  std::memcpy(&v, h.data(), sizeof v);  // a hash is already uniformly distributed
  return v;
}

DeliveryTracker::DeliveryTracker(std::uint32_t finished, std::size_t maxEntries)
    : finished_(finished), maxEntries_(maxEntries == 0 ? 1 : maxEntries) {}

bool DeliveryTracker::seen(const crypto::Hash256& hash, std::uint32_t ledger) const {
  return ledger <= finished_ || byHash_.count(hash) != 0;
}

bool DeliveryTracker::admit(const crypto::Hash256& hash, std::uint32_t ledger) {
  if (seen(hash, ledger)) return false;
  byHash_.emplace(hash, ledger);
  byLedger_[ledger].insert(hash);
  evictOverflow();
  return true;
}

bool DeliveryTracker::finish(std::uint32_t ledger) {
  if (ledger <= finished_) return false;
  finished_ = ledger;
  while (!byLedger_.empty() && byLedger_.begin()->first <= finished_) {
    for (const auto& h : byLedger_.begin()->second) byHash_.erase(h);
    byLedger_.erase(byLedger_.begin());
  }
  return true;
}

void DeliveryTracker::evictOverflow() {
  while (byHash_.size() > maxEntries_ && !byLedger_.empty()) {
    auto& lowest = byLedger_.begin()->second;
    byHash_.erase(*lowest.begin());
    lowest.erase(lowest.begin());
    if (lowest.empty()) byLedger_.erase(byLedger_.begin());
  }
}

}  // namespace sashimono::board
