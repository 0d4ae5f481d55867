#pragma once
// The time source of the lease book, injectable so that expiry is tested without waiting.
// Time is whole Unix seconds (the unit of every time in the protocol).
#include <cstdint>

namespace sashimono::lease {

using UnixSeconds = std::uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Must be thread-safe and never go backwards by more than the caller tolerates; the book
  // treats a time before a lease's start as its start.
  [[nodiscard]] virtual UnixSeconds now() const = 0;
};

// The system's real-time clock (CLOCK_REALTIME). Thread-safe.
class SystemClock final : public Clock {
 public:
  [[nodiscard]] UnixSeconds now() const override;
};

}  // namespace sashimono::lease
