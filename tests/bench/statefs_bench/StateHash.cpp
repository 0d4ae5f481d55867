// The state hash part of bench_statefs_bench (see tests/bench/statefs_bench.cpp).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "bench/statefs_bench/StatefsBench.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/statefs/StateTree.h"

namespace fs = std::filesystem;

namespace sashimono::statefs_bench {

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

namespace {

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

State makeState(const Options& o, const std::string& dir) {
  fs::create_directories(dir);
  std::mt19937_64 rng(42);
  State st;
  st.fileBytes = o.stateMiB / static_cast<std::uint64_t>(o.files) * 1024 * 1024;
  std::printf("creating the state in %s: %d files of %llu MiB, %d small files of 4 KiB\n", dir.c_str(),
              o.files, static_cast<unsigned long long>(st.fileBytes >> 20), o.small);
  std::fflush(stdout);
  std::vector<std::uint8_t> mib(1024 * 1024);
  for (int f = 0; f < o.files; ++f) {
    st.large.push_back(dir + "/large" + std::to_string(f));
    if (fs::exists(st.large.back()) && fs::file_size(st.large.back()) == st.fileBytes) continue;
    for (std::uint64_t off = 0; off < st.fileBytes; off += mib.size()) {
      fill(rng, mib);
      writeAt(st.large.back(), off, mib);
    }
  }
  std::vector<std::uint8_t> small(4096);
  for (int s = 0; s < o.small; ++s) {
    const std::string d = dir + "/d" + std::to_string(s % 20);
    fs::create_directories(d);
    const std::string p = d + "/s" + std::to_string(s);
    if (fs::exists(p)) continue;
    fill(rng, small);
    writeAt(p, 0, small);
  }
  ::sync();
  return st;
}

void runStateHash(const Options& o, const std::string& dir) {
  std::printf("== state hash ==\n");
  const State state = makeState(o, dir);
  const std::vector<std::string>& large = state.large;
  const std::uint64_t fileBytes = state.fileBytes;
  std::mt19937_64 rng(42);

  // The naive way: the whole state hashed again (page cache warm, as after a round); the median
  // of the runs after a first one that warms the cache.
  crypto::Hash256 root{};
  timeBuild(dir, root);
  std::vector<double> fulls;
  for (int i = 0; i < o.reps; ++i) fulls.push_back(timeBuild(dir, root));
  const double full = median(fulls);
  const double stateBytes = static_cast<double>(fileBytes) * o.files + 4096.0 * o.small;
  std::printf("full rehash of %.0f MiB: %.0f ms (%.0f MiB/s), median of %d\n", stateBytes / (1 << 20), full,
              stateBytes / (1 << 20) / (full / 1000), o.reps);

  auto tree = statefs::StateTree::build(dir);
  if (!tree) throw std::runtime_error(tree.error().message);
  std::printf(
      "\nround wrote   rounds   state hash p50 (ms)   p95 (ms)   floor p50 (ms)   ratio to floor   ratio to "
      "full rehash\n");
  for (std::uint64_t w : {std::uint64_t{4096}, std::uint64_t{1} << 20, std::uint64_t{100} << 20}) {
    const int rounds = w <= (1u << 20) ? 31 : 5;
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
    const double o50 = median(ours), f50 = median(floor);
    std::printf("%9llu KiB   %6d   %19.3f   %8.3f   %14.3f   %14.1f   %20.4f\n",
                static_cast<unsigned long long>(w >> 10), rounds, o50, pct(ours, 0.95), f50, o50 / f50,
                o50 / full);
    if (w == 4096)
      std::printf("  goal: state hash after a 4 KiB round <= 2 ms: %s\n", o50 <= 2.0 ? "met" : "NOT met");
  }
  // The incremental root must still be the from-scratch one.
  crypto::Hash256 check{};
  timeBuild(dir, check);
  if (check != tree->root()) throw std::runtime_error("the incremental root differs from a full build");
  std::printf("\nincremental root == full build: %s\n", core::toHexLower(check).c_str());
}

}  // namespace sashimono::statefs_bench
