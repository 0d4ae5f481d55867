#include "sashimono/statefs/Sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <random>
#include <set>

#include "TempTree.h"
#include "sashimono/statefs/SyncMessage.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::hex;
using testing::TempTree;

StateTree buildTree(const fs::path& dir) {
  auto t = StateTree::build(dir.string());
  if (!t) throw std::runtime_error(t.error().message);
  return std::move(*t);
}

void writeAt(const fs::path& p, std::uint64_t offset, std::string_view bytes) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << p;
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

// The same starting state in any directory: a sparse-ish file of `bigBlocks` blocks with random
// data in a few of them, small files, a directory with a 200 KiB file, a script, a symlink.
void makeState(const fs::path& d, std::uint64_t bigBlocks) {
  std::mt19937_64 rng(42);
  std::ofstream(d / "big").close();
  fs::resize_file(d / "big", bigBlocks * kBlockSize);
  std::string chunk(kBlockSize, '\0');
  for (std::uint64_t b = 0; b < bigBlocks; b += 61) {
    for (auto& c : chunk) c = static_cast<char>(rng());
    writeAt(d / "big", b * kBlockSize, chunk);
  }
  fs::create_directories(d / "docs");
  std::ofstream(d / "docs/a.txt") << "alpha";
  std::ofstream(d / "docs/b.txt") << "beta";
  std::ofstream(d / "gone.txt") << "to be removed";
  fs::create_directories(d / "dir1/sub");
  std::string data(200 * 1024, 'd');
  for (std::size_t i = 0; i < data.size(); i += 997) data[i] = static_cast<char>(rng());
  std::ofstream(d / "dir1/sub/data") << data;
  std::ofstream(d / "mode.sh") << "#!/bin/sh\n";
  ::chmod((d / "mode.sh").c_str(), 0644);
  fs::create_symlink("target1", d / "link");
}

// The peer's side of the divergence: three blocks of big, small files added, removed and
// changed, a directory renamed, a mode and a symlink changed.
void diverge(const fs::path& d, std::uint64_t bigBlocks) {
  for (std::uint64_t b : {std::uint64_t{3}, bigBlocks / 2 + 5, bigBlocks - 1})
    writeAt(d / "big", b * kBlockSize + 100, "changed on the peer");
  std::ofstream(d / "docs/a.txt") << "alpha, changed";
  std::ofstream(d / "docs/new.txt") << "new";
  fs::remove(d / "gone.txt");
  fs::rename(d / "dir1", d / "dir2");
  ::chmod((d / "mode.sh").c_str(), 0755);
  fs::remove(d / "link");
  fs::create_symlink("target2", d / "link");
}

// A SyncSource in front of another: counts the blocks asked for and can tamper with answers.
class PeerProxy : public SyncSource {
 public:
  explicit PeerProxy(SyncSource& inner) : inner_(inner) {}
  std::function<void(std::string_view, std::vector<TreeEntry>&)> onListing;
  std::function<void(std::string_view, std::vector<crypto::Hash256>&)> onCvs;
  std::function<void(std::string_view, std::uint64_t, core::Bytes&)> onBlock;
  std::set<std::pair<std::string, std::uint64_t>> blocksAsked;
  bool failBlocks = false;

  core::Result<std::vector<TreeEntry>> listing(std::string_view path, std::string_view after) override {
    auto r = inner_.listing(path, after);
    if (r && onListing) onListing(path, *r);
    return r;
  }
  core::Result<std::vector<crypto::Hash256>> blockHashes(std::string_view path,
                                                         std::uint64_t first) override {
    auto r = inner_.blockHashes(path, first);
    if (r && onCvs) onCvs(path, *r);
    return r;
  }
  core::Result<core::Bytes> block(std::string_view path, std::uint64_t index) override {
    blocksAsked.emplace(std::string(path), index);
    if (failBlocks) return core::Error("peer is gone");
    auto r = inner_.block(path, index);
    if (r && onBlock) onBlock(path, index, *r);
    return r;
  }
  core::Result<std::string> symlinkTarget(std::string_view path) override {
    return inner_.symlinkTarget(path);
  }

 private:
  SyncSource& inner_;
};

// Two state directories that diverged; the remote one served through the sync messages.
struct Diverged {
  explicit Diverged(std::uint64_t bigBlocks = 32) : blocks(bigBlocks) {
    makeState(local.path(), bigBlocks);
    makeState(remote.path(), bigBlocks);
    diverge(remote.path(), bigBlocks);
    localTree.emplace(buildTree(local.path()));
    remoteTree.emplace(buildTree(remote.path()));
    auto src = LocalSyncSource::open(remote.path().string(), *remoteTree);
    if (!src) throw std::runtime_error(src.error().message);
    served.emplace(std::move(*src));
    wire.emplace([this](const core::Bytes& request) -> core::Result<core::Bytes> {
      auto q = decodeSyncRequest(request);
      if (!q) return q.error();
      return encodeSyncResponse(answerSyncRequest(*served, *q));
    });
    proxy.emplace(*wire);
  }
  core::Result<SyncResult> sync(const SyncOptions& o = {}) {
    return syncTo(local.path().string(), *localTree, remoteTree->root(), *proxy, o);
  }
  // The local state as it is on disk (from scratch) and as the tree holds it.
  void expectLocalRoot(const crypto::Hash256& root) {
    EXPECT_EQ(hex(buildTree(local.path()).root()), hex(root));
    EXPECT_EQ(hex(localTree->root()), hex(root));
  }

  std::uint64_t blocks;
  TempTree local, remote;
  std::optional<StateTree> localTree, remoteTree;
  std::optional<LocalSyncSource> served;
  std::optional<MessageSyncSource> wire;
  std::optional<PeerProxy> proxy;
};

TEST(SyncTest, FetchesOnlyTheBlocksThatDiffer) {
  // A 16 MiB file: hashing at -O0 runs at ~20 MB/s and this test hashes it four times.
  Diverged d(256);
  auto r = d.sync();
  ASSERT_TRUE(r.ok()) << r.error().message;
  d.expectLocalRoot(d.remoteTree->root());
  // Three blocks of big, docs/a.txt and docs/new.txt; dir2 is dir1 renamed: copied, not fetched.
  const std::set<std::pair<std::string, std::uint64_t>> bigBlocks = {
      {"/big", 3}, {"/big", 256 / 2 + 5}, {"/big", 255}, {"/docs/a.txt", 0}, {"/docs/new.txt", 0}};
  EXPECT_EQ(d.proxy->blocksAsked, bigBlocks);
  EXPECT_EQ(r->blocks, 5u);
  EXPECT_EQ(r->bytes, 3 * kBlockSize + std::string("alpha, changed").size() + 3);
  EXPECT_EQ(r->listings, 2u);  // "/" and "/docs"
  EXPECT_EQ(r->blockHashPages, 1u);
  EXPECT_EQ(r->symlinks, 1u);
  EXPECT_EQ(r->reused, 1u);
  EXPECT_EQ(d.local.read("docs/new.txt"), "new");
  EXPECT_EQ(fs::read_symlink(d.local.path("link")), "target2");
  EXPECT_EQ(fs::status(d.local.path("mode.sh")).permissions() & fs::perms::all, static_cast<fs::perms>(0755));
  EXPECT_FALSE(fs::exists(d.local.path("gone.txt")));
  EXPECT_FALSE(fs::exists(d.local.path().string() + "/../." + d.local.path().filename().string() + ".sync"));
}

TEST(SyncTest, IdenticalRootFetchesNothing) {
  TempTree a, b;
  makeState(a.path(), 16);
  makeState(b.path(), 16);
  auto ta = buildTree(a.path());
  auto tb = buildTree(b.path());
  auto src = LocalSyncSource::open(b.path().string(), tb);
  ASSERT_TRUE(src.ok());
  PeerProxy proxy(*src);
  int listings = 0;
  proxy.onListing = [&](std::string_view, std::vector<TreeEntry>&) { ++listings; };
  auto r = syncTo(a.path().string(), ta, tb.root(), proxy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->listings + r->blocks + r->blockHashPages + r->symlinks + r->steps, 0u);
  EXPECT_EQ(listings, 0);
  EXPECT_TRUE(proxy.blocksAsked.empty());
}

// Every refusal leaves the local state at the root it had, on disk and in the tree.
void expectRefused(Diverged& d, const std::string& mentions) {
  const auto before = d.localTree->root();
  const std::string bigBefore = d.local.read("big");
  auto r = d.sync();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(mentions), std::string::npos) << r.error().message;
  d.expectLocalRoot(before);
  EXPECT_TRUE(d.local.read("big") == bigBefore);
  EXPECT_TRUE(fs::exists(d.local.path("gone.txt")));
  EXPECT_FALSE(fs::exists(d.local.path().string() + "/../." + d.local.path().filename().string() + ".sync"));
}

TEST(SyncTest, ACorruptedBlockIsRefused) {
  Diverged d;
  d.proxy->onBlock = [](std::string_view path, std::uint64_t index, core::Bytes& b) {
    if (path == "/big" && index == 21) b[200] ^= 1;
  };
  expectRefused(d, "sync /big: block 21 from the peer does not match its hash");
}

TEST(SyncTest, AListingThatDoesNotHashToItsDirectoryIsRefused) {
  Diverged d;
  d.proxy->onListing = [](std::string_view path, std::vector<TreeEntry>& entries) {
    if (path == "/docs") entries[0].perm = 0777;
  };
  expectRefused(d, "sync /docs: the peer's listing does not match");
}

TEST(SyncTest, BlockHashesThatDoNotRecombineAreRefused) {
  Diverged d;
  d.proxy->onCvs = [](std::string_view path, std::vector<crypto::Hash256>& cvs) {
    if (path == "/big") cvs[5][0] ^= 1;
  };
  expectRefused(d, "sync /big: the peer's block hashes do not recombine");
  EXPECT_TRUE(d.proxy->blocksAsked.empty());
}

TEST(SyncTest, APeerErrorIsRefused) {
  Diverged d;
  d.proxy->failBlocks = true;
  expectRefused(d, "sync /big: block 3: peer is gone");
}

TEST(SyncTest, AnAnswerOfTheWrongSizeIsRefused) {
  Diverged d;
  d.proxy->onBlock = [](std::string_view path, std::uint64_t, core::Bytes& b) {
    if (path == "/docs/new.txt") b.push_back('!');  // longer than the listing said
  };
  expectRefused(d, "sync /docs/new.txt: block 0");
}

TEST(SyncTest, AFailedCommitIsUndone) {
  // Fail at every step of the commit in turn: each time the local state is back where it was.
  Diverged d;
  Diverged probe;
  auto full = probe.sync();
  ASSERT_TRUE(full.ok()) << full.error().message;
  ASSERT_GT(full->steps, 5u);
  for (int step : {0, 1, static_cast<int>(full->steps) / 2, static_cast<int>(full->steps) - 1}) {
    SCOPED_TRACE(step);
    const auto before = d.localTree->root();
    SyncOptions o;
    o.failCommitAt = step;
    auto r = d.sync(o);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("injected"), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("undone"), std::string::npos) << r.error().message;
    d.expectLocalRoot(before);
  }
  // And the same directories then sync.
  auto r = d.sync();
  ASSERT_TRUE(r.ok()) << r.error().message;
  d.expectLocalRoot(d.remoteTree->root());
}

TEST(SyncTest, ReadOnlyDirectoriesAndNewTrees) {
  TempTree a, b;
  for (const auto* t : {&a, &b}) {
    fs::create_directories(t->path("ro"));
    std::ofstream(t->path("ro/f")) << "old";
  }
  std::ofstream(b.path("ro/f")) << "new";
  std::ofstream(b.path("ro/g")) << "added";
  fs::create_directories(b.path("fresh/deep/er"));
  std::ofstream(b.path("fresh/deep/er/leaf")) << std::string(3 * kBlockSize + 17, 'x');
  ASSERT_EQ(::mkfifo(b.path("fresh/pipe").c_str(), 0640), 0);
  ::chmod(b.path("fresh/deep").c_str(), 0555);
  // A read-only directory that only the local side has, and a new one only the peer has.
  fs::create_directories(a.path("oldro"));
  std::ofstream(a.path("oldro/x")) << "x";
  ::chmod(a.path("oldro").c_str(), 0500);
  fs::create_directories(b.path("newro"));
  std::ofstream(b.path("newro/y")) << "y";
  ::chmod(b.path("newro").c_str(), 0555);
  // Hard links: the peer gives one of the names another mode (a copy of its own, not a chmod).
  std::ofstream(a.path("h1")) << "linked";
  fs::create_hard_link(a.path("h1"), a.path("h2"));
  std::ofstream(b.path("h1")) << "linked";
  std::ofstream(b.path("h2")) << "linked";
  ::chmod(a.path("h1").c_str(), 0644);
  ::chmod(b.path("h1").c_str(), 0600);
  ::chmod(b.path("h2").c_str(), 0644);
  ::chmod(a.path("ro").c_str(), 0555);
  ::chmod(b.path("ro").c_str(), 0555);
  auto ta = buildTree(a.path());
  auto tb = buildTree(b.path());
  auto src = LocalSyncSource::open(b.path().string(), tb);
  ASSERT_TRUE(src.ok());
  auto r = syncTo(a.path().string(), ta, tb.root(), *src);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(hex(buildTree(a.path()).root()), hex(tb.root()));
  EXPECT_EQ(r->blocks, 2u + 4u + 1u);  // ro/f, ro/g, fresh/deep/er/leaf, newro/y
  EXPECT_EQ(fs::status(a.path("h2")).permissions() & fs::perms::all, static_cast<fs::perms>(0644));
  EXPECT_EQ(fs::hard_link_count(a.path("h2")), 1u);
  for (const auto* t : {&a, &b})
    for (const char* d : {"ro", "fresh/deep", "newro"}) ::chmod(t->path(d).c_str(), 0755);
}

}  // namespace
}  // namespace sashimono::statefs
