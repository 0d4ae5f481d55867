#include "ClientOptions.h"

#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {

std::vector<OptionSpec> clientOptionTable(ClientOptions& o) {
  auto positive = [](std::uint64_t& out, const char* what) {
    return [&out, what](const std::string& v) {
      auto n = parseUnsigned(v, 1, UINT64_MAX);
      if (!n) return std::string(what);
      out = *n;
      return std::string();
    };
  };
  return {
      {"--json", false, setFlag(o.json)},
      {"--board", true,
       [&o](const std::string& v) {
         o.boards.push_back(v);
         return std::string();
       }},
      {"--host", true, setString(o.host)},
      {"--registry", true, setString(o.registry)},
      {"--image", true, setString(o.image)},
      {"--contract-id", true, setString(o.contractId)},
      {"--lease", true, setString(o.lease)},
      {"--member", true,
       [&o](const std::string& v) -> std::string {
         const auto at = v.find('@');
         if (at == std::string::npos) return "--member: expected KEY@HOST:PORT, got '" + v + "'";
         auto key = protocol::parseEd25519Key(std::string_view(v).substr(0, at));
         if (!key) return "--member '" + v + "': " + key.error().message;
         const std::string peer = v.substr(at + 1);
         if (auto st = protocol::validateEndpoint(peer); !st.ok())
           return "--member '" + v + "': " + st.error().message;
         o.members.push_back(protocol::ClusterMember{*key, peer});
         return {};
       }},
      {"--add", false, setFlag(o.addMembers)},
      {"--all", false, setFlag(o.all)},
      {"--wallet", true, setString(o.wallet)},
      {"--reply-seed-file", true, setString(o.replySeedFile)},
      {"--export-seed", false, setFlag(o.exportSeed)},
      {"--ca-file", true, setString(o.caFile)},
      {"--moments", true, positive(o.moments, "--moments needs a positive integer")},
      {"--amount", true,
       [&o](const std::string& v) -> std::string {
         auto n = parseUnsigned(v, 1, UINT64_MAX);
         if (!n) return "--amount needs a positive number of drops";
         o.amount = *n;
         return {};
       }},
      {"--timeout", true, setSeconds(o.timeoutSeconds, "--timeout")},
      {"--stale", true,
       [&o](const std::string& v) -> std::string {
         auto n = parseUnsigned(v, 0, UINT64_MAX);
         if (!n) return "--stale needs a number of seconds";
         o.staleSeconds = *n;
         return {};
       }},
  };
}

std::string parseClientOptions(const std::vector<std::string>& args, ClientOptions& o) {
  return parseOptionTable(args, clientOptionTable(o),
                          " (the seed comes from --wallet FILE or SASHIMONO_SEED, never the command line)");
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

}  // namespace sashimono::cli
