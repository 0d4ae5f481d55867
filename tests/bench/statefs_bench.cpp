// State filesystem benchmark (docs/PERFORMANCE.md): each figure beside a baseline measured in the
// same run, printed as ratios.
//
//   1. state hash (--part hash): the cost of the state hash after a round, on a large state,
//      beside hashing just the bytes the round wrote (the floor) and beside hashing the whole
//      state again (the naive way). The state: FILES files of STATE/FILES MiB of random bytes,
//      plus SMALL files of 4 KiB in 20 directories, under DIR/state. A round writes W bytes
//      (4 KiB, 1 MiB, 100 MiB) at random places of the large files, in writes of at most 1 MiB,
//      marks them as the state filesystem does (by inode and range), and times
//      StateTree::refresh(). At the end the incremental root must equal a full build's.
//      Goal: ≤ 2 ms after a 4 KiB round on a 1 GiB state.
//   2. FUSE throughput (--part fuse): through a real `sashimono statefs mount` of DIR/fuse/src at
//      DIR/fuse/mnt, beside the same operations on DIR/fuse/direct (same filesystem), REPS runs
//      each, direct and mount alternating: a new file written with IO_MIB writes of 1 MiB (time
//      to the last write, and until fsync returned), read back in 1 MiB reads with the page cache
//      of the source file and of the mounted file dropped (posix_fadvise DONTNEED after the
//      fsync: from the disk), and read again with only the mount's page cache dropped (the
//      source cached: what the mount itself costs; direct: a page-cache read); then
//      SMALL_FILES files of 1 KiB created (open, write, close) in 10 directories, stat'ed after
//      the mount's 1 s attribute and entry timeouts passed, and unlinked. Goal: sequential I/O
//      of 1 MiB blocks ≥ 0.6× direct. Skipped, with the reason, when mounting is impossible
//      (needs root or /dev/fuse access).
//
//   3. round checkpoints (--part round): through a real mount of DIR/state with a control
//      socket, an undo log and a persisted tree (as a tenant's: `statefs mount --control --undo
//      --tree`), rounds that write 4 KiB, 1 MiB and 16 MiB at random places of the large files:
//      the latency of begin, the writes, root and commit, beside the same writes made durable
//      directly (pwrite + fdatasync each) into a file of the same size on the same filesystem.
//      The checkpoint must cost what the round wrote, not the size of the state.
//
//   bench_statefs_bench [--part all|hash|fuse|round] [--quick] [--state-mib 1024] [--files 16]
//                       [--small 2000] [--io-mib 512] [--small-files 10000] [--reps 3]
//                       [--readahead KIB] [--dir DIR] [--keep]
//   --readahead: the mounts' readahead window (default 512 KiB, as the host sets a tenant's;
//   0: the kernel's default for FUSE, 128 KiB).
//   --quick: a 128 MiB state, 128 MiB files, 2,000 small files. DIR: default a new directory in
//   /var/tmp, removed at the end unless --keep (a kept DIR/state is reused by the next run).
//
// The parts: statefs_bench/ (StatefsBench.h: what they share; StateHash.cpp, FuseIo.cpp,
// Rounds.cpp).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "statefs_bench/StatefsBench.h"

namespace fs = std::filesystem;
using namespace sashimono::statefs_bench;

namespace {

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(
      stderr,
      "bench_statefs_bench: %s\nusage: bench_statefs_bench [--part all|hash|fuse|round] [--quick] "
      "[--state-mib N] [--files N] [--small N] [--io-mib N] [--small-files N] [--reps N] [--readahead KIB] "
      "[--dir DIR] [--keep]\n",
      why.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--state-mib")
      o.stateMiB = std::stoull(value());
    else if (a == "--files")
      o.files = std::stoi(value());
    else if (a == "--small")
      o.small = std::stoi(value());
    else if (a == "--io-mib")
      o.ioMiB = std::stoull(value());
    else if (a == "--small-files")
      o.smallFiles = std::stoi(value());
    else if (a == "--readahead")
      o.readaheadKiB = static_cast<unsigned>(std::stoul(value()));
    else if (a == "--reps")
      o.reps = std::stoi(value());
    else if (a == "--part")
      o.part = value();
    else if (a == "--quick") {
      o.stateMiB = 128;
      o.ioMiB = 128;
      o.smallFiles = 2000;
    } else if (a == "--dir")
      o.dir = value();
    else if (a == "--keep")
      o.keep = true;
    else
      usage("unknown option " + a);
  }
  if (o.files < 1 || o.stateMiB < static_cast<std::uint64_t>(o.files)) usage("need at least 1 MiB per file");
  if (o.part != "all" && o.part != "hash" && o.part != "fuse" && o.part != "round")
    usage("--part is all, hash, fuse or round");
  if (o.reps < 1 || o.ioMiB < 1 || o.smallFiles < 10)
    usage("need --reps >= 1, --io-mib >= 1, --small-files >= 10");
  return o;
}

}  // namespace

int main(int argc, char** argv) try {
  Options o = parse(argc, argv);
  bool made = false;
  if (o.dir.empty()) {
    std::string t = "/var/tmp/sashimono-statefs-bench-XXXXXX";
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp");
    o.dir = t;
    made = true;
  }
  if (o.part == "all" || o.part == "hash") runStateHash(o, o.dir + "/state");
  if (o.part == "all" || o.part == "round") {
    runRounds(o, o.dir + "/state", o.dir + "/round");
    fs::remove_all(o.dir + "/round");
  }
  if (o.part == "all" || o.part == "fuse") {
    runFuse(o, o.dir + "/fuse");
    fs::remove_all(o.dir + "/fuse");
  }
  if (made && !o.keep) fs::remove_all(o.dir);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_statefs_bench: %s\n", e.what());
  return 1;
}
