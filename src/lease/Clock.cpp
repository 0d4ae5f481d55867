#include "sashimono/lease/Clock.h"

#include <chrono>

namespace sashimono::lease {

UnixSeconds SystemClock::now() const {
  auto s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
  return s.count() < 0 ? 0 : static_cast<UnixSeconds>(s.count());
}

}  // namespace sashimono::lease
