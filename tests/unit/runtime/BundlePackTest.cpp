// Contract bundles and GNU tar: archives tar writes (gzip, ustar, GNU long names, pax) read as
// the directory packDirectory packs, tar's links refused, our bundles extracted by tar; and
// packDirectory itself.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "BundleTestSupport.h"
#include "sashimono/runtime/Bundle.h"

namespace sashimono::runtime {
namespace {

using namespace testing;

// Runs a program (no shell) and returns its exit status, or -1.
int run(const std::vector<std::string>& argv, const std::string& cwd = "") {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool haveTar() {
  static const bool have = run({"tar", "--version"}) == 0;
  return have;
}

Bytes readFileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

// ---- GNU tar interoperability ----

class GnuTar : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveTar()) GTEST_SKIP() << "tar is not installed";
    src_.write("contract.json", kManifest);
    src_.write("index.js", "console.log('hi')\n", fs::perms(0755));
    src_.write("lib/util.js", "module.exports = {}\n");
    fs::create_directories(src_.path("empty/dir"));
    src_.write("ünï/cödé.txt", "utf8");
  }
  Bundle expected() {
    auto b = packDirectory(src_.path().string());
    if (!b) throw std::runtime_error(b.error().message);
    return std::move(b).value();
  }
  core::Result<Bundle> tarAndRead(std::vector<std::string> args) {
    const std::string out = (work_.path() / "out.tar").string();
    std::vector<std::string> argv = {"tar"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-f", out, "-C", src_.path().string(), "."});
    EXPECT_EQ(run(argv), 0);
    return readBundle(readFileBytes(out));
  }
  TempDir src_, work_;
};

TEST_F(GnuTar, ReadsDefaultGzipArchives) {
  auto b = tarAndRead({"-cz"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, expected());
  EXPECT_TRUE(find(*b, "index.js")->executable);
  EXPECT_FALSE(find(*b, "lib/util.js")->executable);
}

TEST_F(GnuTar, ReadsUstarWithPrefixSplitPaths) {
  // "./<99 u>/" is the longest directory name ustar can hold with a 1-byte prefix.
  const std::string p = std::string(99, 'u') + "/" + std::string(50, 'v') + "/" + std::string(48, 'w');
  src_.write(p, "ustar");
  ASSERT_EQ(p.size(), 199u);
  auto b = tarAndRead({"-c", "--format=ustar"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, expected());
  ASSERT_NE(find(*b, p), nullptr);
}

TEST_F(GnuTar, ReadsGnuLongNames) {
  const std::string p = "long/" + std::string(200, 'g');
  src_.write(p, "gnu");
  auto b = tarAndRead({"-c", "--format=gnu"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, expected());
  ASSERT_NE(find(*b, p), nullptr);
}

TEST_F(GnuTar, ReadsPaxArchives) {
  const std::string p = "long/" + std::string(200, 'x');
  src_.write(p, "pax");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-c", "--format=pax"}, std::vector<std::string>{"-cz", "--format=pax"}}) {
    auto b = tarAndRead(args);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(*b, expected());
    ASSERT_NE(find(*b, p), nullptr);
  }
}

TEST_F(GnuTar, RefusesSymlinksAndHardLinksFromRealArchives) {
  fs::create_symlink("/etc/passwd", src_.path("lib/evil"));
  auto b = tarAndRead({"-cz"});
  EXPECT_TRUE(failsWith(b, "entry './lib/evil': a symbolic link to '/etc/passwd'"));
  fs::remove(src_.path("lib/evil"));
  fs::create_hard_link(src_.path("index.js"), src_.path("lib/again.js"));
  b = tarAndRead({"-c", "--format=pax"});
  EXPECT_TRUE(failsWith(b, "a hard link to"));
}

TEST_F(GnuTar, HintsWhenTheArchiveHoldsTheDirectory) {
  const std::string out = (work_.path() / "out.tgz").string();
  ASSERT_EQ(
      run({"tar", "-czf", out, "-C", src_.path().parent_path().string(), src_.path().filename().string()}),
      0);
  EXPECT_TRUE(failsWith(readBundle(readFileBytes(out)), "make the archive from inside the directory"));
}

TEST_F(GnuTar, ExtractsOurBundles) {
  src_.write(std::string(200, 'c') + "/" + std::string(200, 'd') + "/f", "pax path");
  Bundle b = expected();
  auto archive = writeBundle(b);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  {
    std::ofstream(work_.path("b.tgz"), std::ios::binary)
        .write(reinterpret_cast<const char*>(archive->data()), static_cast<std::streamsize>(archive->size()));
  }
  fs::create_directories(work_.path("x"));
  ASSERT_EQ(run({"tar", "-xzf", work_.path("b.tgz").string(), "-C", work_.path("x").string()}), 0);
  auto again = packDirectory(work_.path("x").string());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, b);
}

// ---- packDirectory ----

TEST(PackDirectory, PacksFilesDirectoriesAndModesSkippingTopLevelGit) {
  TempDir d;
  d.write("contract.json", R"({"version":"1","bin_path":"run"})");
  d.write("run", "#!/bin/sh\n", fs::perms(0700));
  d.write("lib/a.js", "a");
  fs::create_directories(d.path("empty"));
  d.write(".git/config", "[core]");
  d.write("vendor/.git/HEAD", "ref");  // only the top-level .git is skipped
  d.write(".env", "not skipped");
  auto b = packDirectory(d.path().string());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(paths(*b), (std::vector<std::string>{".env", "contract.json", "empty/", "lib/", "lib/a.js", "run",
                                                 "vendor/", "vendor/.git/", "vendor/.git/HEAD"}));
  EXPECT_TRUE(find(*b, "run")->executable);
  EXPECT_EQ(b->contract.binPath, "run");

  fs::remove_all(d.path(".git"));
  d.write(".git", "gitdir: ../x");  // a worktree's .git file
  auto again = packDirectory(d.path().string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(find(*again, ".git"), nullptr);
}

TEST(PackDirectory, RefusesSymlinksAndSpecialFilesNamingThePath) {
  TempDir d;
  d.write("contract.json", kManifest);
  fs::create_directories(d.path("lib"));
  fs::create_symlink("../contract.json", d.path("lib/link.json"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "entry 'lib/link.json': a symbolic link"));
  fs::remove(d.path("lib/link.json"));
  ASSERT_EQ(::mkfifo(d.path("lib/pipe").c_str(), 0644), 0);
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "entry 'lib/pipe': a FIFO"));
  fs::remove(d.path("lib/pipe"));
  fs::create_directory_symlink(d.path("lib"), d.path("linked-dir"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "entry 'linked-dir': a symbolic link"));
  fs::remove(d.path("linked-dir"));
  EXPECT_TRUE(packDirectory(d.path().string()).ok());
  EXPECT_FALSE(packDirectory(d.path("missing").string()).ok());
}

TEST(PackDirectory, EnforcesLimits) {
  TempDir d;
  d.write("contract.json", kManifest);
  d.write("big", std::string(2000, 'b'));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string(), BundleLimits{100, 1000}),
                        "entry 'big': the files hold more"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string(), BundleLimits{1, 1 << 20}), "more than 1 entries"));
  fs::remove(d.path("contract.json"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "no top-level contract.json"));
}

}  // namespace
}  // namespace sashimono::runtime
