#include "sashimono/ledger/LedgerRanges.h"

#include <gtest/gtest.h>

namespace sashimono::ledger {
namespace {

using Ranges = std::vector<LedgerRange>;

TEST(LedgerRanges, ParsesRippledLists) {
  EXPECT_EQ(parseLedgerRanges("empty"), Ranges{});
  EXPECT_EQ(parseLedgerRanges("1-42"), (Ranges{{1, 42}}));
  EXPECT_EQ(parseLedgerRanges("7"), (Ranges{{7, 7}}));
  EXPECT_EQ(parseLedgerRanges("32570-5000000,5000005,5000010-5000020"),
            (Ranges{{32570, 5000000}, {5000005, 5000005}, {5000010, 5000020}}));
  EXPECT_EQ(parseLedgerRanges("0-4294967295"), (Ranges{{0, 4294967295u}}));
}

TEST(LedgerRanges, RejectsAnythingMalformed) {
  for (const char* bad : {"", ",", "1-", "-5", "1--5", "5-1", "1,", ",1", "1-2,,3", "a-b", "1 - 2", " 1-2",
                          "+1-2", "1-0x10", "4294967296", "1-4294967296", "Empty", "1-2;3-4"})
    EXPECT_FALSE(parseLedgerRanges(bad)) << bad;
}

TEST(LedgerRanges, CoverageAndLowest) {
  const auto r = *parseLedgerRanges("10-20,30-40");
  EXPECT_TRUE(coversLedgers(r, 10, 20));
  EXPECT_TRUE(coversLedgers(r, 12, 12));
  EXPECT_TRUE(coversLedgers(r, 35, 40));
  EXPECT_FALSE(coversLedgers(r, 15, 35));  // across the gap
  EXPECT_FALSE(coversLedgers(r, 9, 10));
  EXPECT_FALSE(coversLedgers(r, 40, 41));
  EXPECT_FALSE(coversLedgers({}, 1, 1));
  EXPECT_EQ(lowestLedger(r), 10u);
  EXPECT_EQ(lowestLedger(*parseLedgerRanges("30-40,5")), 5u);
  EXPECT_EQ(lowestLedger({}), std::nullopt);
}

TEST(LedgerRanges, FormatsWhatItParses) {
  for (const char* text : {"empty", "1", "1-42", "3,5-9,11-12"})
    EXPECT_EQ(formatLedgerRanges(*parseLedgerRanges(text)), text);
}

}  // namespace
}  // namespace sashimono::ledger
