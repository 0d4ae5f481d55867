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
    reopen();
  }
  // The stack over the same directories, as a new daemon makes it (`resume`: with a control
  // socket, a round left open is taken up).
  void reopen(bool resume = false) {
    views_.reset();
    be_.reset();
    rounds_.reset();
    inner_.reset();
    auto dir = SourceDir::open(t_.path("src").string());
    ASSERT_TRUE(dir.ok());
    inner_.emplace(std::move(dir).value());
    auto log = UndoLog::open(t_.path("undo").string(), inner_->source());
    ASSERT_TRUE(log.ok()) << log.error().message;
    rounds_.emplace(*inner_, inner_->source(), std::move(log).value());
    if (resume) {
      auto taken = rounds_->resume();
      ASSERT_TRUE(taken.ok()) << taken.error().message;
      EXPECT_TRUE(*taken);
    }
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

// A round a stopped daemon left open, taken up by the next one: its state is served as it is,
// changes and views are refused until its owner commits or rolls it back.
TEST_F(ControlRoundsTest, ARoundTakenUpAgainWaitsForItsOwner) {
  const std::string committed = hashOf(t_.path("src"));
  {
    const ControlProtocol p = stateControl(*be_, &*rounds_, &*views_);
    EXPECT_EQ(ask(p, "begin"), "ok " + committed + "\n");
    Handle h = 0;
    ASSERT_EQ(be_->open("/f", O_RDWR, h), 0);
    ASSERT_EQ(be_->write(h, "ROUND", 5, 0), 5);
    ASSERT_EQ(be_->release(h), 0);
  }
  const std::string round = hashOf(t_.path("src"));
  for (const bool commitIt : {false, true}) {
    reopen(true);
    const ControlProtocol p = stateControl(*be_, &*rounds_, &*views_);
    EXPECT_TRUE(rounds_->recovered());
    EXPECT_EQ(ask(p, "status").rfind("ok round ", 0), 0U);
    EXPECT_NE(ask(p, "status").find(" recovered\n"), std::string::npos) << ask(p, "status");
    EXPECT_EQ(ask(p, "root"), "ok " + round + "\n");
    EXPECT_EQ(ask(p, "view open"),
              "error view open: the round left open at mount is not committed or rolled back yet\n");
    EXPECT_EQ(ask(p, "begin"), "error begin: a round is already open\n");
    Handle h = 0;
    EXPECT_EQ(be_->create("/g", O_RDWR, 0644, h), -EROFS);
    EXPECT_EQ(be_->unlink("/f"), -EROFS);
    ASSERT_EQ(be_->open("/f", O_RDWR, h), 0);
    EXPECT_EQ(be_->write(h, "x", 1, 0), -EROFS);
    ASSERT_EQ(be_->release(h), 0);
    if (!commitIt) {  // not decided: the next daemon takes it up again
      continue;
    }
    EXPECT_EQ(ask(p, "commit"), "ok " + round + "\n");
    EXPECT_FALSE(rounds_->recovered());
    EXPECT_EQ(t_.read("src/f"), "ROUNDtted");
    EXPECT_EQ(ask(p, "status"), "ok idle 0\n");
    EXPECT_EQ(ask(p, "begin"), "ok " + round + "\n");
    ASSERT_EQ(be_->unlink("/f"), 0);  // changes again
    EXPECT_EQ(ask(p, "rollback"), "ok " + round + "\n");
  }
  // Another round left open, rolled back by its owner: the state the round started from.
  {
    const ControlProtocol p = stateControl(*be_, &*rounds_, &*views_);
    ASSERT_EQ(ask(p, "begin"), "ok " + round + "\n");
    Handle h = 0;
    ASSERT_EQ(be_->create("/g", O_RDWR, 0644, h), 0);
    ASSERT_EQ(be_->release(h), 0);
  }
  reopen(true);
  const ControlProtocol p = stateControl(*be_, &*rounds_, &*views_);
  EXPECT_NE(ask(p, "root"), "ok " + round + "\n");
  EXPECT_EQ(ask(p, "rollback"), "ok " + round + "\n");
  EXPECT_FALSE(fs::exists(t_.path("src/g")));
  EXPECT_EQ(t_.read("src/f"), "ROUNDtted");
  EXPECT_NE(round, committed);
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
