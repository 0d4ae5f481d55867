// bench_node_bench's shared helpers (NodeBench.h).
#include "NodeBench.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "fakes/node/Forge.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node_bench {

std::atomic<bool> gInterrupted{false};

void checkInterrupted() {
  if (gInterrupted) throw std::runtime_error("interrupted");
}

core::Bytes terminatePayment(Account& a, const crypto::KeyPair& host, const crypto::Hash256& lease) {
  return node::fakes::requestPayment(a.key, host.address(), 1, a.sequence++,
                                     protocol::Message{protocol::TerminateRequest{lease, std::nullopt}},
                                     host);
}

std::string submit(board::BoardClient& c, const core::Bytes& blob) {
  auto r = c.submit(blob);
  if (!r) throw std::runtime_error("submit: " + r.error().message);
  if (r->engineResult != "tesSUCCESS") throw std::runtime_error("submit: " + r->engineResult);
  return core::toHex(ledger::transactionHash(blob));
}

std::unique_ptr<board::BoardClient> newClient(const std::string& url) {
  board::BoardOptions o;
  o.urls = {url};
  o.requestTimeout = 10s;
  auto c = std::make_unique<board::BoardClient>(o);
  if (!c->start(std::nullopt).ok() || !c->waitConnected(20s))
    throw std::runtime_error("cannot connect to the devnet");
  return c;
}

void printRow(const char* name, const std::vector<double>& v) {
  std::printf("  %-40s %9.1f %9.1f\n", name, pct(v, 0.5), pct(v, 0.95));
}

// The node's config for the benchmark: `host init`'s offer and size, `host run`'s defaults.
node::HostConfig benchConfig(const std::string& boardUrl, const std::string& images,
                             const std::string& dataDir) {
  node::HostConfig c;
  c.boardUrls = {boardUrl};
  c.address = "127.0.0.1";
  c.offer.instances = 4;
  c.offer.size = lease::InstanceSize{1000, 512, 256, 2048};  // `host init` defaults
  c.offer.pricePerMoment = 1000;
  c.offer.momentSeconds = 3600;
  c.offer.maxMoments = 720;
  c.policy.allowedImages = {"instance"};
  c.imagesDir = images;
  c.bindAddress = "127.0.0.1";
  c.dataDir = dataDir;
  return c;
}

}  // namespace sashimono::node_bench
