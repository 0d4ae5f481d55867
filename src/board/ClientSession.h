#pragma once
// One connection's session state of the board client (BoardClient.cpp, TrustedLedgers.cpp).
#include <chrono>
#include <cstdint>
#include <string>

#include "sashimono/board/BoardClient.h"

namespace sashimono::board {

struct BoardClient::Session {
  std::string url;
  std::size_t urlIndex = 0;
  std::chrono::steady_clock::time_point lastLedgerAt = std::chrono::steady_clock::now();
  std::uint32_t lastLedger = 0;
  bool live = false;        // subscribed and caught up
  bool progressed = false;  // saw a new ledger close (trust mode: a new quorum-validated one) while live
  bool faulted = false;     // trust mode: served something that failed a check
};

}  // namespace sashimono::board
