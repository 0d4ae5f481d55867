#include "sashimono/lease/Offer.h"

#include <string>

#include "sashimono/protocol/Messages.h"

namespace sashimono::lease {

core::Status validateOffer(const Offer& offer) {
  if (offer.pricePerMoment < 1 || offer.pricePerMoment > protocol::kMaxDrops) {
    return core::Error("offer: price per moment must be 1.." + std::to_string(protocol::kMaxDrops) +
                       " drops");
  }
  if (offer.momentSeconds < 1) return core::Error("offer: moment length must be at least 1 second");
  if (offer.maxMoments < 1) return core::Error("offer: maxMoments must be at least 1");
  if (offer.momentSeconds > protocol::kMaxJsonInteger / offer.maxMoments) {
    return core::Error("offer: maxMoments × momentSeconds must stay below 2^53");
  }
  return {};
}

}  // namespace sashimono::lease
