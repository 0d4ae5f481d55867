#pragma once
// The state hash of a directory tree (interim, until the state filesystem keeps a hash tree of
// its own: issue 10). Files: BLAKE3 of the content. Directories: BLAKE3 over the entries sorted
// by name, each as name ‖ 0x00 ‖ kind (1 file, 2 directory, 3 symlink) ‖ executable (0/1) ‖ hash
// (a symlink's hash is BLAKE3 of its target). Other kinds are skipped.
//
// The hasher remembers each file's (inode, size, mtime, ctime) and its hash, so a round that
// changed little rehashes little. Thread-compatible (one thread at a time).
#include <map>
#include <string>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/Ledger.h"

namespace sashimono::runtime {

class StateHasher {
 public:
  core::Result<Hash> hash(const std::string& dir);

 private:
  struct Cached {
    std::uint64_t ino = 0, size = 0;
    std::int64_t mtimeNs = 0, ctimeNs = 0;
    Hash hash{};
  };
  core::Result<Hash> hashDir(int dirfd, const std::string& path, int depth);
  std::map<std::string, Cached> cache_;
  std::map<std::string, Cached> seen_;
};

}  // namespace sashimono::runtime
