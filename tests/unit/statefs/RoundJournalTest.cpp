#include "sashimono/statefs/RoundJournal.h"

#include <gtest/gtest.h>

namespace sashimono::statefs {
namespace {

JournalEntry entry(UndoOp op, std::string a, std::string b = {}, std::uint64_t id = 0) {
  return JournalEntry{op, std::move(a), std::move(b), id, 0, 0};
}

TEST(RoundJournalTest, UnderPathMatchesWholeComponentsOnly) {
  EXPECT_EQ(underPath("/a/b", "/a"), std::optional<std::string_view>("/b"));
  EXPECT_EQ(underPath("/a", "/a"), std::optional<std::string_view>(""));
  EXPECT_FALSE(underPath("/ab", "/a"));
  EXPECT_EQ(underPath("/x", "/"), std::optional<std::string_view>("/x"));
  EXPECT_EQ(underPath("#7/b", "#7"), std::optional<std::string_view>("/b"));
}

TEST(RoundJournalTest, LocateFollowsRenamesTrashAndExchanges) {
  RoundJournal j;
  j.add(entry(UndoOp::kRenamed, "/d", "/e"));     // d → e
  j.add(entry(UndoOp::kTrashed, "/e/x", {}, 7));  // e/x removed
  j.add(entry(UndoOp::kCreated, "/e/x"));         // a new e/x
  j.add(entry(UndoOp::kExchanged, "/a", "/b"));
  EXPECT_EQ(j.locate("/d/x"), "#7");
  EXPECT_EQ(j.locate("/d/y/z"), "/e/y/z");
  EXPECT_EQ(j.locate("/a"), "/b");
  EXPECT_EQ(j.locate("/b/c"), "/a/c");
  EXPECT_EQ(j.locate("/other"), "/other");

  EXPECT_EQ(j.committedPathOf("#7"), std::optional<std::string>("/d/x"));
  EXPECT_EQ(j.committedPathOf("/e/x"), std::nullopt);  // created in the round
  EXPECT_EQ(j.committedPathOf("/e/y/z"), std::optional<std::string>("/d/y/z"));
  EXPECT_EQ(j.committedPathOf("/b"), std::optional<std::string>("/a"));
  EXPECT_EQ(j.committedPathOf("#9"), std::nullopt);  // no entry explains it
  // Children moved out of a committed directory: d's x (trashed), the root's d, a and b.
  EXPECT_EQ(j.movedChildren("/d"), std::vector<std::string>{"x"});
  EXPECT_EQ(j.movedChildren("/"), (std::vector<std::string>{"a", "b", "d"}));
}

TEST(RoundJournalTest, TheFirstModeChangeOfAnInodeIsItsCommittedMode) {
  RoundJournal j;
  j.add(JournalEntry{UndoOp::kPathMode, "/d", {}, 0, 0750, 5});
  j.add(entry(UndoOp::kRenamed, "/d", "/e"));
  j.add(JournalEntry{UndoOp::kPathMode, "/e", {}, 0, 0700, 5});  // the same directory again
  j.add(JournalEntry{UndoOp::kFileMode, {}, {}, 0, 0644, 42});
  j.add(JournalEntry{UndoOp::kPathMode, "/other-link", {}, 0, 0600, 42});  // by another name
  EXPECT_EQ(j.committedMode(5), std::optional<mode_t>(0750));
  EXPECT_EQ(j.committedMode(42), std::optional<mode_t>(0644));
  EXPECT_EQ(j.committedMode(43), std::nullopt);
}

}  // namespace
}  // namespace sashimono::statefs
