#pragma once
// What the parts of bench_statefs_bench (tests/bench/statefs_bench.cpp, which documents the
// measurements) share: the options, a few file helpers, and the two parts.
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "bench/BenchUtil.h"
#include "sashimono/host/StateFs.h"

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
  // The mounts' readahead window, as the host sets a tenant's (0: the kernel's default, 128 KiB).
  unsigned readaheadKiB = host::kStateFsReadaheadKiB;
  // Both.
  std::string part = "all";  // all | hash | fuse | round
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

// The state both the hash part and the round part use (StateHash.cpp): o.files large files of
// random bytes and o.small files of 4 KiB in 20 directories under `dir`, made when missing.
struct State {
  std::vector<std::string> large;  // their paths
  std::uint64_t fileBytes = 0;     // the size of each
};
State makeState(const Options& o, const std::string& dir);

// ---- helpers (FuseIo.cpp) ----

// Runs argv (no shell) and returns its exit status, with its stdout and stderr in `out`.
int run(const std::vector<std::string>& argv, std::string& out);

// A `sashimono statefs mount` of `source` at `mountpoint` (with `extra` options), its readahead
// set to `readaheadKiB` (0: left alone), unmounted at the end.
class Mount {
 public:
  Mount(const std::string& source, const std::string& mountpoint, unsigned readaheadKiB,
        const std::vector<std::string>& extra = {});
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }

 private:
  std::string mountpoint_;
  bool ok_ = false;
  std::string why_;
};

// ---- the parts ----

// The state hash after rounds of 4 KiB, 1 MiB and 100 MiB on a state of o.stateMiB under `dir`,
// beside the floor and a full rehash (StateHash.cpp). Throws on error.
void runStateHash(const Options& o, const std::string& dir);

// Sequential I/O and small-file rates through a real `sashimono statefs mount` beside the same
// operations on a directory of the same filesystem (FuseIo.cpp), work files under `dir`.
// Returns false (after saying why) when no mount could be made; throws on other errors.
bool runFuse(const Options& o, const std::string& dir);

// The cost of a round's checkpoint through a real mount with an undo log and a persisted tree
// (Rounds.cpp): begin, a round's writes, root, commit, on the state in `stateDir`, beside making
// the same writes durable directly. Work files under `dir`. False (after saying why) when no
// mount could be made.
bool runRounds(const Options& o, const std::string& stateDir, const std::string& dir);

}  // namespace sashimono::statefs_bench
