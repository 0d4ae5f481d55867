#pragma once
// The random operations of the statefs property tests (HashingBackendTest, RoundBackendTest):
// one driver, so that both stacks meet the same mix of creates, writes past the end, truncates,
// renames and exchanges across directories, links, symlinks, modes, fallocate and closes.
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "sashimono/statefs/StateBackend.h"

namespace sashimono::statefs::testing {

struct RandomOps {
  std::uint64_t span = 128 * 1024;  // offsets and sizes fall below this
  int names = 40;                   // new names are n0 … n(names - 1)
  bool append = false;              // opens may use O_APPEND
  bool fifos = false;               // closing may instead make a FIFO
  bool allFallocateModes = false;   // also plain allocation and ZERO_RANGE
  // When set, half of the writes go through it (the spliced path: writeFrom) instead of write().
  std::function<int(Handle, const std::string&, off_t)> writeFrom;
};

// State paths ("/…") of the regular files and directories under `root` (symlinks not followed).
inline void scanState(const std::filesystem::path& root, std::vector<std::string>& files,
                      std::vector<std::string>& dirs) {
  files.clear();
  dirs.assign(1, "/");
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    const std::string p = "/" + std::filesystem::relative(e.path(), root).string();
    if (e.is_symlink()) continue;
    if (e.is_directory()) dirs.push_back(p);
    if (e.is_regular_file()) files.push_back(p);
  }
}

// One random operation on `be`, among what `root` holds now; `open` keeps the handles it opened
// (and loses those it closed). Results are ignored: refusals are part of the mix.
inline void randomOp(StateBackend& be, const std::filesystem::path& root, std::mt19937_64& rng,
                     std::vector<Handle>& open, const RandomOps& o) {
  std::vector<std::string> files, dirs;
  scanState(root, files, dirs);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  auto newName = [&](const std::string& dir) {
    return (dir == "/" ? "" : dir) + "/n" + std::to_string(rng() % static_cast<std::uint64_t>(o.names));
  };
  auto offset = [&] { return static_cast<off_t>(rng() % o.span); };
  const bool haveFile = !files.empty(), haveOpen = !open.empty();
  auto anyOpen = [&] { return open[rng() % open.size()]; };
  Handle h = 0;
  switch (rng() % 16) {
    case 0:  // create, keep open
      if (be.create(newName(pick(dirs)), O_RDWR | O_EXCL, 0644, h) == 0) open.push_back(h);
      break;
    case 1:  // open an existing file, maybe truncating or appending
      if (haveFile &&
          be.open(pick(files),
                  O_RDWR | (rng() % 4 == 0 ? O_TRUNC : 0) | (o.append && rng() % 4 == 0 ? O_APPEND : 0),
                  h) == 0)
        open.push_back(h);
      break;
    case 2:
    case 3:  // write at an offset (maybe past the end), possibly into an unlinked file
      if (haveOpen) {
        std::string b(1 + rng() % 9000, '\0');
        for (auto& c : b) c = static_cast<char>(rng());
        const Handle to = anyOpen();
        const off_t at = offset();
        (void)(o.writeFrom && rng() % 2 ? o.writeFrom(to, b, at) : be.write(to, b.data(), b.size(), at));
      }
      break;
    case 4:
      if (haveFile) (void)be.truncate(pick(files), offset());
      break;
    case 5:
      if (haveOpen) (void)be.ftruncate(anyOpen(), offset());
      break;
    case 6:  // rename a file or a directory, maybe across directories, maybe replacing
      (void)be.rename(rng() % 2 ? (haveFile ? pick(files) : "/x") : pick(dirs), newName(pick(dirs)),
                      rng() % 4 == 0 ? RENAME_NOREPLACE : 0);
      break;
    case 7: {  // swap two names (files, directories, or one of each)
      auto& a = rng() % 2 && haveFile ? files : dirs;
      auto& b = rng() % 2 && haveFile ? files : dirs;
      (void)be.rename(pick(a), pick(b), RENAME_EXCHANGE);
      break;
    }
    case 8:  // unlink (an open handle stays usable)
      if (haveFile) (void)be.unlink(pick(files));
      break;
    case 9:
      if (haveFile) (void)be.link(pick(files), newName(pick(dirs)));
      break;
    case 10:
      (void)be.symlink("../t" + std::to_string(rng() % 3), newName(pick(dirs)));
      break;
    case 11:
      if (rng() % 2)
        (void)be.mkdir(newName(pick(dirs)), rng() % 2 ? 0755 : 0700);
      else
        (void)be.rmdir(pick(dirs));
      break;
    case 12:  // chmod a file or a directory by name
      (void)be.chmod(rng() % 2 && haveFile ? pick(files) : pick(dirs), rng() % 2 ? 0750 : 0705);
      break;
    case 13:
      if (haveOpen) (void)be.fchmod(anyOpen(), rng() % 2 ? 0755 : 0600);
      break;
    case 14:
      if (haveOpen) {
        static constexpr int kModes[] = {FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, FALLOC_FL_KEEP_SIZE,
                                         FALLOC_FL_ZERO_RANGE};
        (void)be.fallocate(anyOpen(), kModes[rng() % (o.allFallocateModes ? 4 : 2)], offset(),
                           1 + static_cast<off_t>(rng() % (o.span / 2)));
      }
      break;
    case 15:  // close a handle, or make a fifo
      if (haveOpen && (!o.fifos || rng() % 3 != 0)) {
        auto at = open.begin() + static_cast<std::ptrdiff_t>(rng() % open.size());
        (void)be.release(*at);
        open.erase(at);
      } else if (o.fifos) {
        (void)be.mknod(newName(pick(dirs)), S_IFIFO | 0644, 0);
      }
      break;
  }
}

}  // namespace sashimono::statefs::testing
