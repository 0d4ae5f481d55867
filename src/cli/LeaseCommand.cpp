// `sashimono lease acquire|extend|terminate|cluster|list|key`: option parsing and printing over
// the client library (include/sashimono/client/, docs/NODE.md "Developer commands").
//
// A request is a Payment from the developer's account to the host, signed with the seed from
// --wallet FILE or SASHIMONO_SEED (never a command-line argument). The command follows its own
// account on the board, submits, waits for the request to be validated, then for the host's reply,
// unseals it and prints it. Replies are sealed to the wallet's reply key (client/Wallet.h).
#include <sodium.h>

#include <iostream>

#include "ClientOptions.h"
#include "Command.h"
#include "LeaseOutput.h"
#include "LeaseRequests.h"
#include "sashimono/client/LeaseClient.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {
namespace {

using namespace std::chrono_literals;

constexpr std::chrono::seconds kDefaultReplyWait = 120s;

constexpr const char* kNotes =
    "common: [--board URL]... [--registry rADDR] [--wallet SEEDFILE] [--reply-seed-file SEEDFILE] "
    "[--timeout SECONDS] [--ca-file PEM] [--json]\n"
    "the seed comes from --wallet FILE or SASHIMONO_SEED, never the command line (a seed file must be\n"
    "mode 0600); replies are sealed to (and instances owned by) the reply key: an ed25519 wallet's own\n"
    "key, a key derived from a secp256k1 wallet's seed, or the ed25519 seed in --reply-seed-file;\n"
    "the board defaults to SASHIMONO_BOARD or ws://127.0.0.1:6006; without --timeout a command gives\n"
    "up after 5 s if it cannot reach any board and waits 120 s for a reply\n";

int sendRequest(client::RequestKind kind, const char* verb, const ClientOptions& o) {
  const std::string cmd = std::string("lease ") + verb;
  if (o.host.empty()) return usageError(cmd, "--host rADDRESS is required");
  if (!crypto::decodeAddress(o.host)) return usageError(cmd, "--host is not an r-address: " + o.host);
  client::RequestParams p = o.request;
  p.kind = kind;
  if (kind != client::RequestKind::acquire) {
    auto id = protocol::parseHash256(o.lease);
    if (!id) return usageError(cmd, "--lease LEASEID (64 hex) is required");
    p.leaseId = *id;
  }
  // Checked here so that a bad request costs no payment.
  if (auto st = client::checkRequest(p); !st.ok()) return usageError(cmd, st.error().message);
  auto wallet = loadWallet(o);
  if (!wallet) return failure(cmd, wallet.error().message);

  auto session = connectBoard(o, wallet->account.address());
  if (!session) return failure(cmd, session.error().message);
  client::LeaseClient lc(**session, *wallet);
  auto host = findHosts(**session, {o.host}, o.registry);
  if (!host) return failure(cmd, host.error().message);
  auto outcome = sendRequests(lc, {HostRequest{o.host, host->front(), p}}, waitFor(o, kDefaultReplyWait),
                              o.json ? nullptr : &std::cerr);
  (*session)->stop();
  const auto& reply = outcome.front().reply;
  if (!reply) return failure(cmd, reply.error().message);
  printAnswer(replyJson(*reply), o.json);
  return outcome.front().ok() ? 0 : 1;
}

int leaseList(const ClientOptions& o) {
  const std::string cmd = "lease list";
  auto wallet = loadWallet(o);
  if (!wallet) return failure(cmd, wallet.error().message);
  const std::string account = wallet->account.address();
  auto session = connectBoard(o, account);
  if (!session) return failure(cmd, session.error().message);
  auto history = client::LeaseClient(**session, *wallet).history();
  (*session)->stop();
  if (!history) return failure(cmd, history.error().message);

  const std::string replyKey = protocol::formatEd25519Key(wallet->replyKey());
  if (o.json) {
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    w.StartObject();
    putStr(w, "account", account);
    putStr(w, "reply_key", replyKey);
    w.Key("requests");
    w.StartArray();
    for (const auto& e : history->requests) {
      w.StartObject();
      putStr(w, "request", e.request);
      putStr(w, "type", e.requestType);
      putStr(w, "host_account", e.host);
      putU64(w, "amount", e.paid);
      putU64(w, "ledger", e.ledger);
      w.Key("replies");
      w.StartArray();
      for (const auto& r : e.replies) {
        const std::string j = replyJson(r);
        w.RawValue(j.data(), j.size(), rapidjson::kObjectType);
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
    w.Key("notices");
    w.StartArray();
    for (const auto& r : history->notices) {
      const std::string j = replyJson(r);
      w.RawValue(j.data(), j.size(), rapidjson::kObjectType);
    }
    w.EndArray();
    w.EndObject();
    std::cout << sb.GetString() << "\n";
    return 0;
  }
  std::cout << "account " << account << " (reply key " << replyKey << ")\n";
  for (const auto& e : history->requests) {
    std::cout << "\n"
              << (e.requestType.empty() ? "(reply to an unknown request)" : e.requestType) << " " << e.request
              << " to " << e.host << " (" << e.paid << " drops, ledger " << e.ledger << ")\n";
    if (e.replies.empty()) std::cout << "  (no reply yet)\n";
    for (const auto& r : e.replies) printText(replyJson(r));
  }
  for (const auto& n : history->notices) {
    std::cout << "\n";
    printText(replyJson(n));
  }
  return 0;
}

// Shows the account and its reply key (the owner key of acquired instances); no board needed.
int leaseKey(const ClientOptions& o) {
  const std::string cmd = "lease key";
  auto wallet = loadWallet(o);
  if (!wallet) return failure(cmd, wallet.error().message);
  std::string seed;
  if (o.exportSeed) {
    if (!wallet->replySeed)
      return failure(cmd, "the reply key is the account's own key: its seed is the wallet seed");
    seed = crypto::encodeSeed(*wallet->replySeed);
  }
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  putStr(w, "account", wallet->account.address());
  putStr(w, "key_type", crypto::keyTypeName(wallet->account.type()));
  putStr(w, "reply_key", protocol::formatEd25519Key(wallet->replyKey()));
  putStr(w, "reply_source", wallet->replySource);
  if (!seed.empty()) putStr(w, "reply_seed", seed);
  w.EndObject();
  if (!seed.empty()) sodium_memzero(seed.data(), seed.size());
  std::string json = sb.GetString();
  printAnswer(json, o.json);
  sodium_memzero(json.data(), json.size());
  sodium_memzero(const_cast<char*>(sb.GetString()), sb.GetSize());
  return 0;
}

int runLease(const std::vector<std::string>& args) {
  using client::RequestKind;
  ClientOptions o;
  auto request = [&o](RequestKind k, const char* verb) {
    return [&o, k, verb](const std::vector<std::string>&) { return sendRequest(k, verb, o); };
  };
  const CommandSpec spec = clientCommand(
      "lease", o,
      {
          {.name = "acquire",
           .synopsis = "--host rADDR --image NAME [--contract-id UUID] [--moments N] [--amount DROPS]",
           .help = "leases an instance: pays moments x the host's price, prints the host's reply",
           .run = request(RequestKind::acquire, "acquire")},
          {.name = "extend",
           .synopsis = "--host rADDR --lease LEASEID [--moments N] [--amount DROPS]",
           .help = "buys more moments for a lease",
           .run = request(RequestKind::extend, "extend")},
          {.name = "terminate",
           .synopsis = "--host rADDR --lease LEASEID [--amount DROPS]",
           .help = "ends a lease early (the unused moments are refunded)",
           .run = request(RequestKind::terminate, "terminate")},
          {.name = "cluster",
           .synopsis = "--host rADDR --lease LEASEID --member EDKEY@HOST:PORT... [--add]",
           .help = "tells a lease's instance its cluster peers",
           .run = request(RequestKind::cluster, "cluster")},
          {.name = "list",
           .help = "the wallet's requests and the hosts' replies",
           .run = calling(&leaseList, o)},
          {.name = "key",
           .synopsis = "[--export-seed]",
           .help = "the account and its reply key (the owner key of its instances)",
           .run = calling(&leaseKey, o)},
      },
      kNotes);
  return dispatchVerb(spec, args);
}

const CommandRegistrar leaseReg{
    {"lease", "acquire, extend, terminate and list leases (developer)", &runLease, false, true}};

}  // namespace
}  // namespace sashimono::cli
