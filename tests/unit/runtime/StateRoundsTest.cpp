#include "sashimono/runtime/StateRounds.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "fakes/runtime/FakeControl.h"
#include "fakes/runtime/StateTestDir.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;

struct TempDir : sashimono::fakes::StateTestDir {
  TempDir() : sashimono::fakes::StateTestDir("sashi-statehash") {}
};

Hash built(const fs::path& dir) { return sashimono::fakes::builtRoot(dir); }

TEST(StateRoundsSourcesTest, ParsesCommitAnswers) {
  const std::string hex(64, 'a');
  auto h = parseCommitAnswer("ok " + hex);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(core::toHexLower(*h), hex);
  auto e = parseCommitAnswer("error not allowed");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message.find("not allowed"), std::string::npos);
  for (auto bad : {std::string("ok"), std::string("ok ") + std::string(63, 'a'), "ok " + std::string(65, 'a'),
                   "ok " + std::string(64, 'A'), "ok " + std::string(64, 'g'), "OK " + hex, "okk" + hex})
    EXPECT_FALSE(parseCommitAnswer(bad).ok()) << bad;
}

TEST(StateRoundsSourcesTest, LocalSourceIsTheStateTreeRootAfterEveryChange) {
  TempDir d;
  fs::create_directories(d.path / "state/sub");
  std::ofstream(d.path / "patch.cfg") << "{}";
  std::ofstream(d.path / "state/a") << "one";
  auto src = makeLocalStateRounds(d.path.string());
  auto h1 = src->commit();
  ASSERT_TRUE(h1.ok()) << h1.error().message;
  EXPECT_EQ(*h1, built(d.path));
  // Changes of every kind between rounds (sizes change so that no racy-clean file is missed).
  std::ofstream(d.path / "state/a", std::ios::app) << "two";
  std::ofstream(d.path / "state/sub/b") << "bee";
  fs::create_symlink("a", d.path / "state/link");
  ::chmod((d.path / "state/sub/b").c_str(), 0755);
  auto h2 = src->commit();
  ASSERT_TRUE(h2.ok()) << h2.error().message;
  EXPECT_NE(*h2, *h1);
  EXPECT_EQ(*h2, built(d.path));
  fs::rename(d.path / "state/sub", d.path / "state/moved");
  fs::remove(d.path / "state/a");
  auto h3 = src->commit();
  ASSERT_TRUE(h3.ok()) << h3.error().message;
  EXPECT_EQ(*h3, built(d.path));
  // A state that cannot be hashed is an error, and the next round hashes anew.
  const auto sock = (d.path / "state/sock").string();
  int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_FALSE(src->commit().ok());
  ::close(s);
  fs::remove(sock);
  auto h4 = src->commit();
  ASSERT_TRUE(h4.ok()) << h4.error().message;
  EXPECT_EQ(*h4, *h3);
}

// A stand-in for the daemon's control socket: answers each "commit" with the next line given.
TEST(StateRoundsSourcesTest, StatefsSourceAsksCommitAndReconnectsOnce) {
  TempDir d;
  const auto path = (d.path / "c.sock").string();
  int ls = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(ls, 4), 0);
  const std::string h1(64, '1'), h2(64, '2');
  std::vector<std::string> requests;
  std::thread server([&] {
    // First connection: two answers, then it closes (a restarted daemon); second: one answer.
    for (int conn = 0; conn < 2; ++conn) {
      int c = ::accept(ls, nullptr, nullptr);
      if (c < 0) return;
      std::string buf;
      const int answers = conn == 0 ? 2 : 1;
      for (int i = 0; i < answers; ++i) {
        while (buf.find('\n') == std::string::npos) {
          char b[64];
          ssize_t n = ::read(c, b, sizeof b);
          if (n <= 0) break;
          buf.append(b, static_cast<std::size_t>(n));
        }
        auto nl = buf.find('\n');
        if (nl == std::string::npos) break;
        requests.push_back(buf.substr(0, nl));
        buf.erase(0, nl + 1);
        std::string ans =
            conn == 0 && i == 1 ? "error rounds are odd\n" : "ok " + (conn == 0 ? h1 : h2) + "\n";
        (void)!::write(c, ans.data(), ans.size());
      }
      ::close(c);
    }
  });
  auto src = makeStatefsStateRounds(path, std::chrono::seconds(5));
  auto r1 = src->commit();
  ASSERT_TRUE(r1.ok()) << r1.error().message;
  EXPECT_EQ(core::toHexLower(*r1), h1);
  auto r2 = src->commit();  // an error answer is final: no retry
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("rounds are odd"), std::string::npos);
  auto r3 = src->commit();  // the server closed: connect again, once
  ASSERT_TRUE(r3.ok()) << r3.error().message;
  EXPECT_EQ(core::toHexLower(*r3), h2);
  server.join();
  ::close(ls);
  EXPECT_EQ(requests, (std::vector<std::string>{"commit", "commit", "commit"}));
  // Nothing listening: an error naming the socket.
  fs::remove(path);
  auto none = makeStatefsStateRounds(path, std::chrono::seconds(1))->commit();
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find(path), std::string::npos);
}

using fakes::FakeControl;

const std::string kCommitted(64, 'c'), kChanged(64, 'd');

Hash hashOf(const std::string& hex) {
  auto h = parseCommitAnswer("ok " + hex);
  return h.ok() ? *h : Hash{};
}

// The round's sequence against a mount with an undo log: begin, root (the ledger's hash), commit.
TEST(StateRoundsTest, ARoundIsBeginRootCommit) {
  TempDir d;
  FakeControl ctl((d.path / "c.sock").string(), [](const std::string& r) {
    if (r == "begin") return "ok " + kCommitted;
    if (r == "root" || r == "commit") return "ok " + kChanged;
    return std::string("error unknown request: ") + r;
  });
  auto src = makeStatefsStateRounds(ctl.path(), std::chrono::seconds(5));
  EXPECT_FALSE(src->inRound());
  ASSERT_TRUE(src->begin(LedgerRecord{}).ok());
  EXPECT_TRUE(src->inRound());
  auto h = src->root();
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(*h, hashOf(kChanged));
  auto c = src->commit();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, *h);
  EXPECT_FALSE(src->inRound());
  EXPECT_EQ(ctl.requests(), (std::vector<std::string>{"begin", "root", "commit"}));
}

TEST(StateRoundsTest, AFailedRoundIsRolledBack) {
  TempDir d;
  FakeControl ctl((d.path / "c.sock").string(), [](const std::string& r) {
    if (r == "begin" || r == "rollback") return "ok " + kCommitted;
    return std::string("error unknown request: ") + r;
  });
  auto src = makeStatefsStateRounds(ctl.path(), std::chrono::seconds(5));
  ASSERT_TRUE(src->begin(LedgerRecord{}).ok());
  auto back = src->rollback();
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, hashOf(kCommitted));
  EXPECT_FALSE(src->inRound());
  EXPECT_EQ(ctl.requests(), (std::vector<std::string>{"begin", "rollback"}));
}

// An older host's mount (no --undo): rounds run as before, hashed by commit, nothing to roll back.
TEST(StateRoundsTest, WithoutAnUndoLogRoundsAreNotUndoable) {
  TempDir d;
  FakeControl ctl((d.path / "c.sock").string(), [](const std::string& r) {
    if (r == "begin")
      return std::string("error begin: rounds need an undo directory (statefs mount --undo DIR)");
    if (r == "status") return std::string("error unknown request: status");
    return "ok " + kChanged;
  });
  auto src = makeStatefsStateRounds(ctl.path(), std::chrono::seconds(5));
  ASSERT_TRUE(src->recover(LedgerRecord{}).ok());
  ASSERT_TRUE(src->begin(LedgerRecord{}).ok());
  EXPECT_FALSE(src->inRound());
  ASSERT_TRUE(src->begin(LedgerRecord{}).ok());  // asked once only
  EXPECT_TRUE(src->root().ok());
  EXPECT_EQ(ctl.requests(), (std::vector<std::string>{"status", "begin", "root"}));
}

// At start: a round left open is the ledger's when its state is the last ledger's state hash
// (the ledger was stored, the commit never came): committed; otherwise rolled back. Idle: nothing.
TEST(StateRoundsTest, RecoverCommitsTheLedgersRoundAndRollsBackAnyOther) {
  TempDir d;
  std::string status = "round 4096";
  FakeControl ctl((d.path / "c.sock").string(), [&status](const std::string& r) {
    if (r == "status") return "ok " + status;
    if (r == "root" || r == "commit") return "ok " + kChanged;
    if (r == "rollback" || r == "begin") return "ok " + kCommitted;
    return std::string("error unknown request: ") + r;
  });
  LedgerRecord lcl;
  lcl.seqNo = 7;
  lcl.stateHash = hashOf(kChanged);
  {
    auto src = makeStatefsStateRounds(ctl.path(), std::chrono::seconds(5));
    ASSERT_TRUE(src->recover(lcl).ok());
    EXPECT_FALSE(src->inRound());
  }
  lcl.stateHash = hashOf(kCommitted);
  {
    auto src = makeStatefsStateRounds(ctl.path(), std::chrono::seconds(5));
    ASSERT_TRUE(src->recover(lcl).ok());
    EXPECT_FALSE(src->inRound());
  }
  status = "idle 0";
  {
    auto src = makeStatefsStateRounds(ctl.path(), std::chrono::seconds(5));
    ASSERT_TRUE(src->recover(lcl).ok());
  }
  EXPECT_EQ(ctl.requests(),
            (std::vector<std::string>{"status", "root", "commit", "status", "root", "rollback", "status"}));
}

// begin finding a round still open (an earlier commit or rollback failed) ends it first.
TEST(StateRoundsTest, BeginEndsARoundLeftOpenFirst) {
  TempDir d;
  int begins = 0;
  FakeControl ctl((d.path / "c.sock").string(), [&begins](const std::string& r) {
    if (r == "begin")
      return ++begins == 1 ? std::string("error begin: a round is already open") : "ok " + kCommitted;
    if (r == "status") return std::string("ok round 10");
    if (r == "root") return "ok " + kChanged;
    if (r == "rollback") return "ok " + kCommitted;
    return std::string("error unknown request: ") + r;
  });
  auto src = makeStatefsStateRounds(ctl.path(), std::chrono::seconds(5));
  LedgerRecord lcl;
  lcl.seqNo = 3;
  lcl.stateHash = hashOf(kCommitted);
  ASSERT_TRUE(src->begin(lcl).ok());
  EXPECT_TRUE(src->inRound());
  EXPECT_EQ(ctl.requests(), (std::vector<std::string>{"begin", "status", "root", "rollback", "begin"}));
}

TEST(StateRoundsTest, ViewsOpenInTheViewsDirectoryAndClose) {
  TempDir d;
  fs::create_directories(d.path / "views/3");
  int next = 3;
  FakeControl ctl((d.path / "c.sock").string(), [&next](const std::string& r) {
    if (r == "view open") return "ok " + std::to_string(next++) + " " + kCommitted;
    if (r.rfind("view close ", 0) == 0) return std::string("ok");
    return std::string("error unknown request: ") + r;
  });
  auto views = makeStatefsViews(ctl.path(), (d.path / "views").string());
  auto v = views->open();
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->id, 3u);
  EXPECT_EQ(v->dir, (d.path / "views/3").string());
  views->close(*v);
  // No such directory (an image without the views mount): an error, and the view is closed.
  auto missing = views->open();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("views/4"), std::string::npos) << missing.error().message;
  EXPECT_EQ(ctl.requests(),
            (std::vector<std::string>{"view open", "view close 3", "view open", "view close 4"}));
}

}  // namespace
}  // namespace sashimono::runtime
