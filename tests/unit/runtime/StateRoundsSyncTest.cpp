// State sync through StateRounds: the local mode (the runtime's own StateTree) and the statefs
// mode against a real control server (stateControl over HashingBackend → RoundBackend →
// PassthroughBackend, in this process, no FUSE: tests/root/statefs/StateFsSyncTest mounts).
// One member's syncTo fetches through the other's answerSync, as the cluster will.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "fakes/runtime/StateTestDir.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/runtime/StateRounds.h"
#include "sashimono/statefs/ControlServer.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/RoundBackend.h"
#include "sashimono/statefs/StateTree.h"
#include "sashimono/statefs/SyncMessage.h"

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;

struct TempDir : sashimono::fakes::StateTestDir {
  TempDir() : sashimono::fakes::StateTestDir("sashi-statesync") {}
};

Hash built(const fs::path& dir) { return sashimono::fakes::builtRoot(dir); }

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void writeFile(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }

// A contract fs: state/big (1 MiB), state/small, patch.cfg; `b` differs in one block of big, in
// small, and has a file more.
void makeContractFs(const fs::path& dir, bool b) {
  fs::create_directories(dir / "state/sub");
  std::string big(1 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 13 + i / 999) % 26);
  if (b) big[3 * 65536 + 5] = '#';
  writeFile(dir / "state/big", big);
  writeFile(dir / "state/small", b ? "bbb" : "aaa");
  writeFile(dir / "patch.cfg", "{}");
  if (b) writeFile(dir / "state/sub/extra", "extra");
}

SyncFetch through(StateRounds& peer) {
  return [&peer](core::ByteView request) { return peer.answerSync(request); };
}

TEST(StateRoundsSyncTest, LocalSyncFetchesOnlyWhatDiffers) {
  TempDir d;
  makeContractFs(d.path / "a", false);
  makeContractFs(d.path / "b", true);
  auto a = makeLocalStateRounds((d.path / "a").string());
  auto b = makeLocalStateRounds((d.path / "b").string(), (d.path / "staging").string());
  auto rootA = a->commit();
  ASSERT_TRUE(rootA.ok()) << rootA.error().message;
  ASSERT_NE(built(d.path / "b"), *rootA);
  statefs::SyncResult counts;
  auto r = b->syncTo(*rootA, through(*a), &counts);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, *rootA);
  EXPECT_EQ(built(d.path / "b"), *rootA);
  EXPECT_EQ(readFile(d.path / "b/state/big"), readFile(d.path / "a/state/big"));
  EXPECT_EQ(readFile(d.path / "b/state/small"), "aaa");
  EXPECT_FALSE(fs::exists(d.path / "b/state/sub/extra"));
  // One block of the 16 of big, and small: nothing else crossed.
  EXPECT_EQ(counts.blocks, 2U);
  EXPECT_EQ(counts.bytes, 65536U + 3);
  EXPECT_EQ(counts.blockHashPages, 1U);
  EXPECT_FALSE(fs::exists(d.path / "staging"));
  auto again = b->root();  // the runtime's tree follows
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *rootA);
  auto same = b->syncTo(*rootA, through(*a), &counts);
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(counts.blocks, 0U);
  EXPECT_EQ(counts.listings, 0U);
}

TEST(StateRoundsSyncTest, LocalSyncFailuresLeaveTheStateAsItWas) {
  TempDir d;
  makeContractFs(d.path / "a", false);
  makeContractFs(d.path / "b", true);
  auto a = makeLocalStateRounds((d.path / "a").string());
  auto b = makeLocalStateRounds((d.path / "b").string());
  auto rootA = a->root();
  auto rootB = b->root();
  ASSERT_TRUE(rootA.ok() && rootB.ok());
  const std::string bigB = readFile(d.path / "b/state/big");
  Hash wrong{};
  wrong[0] = 1;
  std::vector<std::pair<std::string, SyncFetch>> cases{
      {"wrong root", through(*a)},
      {"garbage",
       [](core::ByteView) -> core::Result<core::Bytes> {
         return core::Bytes{1, 2, 3};
       }},
      {"fail", [](core::ByteView) -> core::Result<core::Bytes> { return core::Error("no peer has it"); }},
      {"truncated", [&a](core::ByteView req) -> core::Result<core::Bytes> {
         auto r = a->answerSync(req);
         if (r.ok() && r->size() > 10) r->resize(r->size() - 1);
         return r;
       }}};
  for (auto& [name, fetch] : cases) {
    auto r = b->syncTo(name == "wrong root" ? wrong : *rootA, fetch);
    ASSERT_FALSE(r.ok()) << name;
    const std::string want = name == "fail" ? "no peer has it" : name == "garbage" ? "sync message" : "";
    EXPECT_NE(r.error().message.find(want), std::string::npos) << r.error().message;
    EXPECT_EQ(built(d.path / "b"), *rootB) << name;
    auto now = b->root();
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(*now, *rootB) << name;
    EXPECT_EQ(readFile(d.path / "b/state/big"), bigB) << name;
    EXPECT_EQ(readFile(d.path / "b/state/sub/extra"), "extra") << name;
    EXPECT_FALSE(fs::exists(d.path / ".b.sync")) << name;
  }
}

// The local side answers from the tree of its last root(): bytes changed since are refused.
TEST(StateRoundsSyncTest, LocalAnswersNeverServeBytesChangedSinceTheRoot) {
  TempDir d;
  makeContractFs(d.path / "a", false);
  auto a = makeLocalStateRounds((d.path / "a").string());
  ASSERT_TRUE(a->root().ok());
  writeFile(d.path / "a/state/small", "AAA");  // same size, not hashed yet
  statefs::SyncRequest req;
  req.op = statefs::SyncOp::block;
  req.path = "/state/small";
  auto r = a->answerSync(*statefs::encodeSyncRequest(req));
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto resp = statefs::decodeSyncResponse(*r);
  ASSERT_TRUE(resp.ok());
  EXPECT_NE(resp->error.find("changed since its hash"), std::string::npos) << resp->error;
  EXPECT_TRUE(resp->data.empty());
  ASSERT_TRUE(a->root().ok());  // hashed again: served
  r = a->answerSync(*statefs::encodeSyncRequest(req));
  resp = statefs::decodeSyncResponse(*r);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->data, core::Bytes({'A', 'A', 'A'}));
  EXPECT_FALSE(a->answerSync(core::Bytes{9, 9}).ok());  // not a request: an error for the caller
}

// The daemon's side in this process: the stack a mount has, answering on a control socket.
class Daemon {
 public:
  Daemon(const fs::path& dir, const std::string& sock) {
    auto src = statefs::SourceDir::open((dir / "fs").string());
    if (!src.ok()) throw std::runtime_error(src.error().message);
    inner_.emplace(std::move(src).value());
    auto log = statefs::UndoLog::open((dir / "undo").string(), inner_->source());
    if (!log.ok()) throw std::runtime_error(log.error().message);
    rounds_.emplace(*inner_, inner_->source(), std::move(log).value());
    auto tree = statefs::StateTree::build((dir / "fs").string());
    if (!tree.ok()) throw std::runtime_error(tree.error().message);
    be_.emplace(*rounds_, std::move(tree).value());
    auto sync = std::make_shared<statefs::ControlSync>();
    sync->stateDir = (dir / "fs").string();
    auto server = statefs::ControlServer::listen(sock);
    if (!server.ok()) throw std::runtime_error(server.error().message);
    server_ = std::move(server).value();
    if (!server_->start(statefs::stateControl(*be_, &*rounds_, nullptr, sync)).ok())
      throw std::runtime_error("start");
  }
  ~Daemon() { server_.reset(); }
  statefs::HashingBackend& backend() { return *be_; }

 private:
  std::optional<statefs::PassthroughBackend> inner_;
  std::optional<statefs::RoundBackend> rounds_;
  std::optional<statefs::HashingBackend> be_;
  std::unique_ptr<statefs::ControlServer> server_;
};

TEST(StateRoundsSyncTest, StatefsSyncTalksThroughTheControlSocket) {
  TempDir d;
  makeContractFs(d.path / "a/fs", false);
  makeContractFs(d.path / "b/fs", true);
  Daemon da(d.path / "a", (d.path / "a.sock").string());
  Daemon db(d.path / "b", (d.path / "b.sock").string());
  auto a = makeStatefsStateRounds((d.path / "a.sock").string(), std::chrono::seconds(10));
  auto b = makeStatefsStateRounds((d.path / "b.sock").string(), std::chrono::seconds(10));

  // A opens a round and writes: its answers are still the committed state.
  const Hash committed = built(d.path / "a/fs");
  ASSERT_TRUE(a->begin(LedgerRecord{}).ok());
  statefs::Handle h = 0;
  ASSERT_EQ(da.backend().open("/state/small", O_RDWR, h), 0);
  ASSERT_EQ(da.backend().write(h, "XYZ", 3, 0), 3);
  ASSERT_EQ(da.backend().release(h), 0);
  statefs::SyncResult counts;
  auto r = b->syncTo(committed, through(*a), &counts);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, committed);
  EXPECT_EQ(built(d.path / "b/fs"), committed);
  EXPECT_EQ(readFile(d.path / "b/fs/state/small"), "aaa");
  EXPECT_EQ(counts.blocks, 2U);
  EXPECT_EQ(counts.bytes, 65536U + 3);
  auto rootB = b->root();
  ASSERT_TRUE(rootB.ok());
  EXPECT_EQ(*rootB, committed);

  // Once A's round has its root, A refuses until the commit; B's sync fails and changes nothing.
  auto round = a->root();
  ASSERT_TRUE(round.ok());
  auto refused = b->syncTo(*round, through(*a));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("round's root was taken"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(built(d.path / "b/fs"), committed);
  ASSERT_TRUE(a->commit().ok());
  r = b->syncTo(*round, through(*a), &counts);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(readFile(d.path / "b/fs/state/small"), "XYZ");
  EXPECT_EQ(counts.blocks, 1U);

  // Not during B's own round.
  ASSERT_TRUE(b->begin(LedgerRecord{}).ok());
  auto inRound = b->syncTo(committed, through(*a));
  ASSERT_FALSE(inRound.ok());
  EXPECT_NE(inRound.error().message.find("round is open"), std::string::npos) << inRound.error().message;
  ASSERT_TRUE(b->rollback().ok());
  // A fetch that fails: the daemon's error, the state unchanged.
  auto failed = b->syncTo(committed, [](core::ByteView) -> core::Result<core::Bytes> {
    return core::Error("all peers\nare gone");
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("all peers?are gone"), std::string::npos) << failed.error().message;
  EXPECT_EQ(built(d.path / "b/fs"), *round);
}

}  // namespace
}  // namespace sashimono::runtime
