#pragma once
// A temporary directory for statefs unit tests, removed (with everything in it) on destruction.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

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

}  // namespace sashimono::statefs::testing
