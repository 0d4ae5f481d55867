#include "sashimono/client/Wallet.h"

#include <sodium.h>

#include <algorithm>
#include <cstdlib>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/SeedFile.h"

namespace sashimono::client {

crypto::Seed derivedReplySeed(const crypto::Seed& wallet) {
  const auto* domain = reinterpret_cast<const std::uint8_t*>(kReplyKeyDomain.data());
  crypto::Hash256 h =
      crypto::sha512Half({core::ByteView(domain, kReplyKeyDomain.size()), core::ByteView(wallet.entropy())});
  std::array<std::uint8_t, 16> entropy{};
  std::copy_n(h.begin(), entropy.size(), entropy.begin());
  crypto::Seed seed(crypto::KeyType::ed25519, entropy);
  sodium_memzero(h.data(), h.size());
  sodium_memzero(entropy.data(), entropy.size());
  return seed;
}

protocol::Ed25519Key Wallet::replyKey() const {
  protocol::Ed25519Key k{};
  const auto& pub = replyKeyPair().publicKey();
  std::copy(pub.begin() + 1, pub.end(), k.begin());
  return k;
}

std::optional<protocol::Ed25519Key> Wallet::requestReplyKey() const {
  if (!reply) return std::nullopt;
  return replyKey();
}

core::Result<Wallet> makeWallet(const crypto::Seed& accountSeed,
                                const std::optional<crypto::Seed>& replySeed) {
  SASHI_TRY_ASSIGN(account, crypto::KeyPair::fromSeed(accountSeed));
  Wallet w{account, std::nullopt, std::nullopt, "account", {}};
  if (account.type() == crypto::KeyType::secp256k1) {
    w.replySeed = derivedReplySeed(accountSeed);
    SASHI_TRY_ASSIGN(reply, crypto::KeyPair::fromSeed(*w.replySeed));
    w.reply = std::move(reply);
    w.replySource = "derived";
  }
  if (replySeed) {
    if (replySeed->type() != crypto::KeyType::ed25519)
      return core::Error("the reply seed must be an ed25519 (sEd…) seed");
    SASHI_TRY_ASSIGN(reply, crypto::KeyPair::fromSeed(*replySeed));
    w.alsoOpen.push_back(w.replyKeyPair());
    w.reply = std::move(reply);
    w.replySeed = *replySeed;
    w.replySource = "file";
  }
  return w;
}

WalletSource WalletSource::fromEnvironment(std::string walletFile, std::string replySeedFile) {
  WalletSource s;
  s.walletFile = std::move(walletFile);
  s.replySeedFile = std::move(replySeedFile);
  if (const char* env = std::getenv(kSeedEnv); env != nullptr) s.envSeed = env;
  return s;
}

core::Result<Wallet> loadWallet(const WalletSource& source) {
  std::optional<crypto::Seed> seed;
  if (!source.walletFile.empty()) {
    auto s = crypto::readSeedFile(source.walletFile);
    if (!s) return core::Error("wallet: " + s.error().message);
    seed = std::move(*s);
  } else {
    if (source.envSeed.empty()) return core::Error("no seed: set SASHIMONO_SEED or pass --wallet FILE");
    auto s = crypto::decodeSeedText(source.envSeed);
    if (!s) return core::Error(std::string(kSeedEnv) + ": " + s.error().message);
    seed = std::move(*s);
  }
  std::optional<crypto::Seed> reply;
  if (!source.replySeedFile.empty()) {
    auto s = crypto::readSeedFile(source.replySeedFile);
    if (!s) return core::Error("reply seed: " + s.error().message);
    if (s->type() != crypto::KeyType::ed25519)
      return core::Error("the reply seed must be an ed25519 (sEd…) seed: " + source.replySeedFile);
    reply = std::move(*s);
  }
  return makeWallet(*seed, reply);
}

}  // namespace sashimono::client
