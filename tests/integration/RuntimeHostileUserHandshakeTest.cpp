// RuntimeHostileUserTest (the fixture: HostileUserFixture.h), part 1: the handshake, malformed
// messages after it, and the input rules (fact sheet 2.7).
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "HostileUserFixture.h"

using namespace sashimono;
using namespace sashimono::runtime;
using namespace sashimono::runtime::testing;
using namespace std::chrono_literals;

namespace {

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

}  // namespace
