#pragma once
// A Clock the test moves by hand.
#include "sashimono/lease/Clock.h"

namespace sashimono::lease::fakes {

class ManualClock final : public Clock {
 public:
  explicit ManualClock(UnixSeconds start = 1'700'000'000) : now_(start) {}
  [[nodiscard]] UnixSeconds now() const override { return now_; }
  void set(UnixSeconds t) { now_ = t; }
  void advance(UnixSeconds seconds) { now_ += seconds; }

 private:
  UnixSeconds now_;
};

}  // namespace sashimono::lease::fakes
