#include "sashimono/statefs/StateTree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Blake3.h"

namespace sashimono::statefs {
namespace {

namespace fs = std::filesystem;
using testing::builtRoot;
using testing::hex;
using testing::inoOf;
using testing::TempTree;

// The encoding, written out by hand for a directory holding one file and one symlink.
TEST(StateTreeTest, RootOfASmallTreeMatchesTheSpecification) {
  TempTree t;
  t.write("a", "x");
  ::chmod(t.path("a").c_str(), 0640);
  fs::create_symlink("target", t.path("l"));
  core::Bytes expected;
  auto add = [&](std::string_view name, std::uint8_t kind, std::uint16_t perm, const crypto::Hash256& h) {
    expected.insert(expected.end(), name.begin(), name.end());
    expected.push_back(0);
    expected.push_back(kind);
    expected.push_back(static_cast<std::uint8_t>(perm >> 8));
    expected.push_back(static_cast<std::uint8_t>(perm & 0xff));
    expected.insert(expected.end(), h.begin(), h.end());
  };
  add("a", 1, 0640, crypto::blake3(core::ByteView(reinterpret_cast<const std::uint8_t*>("x"), 1)));
  add("l", 3, 0777, crypto::blake3(core::ByteView(reinterpret_cast<const std::uint8_t*>("target"), 6)));
  EXPECT_EQ(hex(builtRoot(t.path())), hex(crypto::blake3(expected)));
}

TEST(StateTreeTest, EmptyDirectoryAndEdgeCases) {
  TempTree t;
  const auto empty = builtRoot(t.path());
  EXPECT_EQ(hex(empty), hex(crypto::blake3(core::ByteView{})));
  // Empty files, a sparse file, a fifo, a deep tree: all hash, and differ from each other.
  t.write("empty", "");
  fs::resize_file(t.path("empty"), 0);
  std::ofstream(t.path("sparse")).close();
  fs::resize_file(t.path("sparse"), 5 * kBlockSize + 3);
  ASSERT_EQ(::mkfifo(t.path("fifo").c_str(), 0600), 0);
  fs::path deep = t.path();
  for (int i = 0; i < 200; ++i) deep /= "d";
  fs::create_directories(deep);
  t.write((deep / "leaf").string().substr(t.path().string().size() + 1), "leaf");
  auto tree = StateTree::build(t.path().string());
  ASSERT_TRUE(tree.ok()) << tree.error().message;
  auto top = tree->listing("/");
  ASSERT_TRUE(top.ok());
  ASSERT_EQ(top->size(), 4u);
  EXPECT_EQ((*top)[0].name, "d");
  EXPECT_EQ((*top)[2].name, "fifo");
  EXPECT_EQ((*top)[2].kind, EntryKind::fifo);
  EXPECT_EQ((*top)[3].size, 5 * kBlockSize + 3);
  EXPECT_EQ(tree->blocks("/sparse")->size(), 6u);
  std::vector<std::uint8_t> zeros(5 * kBlockSize + 3, 0);
  EXPECT_EQ(hex((*top)[3].hash), hex(crypto::blake3(zeros)));
  EXPECT_FALSE(tree->listing("/missing").ok());
  EXPECT_FALSE(tree->blocks("/d").ok());
}

TEST(StateTreeTest, SocketsAreRefusedWithThePath) {
  TempTree t;
  fs::create_directory(t.path("run"));
  ASSERT_EQ(::mknod(t.path("run/sock").c_str(), S_IFSOCK | 0600, 0), 0);
  auto tree = StateTree::build(t.path().string());
  ASSERT_FALSE(tree.ok());
  EXPECT_NE(tree.error().message.find("/run/sock"), std::string::npos) << tree.error().message;
}

// Random operations on a directory, each marked as the state filesystem would (`marks`), or
// none of them marked and the tree told by rescan() (the runtime without a filesystem); every
// ten operations the refreshed root must equal a build from scratch.
void randomOperations(bool marks, int steps) {
  TempTree t;
  // STATEFS_TEST_SEED=N runs another sequence (for a longer search by hand).
  const char* seed = std::getenv("STATEFS_TEST_SEED");
  std::mt19937_64 rng(seed != nullptr ? std::strtoull(seed, nullptr, 10) : 11);
  auto tree = StateTree::build(t.path().string());
  ASSERT_TRUE(tree.ok());
  std::vector<std::string> files, dirs{"/"};
  auto pick = [&](std::vector<std::string>& v) -> std::string { return v[rng() % v.size()]; };
  auto host = [&](const std::string& p) { return t.path().string() + p; };
  auto newName = [&](const std::string& dir) {
    return (dir == "/" ? "" : dir) + "/n" + std::to_string(rng() % 1000);
  };
  // Never through a symlink: the state filesystem is told of the name the kernel resolved.
  auto taken = [&](const std::string& p) { return fs::exists(fs::symlink_status(host(p))); };
  auto writeAt = [&](const std::string& p, std::uint64_t at, std::uint64_t len) {
    int fd = ::open(host(p).c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW, 0644);
    ASSERT_GE(fd, 0);
    std::vector<std::uint8_t> buf(len);
    for (auto& b : buf) b = static_cast<std::uint8_t>(rng());
    ASSERT_EQ(::pwrite(fd, buf.data(), len, static_cast<off_t>(at)), static_cast<ssize_t>(len));
    ::close(fd);
    if (marks) tree->markData(inoOf(host(p)), at, len);
  };
  for (int step = 0; step < steps; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op <= 1) {  // create a file
      auto p = newName(pick(dirs));
      if (taken(p)) continue;
      writeAt(p, 0, rng() % (kBlockSize + kBlockSize / 2));
      if (marks) tree->markEntry(p);
      files.push_back(p);
    } else if (op <= 3 && !files.empty()) {  // write into a file
      auto p = pick(files);
      writeAt(p, rng() % (3 * kBlockSize), 1 + rng() % 8192);
    } else if (op == 4 && !files.empty()) {  // truncate
      auto p = pick(files);
      const std::uint64_t size = rng() % (4 * kBlockSize);
      fs::resize_file(host(p), size);
      if (marks) tree->markTruncate(inoOf(host(p)), size);
    } else if (op == 5) {  // mkdir
      auto p = newName(pick(dirs));
      if (taken(p)) continue;
      fs::create_directory(host(p));
      if (marks) tree->markEntry(p);
      dirs.push_back(p);
    } else if (op == 6 && !files.empty()) {  // rename a file, maybe across directories
      auto from = pick(files);
      auto to = newName(pick(dirs));
      if (taken(to)) continue;
      fs::rename(host(from), host(to));
      if (marks) tree->markRename(from, to);
      std::replace(files.begin(), files.end(), from, to);
    } else if (op == 7 && dirs.size() > 1) {  // rename a directory with what it holds
      auto from = dirs[1 + rng() % (dirs.size() - 1)];
      auto to = newName(pick(dirs));
      if (taken(to) || to.starts_with(from + "/")) continue;
      fs::rename(host(from), host(to));
      if (marks) tree->markRename(from, to);
      for (auto* v : {&files, &dirs})
        for (auto& p : *v)
          if (p == from || p.starts_with(from + "/")) p = to + p.substr(from.size());
    } else if (op == 8 && !files.empty()) {  // unlink, or chmod, or hard link
      auto p = pick(files);
      if (rng() % 3 == 0) {
        fs::remove(host(p));
        if (marks) tree->markEntry(p);
        files.erase(std::find(files.begin(), files.end(), p));
      } else if (rng() % 2 == 0) {
        ::chmod(host(p).c_str(), rng() % 2 ? 0755 : 0600);
        if (marks) tree->markMode(p);
      } else {
        auto to = newName(pick(dirs));
        if (taken(to)) continue;
        fs::create_hard_link(host(p), host(to));
        if (marks) tree->markEntry(to);
        files.push_back(to);
      }
    } else if (op == 9) {  // a symlink
      auto p = newName(pick(dirs));
      if (taken(p)) continue;
      fs::create_symlink("../t" + std::to_string(rng() % 5), host(p));
      if (marks) tree->markEntry(p);
    }
    if (step % 10 == 9) {
      if (!marks) {
        ASSERT_TRUE(tree->rescan().ok());
      }
      auto root = tree->refresh();
      ASSERT_TRUE(root.ok()) << root.error().message;
      ASSERT_EQ(hex(*root), hex(builtRoot(t.path()))) << "after step " << step;
    }
  }
}

TEST(StateTreeTest, IncrementalRefreshEqualsAFullBuildUnderRandomOperations) { randomOperations(true, 300); }

TEST(StateTreeTest, RescanFindsRandomOperationsWithoutMarks) { randomOperations(false, 150); }

TEST(StateTreeTest, RmdirOfATreeAndAnUnneededMarkAreHarmless) {
  TempTree t;
  fs::create_directories(t.path("a/b/c"));
  t.write("a/b/c/f", "content");
  auto tree = StateTree::build(t.path().string());
  ASSERT_TRUE(tree.ok());
  const auto before = tree->root();
  tree->markEntry("/a/b");  // nothing changed
  tree->markData(inoOf(t.path("a/b/c/f")), 0, 3);
  EXPECT_EQ(hex(*tree->refresh()), hex(before));
  fs::remove_all(t.path("a/b"));
  tree->markEntry("/a/b");
  EXPECT_EQ(hex(*tree->refresh()), hex(builtRoot(t.path())));
  EXPECT_FALSE(tree->dirty());
}

// A name removed and created again usually gets the same inode number back: the new file is
// hashed anew, not taken for the old one. And a truncation followed by a write past it is
// zeros in between, not the old bytes.
TEST(StateTreeTest, AReusedInodeAndATruncateThenWriteAreHashedAnew) {
  TempTree t;
  std::vector<std::uint8_t> noise(3 * kBlockSize);
  std::mt19937_64 rng(5);
  for (auto& b : noise) b = static_cast<std::uint8_t>(rng());
  auto put = [&](const std::string& rel, std::size_t len) {
    std::ofstream(t.path(rel), std::ios::binary).write(reinterpret_cast<const char*>(noise.data()), len);
  };
  put("f", noise.size());
  put("g", noise.size());
  auto tree = StateTree::build(t.path().string());
  ASSERT_TRUE(tree.ok());
  // f: removed, created again with the same size of zeros.
  fs::remove(t.path("f"));
  tree->markEntry("/f");
  std::ofstream(t.path("f")).close();
  fs::resize_file(t.path("f"), noise.size());
  tree->markEntry("/f");
  tree->markTruncate(inoOf(t.path("f")), noise.size());
  // g: cut to 10 bytes, then one byte written near its old end.
  fs::resize_file(t.path("g"), 10);
  tree->markTruncate(inoOf(t.path("g")), 10);
  {
    std::fstream g(t.path("g"), std::ios::in | std::ios::out | std::ios::binary);
    g.seekp(static_cast<std::streamoff>(noise.size() - 1));
    g.put('x');
  }
  tree->markData(inoOf(t.path("g")), noise.size() - 1, 1);
  EXPECT_EQ(hex(*tree->refresh()), hex(builtRoot(t.path())));
}

// A rewrite that keeps the size and puts the mtime back still moves the ctime: rescan sees it.
TEST(StateTreeTest, RescanSeesContentChangedUnderTheSameSizeAndMtime) {
  TempTree t;
  t.write("f", std::string(3 * kBlockSize, 'a'));
  fs::create_directories(t.path("d/e"));
  t.write("d/e/g", "g");
  auto tree = StateTree::build(t.path().string());
  ASSERT_TRUE(tree.ok());
  struct stat before {};
  ASSERT_EQ(::lstat(t.path("f").c_str(), &before), 0);
  {
    std::fstream f(t.path("f"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(kBlockSize + 5));
    f << 'b';
  }
  const struct timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, t.path("f").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  ::chmod(t.path("d/e").c_str(), 0700);
  ASSERT_TRUE(tree->rescan().ok());
  EXPECT_TRUE(tree->dirty());
  auto root = tree->refresh();
  ASSERT_TRUE(root.ok()) << root.error().message;
  EXPECT_EQ(hex(*root), hex(builtRoot(t.path())));
  // Nothing changed since: rescan marks nothing once the files are older than a clock tick.
  ::usleep(static_cast<useconds_t>(kRacyNs / 1000 * 2));
  ASSERT_TRUE(tree->rescan().ok());
  ASSERT_TRUE(tree->refresh().ok());
  ASSERT_TRUE(tree->rescan().ok());
  EXPECT_FALSE(tree->dirty());
}

TEST(StateTreeTest, RescanReportsASocketAtRefresh) {
  TempTree t;
  auto tree = StateTree::build(t.path().string());
  ASSERT_TRUE(tree.ok());
  ASSERT_EQ(::mknod(t.path("sock").c_str(), S_IFSOCK | 0600, 0), 0);
  ASSERT_TRUE(tree->rescan().ok());
  auto root = tree->refresh();
  ASSERT_FALSE(root.ok());
  EXPECT_NE(root.error().message.find("/sock"), std::string::npos) << root.error().message;
}

}  // namespace
}  // namespace sashimono::statefs
