#pragma once
// The options the developer's commands share (`lease`, `hosts`, `instance`/`deploy --lease`):
// one table, and how they become a wallet and a board session.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "Options.h"
#include "sashimono/client/BoardSession.h"
#include "sashimono/client/Wallet.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::cli {

struct ClientOptions {
  std::vector<std::string> boards;
  std::string caFile;
  std::string wallet;
  std::string replySeedFile;
  std::optional<std::uint64_t> timeoutSeconds;  // bounds every wait; unset: the command's defaults
  bool json = false;
  // lease and hosts
  std::string host;
  std::string registry;
  std::uint64_t moments = 1;
  std::string image;
  std::string contractId;
  std::string lease;
  std::vector<protocol::ClusterMember> members;  // lease cluster --member KEY@HOST:PORT
  bool addMembers = false;                       // lease cluster --add
  std::optional<std::uint64_t> amount;
  bool exportSeed = false;
  std::optional<std::uint64_t> staleSeconds;
  bool all = false;  // hosts --all
};

// The whole table (each command reads the options it needs).
[[nodiscard]] std::vector<OptionSpec> clientOptionTable(ClientOptions& o);
// Parses `args` with the table; returns an error message or empty.
[[nodiscard]] std::string parseClientOptions(const std::vector<std::string>& args, ClientOptions& o);

// The wallet from --wallet / SASHIMONO_SEED and --reply-seed-file.
[[nodiscard]] core::Result<client::Wallet> loadWallet(const ClientOptions& o);

// A board session watching `account` (empty: none): gives up after --timeout or
// client::kDefaultConnectTimeout with one error naming the board URLs.
[[nodiscard]] core::Result<std::unique_ptr<client::BoardSession>> connectBoard(const ClientOptions& o,
                                                                               const std::string& account);

// --timeout, or `fallback`.
[[nodiscard]] std::chrono::seconds waitFor(const ClientOptions& o, std::chrono::seconds fallback);

}  // namespace sashimono::cli
