// No shell anywhere: the product code never calls system() or popen(); programs are run from
// argument vectors (host/ProcessRunner).
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

TEST(NoShell, SourcesNeverCallSystemOrPopen) {
  const std::regex call(R"((^|[^A-Za-z0-9_])(system|popen)\s*\()");
  int scanned = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(std::string(SASHIMONO_SOURCE_DIR) + "/src")) {
    if (!e.is_regular_file()) continue;
    auto ext = e.path().extension().string();
    if (ext != ".cpp" && ext != ".h" && ext != ".hpp" && ext != ".cc") continue;
    std::ifstream in(e.path());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      auto code = line.substr(0, line.find("//"));
      EXPECT_FALSE(std::regex_search(code, call)) << e.path() << ":" << n << ": " << line;
    }
    ++scanned;
  }
  EXPECT_GT(scanned, 10);
}
