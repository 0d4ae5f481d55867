#include "sashimono/lease/Pricing.h"

#include <algorithm>

#include "sashimono/protocol/Messages.h"

namespace sashimono::lease {

Purchase buyMoments(protocol::Drops amount, protocol::Drops price, std::uint64_t maxMoments) {
  Purchase p;
  if (price == 0) {
    p.refund = amount;
    return p;
  }
  std::uint64_t affordable = amount / price;
  p.moments = std::min(affordable, maxMoments);
  p.capped = p.moments < affordable;
  p.cost = p.moments * price;  // ≤ amount: no overflow
  p.refund = amount - p.cost;
  return p;
}

std::uint64_t unusedMoments(UnixSeconds now, UnixSeconds expiresAt, std::uint64_t momentSeconds) {
  if (now >= expiresAt || momentSeconds == 0) return 0;
  return (expiresAt - now) / momentSeconds;
}

std::uint64_t heldMoments(UnixSeconds now, UnixSeconds expiresAt, std::uint64_t momentSeconds) {
  if (now >= expiresAt || momentSeconds == 0) return 0;
  std::uint64_t left = expiresAt - now;
  return left / momentSeconds + (left % momentSeconds != 0 ? 1 : 0);
}

std::optional<UnixSeconds> addMoments(UnixSeconds t, std::uint64_t moments, std::uint64_t momentSeconds) {
  constexpr std::uint64_t kMax = protocol::kMaxJsonInteger;
  if (t > kMax) return std::nullopt;
  if (moments != 0 && momentSeconds > (kMax - t) / moments) return std::nullopt;
  return t + moments * momentSeconds;
}

}  // namespace sashimono::lease
