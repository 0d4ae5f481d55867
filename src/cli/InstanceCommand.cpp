// `sashimono instance input|read|stat|lcl|ledger` and `sashimono deploy`: a developer talks to
// a dApp instance over Hot Pocket's user protocol (the same protocol hotpocket-js-client uses).
#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "ClientOptions.h"
#include "Command.h"
#include "Deploy.h"
#include "HostLogs.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/UserClient.h"

namespace sashimono::cli {

namespace {

constexpr const char* kTargetNotes =
    "TARGET: --url wss://HOST:PORT [--server-key ED…]   or   --lease LEASE_ID [--wallet SEEDFILE] [--board "
    "URL]\n"
    "        (--lease finds the instance and its key in your lease replies, and talks as the lease owner)\n";

constexpr const char* kInstanceNotes =
    "OPTIONS: --key-file FILE   your user key (\"ed\" + 128 hex; default: the lease owner's, or a new one)\n"
    "         --protocol bson|json (default bson)  --json\n"
    "         --timeout SECONDS  bounds the connection and each answer (default 15; --timeout-ms N in ms)\n";

constexpr const char* kDeployNotes =
    "Packs DIR (a bundle directory with contract.json, docs/BUNDLE.md) and uploads it to the instance\n"
    "as its owner; waits until the instance has installed it (the next round runs it).\n"
    "--timeout SECONDS bounds the connection and the upload (default 60; --timeout-ms N in ms).\n";

struct Options {
  std::string url;
  std::string lease;
  ClientOptions board;  // with --lease: where its replies are
  std::optional<runtime::PubKey> serverKey;
  std::string keyFile;
  std::string dir;
  runtime::Protocol protocol = runtime::Protocol::Bson;
  bool json = false;
  std::uint64_t timeoutMs = 15000;
  // `instance logs` (the host owner's): the host's config, lines per log, hidden test confinement.
  std::string config;
  std::size_t lines = 100;
  std::string tenantsDir;
  std::string tenantPrefix;
};

// The options `instance` and `deploy` share (deploy adds --dir).
std::vector<OptionSpec> optionTable(Options& o) {
  constexpr std::uint64_t kYear = 31'536'000;
  std::vector<OptionSpec> table = boardOptionTable(o.board);
  table.insert(table.end(),
               {
                   {"--url", true, setString(o.url)},
                   {"--lease", true, setString(o.lease)},
                   {"--server-key", true,
                    [&o](const std::string& v) -> std::string {
                      auto k = runtime::parseHexKey(v);
                      if (!k) return k.error().message;
                      o.serverKey = *k;
                      return {};
                    }},
                   {"--key-file", true, setString(o.keyFile)},
                   {"--protocol", true,
                    [&o](const std::string& v) -> std::string {
                      auto p = runtime::parseProtocol(v);
                      if (!p) return "expected json or bson, got '" + v + "'";
                      o.protocol = *p;
                      return {};
                    }},
                   {"--json", false, setFlag(o.json)},
                   {"--config", true, setString(o.config)},
                   {"--lines", true,
                    onNumber(1, 1'000'000, "a number of lines", [&o](std::uint64_t n) { o.lines = n; })},
                   {"--tenants-dir", true, setString(o.tenantsDir)},
                   {"--tenant-prefix", true, setString(o.tenantPrefix)},
                   {"--timeout", true,
                    onNumber(1, kYear, "a positive number of seconds",
                             [&o](std::uint64_t n) {
                               o.timeoutMs = n * 1000;
                               o.board.timeoutSeconds = n;
                             })},
                   {"--timeout-ms", true,
                    setNumber(o.timeoutMs, 1, kYear * 1000, "a positive number of milliseconds")},
               });
  return table;
}

struct Target {
  std::string url;
  runtime::InstanceKey key = runtime::InstanceKey::generate();
  std::optional<runtime::PubKey> serverKey;  // the lease's instance key
};

core::Result<Target> target(const Options& o) {
  Target t;
  if (!o.lease.empty()) {
    auto lt = resolveLease(o.board, o.lease);
    if (!lt) return lt.error();
    t.url = "wss://" + (lt->host.find(':') != std::string::npos ? "[" + lt->host + "]" : lt->host) + ":" +
            std::to_string(lt->userPort);
    t.key = runtime::InstanceKey::fromSeed(lt->ownerSeed);
    t.serverKey = lt->instanceKey;
    sodium_memzero(lt->ownerSeed.data(), lt->ownerSeed.size());
  } else {
    t.url = o.url;
  }
  if (!o.keyFile.empty()) {
    auto k = runtime::InstanceKey::load(o.keyFile);
    if (!k) return k.error();
    t.key = *k;
  }
  return t;
}

core::Result<std::unique_ptr<runtime::UserClient>> connect(const Options& o, const Target& t) {
  runtime::UserClientOptions co;
  co.protocol = o.protocol;
  co.trustedServer = o.serverKey ? o.serverKey : t.serverKey;
  co.timeout = std::chrono::milliseconds(o.timeoutMs);
  return runtime::UserClient::connect(t.url, t.key, co);
}

// Outputs as text when they are printable UTF-8, else hex.
std::string printable(const core::Bytes& b) {
  for (auto c : b)
    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') return "0x" + core::toHexLower(b);
  return core::asString(b);
}

runtime::Value outputsValue(const std::vector<core::Bytes>& outs) {
  runtime::Array a;
  for (const auto& o : outs) a.emplace_back(printable(o));
  return runtime::Value(std::move(a));
}

void printOutcome(const runtime::UserClient::InputOutcome& r, bool json) {
  if (json) {
    runtime::Object o;
    o.emplace_back("status", runtime::Value(r.status));
    if (!r.reason.empty()) o.emplace_back("reason", runtime::Value(r.reason));
    o.emplace_back("input_hash", runtime::Value(core::toHexLower(r.inputHash)));
    if (r.status == "accepted") {
      o.emplace_back("ledger_seq_no", runtime::Value::uint(r.ledgerSeqNo));
      o.emplace_back("ledger_hash", runtime::Value(core::toHexLower(r.ledgerHash)));
      o.emplace_back("outputs", outputsValue(r.outputs));
      o.emplace_back("verified", runtime::Value(r.verified));
    }
    std::cout << runtime::renderJson(runtime::Value(std::move(o))) << "\n";
    return;
  }
  if (r.status != "accepted") {
    std::cout << "rejected: " << r.reason << "\n";
    return;
  }
  std::cout << "accepted in ledger " << r.ledgerSeqNo << " (outputs "
            << (r.verified ? "verified" : "NOT verified") << ")\n";
  for (const auto& out : r.outputs) std::cout << printable(out) << "\n";
}

// Connects to the instance `o` names (usage error if none, or two) and runs `f` with the client.
int withClient(const std::string& cmd, const Options& o, const std::function<int(runtime::UserClient&)>& f) {
  if (o.url.empty() == o.lease.empty())
    return usageError(cmd, "name the instance with --url or --lease (one of them)");
  auto t = target(o);
  if (!t) return failure(cmd, t.error().message);
  auto c = connect(o, *t);
  if (!c) return failure(cmd, c.error().message);
  return f(**c);
}

int input(const Options& o, runtime::UserClient& client, const std::string& text) {
  auto r = client.submit(core::asBytes(text));
  if (!r) return failure("instance input", r.error().message);
  printOutcome(*r, o.json);
  return r->status == "accepted" ? 0 : 1;
}

int read(const Options& o, runtime::UserClient& client, const std::string& text) {
  auto r = client.read(core::asBytes(text));
  if (!r) return failure("instance read", r.error().message);
  if (o.json) {
    runtime::Object obj;
    obj.emplace_back("content", runtime::Value(printable(*r)));
    std::cout << runtime::renderJson(runtime::Value(std::move(obj))) << "\n";
  } else {
    std::cout << printable(*r) << "\n";
  }
  return 0;
}

int stat(runtime::UserClient& client) {
  auto v = client.stat();
  if (!v) return failure("instance stat", v.error().message);
  runtime::Object extra;
  extra.emplace_back("contract_id", runtime::Value(client.contractId()));
  extra.emplace_back("contract_version", runtime::Value(client.contractVersion()));
  extra.emplace_back("instance_key", runtime::Value(runtime::hexKey(client.serverKey())));
  for (auto& kv : extra) v->asObject().push_back(std::move(kv));
  std::cout << runtime::renderJson(*v) << "\n";
  return 0;
}

int lcl(runtime::UserClient& client) {
  auto l = client.lcl();
  if (!l) return failure("instance lcl", l.error().message);
  runtime::Object obj;
  obj.emplace_back("ledger_seq_no", runtime::Value::uint(l->first));
  obj.emplace_back("ledger_hash", runtime::Value(core::toHexLower(l->second)));
  std::cout << runtime::renderJson(runtime::Value(std::move(obj))) << "\n";
  return 0;
}

int ledger(runtime::UserClient& client, std::uint64_t seq) {
  auto v = client.ledgerQuery(seq, true, true);
  if (!v) return failure("instance ledger", v.error().message);
  std::cout << runtime::renderJson(*v) << "\n";
  return 0;
}

int runInstance(const std::vector<std::string>& args) {
  using Args = std::vector<std::string>;
  using Client = runtime::UserClient;
  Options o;
  auto with = [&o](const char* verb, std::function<int(Client&, const Args&)> f) {
    return [&o, verb, f = std::move(f)](const Args& pos) {
      return withClient(std::string("instance ") + verb, o, [&](Client& c) { return f(c, pos); });
    };
  };
  const CommandSpec spec{
      .name = "instance",
      .verbs =
          {
              {.name = "input",
               .args = exactlyOne("TEXT"),
               .synopsis = "TARGET [OPTIONS] TEXT",
               .help = "sends one input, prints its status and outputs",
               .run = with("input", [&o](Client& c, const Args& pos) { return input(o, c, pos[0]); })},
              {.name = "read",
               .args = exactlyOne("TEXT"),
               .synopsis = "TARGET [OPTIONS] TEXT",
               .help = "sends a read request, prints the answer",
               .run = with("read", [&o](Client& c, const Args& pos) { return read(o, c, pos[0]); })},
              {.name = "stat",
               .synopsis = "TARGET [OPTIONS]",
               .help = "the instance's status",
               .run = with("stat", [](Client& c, const Args&) { return stat(c); })},
              {.name = "lcl",
               .synopsis = "TARGET [OPTIONS]",
               .help = "its last closed ledger",
               .run = with("lcl", [](Client& c, const Args&) { return lcl(c); })},
              {.name = "ledger",
               .args = exactlyOne("SEQ"),
               .synopsis = "TARGET [OPTIONS] SEQ",
               .help = "one ledger, with its inputs and outputs",
               .run =
                   [&o](const Args& pos) {
                     auto seq = parseUnsigned(pos[0], 0, std::numeric_limits<std::uint64_t>::max());
                     if (!seq)
                       return usageError("instance ledger",
                                         "SEQ: expected a ledger number, got '" + pos[0] + "'");
                     return withClient("instance ledger", o, [&](Client& c) { return ledger(c, *seq); });
                   }},
              {.name = "logs",
               .args = exactlyOne("LEASE"),
               .synopsis = "--config HOSTCONFIG [--lines N] LEASE",
               .help =
                   "on the host, as root: the logs of a lease's tenant (runtime and contract, rootlesskit\n"
                   "and containerd), from the host's configuration",
               .run =
                   [&o](const Args& pos) {
                     if (o.config.empty()) return usageError("instance logs", "--config FILE is required");
                     return showInstanceLogs(o.config, pos[0], o.lines, o.tenantsDir, o.tenantPrefix);
                   }},
          },
      .options = optionTable(o),
      .notes = std::string(kTargetNotes) + kInstanceNotes,
      .unknownHint = kSeedHint,
  };
  return dispatchVerb(spec, args);
}

int deploy(Options o) {
  if (o.dir.empty()) return usageError("deploy", "--dir DIR is required");
  auto bundle = packBundleInput(o.dir);
  if (!bundle) return failure("deploy", bundle.error().message);
  o.protocol = runtime::Protocol::Bson;  // the bundle is binary
  return withClient("deploy", o, [&](runtime::UserClient& client) {
    auto r = uploadBundle(client, *bundle);
    if (!r) return failure("deploy", r.error().message);
    if (o.json) {
      runtime::Object obj;
      obj.emplace_back("status", runtime::Value(r->input.status));
      if (!r->input.reason.empty()) obj.emplace_back("reason", runtime::Value(r->input.reason));
      obj.emplace_back("version", runtime::Value(bundle->version));
      obj.emplace_back("bytes", runtime::Value::uint(bundle->input.size()));
      obj.emplace_back("ledger_seq_no", runtime::Value::uint(r->input.ledgerSeqNo));
      obj.emplace_back("answer", runtime::Value(r->answer));
      std::cout << runtime::renderJson(runtime::Value(std::move(obj))) << "\n";
    }
    if (auto why = r->failure()) return failure("deploy", *why);
    if (!o.json)
      std::cout << "deployed version " << bundle->version << " (" << bundle->input.size() << " bytes, ledger "
                << r->input.ledgerSeqNo << "); the next round runs it\n";
    return 0;
  });
}

int runDeploy(const std::vector<std::string>& args) {
  Options o;
  o.timeoutMs = 60000;
  std::vector<OptionSpec> table = optionTable(o);
  table.push_back({"--dir", true, setString(o.dir)});
  const CommandSpec spec{
      .name = "deploy",
      .verbs = {{.name = "",
                 .synopsis = "TARGET --dir DIR [--key-file FILE] [--json] [--timeout SECONDS]",
                 .run = calling(&deploy, o)}},
      .options = std::move(table),
      .notes = std::string(kDeployNotes) + kTargetNotes +
               "        (with --url, --key-file must be the owner's key)\n",
      .unknownHint = kSeedHint,
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar kInstanceReg{
    {"instance", "talk to a dApp instance (inputs, reads, status)", &runInstance, false, true}};
const CommandRegistrar kDeployReg{
    {"deploy", "upload a contract bundle to a leased instance", &runDeploy, false, true}};

}  // namespace

}  // namespace sashimono::cli
