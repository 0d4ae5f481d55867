// sashimono devnet --listen HOST:PORT --data DIR [--genesis-seed SEED] [--ledger-interval-ms N]
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "Command.h"
#include "sashimono/crypto/SeedFile.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/DevnetServer.h"
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
    "  --max-message-bytes   largest accepted WebSocket message (default 1048576)\n"
    "  --max-queued-bytes    outgoing bytes queued for a slow client before it is dropped (default "
    "33554432)\n";

struct DevnetArgs {
  std::string listen = "127.0.0.1:6006";
  std::string genesisSeedFile;
  devnet::DevnetOptions options;
  devnet::DevnetServerOptions server;
};

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

int runDevnet(const std::vector<std::string>& args) {
  DevnetArgs a;
  a.options.dataDir = "devnet-data";
  const CommandSpec spec{
      .name = "devnet",
      .verbs = {{.name = "",
                 .synopsis =
                     "[--listen HOST:PORT] [--data DIR] [--genesis-seed SEED | --genesis-seed-file FILE]\n"
                     "                        [--ledger-interval-ms N] [--io-threads N] [--work-threads N]\n"
                     "                        [--max-message-bytes N] [--max-queued-bytes N]",
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
