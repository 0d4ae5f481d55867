// sashimono devnet --listen HOST:PORT --data DIR [--genesis-seed SEED] [--ledger-interval-ms N]
//                  [--network-id N] [--validator-key-type ed25519|secp256k1] [--open-ledger-fee N]
// sashimono devnet validator-key --data DIR [--validator-key-type ed25519|secp256k1]
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "Command.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/crypto/SeedFile.h"
#include "sashimono/devnet/ChainStore.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/DevnetServer.h"
#include "sashimono/devnet/Validator.h"
#include "sashimono/net/WsServer.h"

namespace sashimono::cli {

namespace {

constexpr const char* kNotes =
    "  --listen              address to serve the WebSocket API on (default 127.0.0.1:6006)\n"
    "  --data                directory for the ledger database (default ./devnet-data)\n"
    "  --genesis-seed        seed (sEd...) of the genesis account holding 100,000,000,000 XRP;\n"
    "                        without it a stored or a new one is used, and printed\n"
    "  --genesis-seed-file   read the genesis seed from FILE (preferred: arguments show in ps)\n"
    "  --ledger-interval-ms  close a ledger every N ms (default 1000; 0 = only on ledger_accept)\n"
    "  --network-id          the chain's NetworkID (default 0; above 1024 transactions must carry it);\n"
    "                        stored with the chain, which refuses another one later\n"
    "  --validator-key-type  ed25519 (default) or secp256k1: the type of a new validator master key\n"
    "  --open-ledger-fee     drops a transaction must pay, as on a busy network (default 10, the base\n"
    "                        fee); less is refused with telINSUF_FEE_P. Admin command fee_set changes it\n"
    "  --max-message-bytes   largest accepted WebSocket message (default 1048576)\n"
    "  --max-queued-bytes    outgoing bytes queued for a slow client before it is dropped (default "
    "33554432)\n"
    "The devnet signs a validation of every ledger with its validator key; the master key (n...) is\n"
    "printed at start and written with the manifest to DIR/validator.json. 'validator-key' prints it\n"
    "(making the validator identity if DIR has none yet).\n";

struct DevnetArgs {
  std::string listen = "127.0.0.1:6006";
  std::string genesisSeedFile;
  std::uint64_t openLedgerFee = devnet::kBaseFee;
  devnet::DevnetOptions options;
  devnet::DevnetServerOptions server;
};

OptionApply setKeyType(std::optional<crypto::KeyType>& out) {
  return [&out](const std::string& v) -> std::string {
    if (v == "ed25519") {
      out = crypto::KeyType::ed25519;
    } else if (v == "secp256k1") {
      out = crypto::KeyType::secp256k1;
    } else {
      return "expected ed25519 or secp256k1, got '" + v + "'";
    }
    return {};
  };
}

std::vector<OptionSpec> optionTable(DevnetArgs& a) {
  auto& ws = a.server.ws;
  return {
      {"--listen", true, setString(a.listen)},
      {"--data", true, setString(a.options.dataDir)},
      {"--genesis-seed", true, setString(a.options.genesisSeed)},
      {"--genesis-seed-file", true, setString(a.genesisSeedFile)},
      {"--ledger-interval-ms", true,
       onNumber(0, 3'600'000, {},
                [&a](std::uint64_t n) { a.options.ledgerInterval = std::chrono::milliseconds(n); })},
      {"--network-id", true,
       onNumber(0, 0xFFFFFFFF, {},
                [&a](std::uint64_t n) { a.options.networkId = static_cast<std::uint32_t>(n); })},
      {"--validator-key-type", true, setKeyType(a.options.validatorKeyType)},
      {"--open-ledger-fee", true, setNumber(a.openLedgerFee, devnet::kBaseFee, devnet::kMaxOpenLedgerFee)},
      {"--io-threads", true,
       onNumber(1, 64, {}, [&a](std::uint64_t n) { a.server.ioThreads = static_cast<unsigned>(n); })},
      {"--work-threads", true,
       onNumber(0, 256, {}, [&a](std::uint64_t n) { a.server.workThreads = static_cast<unsigned>(n); })},
      {"--max-message-bytes", true,
       onNumber(1024, 64ull << 20, {}, [&ws](std::uint64_t n) { ws.maxMessageBytes = n; })},
      {"--max-queued-bytes", true,
       onNumber(65536, 1ull << 32, {}, [&ws](std::uint64_t n) { ws.maxQueuedBytes = n; })},
  };
}

int serve(DevnetArgs a) {
  const std::string& listen = a.listen;
  auto& options = a.options;
  auto& serverOptions = a.server;
  if (!a.genesisSeedFile.empty()) {
    if (!options.genesisSeed.empty())
      return usageError("devnet", "give --genesis-seed or --genesis-seed-file, not both");
    auto seed = crypto::readSeedFile(a.genesisSeedFile);
    if (!seed) return failure("devnet", "--genesis-seed-file: " + seed.error().message);
    options.genesisSeed = crypto::encodeSeed(*seed);
  }
  options.openLedgerFee = a.openLedgerFee;
  auto hp = net::parseHostPort(listen);
  if (!hp.ok()) return usageError("devnet", "--listen: " + hp.error().message);

  auto node = devnet::Devnet::open(options);
  if (!node.ok()) return failure("devnet", node.error().message);
  devnet::DevnetServer server(**node, serverOptions);
  auto port = server.listen(hp->host, hp->port);
  if (!port.ok()) return failure("devnet", port.error().message);
  (*node)->start();

  std::cout << "genesis seed: " << (*node)->genesisSeed() << "\n"
            << "genesis address: " << (*node)->genesisAddress() << "\n"
            << "ledger: " << (*node)->validatedLedger().seq << " validated\n"
            << "network id: " << (*node)->networkId() << "\n"
            << "validator master key: " << (*node)->validatorMasterKey() << "\n"
            << "listening on ws://"
            << (hp->host.find(':') != std::string::npos ? "[" + hp->host + "]" : hp->host) << ":" << *port
            << std::endl;

  boost::asio::io_context signals;
  boost::asio::signal_set set(signals, SIGINT, SIGTERM);
  set.async_wait([](const boost::system::error_code&, int) {});
  signals.run();
  std::cout << "stopping" << std::endl;
  (*node)->stop();
  server.stop();
  return 0;
}

struct ValidatorKeyArgs {
  std::string dataDir = "devnet-data";
  std::optional<crypto::KeyType> keyType;
};

int printValidatorKey(ValidatorKeyArgs& a) {
  auto store = devnet::ChainStore::open(a.dataDir);
  if (!store.ok()) return failure("devnet validator-key", store.error().message);
  auto v = devnet::Validator::loadOrCreate(**store, a.keyType);
  if (!v.ok()) return failure("devnet validator-key", v.error().message);
  std::cout << crypto::encodeNodePublic(v->masterKey()) << std::endl;
  return 0;
}

int runValidatorKey(const std::vector<std::string>& args) {
  ValidatorKeyArgs a;
  const CommandSpec spec{
      .name = "devnet validator-key",
      .verbs = {{.name = "",
                 .synopsis = "[--data DIR] [--validator-key-type ed25519|secp256k1]",
                 .run = calling(&printValidatorKey, a)}},
      .options = {{"--data", true, setString(a.dataDir)},
                  {"--validator-key-type", true, setKeyType(a.keyType)}},
      .notes =
          "Prints the validator master key (n...) of the devnet data directory DIR (default\n"
          "./devnet-data), making the validator identity first if DIR has none.\n",
  };
  return dispatchVerb(spec, args);
}

int runDevnet(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "validator-key") return runValidatorKey({args.begin() + 1, args.end()});
  DevnetArgs a;
  a.options.dataDir = "devnet-data";
  const CommandSpec spec{
      .name = "devnet",
      .verbs =
          {{.name = "",
            .synopsis =
                "[--listen HOST:PORT] [--data DIR] [--genesis-seed SEED | --genesis-seed-file FILE]\n"
                "                        [--ledger-interval-ms N] [--io-threads N] [--work-threads N]\n"
                "                        [--max-message-bytes N] [--max-queued-bytes N] [--network-id N]\n"
                "                        [--validator-key-type ed25519|secp256k1] [--open-ledger-fee N]\n"
                "       sashimono devnet validator-key [--data DIR] [--validator-key-type TYPE]",
            .run = calling(&serve, a)}},
      .options = optionTable(a),
      .notes = kNotes,
  };
  return dispatchVerb(spec, args);
}

const CommandRegistrar kRegistrar{
    {"devnet", "run the embedded single-node ledger (WebSocket API)", &runDevnet}};

}  // namespace
}  // namespace sashimono::cli
