#include "sashimono/statefs/UndoLog.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <vector>

#include "TempTree.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::TempTree;

std::vector<UndoRecord> everyKind() {
  return {UndoRecord::created("/a/b"),
          UndoRecord::trashed("/x", 7),
          UndoRecord::renamed("/from", "/to/here"),
          UndoRecord::exchanged("/p", "/q", 12, 34),
          UndoRecord::pathMode("/d", 0750),
          UndoRecord::fileMode(3, 0600),
          UndoRecord::size(3, (1ULL << 40) + 5),
          UndoRecord::block(3, 12, std::vector<std::uint8_t>(kUndoBlock, 0xab)),
          UndoRecord::block(4, 0, {})};
}

TEST(UndoLogTest, EveryRecordDecodesToWhatWasEncoded) {
  for (const auto& r : everyKind()) {
    auto bytes = encodeUndoRecord(r);
    auto d = decodeUndoRecord(bytes);
    ASSERT_TRUE(d.has_value()) << static_cast<int>(r.op);
    EXPECT_EQ(d->size, bytes.size());
    EXPECT_EQ(d->record.op, r.op);
    EXPECT_EQ(d->record.path, r.path);
    EXPECT_EQ(d->record.path2, r.path2);
    EXPECT_EQ(d->record.id, r.id);
    EXPECT_EQ(d->record.value, r.value);
    EXPECT_EQ(d->record.data, r.data);
  }
}

TEST(UndoLogTest, ATornOrDamagedRecordIsNotARecord) {
  for (const auto& r : everyKind()) {
    auto bytes = encodeUndoRecord(r);
    for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{12}, bytes.size() - 1}) {
      EXPECT_FALSE(decodeUndoRecord(std::span(bytes).first(cut)).has_value()) << cut;
    }
    auto flipped = bytes;
    flipped.back() ^= 1;
    EXPECT_FALSE(decodeUndoRecord(flipped).has_value());
  }
  std::vector<std::uint8_t> zeros(64, 0);  // a preallocated tail reads as zeros
  EXPECT_FALSE(decodeUndoRecord(zeros).has_value());
}

TEST(UndoLogTest, ReplayStopsAtATornTailAndToleratesChangesThatNeverHappened) {
  TempTree t;
  fs::create_directories(t.path("src/d"));
  t.write("src/keep", "k");
  auto dir = SourceDir::open(t.path("src").string());
  ASSERT_TRUE(dir.ok());
  auto log = UndoLog::open(t.path("undo").string(), *dir);
  ASSERT_TRUE(log.ok()) << log.error().message;
  ASSERT_TRUE(log->begin().ok());
  // Records whose changes never happened: a name "created" that was not, a trash entry that
  // does not exist, a rename whose target is missing. Then a torn record.
  ASSERT_EQ(log->append(UndoRecord::created("/never")), 0);
  ASSERT_EQ(log->append(UndoRecord::trashed("/keep", 99)), 0);
  ASSERT_EQ(log->append(UndoRecord::renamed("/keep", "/moved")), 0);
  ASSERT_EQ(log->sync(), 0);
  auto torn = encodeUndoRecord(UndoRecord::created("/keep"));
  torn.resize(torn.size() - 1);
  {
    std::FILE* f = std::fopen(t.path("undo/round/log").c_str(), "ab");
    ASSERT_NE(f, nullptr);
    std::fwrite(torn.data(), 1, torn.size(), f);
    std::fclose(f);
  }
  auto before = StateTree::build(t.path("src").string());
  ASSERT_TRUE(before.ok());
  auto reopened = UndoLog::open(t.path("undo").string(), *dir);
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE(reopened->roundPresent());
  ASSERT_TRUE(reopened->rollback(nullptr).ok());
  EXPECT_EQ(t.read("src/keep"), "k");  // the torn record's "created /keep" was not undone
  EXPECT_FALSE(reopened->roundPresent());
  auto after = StateTree::build(t.path("src").string());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->root(), before->root());
}

TEST(UndoLogTest, TheUndoDirectoryMustShareTheStatesFilesystem) {
  TempTree t;
  fs::create_directories(t.path("src"));
  auto dir = SourceDir::open(t.path("src").string());
  ASSERT_TRUE(dir.ok());
  if (fs::exists("/dev/shm") && fs::status("/dev/shm").type() == fs::file_type::directory) {
    struct stat a {
    }, b{};
    ASSERT_EQ(::stat("/dev/shm", &a), 0);
    ASSERT_EQ(::stat(t.path().c_str(), &b), 0);
    if (a.st_dev == b.st_dev) GTEST_SKIP() << "/dev/shm is on the temp directory's filesystem";
    TempTree other;  // in the default temp dir; make one under /dev/shm by hand
    std::string tmpl = "/dev/shm/sashi-undo-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    auto log = UndoLog::open(tmpl + "/u", *dir);
    EXPECT_FALSE(log.ok());
    std::error_code ec;
    fs::remove_all(tmpl, ec);
  }
}

}  // namespace
}  // namespace sashimono::statefs
