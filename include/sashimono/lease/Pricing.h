#pragma once
// Lease arithmetic (docs/PROTOCOL.md §9): whole moments bought from an amount, what is left
// over, and what is unused at a given time. Pure functions, overflow-safe: every product is
// bounded by its inputs or checked.
#include <cstdint>
#include <optional>

#include "sashimono/lease/Clock.h"
#include "sashimono/protocol/Amount.h"

namespace sashimono::lease {

struct Purchase {
  std::uint64_t moments = 0;   // whole moments bought
  protocol::Drops cost = 0;    // moments × price (≤ amount)
  protocol::Drops refund = 0;  // amount − cost
  bool capped = false;         // fewer moments than paid for because of `maxMoments`
};

// Buys min(amount / price, maxMoments) moments. price must be ≥ 1.
Purchase buyMoments(protocol::Drops amount, protocol::Drops price, std::uint64_t maxMoments);

// Whole moments left before `expiresAt`: floor((expiresAt − now) / momentSeconds), 0 when
// now ≥ expiresAt. The moment in progress is never refunded.
std::uint64_t unusedMoments(UnixSeconds now, UnixSeconds expiresAt, std::uint64_t momentSeconds);

// Moments the lease holds ahead of now, counting the one in progress:
// ceil((expiresAt − now) / momentSeconds), 0 when now ≥ expiresAt.
std::uint64_t heldMoments(UnixSeconds now, UnixSeconds expiresAt, std::uint64_t momentSeconds);

// t + moments × momentSeconds, or nullopt on overflow past 2^53 − 1.
std::optional<UnixSeconds> addMoments(UnixSeconds t, std::uint64_t moments, std::uint64_t momentSeconds);

}  // namespace sashimono::lease
