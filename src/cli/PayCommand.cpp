// sashimono pay — an XRP payment from a wallet, waited for until validated (funding accounts
// on a devnet, topping up a host account).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <rapidjson/document.h>

#include "Command.h"
#include "sashimono/board/BoardClient.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/core/Log.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Signing.h"
#include "sashimono/protocol/Amount.h"

namespace sashimono::cli {

namespace {

constexpr const char* kUsage =
    "usage: sashimono pay --to rADDRESS --drops N [--wallet SEEDFILE] [--board URL] [--timeout SECONDS]\n"
    "  Sends N drops (1 XRP = 1,000,000 drops) from the wallet's account and waits until the\n"
    "  payment is in a validated ledger. The seed comes from --wallet FILE or SASHIMONO_SEED,\n"
    "  never the command line. --board defaults to SASHIMONO_BOARD or ws://127.0.0.1:6006.\n"
    "  Prints the transaction hash and its result; exit 0 only for tesSUCCESS.\n";

struct PayArgs {
  std::string to;
  std::string drops;
  std::string wallet;
  std::string board;
  unsigned timeout = 60;
};

core::Result<std::string> readSeedText(const PayArgs& a) {
  std::string text;
  if (!a.wallet.empty()) {
    std::ifstream in(a.wallet);
    if (!in) return core::Error("cannot read wallet file " + a.wallet);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  } else if (const char* env = std::getenv("SASHIMONO_SEED"); env != nullptr && *env != '\0') {
    text = env;
  } else {
    return core::Error("no seed: pass --wallet FILE or set SASHIMONO_SEED");
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

int runPay(const std::vector<std::string>& args) {
  const std::string cmd = "pay";
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << kUsage;
    return 0;
  }
  PayArgs a;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& k = args[i];
    if (i + 1 >= args.size()) return usageError(cmd, "option " + k + " needs a value\n" + kUsage);
    const std::string& v = args[++i];
    if (k == "--to") {
      a.to = v;
    } else if (k == "--drops") {
      a.drops = v;
    } else if (k == "--wallet") {
      a.wallet = v;
    } else if (k == "--board") {
      a.board = v;
    } else if (k == "--timeout") {
      if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(v) == 0)
        return usageError(cmd, "--timeout: expected 1..99999 seconds, got '" + v + "'");
      a.timeout = static_cast<unsigned>(std::stoul(v));
    } else {
      return usageError(cmd, "unknown option " + k + "\n" + kUsage);
    }
  }
  if (a.to.empty() || a.drops.empty())
    return usageError(cmd, std::string("--to and --drops are required\n") + kUsage);
  if (!crypto::decodeAddress(a.to).ok()) return usageError(cmd, "--to: '" + a.to + "' is not an r-address");
  auto drops = protocol::parseDrops(a.drops);
  if (!drops || *drops == 0) return usageError(cmd, "--drops: expected a positive whole number of drops");
  if (a.board.empty()) {
    const char* env = std::getenv("SASHIMONO_BOARD");
    a.board = env != nullptr && *env != '\0' ? env : "ws://127.0.0.1:6006";
  }
  auto seed = readSeedText(a);
  if (!seed) return failure(cmd, seed.error().message);
  auto key = crypto::KeyPair::fromSeed(*seed);
  if (!key) return failure(cmd, "the wallet's seed: " + key.error().message);

  board::BoardOptions bo;
  bo.urls = {a.board};
  bo.requestTimeout = std::chrono::seconds(10);
  board::BoardClient client(bo);
  if (!client.start(std::nullopt).ok() || !client.waitConnected(std::chrono::seconds(a.timeout)))
    return failure(cmd, "cannot connect to " + a.board);
  auto info = client.accountInfo(key->address(), false);
  if (!info) return failure(cmd, "account_info " + key->address() + ": " + info.error().message);
  std::uint64_t fee = 10;
  if (auto f = client.fee(); f.ok())
    fee = std::clamp<std::uint64_t>(std::max(f->baseFee, f->openLedgerFee), 10, 1000);

  rapidjson::Document d(rapidjson::kObjectType);
  auto& al = d.GetAllocator();
  const std::string from = key->address();
  const std::string amount = std::to_string(*drops);
  const std::string feeText = std::to_string(fee);
  d.AddMember("TransactionType", "Payment", al);
  d.AddMember("Account", rapidjson::Value(from.c_str(), al), al);
  d.AddMember("Destination", rapidjson::Value(a.to.c_str(), al), al);
  d.AddMember("Amount", rapidjson::Value(amount.c_str(), al), al);
  d.AddMember("Fee", rapidjson::Value(feeText.c_str(), al), al);
  d.AddMember("Sequence", info->sequence, al);
  d.AddMember("Flags", 0u, al);
  auto blob = ledger::sign(d, al, *key);
  if (!blob) return failure(cmd, blob.error().message);
  const auto hash = ledger::transactionHash(*blob);
  auto r = client.submit(*blob);
  if (!r) return failure(cmd, "submit: " + r.error().message);
  if (r->engineResult != "tesSUCCESS" && r->engineResult != "terQUEUED")
    return failure(cmd, "submit: " + r->engineResult);
  board::TxQuery q;
  q.hash = hash;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(a.timeout);
  while (std::chrono::steady_clock::now() < end) {
    auto t = client.tx(q);
    if (t.ok() && t->validated) {
      std::cout << core::toHex(hash) << " " << t->tx.result << " ledger " << t->tx.ledgerIndex << "\n";
      return t->tx.result == "tesSUCCESS" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return failure(cmd, core::toHex(hash) + " not validated within " + std::to_string(a.timeout) + " s");
}

const CommandRegistrar reg{{"pay", "send XRP from a wallet and wait until validated", &runPay}};

}  // namespace

}  // namespace sashimono::cli
