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
#include "sashimono/client/LeaseClient.h"
#include "sashimono/client/Requests.h"
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
  std::string lease;
  client::RequestParams request;  // lease acquire|extend|terminate|cluster: --image, --moments, …
  bool exportSeed = false;
  std::optional<std::uint64_t> staleSeconds;
  bool all = false;  // hosts --all
};

// The whole table (each command reads the options it needs).
[[nodiscard]] std::vector<OptionSpec> clientOptionTable(ClientOptions& o);
// The options that reach a board as the wallet's account: --board, --wallet, --reply-seed-file,
// --ca-file (`instance` and `deploy` with --lease).
[[nodiscard]] std::vector<OptionSpec> boardOptionTable(ClientOptions& o);
// A command over the whole table (filling `o`), unknown options answered with kSeedHint.
[[nodiscard]] CommandSpec clientCommand(const char* name, ClientOptions& o, std::vector<Verb> verbs,
                                        std::string notes);
// Appended to "unknown option --x": where the seed comes from instead.
inline constexpr const char* kSeedHint =
    " (the seed comes from --wallet FILE or SASHIMONO_SEED, never the command line)";

// The wallet from --wallet / SASHIMONO_SEED and --reply-seed-file.
[[nodiscard]] core::Result<client::Wallet> loadWallet(const ClientOptions& o);

// A board session watching `account` (empty: none): gives up after --timeout or
// client::kDefaultConnectTimeout with one error naming the board URLs.
[[nodiscard]] core::Result<std::unique_ptr<client::BoardSession>> connectBoard(const ClientOptions& o,
                                                                               const std::string& account);

// --timeout, or `fallback`.
[[nodiscard]] std::chrono::seconds waitFor(const ClientOptions& o, std::chrono::seconds fallback);

// Where a lease's instance listens and the owner key to talk to it as (client::LeaseClient), found
// in the wallet's lease replies on the board `o` names; for `sashimono instance` and `deploy`.
[[nodiscard]] core::Result<client::LeaseTarget> resolveLease(const ClientOptions& o,
                                                             const std::string& leaseId);

}  // namespace sashimono::cli
