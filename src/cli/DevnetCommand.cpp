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

constexpr const char* kUsage =
    "usage: sashimono devnet [--listen HOST:PORT] [--data DIR] [--genesis-seed SEED | --genesis-seed-file "
    "FILE]\n"
    "                        [--ledger-interval-ms N] [--io-threads N] [--work-threads N]\n"
    "                        [--max-message-bytes N] [--max-queued-bytes N]\n"
    "  --listen              address to serve the WebSocket API on (default 127.0.0.1:6006)\n"
    "  --data                directory for the ledger database (default ./devnet-data)\n"
    "  --genesis-seed        seed (sEd...) of the genesis account holding 100,000,000,000 XRP;\n"
    "                        without it a stored or a new one is used, and printed\n"
    "  --genesis-seed-file   read the genesis seed from FILE (preferred: arguments show in ps)\n"
    "  --ledger-interval-ms  close a ledger every N ms (default 1000; 0 = only on ledger_accept)\n"
    "  --max-message-bytes   largest accepted WebSocket message (default 1048576)\n"
    "  --max-queued-bytes    outgoing bytes queued for a slow client before it is dropped (default "
    "33554432)\n";

bool parseUint(const std::string& s, std::uint64_t max, std::uint64_t& out) {
  if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != std::string::npos) return false;
  out = std::stoull(s);
  return out <= max;
}

int runDevnet(const std::vector<std::string>& args) {
  std::string listen = "127.0.0.1:6006";
  devnet::DevnetOptions options;
  options.dataDir = "devnet-data";
  devnet::DevnetServerOptions serverOptions;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= args.size()) return usageError("devnet", "option " + a + " needs a value\n" + kUsage);
    const std::string& v = args[++i];
    std::uint64_t n = 0;
    if (a == "--listen") {
      listen = v;
    } else if (a == "--data") {
      options.dataDir = v;
    } else if (a == "--genesis-seed") {
      options.genesisSeed = v;
    } else if (a == "--genesis-seed-file") {
      auto seed = crypto::readSeedFile(v);
      if (!seed) return failure("devnet", "--genesis-seed-file: " + seed.error().message);
      options.genesisSeed = crypto::encodeSeed(*seed);
    } else if (a == "--ledger-interval-ms") {
      if (!parseUint(v, 3600000, n))
        return usageError("devnet", "--ledger-interval-ms: expected 0..3600000, got '" + v + "'");
      options.ledgerInterval = std::chrono::milliseconds(n);
    } else if (a == "--io-threads") {
      if (!parseUint(v, 64, n) || n == 0)
        return usageError("devnet", "--io-threads: expected 1..64, got '" + v + "'");
      serverOptions.ioThreads = static_cast<unsigned>(n);
    } else if (a == "--work-threads") {
      if (!parseUint(v, 256, n))
        return usageError("devnet", "--work-threads: expected 0..256, got '" + v + "'");
      serverOptions.workThreads = static_cast<unsigned>(n);
    } else if (a == "--max-message-bytes") {
      if (!parseUint(v, 64ull << 20, n) || n < 1024)
        return usageError("devnet", "--max-message-bytes: expected 1024..67108864, got '" + v + "'");
      serverOptions.ws.maxMessageBytes = n;
    } else if (a == "--max-queued-bytes") {
      if (!parseUint(v, 1ull << 32, n) || n < 65536)
        return usageError("devnet", "--max-queued-bytes: expected 65536..4294967296, got '" + v + "'");
      serverOptions.ws.maxQueuedBytes = n;
    } else {
      return usageError("devnet", "unknown option " + a + "\n" + kUsage);
    }
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

const CommandRegistrar kRegistrar{
    {"devnet", "run the embedded single-node ledger (WebSocket API)", &runDevnet}};

}  // namespace
}  // namespace sashimono::cli
