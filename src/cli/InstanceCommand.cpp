// `sashimono instance input|read|stat|lcl|ledger` and `sashimono deploy`: a developer talks to
// a dApp instance over Hot Pocket's user protocol (the same protocol hotpocket-js-client uses).
#include <sodium.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "Command.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/UserClient.h"

namespace sashimono::cli {

namespace {

const char* kInstanceUsage =
    "usage: sashimono instance input  TARGET [OPTIONS] TEXT   send one input, print its status and outputs\n"
    "       sashimono instance read   TARGET [OPTIONS] TEXT   send a read request, print the answer\n"
    "       sashimono instance stat   TARGET [OPTIONS]        the instance's status\n"
    "       sashimono instance lcl    TARGET [OPTIONS]        its last closed ledger\n"
    "       sashimono instance ledger TARGET [OPTIONS] SEQ    one ledger, with its inputs and outputs\n"
    "TARGET: --url wss://HOST:PORT [--server-key ED…]   or   --lease LEASE_ID [--wallet SEEDFILE] [--board "
    "URL]\n"
    "        (--lease finds the instance and its key in your lease replies, and talks as the lease owner)\n"
    "OPTIONS: --key-file FILE   your user key (\"ed\" + 128 hex; default: the lease owner's, or a new one)\n"
    "         --protocol bson|json (default bson)  --json  --timeout-ms N (default 15000)\n";

const char* kDeployUsage =
    "usage: sashimono deploy TARGET --dir DIR [--key-file FILE] [--json] [--timeout-ms N]\n"
    "Packs DIR (a bundle directory with contract.json, docs/BUNDLE.md) and uploads it to the instance\n"
    "as its owner; waits until the instance has installed it (the next round runs it).\n"
    "TARGET: --lease LEASE_ID [--wallet SEEDFILE] [--board URL]  or  --url wss://HOST:PORT [--server-key "
    "ED…]\n"
    "        (with --url, --key-file must be the owner's key)\n";

struct Options {
  std::string url;
  std::string lease;
  std::vector<std::string> leaseArgs;
  std::optional<runtime::PubKey> serverKey;
  std::string keyFile;
  std::string dir;
  runtime::Protocol protocol = runtime::Protocol::Bson;
  bool json = false;
  std::uint64_t timeoutMs = 15000;
  std::vector<std::string> positional;
};

std::string parse(const std::vector<std::string>& args, std::size_t from, Options& o) {
  for (std::size_t i = from; i < args.size(); ++i) {
    const auto& a = args[i];
    auto next = [&](std::string& out) {
      if (i + 1 >= args.size()) return false;
      out = args[++i];
      return true;
    };
    std::string v;
    if (a == "--url") {
      if (!next(o.url)) return "--url needs a URL";
    } else if (a == "--lease") {
      if (!next(o.lease)) return "--lease needs a lease id";
    } else if (a == "--server-key") {
      if (!next(v)) return "--server-key needs a key";
      auto k = runtime::parseHexKey(v);
      if (!k) return "--server-key: " + k.error().message;
      o.serverKey = *k;
    } else if (a == "--key-file") {
      if (!next(o.keyFile)) return "--key-file needs a file";
    } else if (a == "--dir") {
      if (!next(o.dir)) return "--dir needs a directory";
    } else if (a == "--protocol") {
      if (!next(v) || !runtime::parseProtocol(v)) return "--protocol takes json or bson";
      o.protocol = *runtime::parseProtocol(v);
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--timeout-ms") {
      if (!next(v)) return "--timeout-ms needs a number";
      char* end = nullptr;
      o.timeoutMs = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || o.timeoutMs == 0) return "--timeout-ms needs a positive number";
    } else if (a == "--board" || a == "--wallet" || a == "--reply-seed-file" || a == "--ca-file") {
      if (!next(v)) return a + " needs a value";
      o.leaseArgs.push_back(a);
      o.leaseArgs.push_back(v);
    } else if (a.rfind("--", 0) == 0) {
      return "unknown option " + a;
    } else {
      o.positional.push_back(a);
    }
  }
  if (o.url.empty() == o.lease.empty()) return "name the instance with --url or --lease (one of them)";
  return {};
}

struct Target {
  std::string url;
  runtime::InstanceKey key = runtime::InstanceKey::generate();
  std::optional<runtime::PubKey> serverKey;  // the lease's instance key
};

core::Result<Target> target(const Options& o) {
  Target t;
  if (!o.lease.empty()) {
    auto lt = resolveLease(o.leaseArgs, o.lease);
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

int runInstance(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kInstanceUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string verb = args[0];
  const std::string cmd = "instance " + verb;
  Options o;
  if (auto e = parse(args, 1, o); !e.empty()) return usageError(cmd, e + "\n" + kInstanceUsage);
  auto t = target(o);
  if (!t) return failure(cmd, t.error().message);
  auto c = connect(o, *t);
  if (!c) return failure(cmd, c.error().message);
  auto& client = **c;
  if (verb == "input" || verb == "read") {
    if (o.positional.size() != 1) return usageError(cmd, "give the text to send as one argument");
    const auto& text = o.positional[0];
    if (verb == "input") {
      auto r = client.submit(core::asBytes(text));
      if (!r) return failure(cmd, r.error().message);
      printOutcome(*r, o.json);
      return r->status == "accepted" ? 0 : 1;
    }
    auto r = client.read(core::asBytes(text));
    if (!r) return failure(cmd, r.error().message);
    if (o.json) {
      runtime::Object obj;
      obj.emplace_back("content", runtime::Value(printable(*r)));
      std::cout << runtime::renderJson(runtime::Value(std::move(obj))) << "\n";
    } else {
      std::cout << printable(*r) << "\n";
    }
    return 0;
  }
  if (verb == "stat" || verb == "lcl") {
    if (!o.positional.empty()) return usageError(cmd, "takes no arguments");
    core::Result<runtime::Value> v =
        verb == "stat" ? client.stat() : core::Result<runtime::Value>(runtime::Value());
    if (verb == "lcl") {
      auto l = client.lcl();
      if (!l) return failure(cmd, l.error().message);
      runtime::Object obj;
      obj.emplace_back("ledger_seq_no", runtime::Value::uint(l->first));
      obj.emplace_back("ledger_hash", runtime::Value(core::toHexLower(l->second)));
      v = runtime::Value(std::move(obj));
    }
    if (!v) return failure(cmd, v.error().message);
    if (verb == "stat") {
      runtime::Object extra;
      extra.emplace_back("contract_id", runtime::Value(client.contractId()));
      extra.emplace_back("contract_version", runtime::Value(client.contractVersion()));
      extra.emplace_back("instance_key", runtime::Value(runtime::hexKey(client.serverKey())));
      for (auto& kv : extra) v->asObject().push_back(std::move(kv));
    }
    std::cout << runtime::renderJson(*v) << "\n";
    return 0;
  }
  if (verb == "ledger") {
    if (o.positional.size() != 1) return usageError(cmd, "give the ledger's sequence number");
    char* end = nullptr;
    auto seq = std::strtoull(o.positional[0].c_str(), &end, 10);
    if (*end != '\0') return usageError(cmd, "the sequence number must be a number");
    auto v = client.ledgerQuery(seq, true, true);
    if (!v) return failure(cmd, v.error().message);
    std::cout << runtime::renderJson(*v) << "\n";
    return 0;
  }
  return usageError("instance", "unknown verb '" + verb + "'\n" + kInstanceUsage);
}

int runDeploy(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << kDeployUsage;
    return 0;
  }
  Options o;
  o.timeoutMs = 60000;
  if (auto e = parse(args, 0, o); !e.empty()) return usageError("deploy", e + "\n" + kDeployUsage);
  if (o.dir.empty() || !o.positional.empty()) return usageError("deploy", kDeployUsage);
  auto bundle = runtime::packDirectory(o.dir);
  if (!bundle) return failure("deploy", bundle.error().message);
  auto bytes = runtime::writeBundle(*bundle);
  if (!bytes) return failure("deploy", bytes.error().message);
  core::Bytes input(runtime::kBundleInputPrefix.begin(), runtime::kBundleInputPrefix.end());
  input.insert(input.end(), bytes->begin(), bytes->end());
  auto t = target(o);
  if (!t) return failure("deploy", t.error().message);
  o.protocol = runtime::Protocol::Bson;  // the bundle is binary
  auto c = connect(o, *t);
  if (!c) return failure("deploy", c.error().message);
  auto r = (*c)->submit(input);
  if (!r) return failure("deploy", r.error().message);
  std::string answer;
  for (const auto& out : r->outputs) {
    auto s = core::asString(out);
    if (s.rfind("sashimono: ", 0) == 0) answer = s;
  }
  if (o.json) {
    runtime::Object obj;
    obj.emplace_back("status", runtime::Value(r->status));
    if (!r->reason.empty()) obj.emplace_back("reason", runtime::Value(r->reason));
    obj.emplace_back("version", runtime::Value(bundle->contract.version));
    obj.emplace_back("bytes", runtime::Value::uint(input.size()));
    obj.emplace_back("ledger_seq_no", runtime::Value::uint(r->ledgerSeqNo));
    obj.emplace_back("answer", runtime::Value(answer));
    std::cout << runtime::renderJson(runtime::Value(std::move(obj))) << "\n";
  }
  if (r->status != "accepted") return failure("deploy", "the upload was rejected: " + r->reason);
  if (answer.rfind("sashimono: deployed", 0) != 0)
    return failure("deploy", answer.empty() ? "the instance did not answer the upload" : answer);
  if (!o.json)
    std::cout << "deployed version " << bundle->contract.version << " (" << input.size() << " bytes, ledger "
              << r->ledgerSeqNo << "); the next round runs it\n";
  return 0;
}

const CommandRegistrar kInstanceReg{
    {"instance", "talk to a dApp instance (inputs, reads, status)", &runInstance}};
const CommandRegistrar kDeployReg{{"deploy", "upload a contract bundle to a leased instance", &runDeploy}};

}  // namespace

}  // namespace sashimono::cli
