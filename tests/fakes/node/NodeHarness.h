#pragma once
// A node over a real sqlite file, a FakeBoard and a FakeProvisioner, that a test can "crash"
// (drop the node and its store at any step, via the onStep hook) and boot again on the same
// file, while the fake board and provisioner (the world outside) live on.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fakes/lease/ManualClock.h"
#include "fakes/node/FakeBoard.h"
#include "fakes/node/FakeProvisioner.h"
#include "fakes/node/Tenant.h"
#include "sashimono/node/Node.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::node::fakes {

class TempDir {
 public:
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sashimono-node-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp");
    path_ = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline std::unique_ptr<NodeStore> openStore(const std::string& path) {
  auto s = NodeStore::open(path);
  if (!s) throw std::runtime_error(s.error().message);
  return std::make_unique<NodeStore>(std::move(*s));
}

struct Crash : std::runtime_error {
  Crash() : std::runtime_error("simulated crash") {}
};

class NodeHarness {
 public:
  NodeHarness() : host(newEdKey()), tenant(newEdKey()) {}

  NodeOptions options() {
    NodeOptions o;
    o.offer.instances = 2;
    o.offer.pricePerMoment = 1000;
    o.offer.momentSeconds = 3600;
    o.offer.maxMoments = 10;
    o.policy.allowedImages = {"hotpocket"};
    o.hostAddress = "host.example.com";
    o.outbox.lastLedgerWindow = 5;
    return o;
  }

  // Step boundaries after which something new is durable (or done outside the store): a crash
  // at one of them lets the next boot start further on. Others ("admitted", "classified", "decided"
  // inside a batch, "outbox.signed") are rolled back with their batch.
  static bool durableStep(std::string_view name) {
    for (const char* d :
         {"committed", "provisioned", "destroyed", "cursor", "outbox.stored", "outbox.submitted"})
      if (name == d) return true;
    return false;
  }

  // (Re)starts the node on the same store. With crashAt = n, the n-th step boundary (counted
  // from this boot; with durableOnly, only durable ones count) throws Crash.
  void boot(int crashAt = 0, bool durableOnly = false) {
    node.reset();
    store.reset();
    store = openStore(dir.path() + "/node.sqlite");
    steps = 0;
    auto o = options();
    if (customize) customize(o);
    if (crashAt > 0) {
      auto hook = [this, crashAt, durableOnly](std::string_view name) {
        if (durableOnly && !durableStep(name)) return;
        if (++steps == crashAt) {
          lastStep = std::string(name);
          throw Crash();
        }
      };
      o.onStep = hook;
      o.outbox.onStep = hook;
    }
    node = std::make_unique<Node>(o, *store, board, provisioner, host, clock);
    auto c = node->start();
    if (!c) throw std::runtime_error("start: " + c.error().message);
    cursor = *c;
  }

  // The developer pays the host with a request (validated at once in its own ledger).
  board::BoardTx send(std::uint64_t drops, const std::optional<protocol::Message>& request) {
    auto blob = requestPayment(tenant, host.address(), drops, tenantSeq++, request, host);
    auto t = board.inject(blob);
    board::BoardTx bt;
    bt.hash = t.tx.hash;
    bt.blob = blob;
    bt.ledgerIndex = t.ledger;
    bt.result = "tesSUCCESS";
    delivered.push_back(bt);
    return bt;
  }

  // The board delivers everything after the cursor (what a restarted BoardClient does).
  void catchUp() {
    for (const auto& t : delivered) {
      if (cursor && t.ledgerIndex <= *cursor) continue;
      check(node->onTransaction(t));
      check(node->onLedgerFinished(t.ledgerIndex));
      cursor = t.ledgerIndex;
    }
  }

  void settle(int rounds = 4) {
    for (int i = 0; i < rounds; ++i) {
      check(node->tick());
      auto p = node->pumpOutbox();
      if (!p) throw std::runtime_error("pump: " + p.error().message);
      board.close();
    }
  }

  // Replies the host sent, by the request they answer.
  std::map<crypto::Hash256, std::vector<OpenedReply>> replies() const {
    std::map<crypto::Hash256, std::vector<OpenedReply>> out;
    for (const auto& t : board.validatedFrom(host.accountId())) {
      auto r = openReply(t.tx, tenant);
      if (!r) continue;
      if (auto a = answered(r->message)) out[*a].push_back(*r);
    }
    return out;
  }

  static void check(const core::Status& s) {
    if (!s) throw std::runtime_error(s.error().message);
  }

  TempDir dir;
  FakeBoard board;
  FakeProvisioner provisioner;
  lease::fakes::ManualClock clock;
  crypto::KeyPair host;
  crypto::KeyPair tenant;
  std::uint32_t tenantSeq = 1;
  std::vector<board::BoardTx> delivered;
  std::optional<std::uint32_t> cursor;
  std::unique_ptr<NodeStore> store;
  std::unique_ptr<Node> node;
  int steps = 0;
  std::string lastStep;
  // Changes the node's options at every boot (fee limits, …).
  std::function<void(NodeOptions&)> customize;
};

}  // namespace sashimono::node::fakes
