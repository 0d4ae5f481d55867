#pragma once
// Exactly-once delivery bookkeeping: the ledger cursor plus a bounded dedupe window by hash.
//
// The cursor `finished()` is the last ledger whose transactions have all been delivered (what the
// consumer persists). A transaction is admitted when its ledger is after the cursor and its hash
// has not been admitted before; whatever the source (stream, catch-up, audit, another server),
// a second sighting is refused. finish(L) moves the cursor forward (never back) and forgets the
// hashes of ledgers ≤ L, which the cursor now refuses on its own. The window also holds at most
// `maxEntries` hashes: beyond it the entries of the lowest ledgers are dropped first.
//
// Pure logic; not thread-safe (the board client uses it from its worker thread only).
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>

#include "sashimono/crypto/Hash.h"

namespace sashimono::board {

class DeliveryTracker {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 100000;

  explicit DeliveryTracker(std::uint32_t finished = 0, std::size_t maxEntries = kDefaultMaxEntries);

  // True the first time a hash is offered for a ledger after the cursor; records it.
  [[nodiscard]] bool admit(const crypto::Hash256& hash, std::uint32_t ledger);
  // True if admit() would refuse it (seen, or at/below the cursor). Does not record.
  [[nodiscard]] bool seen(const crypto::Hash256& hash, std::uint32_t ledger) const;
  // Moves the cursor to `ledger` if that is forward; returns true if it moved.
  bool finish(std::uint32_t ledger);

  [[nodiscard]] std::uint32_t finished() const { return finished_; }
  [[nodiscard]] std::size_t windowSize() const { return byHash_.size(); }

 private:
  struct HashKey {
    std::size_t operator()(const crypto::Hash256& h) const noexcept;
  };
  void evictOverflow();

  std::uint32_t finished_;
  std::size_t maxEntries_;
  std::unordered_map<crypto::Hash256, std::uint32_t, HashKey> byHash_;
  std::map<std::uint32_t, std::set<crypto::Hash256>> byLedger_;
};

}  // namespace sashimono::board
