// `sashimono statefs hash --json` against the reference BLAKE3 tool: every file's hash in the
// listing is what `b3sum` prints for it, at the sizes where BLAKE3's chunks and our 64 KiB
// blocks meet, and for a sparse file.
#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "fakes/node/Child.h"

namespace sashimono::cli {
namespace {

namespace fs = std::filesystem;
using node::fakes::Child;
using node::fakes::runCli;

std::string findB3sum() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    const std::string p = std::string(dir) + "/b3sum";
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return {};
}

TEST(StatefsHashB3sumTest, FileHashesAreWhatB3sumPrints) {
  const std::string b3sum = findB3sum();
  if (b3sum.empty()) GTEST_SKIP() << "b3sum is not installed (tools/setup.sh installs it)";
  const fs::path dir = fs::temp_directory_path() / ("sashi-b3sum-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::map<std::string, std::uint64_t> sizes{
      {"empty", 0},     {"one", 1},         {"block-1", 65535},
      {"block", 65536}, {"block+1", 65537}, {"mib+17", (1 << 20) + 17},
  };
  std::uint32_t x = 1;
  for (const auto& [name, size] : sizes) {
    std::string content(size, '\0');
    for (auto& c : content) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
    std::ofstream(dir / name, std::ios::binary) << content;
  }
  {
    // 5 MiB, a hole but for a few bytes in the middle and at the end.
    std::ofstream(dir / "sparse").close();
    fs::resize_file(dir / "sparse", 5 << 20);
    std::fstream f(dir / "sparse", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3 << 20);
    f << "data";
    f.seekp((5 << 20) - 1);
    f << 'z';
  }
  auto r = runCli({"statefs", "hash", dir.string(), "--json"}, {}, std::chrono::seconds(60));
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_TRUE(r.json.IsObject()) << r.out;
  ASSERT_EQ(std::string(r.json["root"].GetString()).size(), 64u);
  const auto& entries = r.json["entries"];
  ASSERT_EQ(entries.Size(), sizes.size() + 1);
  for (const auto& e : entries.GetArray()) {
    const std::string name = e["name"].GetString();
    EXPECT_STREQ(e["kind"].GetString(), "file");
    EXPECT_EQ(e["size"].GetUint64(), fs::file_size(dir / name));
    Child c;
    c.start({b3sum, "--no-names", (dir / name).string()}, {});
    std::string out;
    ASSERT_EQ(c.wait(out, std::chrono::seconds(30)), 0) << out;
    EXPECT_EQ(std::string(e["hash"].GetString()) + "\n", out) << name;
  }
  fs::remove_all(dir);
}

// A missing directory and a socket inside the state are errors (exit 1, nothing on stdout).
TEST(StatefsHashB3sumTest, UnhashableStatesExitOne) {
  const fs::path dir = fs::temp_directory_path() / ("sashi-hash-err-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto missing = runCli({"statefs", "hash", (dir / "missing").string()}, {}, std::chrono::seconds(30));
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.out, "");
  ASSERT_EQ(::mknod((dir / "sock").c_str(), S_IFSOCK | 0600, 0), 0);
  auto sock = runCli({"statefs", "hash", dir.string(), "--json"}, {}, std::chrono::seconds(30));
  EXPECT_EQ(sock.code, 1);
  EXPECT_EQ(sock.out, "");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sashimono::cli
