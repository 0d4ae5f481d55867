#pragma once
// A temporary directory for statefs unit tests, removed (with everything in it) on destruction,
// and the helpers the tests share (roots from scratch, inodes).
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::statefs::testing {

class TempTree {
 public:
  TempTree() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sashi-statefs-unit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  [[nodiscard]] std::filesystem::path path(const std::string& rel = "") const {
    return rel.empty() ? root_ : root_ / rel;
  }
  void write(const std::string& rel, const std::string& content) const {
    std::ofstream(path(rel)) << content;
  }
  [[nodiscard]] std::string read(const std::string& rel) const {
    std::ifstream in(path(rel));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  std::filesystem::path root_;
};

inline std::string hex(const crypto::Hash256& h) { return core::toHexLower(h); }

// The root of `dir` hashed from scratch (StateTree::build): what every incremental root must equal.
inline crypto::Hash256 builtRoot(const std::filesystem::path& dir) {
  auto t = StateTree::build(dir.string());
  if (!t) throw std::runtime_error(t.error().message);
  return t->root();
}
inline std::string builtRootHex(const std::filesystem::path& dir) { return hex(builtRoot(dir)); }

inline ino_t inoOf(const std::filesystem::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) throw std::runtime_error("lstat " + p.string());
  return st.st_ino;
}

}  // namespace sashimono::statefs::testing
