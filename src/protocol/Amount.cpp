#include "sashimono/protocol/Amount.h"

namespace sashimono::protocol {

std::optional<Drops> mulDrops(Drops a, std::uint64_t b) {
  if (a == 0 || b == 0) return Drops{0};
  if (a > kMaxDrops / b) return std::nullopt;
  return a * b;
}

std::optional<Drops> addDrops(Drops a, Drops b) {
  if (a > kMaxDrops || b > kMaxDrops - a) return std::nullopt;
  return a + b;
}

std::string formatDrops(Drops d) { return std::to_string(d); }

core::Result<Drops> parseDrops(std::string_view text) {
  if (text.empty()) return core::Error("drops: empty string");
  if (text.size() > 18) return core::Error("drops: more than 18 digits");
  if (text.size() > 1 && text[0] == '0') return core::Error("drops: leading zero");
  Drops v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return core::Error("drops: not a decimal digit string");
    v = v * 10 + static_cast<Drops>(c - '0');
  }
  if (v > kMaxDrops) return core::Error("drops: more than 10^17");
  return v;
}

}  // namespace sashimono::protocol
