#pragma once
// The developer's keys (docs/PROTOCOL.md §13.1): the account that pays for requests and the
// ed25519 *reply key* that replies are sealed to, which also owns acquired instances.
//
// An ed25519 wallet uses its own key. A secp256k1 wallet cannot receive sealed boxes, so its reply
// key is derived from its seed (derivedReplySeed) and named as `replyKey` in every request. An
// explicit ed25519 reply seed (a seed file) overrides either; replies sealed to the key it
// replaces can still be opened (alsoOpen). Seeds come from seed files (crypto/SeedFile.h, mode
// 0600) or from SASHIMONO_SEED, never from an argument. Values; not thread-safe to mutate.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::client {

// The environment variable that may hold the wallet seed.
inline constexpr const char* kSeedEnv = "SASHIMONO_SEED";
// The reply-key derivation's domain separator.
inline constexpr std::string_view kReplyKeyDomain = "sashimono.replykey";

// The reply seed of a secp256k1 wallet: the ed25519 seed whose entropy is the first 16 bytes of
// SHA512Half("sashimono.replykey" || the wallet seed's 16 entropy bytes).
[[nodiscard]] crypto::Seed derivedReplySeed(const crypto::Seed& wallet);

struct Wallet {
  crypto::KeyPair account;
  // The reply key when it is not the account's own key (then requests name it as replyKey).
  std::optional<crypto::KeyPair> reply;
  // Its seed (for `lease key --export-seed`).
  std::optional<crypto::Seed> replySeed;
  // Where the reply key came from: "account", "derived" or "file".
  std::string replySource = "account";
  // Other keys that may have received earlier replies (the default key under an override).
  std::vector<crypto::KeyPair> alsoOpen;

  [[nodiscard]] const crypto::KeyPair& replyKeyPair() const { return reply ? *reply : account; }
  [[nodiscard]] protocol::Ed25519Key replyKey() const;
  // replyKey to put in requests: absent when replies go to the account's own key.
  [[nodiscard]] std::optional<protocol::Ed25519Key> requestReplyKey() const;
};

// The wallet of an account seed, with an optional ed25519 reply seed override ("file").
// Errors: a secp256k1 override, key derivation failures.
[[nodiscard]] core::Result<Wallet> makeWallet(const crypto::Seed& accountSeed,
                                              const std::optional<crypto::Seed>& replySeed = std::nullopt);

// Where a command's wallet comes from.
struct WalletSource {
  std::string walletFile;     // a seed file; empty: envSeed
  std::string envSeed;        // the text of SASHIMONO_SEED (empty: unset)
  std::string replySeedFile;  // an ed25519 seed file overriding the reply key; empty: none

  // walletFile and replySeedFile as given, envSeed from the environment.
  static WalletSource fromEnvironment(std::string walletFile, std::string replySeedFile);
};

// Reads the seeds (crypto::readSeedFile: a group- or world-readable file is refused) and makes the
// wallet. Errors: "wallet: …", "no seed: set SASHIMONO_SEED or pass --wallet FILE",
// "SASHIMONO_SEED: …", "reply seed: …", "the reply seed must be an ed25519 (sEd…) seed: FILE".
[[nodiscard]] core::Result<Wallet> loadWallet(const WalletSource& source);

}  // namespace sashimono::client
