// `sashimono keys generate|show` (user-facing) and `sashimono codec` (a JSON-lines service over
// stdin/stdout used by the interop tests to drive the ledger codec and crypto).
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sodium.h>

#include "Command.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/crypto/SeedFile.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/ledger/Signing.h"

namespace sashimono::cli {
namespace {

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

void printKey(const crypto::KeyPair& kp) {
  std::cout << "key_type:   " << crypto::keyTypeName(kp.type()) << "\n"
            << "public_key: " << core::toHex(kp.publicKey()) << "\n"
            << "address:    " << kp.address() << "\n";
}

struct KeysArgs {
  bool secp256k1 = false;
  bool seedOnly = false;
  std::string seedFile;
};

int keysGenerate(const KeysArgs& a) {
  const auto type = a.secp256k1 ? crypto::KeyType::secp256k1 : crypto::KeyType::ed25519;
  const bool seedOnly = a.seedOnly;
  auto seed = crypto::generateSeed(type);
  auto kp = crypto::KeyPair::fromSeed(seed);
  if (!kp) return failure("keys generate", kp.error().message);
  std::string text = crypto::encodeSeed(seed);
  if (seedOnly) {  // for scripts writing a seed file: just the seed, one line
    std::cout << text << "\n";
    wipe(text);
    return 0;
  }
  std::cout << "seed:       " << text << "   (keep secret)\n";
  wipe(text);
  printKey(*kp);
  return 0;
}

int keysShow(const KeysArgs& a) {
  std::string seedText;
  if (!a.seedFile.empty()) {
    auto seed = crypto::readSeedFile(a.seedFile);
    if (!seed) return failure("keys show", seed.error().message);
    seedText = crypto::encodeSeed(*seed);
  }
  if (seedText.empty()) {
    const char* env = std::getenv("SASHIMONO_SEED");
    if (env == nullptr || *env == '\0') {
      return usageError("keys show", "no seed: set SASHIMONO_SEED or pass --seed-file PATH");
    }
    seedText = trim(env);
  }
  auto kp = crypto::KeyPair::fromSeed(seedText);
  wipe(seedText);
  if (!kp) return failure("keys show", kp.error().message);
  printKey(*kp);
  return 0;
}

int runKeys(const std::vector<std::string>& args) {
  KeysArgs a;
  const std::vector<OptionSpec> generateOptions{
      {"--secp256k1", false, setFlag(a.secp256k1)},
      {"--ed25519", false,
       [&a](const std::string&) {
         a.secp256k1 = false;
         return std::string();
       }},
      {"--seed-only", false, setFlag(a.seedOnly)},
  };
  const std::vector<OptionSpec> showOptions{{"--seed-file", true, setString(a.seedFile)}};
  const CommandSpec spec{
      .name = "keys",
      .verbs =
          {
              {.name = "generate",
               .synopsis = "[--secp256k1] [--seed-only]",
               .help = "a new seed (ed25519 unless --secp256k1), its public key and address",
               .run = calling(&keysGenerate, a),
               .options = &generateOptions},
              {.name = "show",
               .synopsis = "[--seed-file PATH]",
               .help = "the public key and address of the seed in PATH or SASHIMONO_SEED",
               .run = calling(&keysShow, a),
               .options = &showOptions},
          },
      .unknownHint = " (the seed comes from SASHIMONO_SEED or --seed-file, never the command line)",
  };
  return dispatchVerb(spec, args);
}

// ---- codec service ----

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void putString(Writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

std::string errorLine(const core::Error& e) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("ok");
  w.Bool(false);
  putString(w, "error", e.message);
  putString(w, "code", e.code);
  w.EndObject();
  return sb.GetString();
}

core::Result<core::Bytes> hexArg(const rapidjson::Value& req) {
  if (!req.HasMember("hex") || !req["hex"].IsString()) return core::Error("missing \"hex\"");
  return core::fromHex(req["hex"].GetString());
}

core::Result<std::string> handle(const rapidjson::Document& req) {
  if (!req.IsObject() || !req.HasMember("op") || !req["op"].IsString()) return core::Error("missing \"op\"");
  std::string op = req["op"].GetString();
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("ok");
  w.Bool(true);
  if (op == "encode" || op == "encode_signing") {
    if (!req.HasMember("json")) return core::Error("missing \"json\"");
    auto b = op == "encode" ? ledger::encode(req["json"]) : ledger::encodeForSigning(req["json"]);
    if (!b) return b.error();
    putString(w, "hex", core::toHex(*b));
  } else if (op == "decode") {
    auto b = hexArg(req);
    if (!b) return b.error();
    auto d = ledger::decode(*b);
    if (!d) return d.error();
    w.Key("json");
    d->Accept(w);
  } else if (op == "hash") {
    auto b = hexArg(req);
    if (!b) return b.error();
    putString(w, "hash", core::toHex(ledger::transactionHash(*b)));
  } else if (op == "sign") {
    if (!req.HasMember("json") || !req.HasMember("seed") || !req["seed"].IsString()) {
      return core::Error("missing \"json\" or \"seed\"");
    }
    auto kp = crypto::KeyPair::fromSeed(req["seed"].GetString());
    if (!kp) return kp.error();
    rapidjson::Document tx;
    tx.CopyFrom(req["json"], tx.GetAllocator());
    auto blob = ledger::sign(tx, tx.GetAllocator(), *kp);
    if (!blob) return blob.error();
    putString(w, "hex", core::toHex(*blob));
    putString(w, "hash", core::toHex(ledger::transactionHash(*blob)));
  } else if (op == "verify") {
    // Both paths must agree: JSON verifySignature on the decoded blob, and the fast path.
    auto b = hexArg(req);
    if (!b) return b.error();
    auto d = ledger::decode(*b);
    if (!d) return d.error();
    auto slow = ledger::verifySignature(*d);
    auto tx = ledger::decodeTransaction(*b);
    if (!tx) return tx.error();
    auto fast = ledger::verifySignature(*tx);
    if (slow.ok() != fast.ok() || (!slow.ok() && slow.error().code != fast.error().code)) {
      return core::Error("JSON and fast-path verification disagree");
    }
    if (!fast.ok()) return fast.error();
    putString(w, "hash", core::toHex(tx->hash));
    putString(w, "signing", core::toHex(tx->signingData));
  } else if (op == "derive") {
    if (!req.HasMember("seed") || !req["seed"].IsString()) return core::Error("missing \"seed\"");
    auto kp = crypto::KeyPair::fromSeed(req["seed"].GetString());
    if (!kp) return kp.error();
    putString(w, "publicKey", core::toHex(kp->publicKey()));
    std::string priv = kp->privateKeyHex();
    putString(w, "privateKey", priv);
    wipe(priv);
    putString(w, "address", kp->address());
    putString(w, "type", crypto::keyTypeName(kp->type()));
  } else {
    return core::Error("unknown op '" + op + "'");
  }
  w.EndObject();
  return std::string(sb.GetString());
}

// Answers one JSON request a line on stdin until its end.
int serveCodec() {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (trim(line).empty()) continue;
    rapidjson::Document req;
    req.Parse<rapidjson::kParseIterativeFlag>(line.c_str());
    std::string out;
    if (req.HasParseError()) {
      out = errorLine(core::Error("request is not valid JSON"));
    } else {
      auto r = handle(req);
      out = r.ok() ? *r : errorLine(r.error());
    }
    std::cout << out << "\n" << std::flush;
  }
  return 0;
}

int runCodec(const std::vector<std::string>& args) {
  const CommandSpec spec{
      .name = "codec",
      .verbs =
          {{.name = "",
            .help =
                "  reads JSON requests, one per line, on stdin (for tests):\n"
                "  {\"op\":\"encode\"|\"encode_signing\",\"json\":{...}}  "
                "{\"op\":\"decode\"|\"hash\"|\"verify\",\"hex\":\"..\"}\n"
                "  {\"op\":\"sign\",\"json\":{...},\"seed\":\"s..\"}  {\"op\":\"derive\",\"seed\":\"s..\"}",
            .run = [](const std::vector<std::string>&) { return serveCodec(); }}},
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar kKeys{
    {"keys", "generate a key pair, or show the public key and address of a seed", &runKeys, false, true}};
const CommandRegistrar kCodec{{"codec", "(testing) XRPL codec over JSON lines on stdin", &runCodec, true}};

}  // namespace
}  // namespace sashimono::cli
