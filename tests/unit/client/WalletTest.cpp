#include "sashimono/client/Wallet.h"

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "fakes/board/DevnetProcess.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/SeedFile.h"

using namespace sashimono;
using board::fakes::TempDir;

namespace {

std::string seedFile(const std::string& path, const crypto::Seed& seed, mode_t mode = 0600) {
  std::ofstream(path) << crypto::encodeSeed(seed) << "\n";
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace

TEST(WalletTest, AnEd25519WalletRepliesToItsOwnKey) {
  const auto seed = crypto::generateSeed(crypto::KeyType::ed25519);
  auto w = client::makeWallet(seed);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->replySource, "account");
  EXPECT_FALSE(w->requestReplyKey());
  EXPECT_FALSE(w->replySeed);
  EXPECT_EQ(w->replyKeyPair().publicKey(), w->account.publicKey());
  const auto reply = w->replyKey();  // by value: one copy, not two temporaries' iterators
  EXPECT_TRUE(std::equal(reply.begin(), reply.end(), w->account.publicKey().begin() + 1));
}

TEST(WalletTest, ASecpWalletDerivesItsReplyKey) {
  const auto seed = crypto::generateSeed(crypto::KeyType::secp256k1);
  // Computed independently: entropy = SHA512Half("sashimono.replykey" || entropy)[0..16).
  core::Bytes data(client::kReplyKeyDomain.begin(), client::kReplyKeyDomain.end());
  data.insert(data.end(), seed.entropy().begin(), seed.entropy().end());
  const auto h = crypto::sha512Half(data);
  std::array<std::uint8_t, 16> entropy{};
  std::copy_n(h.begin(), 16, entropy.begin());
  const crypto::Seed expected(crypto::KeyType::ed25519, entropy);
  EXPECT_EQ(client::derivedReplySeed(seed).entropy(), expected.entropy());

  auto w = client::makeWallet(seed);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->replySource, "derived");
  ASSERT_TRUE(w->replySeed);
  EXPECT_EQ(crypto::encodeSeed(*w->replySeed), crypto::encodeSeed(expected));
  ASSERT_TRUE(w->requestReplyKey());
  EXPECT_EQ(w->replyKeyPair().publicKey(), crypto::KeyPair::fromSeed(expected)->publicKey());
}

TEST(WalletTest, AReplySeedFileOverridesAndKeepsTheOldKeyOpen) {
  TempDir dir;
  const auto account = crypto::generateSeed(crypto::KeyType::secp256k1);
  const auto reply = crypto::generateSeed(crypto::KeyType::ed25519);
  client::WalletSource src;
  src.walletFile = seedFile(dir.path() + "/w.seed", account);
  src.replySeedFile = seedFile(dir.path() + "/r.seed", reply);
  auto w = client::loadWallet(src);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->replySource, "file");
  EXPECT_EQ(w->replyKeyPair().publicKey(), crypto::KeyPair::fromSeed(reply)->publicKey());
  ASSERT_EQ(w->alsoOpen.size(), 1u);
  EXPECT_EQ(w->alsoOpen[0].publicKey(),
            crypto::KeyPair::fromSeed(client::derivedReplySeed(account))->publicKey());

  // A secp256k1 reply seed is refused, naming the file.
  src.replySeedFile = seedFile(dir.path() + "/secp.seed", crypto::generateSeed(crypto::KeyType::secp256k1));
  auto bad = client::loadWallet(src);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("ed25519"), std::string::npos);
  EXPECT_NE(bad.error().message.find("secp.seed"), std::string::npos);
}

TEST(WalletTest, TheSeedComesFromTheEnvironmentTextWithoutAFile) {
  const auto seed = crypto::generateSeed(crypto::KeyType::ed25519);
  client::WalletSource src;
  src.envSeed = " " + crypto::encodeSeed(seed) + "\n";
  auto w = client::loadWallet(src);
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_EQ(w->account.address(), crypto::KeyPair::fromSeed(seed)->address());

  auto none = client::loadWallet(client::WalletSource{});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message, "no seed: set SASHIMONO_SEED or pass --wallet FILE");

  src.envSeed = "sNotASeed";
  auto bad = client::loadWallet(src);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("SASHIMONO_SEED: ", 0), 0u) << bad.error().message;
}

TEST(WalletTest, ReadableSeedFilesAreRefusedWithTheModeToSet) {
  TempDir dir;
  client::WalletSource src;
  src.walletFile = seedFile(dir.path() + "/w.seed", crypto::generateSeed(crypto::KeyType::ed25519), 0644);
  auto w = client::loadWallet(src);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find(src.walletFile), std::string::npos) << w.error().message;
  EXPECT_NE(w.error().message.find("chmod 600"), std::string::npos) << w.error().message;

  ::chmod(src.walletFile.c_str(), 0600);
  src.replySeedFile = seedFile(dir.path() + "/r.seed", crypto::generateSeed(crypto::KeyType::ed25519), 0640);
  auto r = client::loadWallet(src);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message.rfind("reply seed: ", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("mode 0640"), std::string::npos) << r.error().message;
}
