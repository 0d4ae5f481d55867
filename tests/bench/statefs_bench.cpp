// State hash benchmark: the cost of the state hash after a round, on a large state, beside
// hashing just the bytes the round wrote (the floor) and beside hashing the whole state again
// (the naive way), all measured in the same run and printed as ratios.
//   bench_statefs_bench [--state-mib 1024] [--files 16] [--small 2000] [--dir DIR] [--keep]
// The state: FILES files of STATE/FILES MiB of random bytes, plus SMALL files of 4 KiB in 20
// directories, created under DIR (default: a new directory in /var/tmp, removed at the end).
// A round writes W bytes (4 KiB, 1 MiB, 100 MiB) at random places of the large files, in
// writes of at most 1 MiB, marks them as the state filesystem does (by inode and range), and
// times StateTree::refresh().
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "BenchUtil.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/statefs/StateTree.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using sashimono::bench::ms;
using sashimono::bench::pct;
using namespace sashimono;

namespace {

struct Options {
  std::uint64_t stateMiB = 1024;
  int files = 16;
  int small = 2000;
  std::string dir;
  bool keep = false;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "bench_statefs_bench: %s\nusage: bench_statefs_bench [--state-mib N] [--files N] [--small N] "
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
    else if (a == "--dir")
      o.dir = value();
    else if (a == "--keep")
      o.keep = true;
    else
      usage("unknown option " + a);
  }
  if (o.files < 1 || o.stateMiB < static_cast<std::uint64_t>(o.files)) usage("need at least 1 MiB per file");
  return o;
}

void fill(std::mt19937_64& rng, std::vector<std::uint8_t>& buf) {
  for (std::size_t i = 0; i + 8 <= buf.size(); i += 8) {
    const std::uint64_t x = rng();
    std::memcpy(buf.data() + i, &x, 8);
  }
}

void writeAt(const std::string& path, std::uint64_t offset, const std::vector<std::uint8_t>& buf) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0 ||
      ::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(offset)) != static_cast<ssize_t>(buf.size()))
    throw std::runtime_error("writing " + path + ": " + std::strerror(errno));
  ::close(fd);
}

ino_t inoOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw std::runtime_error("stat " + path);
  return st.st_ino;
}

double timeBuild(const std::string& dir, crypto::Hash256& root) {
  auto t0 = Clock::now();
  auto tree = statefs::StateTree::build(dir);
  if (!tree) throw std::runtime_error(tree.error().message);
  root = tree->root();
  return ms(Clock::now() - t0);
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
  std::mt19937_64 rng(42);
  const std::uint64_t fileBytes = o.stateMiB / static_cast<std::uint64_t>(o.files) * 1024 * 1024;
  std::vector<std::string> large;
  std::printf("creating the state in %s: %d files of %llu MiB, %d small files\n", o.dir.c_str(), o.files,
              static_cast<unsigned long long>(fileBytes >> 20), o.small);
  std::fflush(stdout);
  std::vector<std::uint8_t> mib(1024 * 1024);
  for (int f = 0; f < o.files; ++f) {
    large.push_back(o.dir + "/large" + std::to_string(f));
    if (fs::exists(large.back()) && fs::file_size(large.back()) == fileBytes) continue;
    for (std::uint64_t off = 0; off < fileBytes; off += mib.size()) {
      fill(rng, mib);
      writeAt(large.back(), off, mib);
    }
  }
  std::vector<std::uint8_t> small(4096);
  for (int s = 0; s < o.small; ++s) {
    const std::string d = o.dir + "/d" + std::to_string(s % 20);
    fs::create_directories(d);
    const std::string p = d + "/s" + std::to_string(s);
    if (fs::exists(p)) continue;
    fill(rng, small);
    writeAt(p, 0, small);
  }
  ::sync();

  // The naive way: the whole state hashed again (second run: page cache warm, as after a round).
  crypto::Hash256 root{};
  timeBuild(o.dir, root);
  const double full = timeBuild(o.dir, root);
  const double stateBytes = static_cast<double>(fileBytes) * o.files + 4096.0 * o.small;
  std::printf("full rehash of %.0f MiB: %.0f ms (%.0f MiB/s)\n", stateBytes / (1 << 20), full,
              stateBytes / (1 << 20) / (full / 1000));

  auto tree = statefs::StateTree::build(o.dir);
  if (!tree) throw std::runtime_error(tree.error().message);
  std::printf(
      "\nround wrote   state hash p50 (ms)   floor p50 (ms)   ratio to floor   ratio to full rehash\n");
  for (std::uint64_t w : {std::uint64_t{4096}, std::uint64_t{1} << 20, std::uint64_t{100} << 20}) {
    const int rounds = w <= (1u << 20) ? 30 : 3;
    std::vector<double> ours, floor;
    for (int r = 0; r < rounds; ++r) {
      std::vector<std::uint8_t> written;
      for (std::uint64_t done = 0; done < w;) {
        const std::uint64_t len = std::min<std::uint64_t>(w - done, 1 << 20);
        std::vector<std::uint8_t> buf(len);
        fill(rng, buf);
        const std::string& f = large[rng() % large.size()];
        const std::uint64_t at = rng() % (fileBytes - len);
        writeAt(f, at, buf);
        tree->markData(inoOf(f), at, len);
        written.insert(written.end(), buf.begin(), buf.end());
        done += len;
      }
      auto t0 = Clock::now();
      auto h = tree->refresh();
      if (!h) throw std::runtime_error(h.error().message);
      ours.push_back(ms(Clock::now() - t0));
      t0 = Clock::now();
      volatile auto floorHash = crypto::blake3(written);
      (void)floorHash;
      floor.push_back(ms(Clock::now() - t0));
    }
    const double o50 = pct(ours, 0.5), f50 = pct(floor, 0.5);
    std::printf("%9llu KiB   %19.3f   %14.3f   %14.1f   %20.4f\n", static_cast<unsigned long long>(w >> 10),
                o50, f50, o50 / f50, o50 / full);
  }
  // The incremental root must still be the from-scratch one.
  crypto::Hash256 check{};
  timeBuild(o.dir, check);
  if (check != tree->root()) throw std::runtime_error("the incremental root differs from a full build");
  std::printf("\nincremental root == full build: %s\n", core::toHexLower(check).c_str());
  if (made && !o.keep) fs::remove_all(o.dir);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench_statefs_bench: %s\n", e.what());
  return 1;
}
