// libFuzzer target: statefs::TreeStore::load, the reader of the persisted hash tree, over a
// store file a crash, a full disk or a hostile tenant may have left in any shape.
//
// The first input byte picks how the rest becomes the store:
//   even  the bytes are the store file itself (not sqlite, a truncated or corrupt database…);
//   odd   a valid store whose rows the bytes then rewrite: file rows (an inode of the state or
//         another, size, times, the hash with any length) and chaining-value parts (any part
//         number, any length); the `clean` flag set when the second bit of the first byte is,
//         so that the trusting path reads forged rows too.
// Invariants: no crash/UB; load() never fails (the state is hashable and the store writable,
// so an unusable store is replaced); and when the store is not marked clean — so nothing in it
// may be trusted — the root is exactly the one a from-scratch StateTree::build gives.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "FuzzFail.h"
#include "sashimono/statefs/StateTree.h"
#include "sashimono/statefs/TreeStore.h"
#include "sashimono/store/Database.h"

using namespace sashimono;
using namespace sashimono::statefs;
using sashimono::fuzz::fail;

namespace {

struct Fixture {
  std::string dir;    // the state: an empty file, a small one, one of five blocks, a subdirectory
  std::string store;  // the store file each input writes
  crypto::Hash256 root{};
  std::vector<ino_t> inodes;

  Fixture() {
    // tmpfs when there is one: the store syncs at every load, and a disk would make that the cost.
    char tmpl[] = "/dev/shm/statefs-treestore-fuzz-XXXXXX";
    if (::access("/dev/shm", W_OK) != 0) std::strcpy(tmpl, "/tmp/statefs-treestore-fuzz-XXXXXX");
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    const std::string base = tmpl;
    dir = base + "/state";
    store = base + "/tree.db";
    ::mkdir(dir.c_str(), 0755);
    ::mkdir((dir + "/sub").c_str(), 0755);
    write(dir + "/empty", "");
    write(dir + "/small", std::string(100, 's'));
    std::string big(5 * 65536 + 17, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + i / 65536);
    write(dir + "/sub/big", big);
    auto t = StateTree::build(dir);
    if (!t) std::abort();
    root = t->root();
    for (const char* f : {"/empty", "/small", "/sub/big"}) {
      struct stat st {};
      ::lstat((dir + f).c_str(), &st);
      inodes.push_back(st.st_ino);
    }
    // Files changed less than a clock tick ago are never trusted: let the times settle.
    ::usleep(20000);
  }

  ~Fixture() {
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir).parent_path(), ec);
  }

  static void write(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

// Reads the input front to back; past its end every read is zero.
struct Reader {
  const std::uint8_t* p;
  std::size_t n;
  bool done() const { return n == 0; }
  std::uint8_t byte() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  std::uint64_t u64(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = v << 8 | byte();
    return v;
  }
  std::vector<std::uint8_t> blob(std::size_t max) {
    std::size_t len = byte();
    len = len * 2 > max ? max : len * 2;
    std::vector<std::uint8_t> out;
    for (std::size_t i = 0; i < len; ++i) out.push_back(byte());
    return out;
  }
};

void rewriteRows(const Fixture& f, Reader in, core::ByteView input, bool clean) {
  {
    auto first = TreeStore::load(f.dir, f.store);
    if (!first) fail("a fresh store cannot be made", input, first.error().message);
    if (auto s = first->store.save(first->tree, true); !s)
      fail("a fresh store cannot be saved", input, s.error().message);
  }
  auto db = store::Database::open(f.store);
  if (!db) fail("the store does not open", input, db.error().message);
  int ops = 0;
  while (!in.done() && ops++ < 16) {
    const std::uint8_t op = in.byte();
    const std::uint8_t pick = in.byte();
    const std::int64_t ino =
        pick < 3 * 64 ? static_cast<std::int64_t>(f.inodes[pick % 3]) : static_cast<std::int64_t>(in.u64(8));
    struct stat st {};
    if (pick < 3 * 64)
      ::lstat((f.dir + (pick % 3 == 0 ? "/empty" : pick % 3 == 1 ? "/small" : "/sub/big")).c_str(), &st);
    if (op % 3 == 0) {
      auto q = db->prepare(
          "INSERT OR REPLACE INTO files(ino, size, mtime_ns, ctime_ns, hashed_at_ns, hash) "
          "VALUES (?, ?, ?, ?, ?, ?)");
      if (!q) fail("prepare", input, q.error().message);
      const bool real = op & 8;
      const std::int64_t size = real ? st.st_size : static_cast<std::int64_t>(in.u64(4));
      const std::int64_t m =
          real ? st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec : static_cast<std::int64_t>(in.u64(8));
      const std::int64_t c =
          real ? st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec : static_cast<std::int64_t>(in.u64(8));
      auto hash = in.blob(64);
      q->bind(1, ino).bind(2, size).bind(3, m).bind(4, c).bind(5, static_cast<std::int64_t>(in.u64(8)));
      q->bind(6, core::ByteView(hash.data(), hash.size()));
      (void)q->run();  // a constraint may refuse it: that is a row the store cannot hold anyway
    } else if (op % 3 == 1) {
      auto q = db->prepare("INSERT OR REPLACE INTO blocks(ino, part, cvs) VALUES (?, ?, ?)");
      if (!q) fail("prepare", input, q.error().message);
      auto cvs = in.blob(512);
      q->bind(1, ino)
          .bind(2, static_cast<std::int64_t>(in.byte()) - 8)
          .bind(3, core::ByteView(cvs.data(), cvs.size()));
      (void)q->run();
    } else {
      auto q = db->prepare(op & 4 ? "DELETE FROM blocks WHERE ino = ?" : "DELETE FROM files WHERE ino = ?");
      if (!q) fail("prepare", input, q.error().message);
      q->bind(1, ino);
      (void)q->run();
    }
  }
  if (auto s = db->exec(clean ? "UPDATE meta SET value = 1 WHERE key = 'clean'"
                              : "UPDATE meta SET value = 0 WHERE key = 'clean'");
      !s)
    fail("the clean flag cannot be cleared", input, s.error().message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = fixture();
  core::ByteView input(data, size);
  ::unlink(f.store.c_str());
  for (const char* suffix : {"-wal", "-shm", "-journal"}) ::unlink((f.store + suffix).c_str());
  const bool structured = size > 0 && (data[0] & 1);
  bool clean = structured && (data[0] & 2);
  if (structured) {
    rewriteRows(f, Reader{data + 1, size - 1}, input, clean);
  } else {
    std::ofstream out(f.store, std::ios::binary | std::ios::trunc);
    if (size > 1) out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  if (!structured) {
    auto db = store::Database::open(f.store);
    if (db) {
      auto q = db->prepare("SELECT value FROM meta WHERE key = 'clean'");
      if (q) {
        auto has = q->step();
        clean = has && *has && q->int64(0) == 1;
      }
    }
  }
  auto loaded = TreeStore::load(f.dir, f.store);
  if (!loaded) fail("load failed on a hashable state", input, loaded.error().message);
  if (!clean && loaded->tree.root() != f.root)
    fail("an untrusted store changed the root", input,
         std::string(loadModeName(loaded->report.mode)) + ": " + describe(loaded->report));
  return 0;
}
