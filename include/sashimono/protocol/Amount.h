#pragma once
// XRP amounts in drops, with checked arithmetic. A drop amount is valid when it is at most
// kMaxDrops (the XRP supply, 10^17 drops); every operation that could exceed it (or wrap)
// returns std::nullopt instead. Pure functions, thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"

namespace sashimono::protocol {

using Drops = std::uint64_t;
inline constexpr Drops kMaxDrops = 100'000'000'000'000'000ULL;  // 10^17

// a × b, or nullopt when the product exceeds kMaxDrops.
std::optional<Drops> mulDrops(Drops a, std::uint64_t b);
// a + b, or nullopt when the sum exceeds kMaxDrops.
std::optional<Drops> addDrops(Drops a, Drops b);

// Decimal, no sign, no leading zeros ("0" for zero).
std::string formatDrops(Drops d);
// Strict inverse of formatDrops: 1..18 decimal digits, no leading zero (except "0"), ≤ kMaxDrops.
core::Result<Drops> parseDrops(std::string_view text);

}  // namespace sashimono::protocol
