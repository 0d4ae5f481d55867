#include "ClientOptions.h"

#include <limits>

#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {

std::vector<OptionSpec> boardOptionTable(ClientOptions& o) {
  return {
      {"--board", true, appendString(o.boards)},
      {"--wallet", true, setString(o.wallet)},
      {"--reply-seed-file", true, setString(o.replySeedFile)},
      {"--ca-file", true, setString(o.caFile)},
  };
}

std::vector<OptionSpec> clientOptionTable(ClientOptions& o) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  std::vector<OptionSpec> table = boardOptionTable(o);
  table.insert(table.end(),
               {
                   {"--json", false, setFlag(o.json)},
                   {"--host", true, setString(o.host)},
                   {"--registry", true, setString(o.registry)},
                   {"--image", true, setString(o.request.image)},
                   {"--contract-id", true, setString(o.request.contractId)},
                   {"--lease", true, setString(o.lease)},
                   {"--member", true,
                    [&o](const std::string& v) -> std::string {
                      const auto at = v.find('@');
                      if (at == std::string::npos) return "expected KEY@HOST:PORT, got '" + v + "'";
                      auto key = protocol::parseEd25519Key(std::string_view(v).substr(0, at));
                      if (!key) return "'" + v + "': " + key.error().message;
                      const std::string peer = v.substr(at + 1);
                      if (auto st = protocol::validateEndpoint(peer); !st.ok())
                        return "'" + v + "': " + st.error().message;
                      o.request.members.push_back(protocol::ClusterMember{*key, peer});
                      return {};
                    }},
                   {"--add", false, setFlag(o.request.addMembers)},
                   {"--all", false, setFlag(o.all)},
                   {"--export-seed", false, setFlag(o.exportSeed)},
                   {"--moments", true, setNumber(o.request.moments, 1, kMax, "a positive integer")},
                   {"--amount", true, setNumber(o.request.amount, 1, kMax, "a positive number of drops")},
                   {"--timeout", true, setSeconds(o.timeoutSeconds)},
                   {"--stale", true, setNumber(o.staleSeconds, 0, kMax, "a number of seconds")},
               });
  return table;
}

CommandSpec clientCommand(const char* name, ClientOptions& o, std::vector<Verb> verbs, std::string notes) {
  return CommandSpec{
      .name = name,
      .verbs = std::move(verbs),
      .options = clientOptionTable(o),
      .notes = std::move(notes),
      .unknownHint = kSeedHint,
  };
}

core::Result<client::Wallet> loadWallet(const ClientOptions& o) {
  return client::loadWallet(client::WalletSource::fromEnvironment(o.wallet, o.replySeedFile));
}

core::Result<std::unique_ptr<client::BoardSession>> connectBoard(const ClientOptions& o,
                                                                 const std::string& account) {
  client::SessionOptions so;
  so.boards = client::boardsOrDefault(o.boards);
  so.caFile = o.caFile;
  so.account = account;
  so.connectTimeout = o.timeoutSeconds ? std::chrono::seconds(*o.timeoutSeconds)
                                       : std::chrono::seconds(client::kDefaultConnectTimeout);
  auto s = client::BoardSession::open(so);
  if (!s && !o.timeoutSeconds) return core::Error(s.error().message + "; --timeout SECONDS waits longer");
  return s;
}

std::chrono::seconds waitFor(const ClientOptions& o, std::chrono::seconds fallback) {
  return o.timeoutSeconds ? std::chrono::seconds(*o.timeoutSeconds) : fallback;
}

core::Result<client::LeaseTarget> resolveLease(const ClientOptions& o, const std::string& leaseId) {
  auto id = protocol::parseHash256(leaseId);
  if (!id) return core::Error("--lease: '" + leaseId + "' is not a lease id (64 hex digits)");
  SASHI_TRY_ASSIGN(wallet, loadWallet(o));
  SASHI_TRY_ASSIGN(session, connectBoard(o, wallet.account.address()));
  auto target = client::LeaseClient(*session, wallet).resolveLease(*id);
  session->stop();
  return target;
}

}  // namespace sashimono::cli
