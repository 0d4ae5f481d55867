#pragma once
// rippled's ledger range lists: the `complete_ledgers` of server_info and the `validated_ledgers`
// of the ledger stream, "a-b,c-d,e" (ascending, inclusive) or "empty". One parser for the board
// client, the node's outbox and the devnet that writes them.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sashimono::ledger {

struct LedgerRange {
  std::uint32_t first = 0;
  std::uint32_t last = 0;  // inclusive; first <= last
  bool operator==(const LedgerRange&) const = default;
};

// "empty" is no range; every part is "N" or "N-M" with N <= M, digits only, 32-bit. nullopt for
// anything else (a malformed list is trusted for nothing).
[[nodiscard]] std::optional<std::vector<LedgerRange>> parseLedgerRanges(std::string_view text);

// True if one range holds all of [first, last].
[[nodiscard]] bool coversLedgers(const std::vector<LedgerRange>& ranges, std::uint32_t first,
                                 std::uint32_t last);

// The lowest ledger of the list, if any.
[[nodiscard]] std::optional<std::uint32_t> lowestLedger(const std::vector<LedgerRange>& ranges);

// The text form ("empty" for none; "N" for a range of one ledger).
[[nodiscard]] std::string formatLedgerRanges(const std::vector<LedgerRange>& ranges);

}  // namespace sashimono::ledger
