#pragma once
// A temporary directory removed with everything in it at scope exit, and the state hash of a
// directory as `sashimono statefs hash` computes it: what the StateRounds tests share.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>

#include "sashimono/runtime/Ledger.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::fakes {

struct StateTestDir {
  explicit StateTestDir(const std::string& prefix = "sashi-state") {
    std::string t = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path = t;
  }
  ~StateTestDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  StateTestDir(const StateTestDir&) = delete;
  StateTestDir& operator=(const StateTestDir&) = delete;
  std::filesystem::path path;
};

// The root of a StateTree built from `dir` (zeros, and a test failure, when it cannot be built).
inline runtime::Hash builtRoot(const std::filesystem::path& dir) {
  auto t = statefs::StateTree::build(dir.string());
  EXPECT_TRUE(t.ok()) << t.error().message;
  return t.ok() ? t->root() : runtime::Hash{};
}

}  // namespace sashimono::fakes
