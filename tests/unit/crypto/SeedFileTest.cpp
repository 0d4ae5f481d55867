#include "sashimono/crypto/SeedFile.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "fakes/board/DevnetProcess.h"

using namespace sashimono;
using board::fakes::TempDir;

namespace {

std::string writeFile(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace

TEST(SeedFileTest, ReadsAPrivateSeedFileOfEitherKeyType) {
  TempDir dir;
  for (auto type : {crypto::KeyType::ed25519, crypto::KeyType::secp256k1}) {
    const auto seed = crypto::generateSeed(type);
    const auto path = writeFile(dir.path() + "/w.seed", "  " + crypto::encodeSeed(seed) + "\r\n", 0600);
    auto r = crypto::readSeedFile(path);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->type(), type);
    EXPECT_EQ(r->entropy(), seed.entropy());
    std::filesystem::remove(path);
  }
}

TEST(SeedFileTest, RefusesAGroupOrWorldReadableFileNamingTheFileAndTheFix) {
  TempDir dir;
  const auto text = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601}) {
    const auto path = writeFile(dir.path() + "/open.seed", text + "\n", mode);
    auto r = crypto::readSeedFile(path);
    ASSERT_FALSE(r.ok()) << std::oct << mode;
    EXPECT_NE(r.error().message.find(path), std::string::npos) << r.error().message;
    char m[8];
    std::snprintf(m, sizeof m, "%04o", static_cast<unsigned>(mode));
    EXPECT_NE(r.error().message.find(std::string("mode ") + m), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("chmod 600 " + path), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find(text), std::string::npos) << "the seed must not be in the message";
    std::filesystem::remove(path);
  }
  // Owner-only modes other than 0600 are fine.
  const auto ro = writeFile(dir.path() + "/ro.seed", text, 0400);
  EXPECT_TRUE(crypto::readSeedFile(ro).ok());
}

TEST(SeedFileTest, CheckSeedFileModeIsAPureCheck) {
  EXPECT_TRUE(crypto::checkSeedFileMode("x", S_IFREG | 0600).ok());
  EXPECT_TRUE(crypto::checkSeedFileMode("x", S_IFREG | 0700).ok());
  auto e = crypto::checkSeedFileMode("/a/b", S_IFREG | 0644);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message, "seed file /a/b is mode 0644 (readable by group or others): chmod 600 /a/b");
}

TEST(SeedFileTest, ErrorsNameTheFile) {
  TempDir dir;
  auto missing = crypto::readSeedFile(dir.path() + "/none.seed");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("none.seed"), std::string::npos);
  EXPECT_NE(missing.error().errnum, 0);

  const auto junk = writeFile(dir.path() + "/junk.seed", "not a seed\n", 0600);
  auto bad = crypto::readSeedFile(junk);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(junk), std::string::npos) << bad.error().message;

  const auto empty = writeFile(dir.path() + "/empty.seed", "\n", 0600);
  EXPECT_FALSE(crypto::readSeedFile(empty).ok());

  const auto big =
      writeFile(dir.path() + "/big.seed", std::string(crypto::kMaxSeedFileBytes + 10, 's'), 0600);
  auto tooLong = crypto::readSeedFile(big);
  ASSERT_FALSE(tooLong.ok());
  EXPECT_NE(tooLong.error().message.find("too long"), std::string::npos) << tooLong.error().message;

  EXPECT_FALSE(crypto::readSeedFile(dir.path()).ok());  // a directory
}

TEST(SeedFileTest, WriteCreatesAPrivateFileOnce) {
  TempDir dir;
  const auto path = dir.path() + "/new.seed";
  const auto text = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ASSERT_TRUE(crypto::writeSeedFile(path, text).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = crypto::readSeedFile(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(crypto::encodeSeed(*back), text);
  EXPECT_FALSE(crypto::writeSeedFile(path, text).ok());  // never overwritten
}

TEST(SeedFileTest, DecodeSeedTextTrims) {
  const auto seed = crypto::generateSeed(crypto::KeyType::secp256k1);
  auto r = crypto::decodeSeedText("\n " + crypto::encodeSeed(seed) + " \n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entropy(), seed.entropy());
  EXPECT_FALSE(crypto::decodeSeedText("   ").ok());
}
