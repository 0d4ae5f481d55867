// No shell anywhere: the product code never calls system() or popen(); programs are run from
// argument vectors (host/ProcessRunner).
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

namespace {

// The code of one line: string and character literals emptied, a // comment cut off, so that
// text such as "file system (…)" in a message is not taken for a call.
std::string codeOf(const std::string& line) {
  std::string out;
  char quote = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quote != 0) {
      if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
        out += c;
      }
      continue;
    }
    if (c == '/' && i + 1 < line.size() && line[i + 1] == '/') break;
    if (c == '"' || c == '\'') quote = c;
    out += c;
  }
  return out;
}

}  // namespace

TEST(NoShell, LiteralsAndCommentsAreNotCode) {
  EXPECT_EQ(codeOf(R"x(f("file system (x)"); // system(y))x"), R"x(f(""); )x");
  EXPECT_EQ(codeOf(R"x(a = '"'; system(z);)x"), R"x(a = ''; system(z);)x");
  EXPECT_EQ(codeOf(R"x(s = "a\"b(" + popen(c);)x"), R"x(s = "" + popen(c);)x");
  EXPECT_EQ(codeOf(R"x(connect("ws://h"); popen(x);)x"), R"x(connect(""); popen(x);)x");
}

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
      auto code = codeOf(line);
      EXPECT_FALSE(std::regex_search(code, call)) << e.path() << ":" << n << ": " << line;
    }
    ++scanned;
  }
  EXPECT_GT(scanned, 10);
}
