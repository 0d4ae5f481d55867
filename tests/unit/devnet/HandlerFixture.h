#pragma once
// The set-up of the devnet handler tests (HandlersTest, NetworkHandlersTest): a devnet in a
// temporary directory with the "genesis" seed that closes ledgers only when asked, driven through
// handleRequest() without sockets, and a session that records what it is sent.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include "TestTx.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/Rpc.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::devnet::test {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sashi-devnet-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A loopback session that keeps every message sent to it.
class FakeSession : public net::WsSession {
 public:
  explicit FakeSession(std::uint64_t id = 7) : id_(id) {}
  std::vector<std::string> sent;
  void send(std::shared_ptr<const std::string> text) override { sent.push_back(*text); }
  void close() override {}
  std::uint64_t id() const override { return id_; }
  const std::string& remoteAddress() const override { return addr_; }
  bool isLoopback() const override { return true; }
  bool isOpen() const override { return true; }
  // The i-th message sent, parsed.
  rapidjson::Document message(std::size_t i) const {
    rapidjson::Document d;
    d.Parse(sent.at(i).c_str());
    return d;
  }

 private:
  std::uint64_t id_;
  std::string addr_ = "127.0.0.1";
};

class HandlerFixture : public ::testing::Test {
 protected:
  TempDir dir;
  crypto::KeyPair genesis = key("genesis");
  crypto::KeyPair alice = key("alice");
  std::unique_ptr<Devnet> node;

  // (Re)opens the devnet in `dir`, closing the one open before.
  core::Status open(std::optional<std::uint32_t> networkId = std::nullopt,
                    std::uint64_t openLedgerFee = kBaseFee) {
    node.reset();
    DevnetOptions o;
    o.dataDir = dir.path.string();
    o.genesisSeed =
        crypto::encodeSeed(crypto::Seed(crypto::KeyType::ed25519, {'g', 'e', 'n', 'e', 's', 'i', 's'}));
    o.ledgerInterval = std::chrono::milliseconds(0);
    o.networkId = networkId;
    o.openLedgerFee = openLedgerFee;
    auto n = Devnet::open(o);
    if (!n.ok()) return n.error();
    node = std::move(*n);
    return {};
  }
  void SetUp() override {
    auto st = open();
    ASSERT_TRUE(st.ok()) << st.error().message;
  }

  rapidjson::Document call(const std::string& text, bool admin = true,
                           const std::shared_ptr<net::WsSession>& session = nullptr) {
    rapidjson::Document d;
    std::string out = handleRequest(*node, text, admin, session);
    d.Parse(out.c_str());
    EXPECT_FALSE(d.HasParseError()) << out;
    return d;
  }
};

}  // namespace sashimono::devnet::test
