// JSON from outside (boards, devnet clients, rootlesskit's API, config and record files) is
// parsed with rapidjson's iterative parser: the recursive one uses a stack frame per nesting
// level, so a few hundred KB of "[[[[…" from a hostile board overflowed the node's I/O thread.
// This scan keeps every Parse call in src/ iterative; the hostile-board integration test
// (NodeHostileTest) checks the behaviour end to end.
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

TEST(IterativeParse, EveryParseInSourcesIsIterative) {
  const std::regex parse(R"(\.Parse\s*[<(])");
  int calls = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(std::string(SASHIMONO_SOURCE_DIR) + "/src")) {
    if (!e.is_regular_file()) continue;
    const auto ext = e.path().extension().string();
    if (ext != ".cpp" && ext != ".h") continue;
    std::ifstream in(e.path());
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      const auto code = line.substr(0, line.find("//"));
      if (!std::regex_search(code, parse)) continue;
      ++calls;
      EXPECT_NE(code.find("kParseIterativeFlag"), std::string::npos) << e.path() << ":" << n << ": " << line;
    }
  }
  EXPECT_GT(calls, 5);
}

TEST(IterativeParse, DeepNestingIsAnErrorNotACrash) {
  const std::string deep(2'000'000, '[');
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(deep.c_str(), deep.size());
  EXPECT_TRUE(d.HasParseError());
}
