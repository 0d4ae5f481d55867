// Contract bundles: installing over an existing (possibly hostile) state directory: modes, the
// install record, reinstalls that keep state, symlinks planted by the contract, leftovers.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "BundleTestSupport.h"
#include "sashimono/runtime/Bundle.h"

namespace sashimono::runtime {
namespace {

using namespace testing;

bool isSymlink(const fs::path& p) { return fs::is_symlink(fs::symlink_status(p)); }

unsigned modeOf(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// ---- installBundle ----

class Install : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_.path("contract/state"));
    fs::create_directories(tmp_.path("outside"));
    tmp_.write("outside/secret", "secret");
  }
  [[nodiscard]] std::string state() const { return tmp_.path("contract/state").string(); }
  [[nodiscard]] fs::path statePath(const std::string& rel) const {
    return tmp_.path("contract/state/" + rel);
  }
  static Bundle v1() {
    return mustMake({file("contract.json", R"({"version":"1","bin_path":"run"})"),
                     file("run", "#!/bin/sh\n", true), file("lib/old.js", "old"),
                     file("lib/keep.js", "keep v1"), dir("olddir/sub"), file("gone/only.js", "x")});
  }
  static Bundle v2() {
    return mustMake({file("contract.json", R"({"version":"2","bin_path":"run"})"),
                     file("run", "#!/bin/sh\nv2\n", true), file("lib/keep.js", "keep v2"),
                     file("lib/new.js", "new"), dir("empty")});
  }
  TempDir tmp_;
};

TEST_F(Install, FreshInstallWritesFilesModesAndTheRecord) {
  auto before = readInstallRecord(state());
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_FALSE(before->has_value());
  ::umask(077);  // modes are exact, whatever the umask
  auto st = installBundle(v1(), state());
  ::umask(022);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(tmp_.read("contract/state/lib/old.js"), "old");
  EXPECT_EQ(modeOf(statePath("run")), 0755u);
  EXPECT_EQ(modeOf(statePath("lib/old.js")), 0644u);
  EXPECT_EQ(modeOf(statePath("lib")), 0755u);
  EXPECT_EQ(modeOf(statePath("olddir/sub")), 0755u);
  EXPECT_EQ(tmp_.read("contract/state/contract.json"), R"({"version":"1","bin_path":"run"})");
  EXPECT_FALSE(fs::exists(statePath(".sashimono-install.tmp")));
  auto rec = readInstallRecord(state());
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  ASSERT_TRUE(rec->has_value());
  EXPECT_TRUE((*rec)->complete);
  EXPECT_EQ((*rec)->contract.version, "1");
  EXPECT_EQ((*rec)->files,
            (std::vector<std::string>{"contract.json", "gone/only.js", "lib/keep.js", "lib/old.js", "run"}));
  EXPECT_EQ((*rec)->directories, (std::vector<std::string>{"gone", "lib", "olddir", "olddir/sub"}));
  EXPECT_TRUE(fs::exists(tmp_.path("contract/bundle.json")));
  EXPECT_FALSE(fs::exists(tmp_.path("contract/bundle.json.tmp")));
}

TEST_F(Install, ReinstallKeepsStateAndRemovesWhatThePreviousBundleHadAlone) {
  ASSERT_TRUE(installBundle(v1(), state()).ok());
  tmp_.write("contract/state/db.sqlite", "state data");
  tmp_.write("contract/state/lib/cache.bin", "state in a bundle dir");
  tmp_.write("contract/state/olddir/sub/user.txt", "state in an old bundle dir");
  tmp_.write("contract/state/lib/keep.js", "modified by the contract");
  auto st = installBundle(v2(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(tmp_.read("contract/state/db.sqlite"), "state data");
  EXPECT_EQ(tmp_.read("contract/state/lib/cache.bin"), "state in a bundle dir");
  EXPECT_EQ(tmp_.read("contract/state/lib/keep.js"), "keep v2") << "bundle files are replaced";
  EXPECT_EQ(tmp_.read("contract/state/lib/new.js"), "new");
  EXPECT_EQ(tmp_.read("contract/state/run"), "#!/bin/sh\nv2\n");
  EXPECT_FALSE(fs::exists(statePath("lib/old.js")));
  EXPECT_FALSE(fs::exists(statePath("gone"))) << "an emptied directory of the old bundle is removed";
  EXPECT_EQ(tmp_.read("contract/state/olddir/sub/user.txt"), "state in an old bundle dir")
      << "a directory holding state is kept";
  EXPECT_TRUE(fs::is_directory(statePath("empty")));
  auto rec = readInstallRecord(state());
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->contract.version, "2");
  EXPECT_EQ((*rec)->files, (std::vector<std::string>{"contract.json", "lib/keep.js", "lib/new.js", "run"}));
  EXPECT_EQ((*rec)->directories, (std::vector<std::string>{"empty", "lib"}));
}

TEST_F(Install, SymlinkWhereTheBundleWantsADirectoryDoesNotLeadOutside) {
  fs::create_directory_symlink(tmp_.path("outside"), statePath("lib"));
  fs::create_symlink(tmp_.path("outside/secret"), statePath("run"));
  auto st = installBundle(v1(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(isSymlink(statePath("lib")));
  EXPECT_TRUE(fs::is_directory(statePath("lib")));
  EXPECT_FALSE(isSymlink(statePath("run")));
  EXPECT_EQ(tmp_.read("contract/state/run"), "#!/bin/sh\n");
  EXPECT_EQ(tmp_.read("outside/secret"), "secret");
  EXPECT_FALSE(fs::exists(tmp_.path("outside/old.js")));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp_.path("outside")), fs::directory_iterator()), 1);
}

TEST_F(Install, StaleRemovalDoesNotFollowSymlinksPlantedByTheContract) {
  ASSERT_TRUE(installBundle(v1(), state()).ok());
  // The old contract replaces lib/ with a link to a directory outside that has the same names.
  fs::remove_all(statePath("lib"));
  fs::create_directory_symlink(tmp_.path("outside"), statePath("lib"));
  tmp_.write("outside/old.js", "outside file");
  tmp_.write("outside/keep.js", "outside keep");
  fs::remove_all(statePath("gone"));
  fs::create_directory_symlink(tmp_.path("outside"), statePath("gone"));
  tmp_.write("outside/only.js", "outside only");
  auto st = installBundle(v2(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(tmp_.read("outside/old.js"), "outside file");
  EXPECT_EQ(tmp_.read("outside/keep.js"), "outside keep");
  EXPECT_EQ(tmp_.read("outside/only.js"), "outside only");
  EXPECT_EQ(tmp_.read("outside/secret"), "secret");
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(statePath("lib"))))
      << "v2 has lib/: a real directory again";
  EXPECT_EQ(tmp_.read("contract/state/lib/new.js"), "new");
  EXPECT_TRUE(isSymlink(statePath("gone"))) << "not ours any more: left alone";
}

TEST_F(Install, ReplacesNonDirectoriesAndEmptyDirectoriesButNotStateDirectories) {
  tmp_.write("contract/state/olddir", "a state file where the bundle has a directory");
  fs::create_directories(statePath("run"));  // an empty directory where the bundle has a file
  auto st = installBundle(v1(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(fs::is_directory(statePath("olddir/sub")));
  EXPECT_EQ(tmp_.read("contract/state/run"), "#!/bin/sh\n");

  tmp_.write("contract/state/lib/new.js/data.bin", "state");  // v2 wants a file there
  auto again = installBundle(v2(), state());
  EXPECT_TRUE(failsWith(again, "'lib/new.js' is a directory holding other files in the state"));
  EXPECT_EQ(tmp_.read("contract/state/lib/new.js/data.bin"), "state");
  auto rec = readInstallRecord(state());
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_FALSE((*rec)->complete) << "the record says the install did not finish";
  fs::remove_all(statePath("lib/new.js"));
  ASSERT_TRUE(installBundle(v2(), state()).ok());
  EXPECT_FALSE(fs::exists(statePath("lib/old.js"))) << "the union record still had it";
}

TEST_F(Install, RecoversFromALeftoverTemporaryFile) {
  tmp_.write("contract/state/lib/.sashimono-install.tmp", "half-written");
  ASSERT_TRUE(installBundle(v1(), state()).ok());
  EXPECT_FALSE(fs::exists(statePath("lib/.sashimono-install.tmp")));
}

TEST_F(Install, RefusesABadRecordAndBadBundles) {
  tmp_.write("contract/bundle.json",
             R"({"format":1,"complete":true,"contract":{"version":"1","bin_path":"/b"},)"
             R"("files":["../../outside/secret"],"directories":[]})");
  EXPECT_TRUE(failsWith(installBundle(v1(), state()), "bundle.json: field 'files': '../../outside/secret'"));
  EXPECT_TRUE(failsWith(readInstallRecord(state()), "'..' path component"));
  tmp_.write("contract/bundle.json", "{");
  EXPECT_TRUE(failsWith(installBundle(v1(), state()), "bundle.json: invalid JSON"));
  fs::remove(tmp_.path("contract/bundle.json"));
  fs::create_symlink(tmp_.path("outside/secret"), tmp_.path("contract/bundle.json"));
  EXPECT_FALSE(installBundle(v1(), state()).ok()) << "the record is never read through a symlink";
  EXPECT_EQ(tmp_.read("outside/secret"), "secret");
  fs::remove(tmp_.path("contract/bundle.json"));

  Bundle unsorted = v1();
  std::reverse(unsorted.files.begin(), unsorted.files.end());
  EXPECT_TRUE(failsWith(installBundle(unsorted, state()), "not sorted"));
  Bundle evil = v1();
  evil.files.push_back(file("../escape", "x"));
  EXPECT_TRUE(failsWith(installBundle(evil, state()), "'..' path component"));
  Bundle lying = v1();
  lying.contract.binPath = "/bin/sh";
  EXPECT_TRUE(failsWith(installBundle(lying, state()), "does not match"));
  EXPECT_FALSE(installBundle(v1(), tmp_.path("no/such/dir").string()).ok());
  EXPECT_FALSE(fs::exists(tmp_.path("outside/escape")));
  EXPECT_FALSE(fs::exists(tmp_.path("contract/escape")));
}

TEST_F(Install, FullRoundTripFromADirectory) {
  TempDir src;
  src.write("contract.json", R"({"version":"1","bin_path":"/usr/bin/node","bin_args":"index.js"})");
  src.write("index.js", "require('./lib/x')");
  src.write("lib/x.js", "module.exports = 1", fs::perms(0755));
  fs::create_directories(src.path("data"));
  auto packed = packDirectory(src.path().string());
  ASSERT_TRUE(packed.ok()) << packed.error().message;
  auto archive = writeBundle(*packed);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  auto read = readBundle(*archive);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE(installBundle(*read, state()).ok());
  auto installed = packDirectory(state());
  ASSERT_TRUE(installed.ok()) << installed.error().message;
  EXPECT_EQ(*installed, *packed);
}

}  // namespace
}  // namespace sashimono::runtime
