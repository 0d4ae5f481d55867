#pragma once
// What the parts of bench_statefs_bench (tests/bench/statefs_bench.cpp, which documents the
// measurements) share: the options, a few file helpers, and the two parts.
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench/BenchUtil.h"

namespace sashimono::statefs_bench {

using Clock = std::chrono::steady_clock;
using bench::ms;
using bench::pct;

struct Options {
  // The state hash part.
  std::uint64_t stateMiB = 1024;
  int files = 16;
  int small = 2000;
  // The FUSE part.
  std::uint64_t ioMiB = 512;
  int smallFiles = 10000;
  int reps = 3;
  // Both.
  std::string part = "all";  // all | hash | fuse
  std::string dir;           // the work directory (default: a new one in /var/tmp)
  bool keep = false;
};

// ---- helpers (StateHash.cpp) ----

// Fills `buf` with bytes of `rng`.
void fill(std::mt19937_64& rng, std::vector<std::uint8_t>& buf);
// Writes all of `buf` at `offset` of `path` (created when missing); throws on error.
void writeAt(const std::string& path, std::uint64_t offset, const std::vector<std::uint8_t>& buf);
// The median of v.
inline double median(const std::vector<double>& v) { return pct(v, 0.5); }

// ---- the parts ----

// The state hash after rounds of 4 KiB, 1 MiB and 100 MiB on a state of o.stateMiB under `dir`,
// beside the floor and a full rehash (StateHash.cpp). Throws on error.
void runStateHash(const Options& o, const std::string& dir);

// Sequential I/O and small-file rates through a real `sashimono statefs mount` beside the same
// operations on a directory of the same filesystem (FuseIo.cpp), work files under `dir`.
// Returns false (after saying why) when no mount could be made; throws on other errors.
bool runFuse(const Options& o, const std::string& dir);

}  // namespace sashimono::statefs_bench
