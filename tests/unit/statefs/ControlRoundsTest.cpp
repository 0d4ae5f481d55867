// The round and view verbs of the control protocol, answered without a socket
// (ControlProtocol::answer) over HashingBackend → RoundBackend → PassthroughBackend.
#include <fcntl.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>

#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/ControlProtocol.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/ViewBackend.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::TempTree;

std::string hashOf(const fs::path& dir) {
  auto t = StateTree::build(dir.string());
  return t.ok() ? core::toHexLower(t->root()) : t.error().message;
}

class ControlRoundsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(t_.path("src"));
    t_.write("src/f", "committed");
    auto dir = SourceDir::open(t_.path("src").string());
    ASSERT_TRUE(dir.ok());
    inner_.emplace(std::move(dir).value());
    auto log = UndoLog::open(t_.path("undo").string(), inner_->source());
    ASSERT_TRUE(log.ok()) << log.error().message;
    rounds_.emplace(*inner_, inner_->source(), std::move(log).value());
    auto tree = StateTree::build(t_.path("src").string());
    ASSERT_TRUE(tree.ok());
    be_.emplace(*rounds_, std::move(tree).value());
    views_.emplace(*rounds_);
  }
  std::string ask(const ControlProtocol& p, std::string_view line) { return p.answer(line); }

  TempTree t_;
  std::optional<PassthroughBackend> inner_;
  std::optional<RoundBackend> rounds_;
  std::optional<HashingBackend> be_;
  std::optional<ViewBackend> views_;
};

TEST_F(ControlRoundsTest, BeginCommitRollbackStatusAndViews) {
  const ControlProtocol p = stateControl(*be_, &*rounds_, &*views_);
  const std::string committed = hashOf(t_.path("src"));
  EXPECT_EQ(ask(p, "status"), "ok idle 0\n");
  EXPECT_EQ(ask(p, "rollback"), "error rollback: no round is open\n");
  EXPECT_EQ(ask(p, "begin"), "ok " + committed + "\n");
  EXPECT_EQ(ask(p, "begin"), "error begin: a round is already open\n");
  EXPECT_EQ(ask(p, "begin now"), "error begin takes no arguments\n");
  EXPECT_EQ(ask(p, "view open"), "ok 1 " + committed + "\n");
  Handle h = 0;
  ASSERT_EQ(be_->open("/f", O_RDWR, h), 0);
  ASSERT_EQ(be_->write(h, "CHANGED", 7, 0), 7);
  ASSERT_EQ(be_->release(h), 0);
  EXPECT_EQ(ask(p, "status").rfind("ok round ", 0), 0U);
  EXPECT_EQ(ask(p, "root"), "ok " + hashOf(t_.path("src")) + "\n");
  EXPECT_EQ(ask(p, "rollback"), "ok " + committed + "\n");
  EXPECT_EQ(t_.read("src/f"), "committed");
  EXPECT_EQ(views_->openViews(), 1U);  // a rollback keeps the views
  EXPECT_EQ(ask(p, "begin"), "ok " + committed + "\n");
  ASSERT_EQ(be_->unlink("/f"), 0);
  EXPECT_EQ(ask(p, "commit"), "ok " + hashOf(t_.path("src")) + "\n");
  EXPECT_EQ(views_->openViews(), 0U);  // a commit ends them
  EXPECT_EQ(ask(p, "view close 1"), "error view close: no open view 1\n");
  EXPECT_EQ(ask(p, "view close x"), "error view close: expected a view id\n");
  EXPECT_EQ(ask(p, "view"), "error view: expected 'open' or 'close ID'\n");
  EXPECT_EQ(ask(p, "view open"), "ok 2 " + hashOf(t_.path("src")) + "\n");
  EXPECT_EQ(ask(p, "view close 2"), "ok\n");
}

TEST_F(ControlRoundsTest, WithoutAnUndoDirectoryRoundsAreRefused) {
  const ControlProtocol p = stateControl(*be_);
  EXPECT_EQ(ask(p, "begin"), "error begin: rounds need an undo directory (statefs mount --undo DIR)\n");
  EXPECT_EQ(ask(p, "rollback"), "error rollback: rounds need an undo directory (statefs mount --undo DIR)\n");
  EXPECT_EQ(ask(p, "commit"), "ok " + hashOf(t_.path("src")) + "\n");
  EXPECT_EQ(ask(p, "view open"), "error unknown request: view\n");
}

}  // namespace
}  // namespace sashimono::statefs
