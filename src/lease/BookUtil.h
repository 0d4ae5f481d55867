#pragma once
// Helpers shared by Book.cpp (completions, policy) and BookRequests.cpp (requests).
#include "sashimono/lease/Action.h"
#include "sashimono/protocol/Amount.h"

namespace sashimono::lease::detail {

inline ledger::Amount xrp(protocol::Drops d) {
  ledger::Amount a;
  a.native = true;
  a.drops = d;
  return a;
}

// Refunds are at most what the host was paid; saturate rather than overflow in any case.
inline protocol::Drops saturatingAdd(protocol::Drops a, protocol::Drops b) {
  return protocol::addDrops(a, b).value_or(protocol::kMaxDrops);
}

inline Decision duplicate() {
  Decision d;
  d.duplicate = true;
  return d;
}

}  // namespace sashimono::lease::detail
