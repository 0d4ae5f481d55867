// The instance runtime's user port against hostile users, over real WebSocket connections on
// loopback: an in-process runtime::Instance running the echo sample contract, a well-behaved
// user (runtime::UserClient, BSON) connected for the whole test, and attackers speaking raw
// frames (net::WsClient, or a bare Beast client where the local address, the socket buffer or
// never reading matters). Every attack is answered as Hot Pocket answers it (fact sheet 2.7,
// 2.9) or ends in a disconnect, and afterwards the well-behaved user still gets its input
// accepted and its verified output.
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

using namespace sashimono;
using namespace sashimono::runtime;
using namespace std::chrono_literals;

namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 5000ms;
const std::string kRefusedNotOwner = "sashimono: refused: only the lease owner may deploy a contract";

std::string str(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  return f != nullptr && f->isString() ? f->asString() : std::string();
}

// A binary field as either protocol carries it (JSON hex, BSON binary); nullopt when absent/bad.
std::optional<core::Bytes> bytesOf(const Value& v, std::string_view key) {
  const Value* f = v.find(key);
  if (f == nullptr) return std::nullopt;
  if (f->isBinary()) return f->asBinary();
  if (f->isString())
    if (auto b = core::fromHex(f->asString()); b.ok()) return *b;
  return std::nullopt;
}

core::Bytes bytes(std::string_view s) { return core::Bytes(s.begin(), s.end()); }

// A signed contract_input, built by hand so that every field is the attacker's choice.
struct SignedInput {
  std::string message;
  Hash hash{};
};
SignedInput makeInput(Protocol p, const InstanceKey& signer, std::string_view input, std::uint64_t nonce,
                      std::uint64_t maxLedger) {
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

std::string handshakeText(const std::string& sigHex, const std::string& pubkey, const std::string& protocol) {
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

Value stat() {
  Value m;
  m.set("type", "stat");
  return m;
}

// A ledger_query for one ledger with its inputs and outputs.
Value ledgerQuery(const std::string& id, std::uint64_t seqNo) {
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

// ---- the handshake ----

TEST_F(RuntimeHostileUserTest, HandshakeViolationsAreDroppedWithoutAnAnswer) {
  ASSERT_NO_FATAL_FAILURE(start());
  // A correct handshake over the same raw client is answered (the harness itself is sound).
  {
    auto a = Raw::open(url());
    ASSERT_NE(a, nullptr);
    EXPECT_TRUE(a->authenticate(Protocol::Json));
  }
  InstanceKey other = InstanceKey::generate();
  struct Case {
    const char* what;
    std::function<std::string(const Raw&)> message;
  };
  std::vector<Case> cases = {
      {"signature by another key",
       [&](const Raw& r) {
         return handshakeText(core::toHexLower(other.sign(core::asBytes(r.challenge()))), r.key().publicHex(),
                              "json");
       }},
      {"signature over the decoded challenge bytes",
       [&](const Raw& r) {
         return handshakeText(core::toHexLower(r.key().sign(*core::fromHex(r.challenge()))),
                              r.key().publicHex(), "json");
       }},
      {"signature of the right length but zero",
       [&](const Raw& r) { return handshakeText(std::string(128, '0'), r.key().publicHex(), "json"); }},
      {"pubkey without the ed prefix",
       [&](const Raw& r) {
         return handshakeText(core::toHexLower(r.key().sign(core::asBytes(r.challenge()))),
                              r.key().publicHex().substr(2), "json");
       }},
      {"pubkey not hex",
       [&](const Raw& r) {
         return handshakeText(core::toHexLower(r.key().sign(core::asBytes(r.challenge()))),
                              "ed" + std::string(64, 'z'), "json");
       }},
      {"unknown protocol",
       [&](const Raw& r) {
         return handshakeText(core::toHexLower(r.key().sign(core::asBytes(r.challenge()))),
                              r.key().publicHex(), "xml");
       }},
      {"server_challenge over 32 characters",
       [&](const Raw& r) {
         Value v = *parseJson(handshakeText(core::toHexLower(r.key().sign(core::asBytes(r.challenge()))),
                                            r.key().publicHex(), "json"));
         v.asObject()[3].second = Value(std::string(33, 'a'));
         return renderJson(v);
       }},
      {"garbage JSON", [](const Raw&) { return std::string(R"({"type":"user_challenge_response","sig":)"); }},
      {"not JSON at all", [](const Raw&) { return std::string("\x00\xff\xfe garbage", 12); }},
      {"a BSON frame",
       [&](const Raw& r) {
         Value v = *parseJson(handshakeText(core::toHexLower(r.key().sign(core::asBytes(r.challenge()))),
                                            r.key().publicHex(), "bson"));
         return renderBson(v);
       }},
      {"a stat before the challenge is answered",
       [](const Raw&) { return std::string(R"({"type":"stat"})"); }},
      {"a contract input before the challenge is answered",
       [](const Raw& r) { return makeInput(Protocol::Json, r.key(), "sneaky", 1, 5).message; }},
  };
  for (const auto& c : cases) {
    auto a = Raw::open(url());
    ASSERT_NE(a, nullptr) << c.what;
    a->send(c.message(*a));
    EXPECT_TRUE(a->droppedWithoutAnswer()) << c.what;
  }
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after bad handshakes"));
}

TEST_F(RuntimeHostileUserTest, SilentConnectionsAreDroppedAfterFiveSeconds) {
  ASSERT_NO_FATAL_FAILURE(start());
  // One WebSocket that never answers the challenge, one TCP connection that never upgrades.
  auto silent = Raw::open(url());
  ASSERT_NE(silent, nullptr);
  const auto opened = Clock::now();
  std::optional<std::chrono::milliseconds> tcpClosedAfter;
  std::thread tcpThread([&] {
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    timeval tv{9, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const auto t0 = Clock::now();
    char b[64];
    ssize_t n = ::recv(s.native_handle(), b, sizeof b, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET))
      tcpClosedAfter = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
  });
  // The well-behaved user is served while they wait.
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("while others idle"));
  EXPECT_TRUE(silent->droppedWithoutAnswer(9000ms));
  auto after = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - opened);
  EXPECT_GE(after, 4500ms);
  EXPECT_LE(after, 7500ms);
  tcpThread.join();
  ASSERT_TRUE(tcpClosedAfter.has_value()) << "the TCP connection was not closed within 9 s";
  EXPECT_GE(*tcpClosedAfter, 4500ms);
  EXPECT_LE(*tcpClosedAfter, 7500ms);
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after idlers"));
}

TEST_F(RuntimeHostileUserTest, WssHandshakeViolationsAreDroppedAndPlainWsIsRefused) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.tls = "self-signed"; }));
  ASSERT_EQ(url().rfind("wss://", 0), 0u);
  {
    auto a = Raw::open(url());
    ASSERT_NE(a, nullptr);
    InstanceKey other = InstanceKey::generate();
    a->send(handshakeText(core::toHexLower(other.sign(core::asBytes(a->challenge()))), a->key().publicHex(),
                          "json"));
    EXPECT_TRUE(a->droppedWithoutAnswer());
  }
  {
    auto a = Raw::open(url());
    ASSERT_NE(a, nullptr);
    a->send(R"({"type":"stat"})");
    EXPECT_TRUE(a->droppedWithoutAnswer());
  }
  {
    // ws:// to the wss:// port: no WebSocket comes up.
    net::ClientOptions o;
    o.connectTimeout = 2000ms;
    auto plain = net::WsClient::connect("ws://127.0.0.1:" + std::to_string(port_) + "/", o);
    EXPECT_FALSE(plain.ok());
  }
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("over wss"));
}

// ---- after the handshake: bad messages ----

TEST_F(RuntimeHostileUserTest, MalformedJsonMessagesAreRejected) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = authedAttacker();
  ASSERT_NE(a, nullptr);
  struct Case {
    std::string message;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"{not json", "bad_msg_format"},
      {R"({"type":"stat")", "bad_msg_format"},
      {"[1,2,3]", "bad_msg_format"},
      {R"({"no_type":1})", "bad_msg_format"},
      {std::string("\xff\xfe\x00", 3), "bad_msg_format"},
      {R"({"type":"hack"})", "invalid_msg_type"},
      {R"({"type":"user_challenge_response"})", "invalid_msg_type"},
      {R"({"type":"contract_input","input_container":"{}","sig":"zz"})", "bad_msg_format"},
      {R"({"type":"contract_input","sig":"00"})", "bad_msg_format"},
      {R"({"type":"contract_read_request","content":"no id"})", "bad_msg_format"},
  };
  for (const auto& c : cases) {
    a->send(c.message);
    auto s = a->status({});
    ASSERT_TRUE(s.ok()) << c.message << ": " << s.error().message;
    EXPECT_EQ(str(*s, "status"), "rejected") << c.message;
    EXPECT_EQ(str(*s, "reason"), c.reason) << c.message;
  }
  // A signed container that is not one: rejected with its input hash.
  {
    Value m;
    std::string container = R"({"input":"x","nonce":"1","max_ledger_seq_no":5})";  // nonce as a string
    core::Bytes sig = a->key().sign(core::asBytes(container));
    m.set("type", "contract_input");
    m.set("input_container", container);
    m.set("sig", core::toHexLower(sig));
    a->sendMsg(m);
    auto h = crypto::blake3(sig);
    auto s = a->status(h);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(str(*s, "reason"), "bad_msg_format");
  }
  // The session is still served (ten bad messages are within the default 30 a minute).
  a->sendMsg(stat());
  EXPECT_TRUE(a->waitType("stat_response").ok());
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after malformed JSON"));
}

TEST_F(RuntimeHostileUserTest, MalformedBsonMessagesAreRejected) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = authedAttacker(Protocol::Bson);
  ASSERT_NE(a, nullptr);
  Value unknown;
  unknown.set("type", "hack");
  std::string good = renderBson(stat());
  std::string shortLength = good;
  shortLength[0] = static_cast<char>(shortLength[0] - 1);  // length field disagrees with the frame
  std::string truncated = good.substr(0, good.size() - 3);
  std::string badType = good;
  badType[4] = 0x07;  // an ObjectId where a string was
  Value wrongField;
  wrongField.set("type", 42);
  struct Case {
    std::string message;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {R"({"type":"stat"})", "bad_msg_format"},  // JSON in a BSON session
      {std::string("\x05\x00\x00\x00", 4), "bad_msg_format"},
      {shortLength, "bad_msg_format"},
      {truncated, "bad_msg_format"},
      {badType, "bad_msg_format"},
      {renderBson(wrongField), "bad_msg_format"},
      {renderBson(unknown), "invalid_msg_type"},
  };
  for (const auto& c : cases) {
    a->send(c.message);
    auto s = a->status({});
    ASSERT_TRUE(s.ok()) << core::toHexLower(core::asBytes(c.message)) << ": " << s.error().message;
    EXPECT_EQ(str(*s, "status"), "rejected");
    EXPECT_EQ(str(*s, "reason"), c.reason) << core::toHexLower(core::asBytes(c.message));
    const Value* h = s->find("input_hash");
    EXPECT_TRUE(h != nullptr && h->isBinary()) << "BSON sessions get binary fields";
  }
  a->send(good);
  EXPECT_TRUE(a->waitType("stat_response").ok());
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after malformed BSON"));
}

// ---- after the handshake: the input rules (sheet 2.7) ----

TEST_F(RuntimeHostileUserTest, InputRulesAreEnforced) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = authedAttacker();
  ASSERT_NE(a, nullptr);
  const std::uint64_t lcl = a->lcl();
  ASSERT_GE(lcl, 1u);
  auto rejected = [&](const SignedInput& in, const char* reason, const char* what) {
    a->send(in.message);
    auto s = a->status(in.hash);
    ASSERT_TRUE(s.ok()) << what << ": " << s.error().message;
    EXPECT_EQ(str(*s, "status"), "rejected") << what;
    EXPECT_EQ(str(*s, "reason"), reason) << what;
  };
  auto accepted = [&](const SignedInput& in, const std::string& input, const char* what) {
    a->send(in.message);
    auto s = a->status(in.hash);
    ASSERT_TRUE(s.ok()) << what << ": " << s.error().message;
    EXPECT_EQ(str(*s, "status"), "accepted") << what << ": " << str(*s, "reason");
    auto out = a->waitType("contract_output");
    ASSERT_TRUE(out.ok()) << what;
    const Value* o = out->find("outputs");
    ASSERT_TRUE(o != nullptr && o->isArray() && o->asArray().size() == 1) << what;
    EXPECT_EQ(o->asArray()[0].asString(), "Echo: " + input) << what;
  };
  // A container signed by someone else than the session's user.
  {
    InstanceKey other = InstanceKey::generate();
    rejected(makeInput(Protocol::Json, other, "forged", 1, lcl + 5), "bad_sig", "foreign signature");
    // A signature that is valid for another user's input does not make it this user's.
    rejected(makeInput(Protocol::Json, goodKey_, "replayed from the good user", 1, lcl + 5), "bad_sig",
             "another user's signed input");
    // The signature over a different text than the container.
    SignedInput in = makeInput(Protocol::Json, a->key(), "tampered", 1, lcl + 5);
    auto pos = in.message.find("tampered");
    in.message.replace(pos, 8, "TAMPERED");
    rejected(in, "bad_sig", "tampered container");
  }
  rejected(makeInput(Protocol::Json, a->key(), "late", 1, lcl), "max_ledger_expired", "max ledger = lcl");
  rejected(makeInput(Protocol::Json, a->key(), "late", 1, 0), "max_ledger_expired", "max ledger 0");
  rejected(makeInput(Protocol::Json, a->key(), "far", 1, lcl + 11), "max_ledger_offset_exceeded",
           "max ledger beyond lcl + 10");
  rejected(makeInput(Protocol::Json, a->key(), "far", 1, std::uint64_t{1} << 62),
           "max_ledger_offset_exceeded", "max ledger huge");
  // Accepted once; the same input again is a replay.
  const std::uint64_t n = 1000;
  SignedInput first = makeInput(Protocol::Json, a->key(), "first", n, a->lcl() + 10);
  ASSERT_NO_FATAL_FAILURE(accepted(first, "first", "nonce n"));
  a->send(first.message);
  {
    auto s = a->status(first.hash);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(str(*s, "status"), "rejected");
    EXPECT_TRUE(str(*s, "reason") == "already_submitted" || str(*s, "reason") == "nonce_expired")
        << str(*s, "reason");
  }
  // Not above the last accepted nonce.
  rejected(makeInput(Protocol::Json, a->key(), "same nonce", n, a->lcl() + 10), "nonce_expired",
           "nonce n again");
  rejected(makeInput(Protocol::Json, a->key(), "lower nonce", n - 1, a->lcl() + 10), "nonce_expired",
           "nonce n-1");
  // A replay sent right behind the original: one is accepted, the other rejected as a replay
  // (already_submitted while the first is pending, or at the round that finds it in the ledger).
  {
    SignedInput twice = makeInput(Protocol::Json, a->key(), "twice", n + 1, a->lcl() + 10);
    a->send(twice.message);
    a->send(twice.message);
    std::vector<std::string> seen;
    for (int i = 0; i < 2; ++i) {
      auto s = a->status(twice.hash);
      ASSERT_TRUE(s.ok()) << s.error().message;
      seen.push_back(str(*s, "status") == "accepted" ? "accepted" : str(*s, "reason"));
    }
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen[0], "accepted");
    EXPECT_TRUE(seen[1] == "already_submitted" || seen[1] == "nonce_expired") << seen[1];
    auto out = a->waitType("contract_output");
    ASSERT_TRUE(out.ok());
    EXPECT_EQ(out->find("outputs")->asArray().size(), 1u) << "the replay never reached the contract";
  }
  // The attacker itself is not locked out by its failures.
  ASSERT_NO_FATAL_FAILURE(
      accepted(makeInput(Protocol::Json, a->key(), "next", n + 2, a->lcl() + 10), "next", "nonce n+2"));
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after input rule violations"));
}

TEST_F(RuntimeHostileUserTest, RoundInputOverflowIsRejected) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.roundLimits.userInputBytes = 64; }));
  auto a = authedAttacker(Protocol::Bson);
  ASSERT_NE(a, nullptr);
  const std::uint64_t lcl = a->lcl();
  SignedInput big = makeInput(Protocol::Bson, a->key(), std::string(65, 'x'), 1, lcl + 5);
  a->send(big.message);
  auto s = a->status(big.hash);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(str(*s, "status"), "rejected");
  EXPECT_EQ(str(*s, "reason"), "round_inputs_overflow");
  // Exactly at the limit is fine.
  SignedInput fits = makeInput(Protocol::Bson, a->key(), std::string(64, 'y'), 2, lcl + 5);
  a->send(fits.message);
  s = a->status(fits.hash);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(str(*s, "status"), "accepted") << str(*s, "reason");
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after an overflow"));
}

// ---- per-session limits ----

TEST_F(RuntimeHostileUserTest, TooManyBadMessagesDisconnect) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxBadMsgsPerMin = 5; }));
  auto a = authedAttacker();
  ASSERT_NE(a, nullptr);
  const std::uint64_t lcl = a->lcl();
  // Five bad messages of five kinds are within the limit: each answered as usual.
  a->send("{not json");
  a->send(R"({"type":"hack"})");
  SignedInput forged = makeInput(Protocol::Json, InstanceKey::generate(), "forged", 1, lcl + 5);
  a->send(forged.message);
  a->send(R"({"type":"contract_read_request","id":""})");
  a->send(R"({"type":"subscription","channel":"nonsense","enabled":true})");
  EXPECT_EQ(str(a->status({}).valueOr(Value()), "reason"), "bad_msg_format");
  EXPECT_EQ(str(a->status({}).valueOr(Value()), "reason"), "invalid_msg_type");
  EXPECT_EQ(str(a->status(forged.hash).valueOr(Value()), "reason"), "bad_sig");
  EXPECT_EQ(str(a->status({}).valueOr(Value()), "reason"), "bad_msg_format");  // the malformed read
  a->sendMsg(stat());  // not bad; a malformed subscription gets no answer, so sync on this one
  ASSERT_TRUE(a->waitType("stat_response").ok()) << "five bad messages must not disconnect";
  // The sixth within the minute closes the session.
  a->send("{not json either");
  EXPECT_TRUE(a->closed());
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a bad-message flood"));
}

TEST_F(RuntimeHostileUserTest, TooManyBytesPerMinuteDisconnect) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxBytesPerMin = 64 * 1024; }));
  auto a = authedAttacker();
  ASSERT_NE(a, nullptr);
  Value padded = stat();
  padded.set("padding", std::string(20 * 1024, 'p'));
  const std::string msg = renderJson(padded);
  for (int i = 0; i < 3; ++i) {  // 60 KiB and the handshake: within 64 KiB
    a->send(msg);
    ASSERT_TRUE(a->waitType("stat_response").ok()) << "message " << i;
  }
  a->send(msg);  // 80 KiB
  EXPECT_TRUE(a->closed());
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a byte flood"));
}

TEST_F(RuntimeHostileUserTest, OversizedMessageIsClosedWith1009) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxBytesPerMsg = 64 * 1024; }));
  {
    auto a = authedAttacker();
    ASSERT_NE(a, nullptr);
    Value padded = stat();
    padded.set("padding", std::string(60 * 1024, 'p'));
    a->send(renderJson(padded));  // under the limit: served
    ASSERT_TRUE(a->waitType("stat_response").ok());
    a->send(std::string(64 * 1024 + 1, ' '));
    EXPECT_TRUE(a->closed());
    EXPECT_EQ(a->ws().closeCode(), 1009);
  }
  {
    auto a = Raw::open(url());  // also during the handshake
    ASSERT_NE(a, nullptr);
    a->send(std::string(64 * 1024 + 1, '{'));
    EXPECT_TRUE(a->droppedWithoutAnswer());
    EXPECT_EQ(a->ws().closeCode(), 1009);
  }
  {
    // Far over the limit the server stops reading at the frame header; the connection ends, but
    // the client, still writing, usually sees a reset before it can read the 1009 close frame.
    auto a = Raw::open(url());
    ASSERT_NE(a, nullptr);
    a->send(std::string(4 << 20, '{'));
    EXPECT_TRUE(a->droppedWithoutAnswer());
  }
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after oversized messages"));
}

TEST_F(RuntimeHostileUserTest, ConnectionFloodFromOneAddressIsCapped) {
  ASSERT_NO_FATAL_FAILURE(start([](InstanceConfig& c) { c.user.maxConnectionsPerHost = 3; }));
  // From 127.0.0.2 (the well-behaved user is on 127.0.0.1): three get in, the rest are closed.
  std::vector<std::unique_ptr<BeastUser>> in;
  for (int i = 0; i < 3; ++i) {
    auto u = std::make_unique<BeastUser>();
    ASSERT_TRUE(u->connect("127.0.0.2", port_)) << "connection " << i;
    in.push_back(std::move(u));
  }
  for (int i = 0; i < 5; ++i) {
    BeastUser extra;
    EXPECT_FALSE(extra.connect("127.0.0.2", port_)) << "extra connection " << i;
  }
  // The three work.
  for (auto& u : in) {
    ASSERT_TRUE(u->authenticate());
    ASSERT_TRUE(u->write(R"({"type":"stat"})"));
    auto r = u->read();
    ASSERT_TRUE(r.has_value());
    EXPECT_NE(r->find("stat_response"), std::string::npos);
  }
  // Other addresses are not affected: the connected user, and a new one from 127.0.0.1.
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("during a connection flood"));
  auto fresh = connectUser(InstanceKey::generate());
  ASSERT_NE(fresh, nullptr);
  auto r = fresh->submit(core::asBytes("fresh"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "accepted");
  // A slot freed on 127.0.0.2 can be taken again.
  in.pop_back();
  bool again = false;
  for (int i = 0; i < 50 && !again; ++i) {
    BeastUser u;
    again = u.connect("127.0.0.2", port_);
    if (!again) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(again);
}

TEST_F(RuntimeHostileUserTest, SlowReaderIsDroppedAndOthersKeepWorking) {
  // A user that asks and stops reading. Its input of 6 MiB is echoed (a 6 MiB contract output)
  // and kept in the ledger; then it asks for that ledger with inputs and outputs, 12 MiB an
  // answer, four times. The socket buffers (a few MiB; its receive buffer is made tiny) and the
  // server's per-session queue (32 MiB, WsServer's default) cannot hold it all: the server drops
  // the connection instead of buffering without bound.
  ASSERT_NO_FATAL_FAILURE(start());
  BeastUser slow;
  ASSERT_TRUE(slow.connect("127.0.0.1", port_, 4096));
  ASSERT_TRUE(slow.authenticate(Protocol::Bson));
  auto lcl = good_->lcl();
  ASSERT_TRUE(lcl.ok());
  SignedInput big = makeInput(Protocol::Bson, slow.key(), std::string(6u << 20, 'b'), 1, lcl->first + 5);
  ASSERT_TRUE(slow.write(big.message));
  std::uint64_t ledger = 0;
  while (ledger == 0) {  // reads up to its input's status, then never again
    auto m = slow.read();
    ASSERT_TRUE(m.has_value()) << "no status for the big input";
    auto v = parseBson(core::asBytes(*m));
    ASSERT_TRUE(v.ok());
    if (str(*v, "type") != "contract_input_status") continue;
    ASSERT_EQ(str(*v, "status"), "accepted") << str(*v, "reason");
    ledger = static_cast<std::uint64_t>(v->find("ledger_seq_no")->asInt());
  }
  constexpr int kQueries = 4;
  for (int i = 0; i < kQueries; ++i) {
    if (!slow.write(renderBson(ledgerQuery("q" + std::to_string(i), ledger)))) break;  // already dropped
  }
  // While its answers are stuck, the others are served, reads included.
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("beside a slow reader"));
  auto echoed = good_->read(core::asBytes("read beside a slow reader"));
  ASSERT_TRUE(echoed.ok()) << echoed.error().message;
  EXPECT_EQ(core::asString(*echoed), "Echo: read beside a slow reader");
  // Dropped: its socket is closed, so a write soon fails (the closed socket answers with a
  // reset). Subscriptions have no answer, so probing adds nothing to read.
  const std::string probe =
      renderBson(*parseJson(R"({"type":"subscription","channel":"unl_change","enabled":true})"));
  bool dropped = false;
  for (auto end = Clock::now() + 10s; Clock::now() < end && !dropped;) {
    dropped = !slow.write(probe);
    if (!dropped) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(dropped) << "the slow reader is still connected after 10 s";
  // What was in flight can still be read, but not every answer, and then the connection ends.
  int answers = 0;
  while (auto m = slow.read())
    if (auto v = parseBson(core::asBytes(*m)); v.ok() && str(*v, "type") == "ledger_query_result") ++answers;
  EXPECT_LT(answers, kQueries);
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after the slow reader"));
}

// ---- bundles ----

TEST_F(RuntimeHostileUserTest, NonOwnerCannotDeploy) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string versionBefore = contractVersion();
  // A valid bundle that would replace echo with a contract that answers nothing.
  auto evil = makeBundle(
      {BundleFile{"contract.json", false, false, bytes(R"({"version":"6.6.6","bin_path":"/bin/true"})")}});
  ASSERT_TRUE(evil.ok()) << evil.error().message;
  auto archive = writeBundle(*evil);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  core::Bytes upload = bytes(kBundleInputPrefix);
  upload.insert(upload.end(), archive->begin(), archive->end());
  auto mallory = connectUser(InstanceKey::generate());
  ASSERT_NE(mallory, nullptr);
  auto r = mallory->submit(upload);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->status, "accepted");
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(core::asString(r->outputs[0]), kRefusedNotOwner);
  EXPECT_TRUE(r->verified);
  // Unchanged: the same version, the same installed files, echo still answering.
  EXPECT_EQ(contractVersion(), versionBefore);
  auto record = readInstallRecord((root_ / "fs" / "state").string());
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->contract.binPath, "echo");
  EXPECT_NE((*record)->contract.version, "6.6.6");
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a non-owner upload"));
}

TEST_F(RuntimeHostileUserTest, MalformedBundleFromTheOwnerIsRefusedAndTheOldContractRuns) {
  ASSERT_NO_FATAL_FAILURE(start());
  const std::string versionBefore = contractVersion();
  auto owner = connectUser(owner_);
  ASSERT_NE(owner, nullptr);
  auto upload = [&](core::ByteView archive) {
    core::Bytes in = bytes(kBundleInputPrefix);
    in.insert(in.end(), archive.begin(), archive.end());
    return owner->submit(in);
  };
  // `why`: a piece of the refusal's reason.
  auto refused = [&](core::ByteView archive, const char* what, const char* why) {
    auto r = upload(archive);
    ASSERT_TRUE(r.ok()) << what << ": " << r.error().message;
    EXPECT_EQ(r->status, "accepted") << what;
    ASSERT_EQ(r->outputs.size(), 1u) << what;
    const std::string out = core::asString(r->outputs[0]);
    EXPECT_EQ(out.rfind("sashimono: refused: ", 0), 0u) << what << ": " << out;
    EXPECT_NE(out.find(why), std::string::npos) << what << ": " << out;
  };
  // Not an archive; a truncated one; a valid archive whose manifest is wrong.
  ASSERT_NO_FATAL_FAILURE(refused(bytes("this is not a tar archive"), "garbage", "bundle: "));
  auto real = packDirectory(SASHIMONO_ECHO_BUNDLE_DIR);
  ASSERT_TRUE(real.ok());
  auto realArchive = writeBundle(*real);
  ASSERT_TRUE(realArchive.ok());
  ASSERT_NO_FATAL_FAILURE(refused(core::ByteView(*realArchive).subspan(0, realArchive->size() / 2),
                                  "truncated archive", "bundle: "));
  {
    auto noManifest = makeBundle({BundleFile{"contract.json", false, false, bytes(R"({"version":"2.0"})")}});
    EXPECT_FALSE(noManifest.ok());  // makeBundle refuses it; so it is written by hand below
    // A ustar archive of one file "contract.json" missing its bin_path.
    std::string body = R"({"version":"2.0"})";
    std::string h(512, '\0');
    auto put = [&](std::size_t off, const std::string& s) { h.replace(off, s.size(), s); };
    put(0, "contract.json");
    put(100, "0000644");
    put(108, "0000000");
    put(116, "0000000");
    char size[13];
    std::snprintf(size, sizeof size, "%011o", static_cast<unsigned>(body.size()));
    put(124, size);
    put(136, "00000000000");
    put(148, "        ");
    h[156] = '0';
    put(257, std::string("ustar\0", 6));
    put(263, "00");
    unsigned sum = 0;
    for (unsigned char ch : h) sum += ch;
    char chk[8];
    std::snprintf(chk, sizeof chk, "%06o", sum);
    put(148, std::string(chk, 6) + std::string("\0 ", 2));
    std::string tar = h + body + std::string(512 - body.size(), '\0') + std::string(1024, '\0');
    ASSERT_NO_FATAL_FAILURE(refused(core::asBytes(tar), "manifest without bin_path", "bin_path"));
  }
  EXPECT_EQ(contractVersion(), versionBefore);
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after malformed bundles"));
  // The owner's valid bundle is still installed (the refusals were not for want of permission).
  for (auto& f : real->files)
    if (f.path == "contract.json")
      f.data = bytes(R"({"version":"1.1","bin_path":"echo","bin_args":"","environment":{}})");
  real->contract.version = "1.1";
  auto next = writeBundle(*real);
  ASSERT_TRUE(next.ok()) << next.error().message;
  auto r = upload(*next);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->outputs.size(), 1u);
  EXPECT_EQ(core::asString(r->outputs[0]), "sashimono: deployed version 1.1");
  EXPECT_EQ(contractVersion(), "1.1");
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("after a valid deploy"));
}

// ---- many requests in flight ----

// One user with many inputs in flight (send all, then await each): every input is accepted, and
// each gets its ledger's outputs with a checked proof, its own echo among them, also when
// several inputs landed in the same ledger.
TEST_F(RuntimeHostileUserTest, PipelinedInputsOfOneUserEachGetTheirLedgersOutputs) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto lcl = good_->lcl();
  ASSERT_TRUE(lcl.ok()) << lcl.error().message;
  constexpr int kInputs = 24;
  std::vector<std::pair<std::string, Hash>> sent;
  for (int i = 0; i < kInputs; ++i) {
    std::string text = "pipelined " + std::to_string(i);
    auto h = good_->send(core::asBytes(text), good_->nextNonce(), lcl->first + 10);
    ASSERT_TRUE(h.ok()) << h.error().message;
    sent.emplace_back(text, *h);
  }
  std::map<std::uint64_t, std::vector<core::Bytes>> byLedger;
  // Awaited in reverse: the order of awaits does not matter.
  for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
    auto r = good_->await(it->second);
    ASSERT_TRUE(r.ok()) << it->first << ": " << r.error().message;
    ASSERT_EQ(r->status, "accepted") << it->first << ": " << r->reason;
    EXPECT_TRUE(r->verified) << it->first;
    const std::string want = "Echo: " + it->first;
    EXPECT_TRUE(std::any_of(r->outputs.begin(), r->outputs.end(),
                            [&](const core::Bytes& b) { return core::asString(b) == want; }))
        << it->first << " is not among the outputs of ledger " << r->ledgerSeqNo;
    auto [pos, fresh] = byLedger.emplace(r->ledgerSeqNo, r->outputs);
    if (!fresh) {
      EXPECT_EQ(pos->second, r->outputs) << "two inputs of ledger " << r->ledgerSeqNo;
    }
  }
  std::size_t outputs = 0;
  for (const auto& [seq, outs] : byLedger) outputs += outs.size();
  EXPECT_EQ(outputs, static_cast<std::size_t>(kInputs)) << "one echo per input, each once";
  EXPECT_LT(byLedger.size(), static_cast<std::size_t>(kInputs))
      << "no ledger held two inputs: nothing was shown";
}

// ledger_query is answered off the I/O threads: a burst of queries gets one answer each (the
// ledger, or "busy" beyond the queue), and other users are served meanwhile.
TEST_F(RuntimeHostileUserTest, LedgerQueryBurstIsAnsweredWithoutStallingOthers) {
  ASSERT_NO_FATAL_FAILURE(start());
  auto a = authedAttacker(Protocol::Bson);
  ASSERT_NE(a, nullptr);
  const std::uint64_t lcl = a->lcl();
  ASSERT_GE(lcl, 1u);
  constexpr int kQueries = 300;
  for (int i = 0; i < kQueries; ++i) {
    a->sendMsg(ledgerQuery("q" + std::to_string(i), 1 + static_cast<std::uint64_t>(i) % lcl));
  }
  ASSERT_NO_FATAL_FAILURE(expectGoodUserWorks("during a ledger_query burst"));
  std::set<std::string> answered;
  int found = 0;
  for (int i = 0; i < kQueries; ++i) {
    auto r = a->waitType("ledger_query_result");
    ASSERT_TRUE(r.ok()) << "answer " << i << ": " << r.error().message;
    answered.insert(str(*r, "reply_for"));
    const Value* results = r->find("results");
    ASSERT_TRUE(results != nullptr && results->isArray());
    const Value* err = r->find("error");
    if (err != nullptr && err->isString()) {
      EXPECT_EQ(err->asString(), "busy");
      continue;
    }
    ASSERT_EQ(results->asArray().size(), 1u);
    const Value* seq = results->asArray()[0].find("seq_no");
    ASSERT_TRUE(seq != nullptr && seq->isInt());
    EXPECT_GE(seq->asInt(), 1);
    ++found;
  }
  EXPECT_EQ(answered.size(), static_cast<std::size_t>(kQueries)) << "one answer per query id";
  EXPECT_GT(found, 0);
}

}  // namespace
