// sashimono pay — an XRP payment from a wallet, waited for until validated (funding accounts
// on a devnet, topping up a host account).
#include <chrono>
#include <iostream>
#include <thread>

#include "Command.h"
#include "Options.h"
#include "sashimono/client/BoardSession.h"
#include "sashimono/client/Wallet.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/SeedFile.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/protocol/Amount.h"

namespace sashimono::cli {

namespace {

using namespace std::chrono_literals;

constexpr auto kDefaultValidationWait = 60s;

constexpr const char* kNotes =
    "  Sends N drops (1 XRP = 1,000,000 drops) from the wallet's account and waits until the\n"
    "  payment is in a validated ledger. The seed comes from --wallet FILE (mode 0600) or\n"
    "  SASHIMONO_SEED, never the command line. --board defaults to SASHIMONO_BOARD or\n"
    "  ws://127.0.0.1:6006. Without --timeout it gives up after 5 s if it cannot reach the board\n"
    "  and waits 60 s for validation; --timeout bounds both.\n"
    "  Prints the transaction hash and its result; exit 0 only for tesSUCCESS.\n";

struct PayOptions {
  std::string to, dropsText, wallet, board;
  std::optional<std::uint64_t> timeout;
};

int pay(const PayOptions& o) {
  const std::string cmd = "pay";
  const auto& [to, dropsText, wallet, board, timeout] = o;
  if (to.empty() || dropsText.empty()) return usageError(cmd, "--to and --drops are required");
  auto dest = crypto::decodeAddress(to);
  if (!dest.ok()) return usageError(cmd, "--to: '" + to + "' is not an r-address");
  auto drops = protocol::parseDrops(dropsText);
  if (!drops || *drops == 0) return usageError(cmd, "--drops: expected a positive whole number of drops");
  auto w = client::loadWallet(client::WalletSource::fromEnvironment(wallet, {}));
  if (!w) return failure(cmd, w.error().message);
  const crypto::KeyPair& key = w->account;

  client::SessionOptions so;
  so.boards = client::boardsOrDefault(board.empty() ? std::vector<std::string>{} : std::vector{board});
  so.connectTimeout =
      timeout ? std::chrono::seconds(*timeout) : std::chrono::seconds(client::kDefaultConnectTimeout);
  auto session = client::BoardSession::open(so);
  if (!session)
    return failure(cmd, session.error().message + (timeout ? "" : "; --timeout SECONDS waits longer"));
  client::PaymentOrder order;
  order.to = *dest;
  order.amount = *drops;
  order.lastLedgerWindow = std::nullopt;
  order.feeCap = 1000;
  auto blob = (*session)->signPayment(key, order);
  if (!blob) return failure(cmd, blob.error().message);
  const auto hash = ledger::transactionHash(*blob);
  auto& client = (*session)->board();
  auto r = client.submit(*blob);
  if (!r) return failure(cmd, "submit: " + r.error().message);
  if (r->engineResult != "tesSUCCESS" && r->engineResult != "terQUEUED")
    return failure(cmd, "submit: " + r->engineResult);
  board::TxQuery q;
  q.hash = hash;
  const auto wait = timeout ? std::chrono::seconds(*timeout) : std::chrono::seconds(kDefaultValidationWait);
  const auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end) {
    auto t = client.tx(q);
    if (t.ok() && t->validated) {
      std::cout << core::toHex(hash) << " " << t->tx.result << " ledger " << t->tx.ledgerIndex << "\n";
      return t->tx.result == "tesSUCCESS" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return failure(cmd, core::toHex(hash) + " not validated within " + std::to_string(wait.count()) + " s");
}

int runPay(const std::vector<std::string>& args) {
  PayOptions o;
  const CommandSpec spec{
      .name = "pay",
      .verbs = {{.name = "",
                 .synopsis = "--to rADDRESS --drops N [--wallet SEEDFILE] [--board URL] [--timeout SECONDS]",
                 .run = calling(&pay, o)}},
      .options =
          {
              {"--to", true, setString(o.to)},
              {"--drops", true, setString(o.dropsText)},
              {"--wallet", true, setString(o.wallet)},
              {"--board", true, setString(o.board)},
              {"--timeout", true, setSeconds(o.timeout)},
          },
      .notes = kNotes,
      .unknownHint = " (the seed comes from --wallet FILE or SASHIMONO_SEED, never the command line)",
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar reg{{"pay", "send XRP from a wallet and wait until validated", &runPay, false, true}};

}  // namespace

}  // namespace sashimono::cli
