#include "sashimono/ledger/LedgerRanges.h"

#include <algorithm>
#include <charconv>

namespace sashimono::ledger {

namespace {

std::optional<std::uint32_t> ledgerNumber(std::string_view s) {
  std::uint32_t v = 0;
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::vector<LedgerRange>> parseLedgerRanges(std::string_view text) {
  std::vector<LedgerRange> out;
  if (text == "empty") return out;
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    const std::size_t dash = part.find('-');
    auto first = ledgerNumber(part.substr(0, dash));
    auto last = dash == std::string_view::npos ? first : ledgerNumber(part.substr(dash + 1));
    if (!first || !last || *first > *last) return std::nullopt;
    out.push_back(LedgerRange{*first, *last});
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

bool coversLedgers(const std::vector<LedgerRange>& ranges, std::uint32_t first, std::uint32_t last) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const LedgerRange& r) { return r.first <= first && last <= r.last; });
}

std::optional<std::uint32_t> lowestLedger(const std::vector<LedgerRange>& ranges) {
  if (ranges.empty()) return std::nullopt;
  return std::min_element(ranges.begin(), ranges.end(),
                          [](const LedgerRange& a, const LedgerRange& b) { return a.first < b.first; })
      ->first;
}

std::string formatLedgerRanges(const std::vector<LedgerRange>& ranges) {
  if (ranges.empty()) return "empty";
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) out += ',';
    out += std::to_string(r.first);
    if (r.last != r.first) out += "-" + std::to_string(r.last);
  }
  return out;
}

}  // namespace sashimono::ledger
