#pragma once
// Shared by the contract bundle tests (BundleTest, BundleReadTest, BundlePackTest,
// BundleInstallTest): a temporary directory, bundle entries built in one call, and an assertion
// that a Result failed with a message containing a given text.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "TestBytes.h"
#include "sashimono/runtime/Bundle.h"

namespace sashimono::runtime::testing {

namespace fs = std::filesystem;
using core::Bytes;

inline constexpr const char* kManifest =
    R"({"version":"1.0","bin_path":"/usr/bin/node","bin_args":"index.js"})";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sashi-bundle-unit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] fs::path path(const std::string& rel = "") const { return rel.empty() ? root_ : root_ / rel; }
  void write(const std::string& rel, const std::string& content, fs::perms perms = fs::perms(0644)) const {
    fs::create_directories(path(rel).parent_path());
    std::ofstream(path(rel), std::ios::binary) << content;
    fs::permissions(path(rel), perms);
  }
  [[nodiscard]] std::string read(const std::string& rel) const {
    std::ifstream in(path(rel), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path root_;
};

inline BundleFile file(std::string path, std::string_view data, bool exec = false) {
  BundleFile f;
  f.path = std::move(path);
  f.data = bytes(data);
  f.executable = exec;
  return f;
}
inline BundleFile dir(std::string path) {
  BundleFile f;
  f.path = std::move(path);
  f.directory = true;
  return f;
}

inline Bundle mustMake(std::vector<BundleFile> files) {
  auto b = makeBundle(std::move(files));
  if (!b) throw std::runtime_error(b.error().message);
  return std::move(b).value();
}

template <typename T>
::testing::AssertionResult failsWith(const core::Result<T>& r, std::string_view needle) {
  if (r.ok())
    return ::testing::AssertionFailure() << "succeeded; expected an error containing '" << needle << "'";
  if (r.error().message.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "error '" << r.error().message << "' lacks '" << needle << "'";
  }
  return ::testing::AssertionSuccess();
}

inline const BundleFile* find(const Bundle& b, std::string_view path) {
  for (const auto& f : b.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

inline std::vector<std::string> paths(const Bundle& b) {
  std::vector<std::string> out;
  for (const auto& f : b.files) out.push_back(f.directory ? f.path + "/" : f.path);
  return out;
}

}  // namespace sashimono::runtime::testing
