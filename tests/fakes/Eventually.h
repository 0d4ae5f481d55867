#pragma once
// Polling for a condition in tests that watch other threads or processes: true as soon as `f()`
// is, false when `limit` passes first (f is asked once more at the end).
#include <chrono>
#include <thread>

namespace sashimono::fakes {

template <typename F>
bool eventually(F f, std::chrono::milliseconds limit = std::chrono::seconds(5),
                std::chrono::milliseconds step = std::chrono::milliseconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(step);
  }
  return f();
}

}  // namespace sashimono::fakes
