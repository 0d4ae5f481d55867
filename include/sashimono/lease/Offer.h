#pragma once
// What a host offers: instance slots of one fixed size, and the price of time.
#include <cstdint>

#include "sashimono/core/Result.h"
#include "sashimono/protocol/Amount.h"

namespace sashimono::lease {

// The resources of every instance (the per-tenant cgroup and disk limits).
struct InstanceSize {
  std::uint64_t cpuMillis = 1000;  // thousandths of a core
  std::uint64_t memoryMiB = 512;
  std::uint64_t swapMiB = 0;
  std::uint64_t diskMiB = 1024;
  bool operator==(const InstanceSize&) const = default;
};

struct Offer {
  std::uint32_t instances = 0;  // slots
  InstanceSize size;
  protocol::Drops pricePerMoment = 0;  // ≥ 1
  std::uint64_t momentSeconds = 0;     // ≥ 1
  std::uint64_t maxMoments = 0;        // ≥ 1: most moments a lease may hold ahead of now
  bool operator==(const Offer&) const = default;
};

// Price ≥ 1 drop and ≤ kMaxDrops, moment ≥ 1 s, maxMoments ≥ 1, and maxMoments × momentSeconds
// below 2^53 (so that every expiry stays exact in JSON and far from overflow).
core::Status validateOffer(const Offer& offer);

}  // namespace sashimono::lease
