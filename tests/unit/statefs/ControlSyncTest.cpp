// The `sync` verbs of the control protocol, answered without a socket (ControlProtocol::answer)
// over two stacks HashingBackend → RoundBackend → PassthroughBackend: B's `sync to` talks through
// a dialog that hands each `need` to A's `sync answer`, as the runtime does between two members.
#include <fcntl.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>

#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/ControlProtocol.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/RoundBackend.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::builtRootHex;
using testing::TempTree;

// One member's state: <dir>/src served by the stack, rounds in <dir>/undo.
class Stack {
 public:
  explicit Stack(fs::path dir) : dir_(std::move(dir)) { fs::create_directories(dir_ / "src"); }
  // The stack over the directories, as a new daemon makes it (`resume`: a round left open is taken up).
  void open(bool resume = false) {
    protocol_.reset();
    be_.reset();
    rounds_.reset();
    inner_.reset();
    auto dir = SourceDir::open(src().string());
    ASSERT_TRUE(dir.ok());
    inner_.emplace(std::move(dir).value());
    auto log = UndoLog::open((dir_ / "undo").string(), inner_->source());
    ASSERT_TRUE(log.ok()) << log.error().message;
    rounds_.emplace(*inner_, inner_->source(), std::move(log).value());
    if (resume) {
      ASSERT_TRUE(rounds_->resume().ok());
    }
    auto tree = StateTree::build(src().string());
    ASSERT_TRUE(tree.ok());
    be_.emplace(*rounds_, std::move(tree).value());
    auto sync = std::make_shared<ControlSync>();
    sync->stateDir = src().string();
    sync->synced = [this](StateTree&) { ++synced; };
    protocol_.emplace(stateControl(*be_, &*rounds_, nullptr, sync));
  }
  [[nodiscard]] fs::path src() const { return dir_ / "src"; }
  std::string ask(std::string_view line, ControlDialog* d = nullptr) const {
    return protocol_->answer(line, d);
  }
  // "ok <hex>\n" → hex.
  std::string okRoot(std::string_view verb) const {
    const std::string a = ask(verb);
    EXPECT_EQ(a.rfind("ok ", 0), 0U) << verb << ": " << a;
    return a.size() >= 3 + 64 ? a.substr(3, 64) : a;
  }
  void write(std::string_view path, std::string_view bytes) {
    Handle h = 0;
    ASSERT_EQ(be_->create(path, O_RDWR | O_TRUNC, 0644, h), 0);
    ASSERT_EQ(be_->write(h, bytes.data(), bytes.size(), 0), static_cast<int>(bytes.size()));
    ASSERT_EQ(be_->release(h), 0);
  }

  int synced = 0;

 private:
  fs::path dir_;
  std::optional<PassthroughBackend> inner_;
  std::optional<RoundBackend> rounds_;
  std::optional<HashingBackend> be_;
  std::optional<ControlProtocol> protocol_;
};

// B's side of the dialog: each "need" goes to A's `sync answer`; `reply` may replace the answer.
class Bridge final : public ControlDialog {
 public:
  explicit Bridge(const Stack& peer) : peer_(peer) {}
  core::Result<std::string> exchange(std::string_view line) override {
    if (line.rfind("need ", 0) != 0) return core::Error("not a need line: " + std::string(line));
    ++needs;
    if (during) during();
    if (reply) return reply(line.substr(5));
    std::string a = peer_.ask("sync answer " + std::string(line.substr(5)));
    a.pop_back();  // '\n'
    if (a.rfind("ok ", 0) != 0) return "fail " + a;
    return "have " + a.substr(3);
  }
  int needs = 0;
  std::function<void()> during;
  std::function<std::string(std::string_view)> reply;

 private:
  const Stack& peer_;
};

SyncRequest listingOf(std::string path) {
  SyncRequest r;
  r.op = SyncOp::listing;
  r.path = std::move(path);
  return r;
}

std::string pattern(std::size_t n, char seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + (i * 7 + i / 4096) % 91);
  return s;
}

class ControlSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A and B share most of the state: B differs in one 64 KiB block of /big, /small, a file A
    // lacks, and a file it lacks.
    for (Stack* s : {&a_, &b_}) {
      const bool isA = s == &a_;
      std::string big = pattern(1 << 20, 'a');
      if (!isA) big[5 * 65536 + 17] ^= 1;
      t_.write(s == &a_ ? "a/src/big" : "b/src/big", big);
      t_.write(isA ? "a/src/small" : "b/src/small", isA ? "aaa" : "bbb");
      fs::create_directories(s->src() / "d");
      t_.write(isA ? "a/src/d/x" : "b/src/extra", isA ? "only in A" : "only in B");
      ASSERT_NO_FATAL_FAILURE(s->open());
    }
  }

  TempTree t_;
  Stack a_{t_.path("a")}, b_{t_.path("b")};
};

TEST_F(ControlSyncTest, SyncToFetchesOnlyWhatDiffersAndAnswersTheCounts) {
  const std::string rootA = builtRootHex(a_.src());
  ASSERT_NE(builtRootHex(b_.src()), rootA);
  Bridge bridge(a_);
  const std::string answer = b_.ask("sync to " + rootA, &bridge);
  // Three blocks: the changed block of /big, /small, and /d/x; two listings (/ and /d), one
  // page of block hashes (/big). Six commit steps: /big and /small each out and in, /extra
  // out, /d/x in.
  EXPECT_EQ(answer, "ok " + rootA + " listings=2 hashpages=1 blocks=3 bytes=" +
                        std::to_string(65536 + 3 + 9) + " symlinks=0 reused=0 steps=6\n");
  EXPECT_EQ(bridge.needs, 6);
  EXPECT_EQ(builtRootHex(b_.src()), rootA);
  EXPECT_EQ(b_.okRoot("root"), rootA);  // the backend's tree is the one the sync refreshed
  EXPECT_EQ(b_.okRoot("begin"), rootA);
  EXPECT_EQ(t_.read("b/src/small"), "aaa");
  EXPECT_FALSE(fs::exists(b_.src() / "extra"));
  EXPECT_EQ(b_.synced, 1);
  EXPECT_EQ(b_.okRoot("rollback"), rootA);

  // Already there: nothing asked.
  Bridge again(a_);
  EXPECT_EQ(b_.ask("sync to " + rootA, &again).rfind("ok " + rootA + " listings=0 ", 0), 0U);
  EXPECT_EQ(again.needs, 0);
}

// A round's uncommitted writes are never served: until the round's root is taken, A answers its
// committed state (the tree still holds it; the bytes come through the round's views); after it,
// A refuses until the commit.
TEST_F(ControlSyncTest, AnOpenRoundServesItsCommittedStateUntilItsRootIsTaken) {
  const std::string committed = a_.okRoot("begin");
  ASSERT_NO_FATAL_FAILURE(a_.write("/small", "UNCOMMITTED"));
  ASSERT_NO_FATAL_FAILURE(a_.write("/new", "new"));
  Bridge bridge(a_);
  EXPECT_EQ(b_.ask("sync to " + committed, &bridge).rfind("ok " + committed, 0), 0U);
  EXPECT_EQ(t_.read("b/src/small"), "aaa");
  EXPECT_FALSE(fs::exists(b_.src() / "new"));

  const std::string round = a_.okRoot("root");
  ASSERT_NE(round, committed);
  Bridge refused(a_);
  const std::string answer = b_.ask("sync to " + round, &refused);
  EXPECT_EQ(answer.rfind("error sync", 0), 0U) << answer;
  EXPECT_NE(answer.find("this round's root was taken"), std::string::npos) << answer;
  EXPECT_EQ(builtRootHex(b_.src()), committed);

  EXPECT_EQ(a_.okRoot("commit"), round);
  Bridge after(a_);
  EXPECT_EQ(b_.ask("sync to " + round, &after).rfind("ok " + round, 0), 0U);
  EXPECT_EQ(t_.read("b/src/small"), "UNCOMMITTED");
  EXPECT_EQ(t_.read("b/src/new"), "new");
}

TEST_F(ControlSyncTest, RefusalsAndFailuresLeaveTheStateAsItWas) {
  const std::string rootA = builtRootHex(a_.src()), rootB = builtRootHex(b_.src());
  Bridge bridge(a_);
  EXPECT_EQ(b_.ask("sync to " + rootA.substr(1), &bridge),
            "error sync to: expected the target root, 64 lowercase hex digits\n");
  EXPECT_EQ(b_.ask("sync to " + std::string(64, 'A'), &bridge),
            "error sync to: expected the target root, 64 lowercase hex digits\n");
  EXPECT_EQ(b_.ask("sync", &bridge),
            "error sync: expected 'answer <base64 request>' or 'to <64 hex root>'\n");
  EXPECT_EQ(b_.ask("sync answer %%%%"), "error sync answer: base64: unexpected character at 0\n");
  EXPECT_EQ(b_.ask("sync answer AAAA").rfind("error sync answer: sync message: ", 0), 0U);

  EXPECT_EQ(b_.okRoot("begin"), rootB);  // not in a round
  EXPECT_EQ(b_.ask("sync to " + rootA, &bridge),
            "error sync: a round is open; sync runs between rounds (commit or roll it back first)\n");
  EXPECT_EQ(b_.okRoot("rollback"), rootB);
  EXPECT_EQ(bridge.needs, 0);

  // A root nobody has: the peer's listing does not hash to it.
  const std::string wrong(64, 'e');
  std::string a = b_.ask("sync to " + wrong, &bridge);
  EXPECT_EQ(a.rfind("error sync", 0), 0U) << a;
  // Garbage, a refusal and a line that is no reply, from the client.
  const std::vector<std::pair<std::string, std::string>> replies{
      {"have !!!!", "base64"},
      {"fail no peer has it", "fetch failed: no peer has it"},
      {"what", "not 'have"}};
  for (const auto& [reply, why] : replies) {
    Bridge bad(a_);
    bad.reply = [r = reply](std::string_view) { return r; };
    a = b_.ask("sync to " + rootA, &bad);
    EXPECT_EQ(a.rfind("error sync", 0), 0U) << a;
    EXPECT_NE(a.find(why), std::string::npos) << a;
  }
  // A response that decodes but lies (another file's content for /small): refused, undone.
  Bridge liar(a_);
  liar.reply = [this](std::string_view need) {
    std::string a = a_.ask("sync answer " + std::string(need));
    auto bytes = core::decodeBase64(a.substr(3, a.size() - 4));
    auto r = decodeSyncResponse(*bytes);
    if (r->op == SyncOp::block && r->data.size() == 3) r->data = core::Bytes{'z', 'z', 'z'};
    return "have " + core::encodeBase64(*encodeSyncResponse(*r));
  };
  a = b_.ask("sync to " + rootA, &liar);
  EXPECT_NE(a.find("does not match"), std::string::npos) << a;
  EXPECT_EQ(b_.ask("sync to " + rootA).rfind("error sync", 0), 0U);  // no client to fetch through
  EXPECT_EQ(builtRootHex(b_.src()), rootB);
  EXPECT_EQ(b_.okRoot("root"), rootB);
  EXPECT_EQ(t_.read("b/src/small"), "bbb");
  EXPECT_EQ(t_.read("b/src/extra"), "only in B");
  EXPECT_FALSE(fs::exists(t_.path("b/.src.sync")));
}

// While a sync runs, the verbs that touch the state wait for nothing: they are refused.
TEST_F(ControlSyncTest, VerbsThatTouchTheStateAreRefusedWhileASyncRuns) {
  const std::string rootA = builtRootHex(a_.src());
  Bridge bridge(a_);
  std::vector<std::string> seen;
  bridge.during = [&] {
    if (!seen.empty()) return;
    for (const char* verb : {"root", "commit", "begin", "rollback", "sync answer AAAA"})
      seen.push_back(b_.ask(verb));
    Bridge inner(a_);
    seen.push_back(b_.ask("sync to " + rootA, &inner));
    seen.push_back(b_.ask("status"));
  };
  EXPECT_EQ(b_.ask("sync to " + rootA, &bridge).rfind("ok " + rootA, 0), 0U);
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "error root: a sync is in progress\n", "error commit: a sync is in progress\n",
                      "error begin: a sync is in progress\n", "error rollback: a sync is in progress\n",
                      "error sync answer: a sync is in progress\n", "error sync: a sync is in progress\n",
                      "ok idle 0\n"}));
  EXPECT_EQ(b_.okRoot("root"), rootA);  // and after it, answered again
}

TEST_F(ControlSyncTest, ARoundTakenUpAtMountIsNeitherServedNorSynced) {
  const std::string committed = a_.okRoot("begin");
  ASSERT_NO_FATAL_FAILURE(a_.write("/small", "ROUND"));
  ASSERT_NO_FATAL_FAILURE(a_.open(true));  // the daemon stopped with the round open
  const std::string request = core::encodeBase64(*encodeSyncRequest(listingOf("/")));
  EXPECT_EQ(a_.ask("sync answer " + request),
            "error sync answer: the round left open at mount is not committed or rolled back yet\n");
  Bridge bridge(b_);
  EXPECT_EQ(a_.ask("sync to " + committed, &bridge),
            "error sync: the round left open at mount is not committed or rolled back yet\n");
  EXPECT_EQ(a_.okRoot("rollback"), committed);
  EXPECT_EQ(a_.ask("sync answer " + request).rfind("ok ", 0), 0U);
}

TEST(ControlBase64Test, TheLargestReplyLineIsKnown) { EXPECT_EQ(kControlMaxReply, 1632954U); }

// The bounds the control lines are sized by are the largest messages there are.
TEST(ControlBase64Test, TheLineBoundsFitTheLargestSyncMessages) {
  SyncRequest req = listingOf("");
  req.after = std::string(255, 'n');
  while (req.path.size() + 256 <= kMaxSyncPath) req.path += "/" + std::string(255, 'p');
  req.path += "/" + std::string(kMaxSyncPath - req.path.size() - 1, 'q');
  auto r = encodeSyncRequest(req);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->size(), kMaxSyncRequestBytes);
  EXPECT_LT(12 + core::encodeBase64(*r).size() + 1, kControlMaxLine);
  SyncResponse resp;
  resp.op = SyncOp::listing;
  for (std::size_t i = 0; i < kMaxEntriesPerPage; ++i) {
    std::string name = std::to_string(100000 + i);
    TreeEntry e;
    e.name = name + std::string(255 - name.size(), 'n');
    e.size = 1;
    resp.entries.push_back(e);
  }
  auto big = encodeSyncResponse(resp);
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(big->size(), kMaxSyncResponseBytes);
  EXPECT_EQ(5 + core::encodeBase64(*big).size() + 1, kControlMaxReply);
}

}  // namespace
}  // namespace sashimono::statefs
