#pragma once
// The fixture of the RuntimeHostileUserTest suite (RuntimeHostileUserHandshakeTest.cpp,
// RuntimeHostileUserLimitsTest.cpp): the instance runtime's user port against hostile users, over
// real WebSocket connections on loopback: an in-process runtime::Instance running the echo sample
// contract, a well-behaved user (runtime::UserClient, BSON) connected for the whole test, and
// attackers speaking raw frames (net::WsClient, or a bare Beast client where the local address,
// the socket buffer or never reading matters). Every attack is answered as Hot Pocket answers it
// (fact sheet 2.7, 2.9) or ends in a disconnect, and afterwards the well-behaved user still gets
// its input accepted and its verified output.
//
// Limits are set per test in the instance config (small where a test has to cross them). The
// one thing that cannot be shortened is the 5 s pre-auth timeout (a constant of UserServer):
// one test waits for it.
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/Codec.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/UserClient.h"
#include "sashimono/runtime/UserMessages.h"

#ifndef SASHIMONO_ECHO_BUNDLE_DIR
#error "SASHIMONO_ECHO_BUNDLE_DIR (the echo sample's bundle directory) is set by tests/CMakeLists.txt"
#endif

namespace sashimono::runtime::testing {

using namespace std::chrono_literals;

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

inline constexpr auto kWait = 5000ms;
inline const std::string kRefusedNotOwner = "sashimono: refused: only the lease owner may deploy a contract";

inline std::string str(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  return f != nullptr && f->isString() ? f->asString() : std::string();
}

// A binary field as either protocol carries it (JSON hex, BSON binary); nullopt when absent/bad.
inline std::optional<core::Bytes> bytesOf(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  if (f == nullptr) return std::nullopt;
  if (f->isBinary()) return f->asBinary();
  if (f->isString())
    if (auto b = core::fromHex(f->asString()); b.ok()) return *b;
  return std::nullopt;
}

inline core::Bytes bytes(std::string_view s) { return core::Bytes(s.begin(), s.end()); }

// A signed contract_input, built by hand so that every field is the attacker's choice.
struct SignedInput {
  std::string message;
  Hash hash{};
};
inline SignedInput makeInput(Protocol p, const InstanceKey& signer, std::string_view input,
                             std::uint64_t nonce, std::uint64_t maxLedger) {
  Value c;
  c.set("input", p == Protocol::Json ? Value(input) : Value::binary(core::asBytes(input)));
  c.set("nonce", Value::uint(nonce));
  c.set("max_ledger_seq_no", Value::uint(maxLedger));
  std::string container = render(p, c);
  core::Bytes sig = signer.sign(core::asBytes(container));
  Value m;
  m.set("type", "contract_input");
  m.set("input_container", p == Protocol::Json ? Value(container) : Value::binary(core::asBytes(container)));
  m.set("sig", p == Protocol::Json ? Value(core::toHexLower(sig)) : Value::binary(sig));
  return {render(p, m), crypto::blake3(sig)};
}

inline std::string handshakeText(const std::string& sigHex, const std::string& pubkey,
                                 const std::string& protocol) {
  Value r;
  r.set("type", "user_challenge_response");
  r.set("sig", sigHex);
  r.set("pubkey", pubkey);
  r.set("server_challenge", "00112233445566778899aabbccddeeff");
  r.set("protocol", protocol);
  return renderJson(r);
}

// An attacker over net::WsClient: sends whatever bytes it likes as binary frames.
class Raw {
 public:
  static std::unique_ptr<Raw> open(const std::string& url) {
    net::ClientOptions o;
    o.verifyPeer = false;
    o.binaryFrames = true;
    o.connectTimeout = kWait;
    auto ws = net::WsClient::connect(url, o);
    EXPECT_TRUE(ws.ok()) << ws.error().message;
    if (!ws.ok()) return nullptr;
    std::unique_ptr<Raw> r(new Raw());
    r->ws_ = std::move(*ws);
    auto first = r->ws_->receive(kWait);
    EXPECT_TRUE(first.ok()) << first.error().message;
    if (!first.ok()) return nullptr;
    auto v = parseJson(*first);
    EXPECT_TRUE(v.ok() && str(*v, "type") == "user_challenge") << *first;
    if (!v.ok()) return nullptr;
    r->challenge_ = str(*v, "challenge");
    return r;
  }

  const std::string& challenge() const { return challenge_; }
  const InstanceKey& key() const { return key_; }
  net::WsClient& ws() { return *ws_; }
  void send(const std::string& bytes) { EXPECT_TRUE(ws_->send(bytes).ok()); }
  void sendMsg(const Value& v) { send(render(protocol_, v)); }

  // Completes the handshake as a well-behaved client would; true when the server answered.
  bool authenticate(Protocol p) {
    protocol_ = p;
    send(handshakeText(core::toHexLower(key_.sign(core::asBytes(challenge_))), key_.publicHex(),
                       protocolName(p)));
    auto answer = ws_->receive(kWait);
    if (!answer.ok()) return false;
    auto v = parseJson(*answer);
    return v.ok() && str(*v, "type") == "server_challenge_response";
  }

  // The next message matching `pred` (others are kept for later), or an error ("closed", "timeout").
  core::Result<Value> waitFor(const std::function<bool(const Value&)>& pred,
                              std::chrono::milliseconds t = kWait) {
    for (auto it = stash_.begin(); it != stash_.end(); ++it) {
      if (pred(*it)) {
        Value v = std::move(*it);
        stash_.erase(it);
        return v;
      }
    }
    auto end = Clock::now() + t;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      auto m = ws_->receive(std::max(left, 1ms));
      if (!m.ok()) return m.error();
      auto v = parse(protocol_, *m, ParseLimits{64, m->size() + 1});
      if (!v.ok()) return v.error().context("a message from the server");
      if (pred(*v)) return v;
      stash_.push_back(std::move(*v));
    }
  }
  core::Result<Value> waitType(const std::string& type) {
    return waitFor([&](const Value& v) { return str(v, "type") == type; });
  }
  // The next contract_input_status for this input hash (an empty hash: the ones for messages
  // the server could not attribute to an input).
  core::Result<Value> status(core::ByteView inputHash) {
    core::Bytes want(inputHash.begin(), inputHash.end());
    return waitFor([&](const Value& v) {
      return str(v, "type") == "contract_input_status" && bytesOf(v, "input_hash") == want;
    });
  }
  std::uint64_t lcl() {
    Value m;
    m.set("type", "lcl");
    sendMsg(m);
    auto r = waitType("lcl_response");
    EXPECT_TRUE(r.ok()) << r.error().message;
    const Value* s = r.ok() ? r->find("ledger_seq_no") : nullptr;
    return s != nullptr && s->isInt() ? static_cast<std::uint64_t>(s->asInt()) : 0;
  }

  // Reads until the server closes. Fails when it answers the handshake or stays open.
  ::testing::AssertionResult droppedWithoutAnswer(std::chrono::milliseconds t = kWait) {
    auto end = Clock::now() + t;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      auto m = ws_->receive(std::max(left, 1ms));
      if (!m.ok()) {
        if (m.error().code == "closed") return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "still connected after " << t.count() << " ms";
      }
      if (m->find("server_challenge_response") != std::string::npos)
        return ::testing::AssertionFailure() << "the server answered the handshake: " << *m;
    }
  }
  // Reads (and discards) until the server closes; fails when it stays open.
  ::testing::AssertionResult closed(std::chrono::milliseconds t = kWait) {
    auto end = Clock::now() + t;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
      auto m = ws_->receive(std::max(left, 1ms));
      if (!m.ok())
        return m.error().code == "closed" ? ::testing::AssertionSuccess()
                                          : ::testing::AssertionFailure() << "still connected";
    }
  }

 private:
  Raw() = default;
  std::unique_ptr<net::WsClient> ws_;
  std::string challenge_;
  Protocol protocol_ = Protocol::Json;
  InstanceKey key_ = InstanceKey::generate();
  std::deque<Value> stash_;
};

// A bare, synchronous Beast client from a chosen local address; optionally with a tiny receive
// buffer. For the connection flood (the local address) and the slow reader (never reads).
class BeastUser {
 public:
  // False when the server refused the connection (closed it before or during the upgrade).
  bool connect(const std::string& from, std::uint16_t port, int receiveBuffer = 0) {
    tcp::socket s(ioc_);
    beast::error_code ec;
    s.open(tcp::v4(), ec);
    if (receiveBuffer > 0)
      ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    timeval tv{5, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    s.bind(tcp::endpoint(asio::ip::make_address(from), 0), ec);
    if (ec) return false;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (ec) return false;
    ws_.emplace(std::move(s));
    ws_->binary(true);
    ws_->read_message_max(64u << 20);
    ws_->handshake("127.0.0.1:" + std::to_string(port), "/", ec);
    if (ec) return false;
    auto first = read();
    if (!first) return false;
    auto v = parseJson(*first);
    if (!v.ok() || str(*v, "type") != "user_challenge") return false;
    challenge_ = str(*v, "challenge");
    return true;
  }
  bool authenticate(Protocol p = Protocol::Json) {
    if (!write(handshakeText(core::toHexLower(key_.sign(core::asBytes(challenge_))), key_.publicHex(),
                             protocolName(p))))
      return false;
    auto answer = read();
    return answer && answer->find("server_challenge_response") != std::string::npos;
  }
  bool write(const std::string& bytes) {
    beast::error_code ec;
    ws_->write(asio::buffer(bytes), ec);
    return !ec;
  }
  std::optional<std::string> read() {
    beast::flat_buffer b;
    beast::error_code ec;
    ws_->read(b, ec);
    if (ec) return std::nullopt;
    return beast::buffers_to_string(b.data());
  }
  const InstanceKey& key() const { return key_; }

 private:
  asio::io_context ioc_;
  std::optional<websocket::stream<tcp::socket>> ws_;
  std::string challenge_;
  InstanceKey key_ = InstanceKey::generate();
};

class RuntimeHostileUserTest : public ::testing::Test {
 protected:
  void TearDown() override {
    good_.reset();
    if (instance_) instance_->stop();
    instance_.reset();
    std::error_code ec;
    if (!root_.empty()) fs::remove_all(root_, ec);
  }

  // Starts an instance with the echo contract installed; `tweak` adjusts the config first. The
  // well-behaved user connects and gets one input through (the echo contract is then deployed).
  void start(const std::function<void(InstanceConfig&)>& tweak = {}) {
    std::string t = (fs::temp_directory_path() / "sashi-hostile-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    root_ = t;
    InstanceConfig c;
    c.contractId = "hostile-user-test";
    c.owner = owner_.publicKey();
    c.user.listen = "127.0.0.1";
    c.user.port = 0;
    c.user.tls = "off";
    if (tweak) tweak(c);
    tls_ = c.user.tls != "off";
    auto inst =
        Instance::create(c, InstanceKey::generate(), (root_ / "data").string(), (root_ / "fs").string());
    ASSERT_TRUE(inst.ok()) << inst.error().message;
    instance_ = std::move(*inst);
    auto bundle = packDirectory(SASHIMONO_ECHO_BUNDLE_DIR);
    ASSERT_TRUE(bundle.ok()) << bundle.error().message;
    instance_->requestInstall(std::move(*bundle));
    auto port = instance_->start();
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
    good_ = connectUser(goodKey_);
    ASSERT_NE(good_, nullptr);
    ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("warm-up"));
  }

  std::string url() const {
    return (tls_ ? "wss" : "ws") + std::string("://127.0.0.1:") + std::to_string(port_) + "/";
  }

  std::unique_ptr<UserClient> connectUser(const InstanceKey& k, Protocol p = Protocol::Bson) {
    UserClientOptions o;
    o.protocol = p;
    o.timeout = kWait;
    auto c = UserClient::connect(url(), k, o);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }

  // The user connected since the start: its input is accepted and echoed with a valid proof.
  void expectGoodUserWorks(const std::string& tag) {
    auto r = good_->submit(core::asBytes(tag));
    ASSERT_TRUE(r.ok()) << tag << ": " << r.error().message;
    EXPECT_EQ(r->status, "accepted") << tag << ": " << r->reason;
    EXPECT_TRUE(r->verified) << tag;
    ASSERT_EQ(r->outputs.size(), 1u) << tag;
    EXPECT_EQ(core::asString(r->outputs[0]), "Echo: " + tag);
  }

  std::unique_ptr<Raw> authedAttacker(Protocol p = Protocol::Json) {
    auto a = Raw::open(url());
    if (!a) return nullptr;
    EXPECT_TRUE(a->authenticate(p));
    return a;
  }

  // The version the instance reports in its challenge.
  std::string contractVersion() {
    auto c = connectUser(InstanceKey::generate());
    return c ? c->contractVersion() : "?";
  }

  fs::path root_;
  bool tls_ = false;
  std::uint16_t port_ = 0;
  InstanceKey owner_ = InstanceKey::generate();
  InstanceKey goodKey_ = InstanceKey::generate();
  std::unique_ptr<Instance> instance_;
  std::unique_ptr<UserClient> good_;
};

inline Value stat() {
  Value m;
  m.set("type", "stat");
  return m;
}

// A ledger_query for one ledger with its inputs and outputs.
inline Value ledgerQuery(const std::string& id, std::uint64_t seqNo) {
  Value q;
  q.set("type", "ledger_query");
  q.set("id", id);
  q.set("filter_by", "seq_no");
  Value params;
  params.set("seq_no", Value::uint(seqNo));
  q.set("params", std::move(params));
  q.set("include", Value(Array{Value("inputs"), Value("outputs")}));
  return q;
}

}  // namespace sashimono::runtime::testing
