#include "sashimono/runtime/UserMessages.h"

#include <gtest/gtest.h>

#include "sashimono/runtime/Config.h"
#include "sashimono/runtime/InstanceKey.h"

namespace sashimono::runtime {
namespace {

TEST(UserMessagesTest, ChallengeResponseParses) {
  auto k = InstanceKey::generate();
  std::string json = R"({"type":"user_challenge_response","sig":")" + std::string(128, 'a') +
                     R"(","pubkey":")" + k.publicHex() + R"(","server_challenge":"abcd","protocol":"bson"})";
  auto r = parseChallengeResponse(json);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->pubkey, k.publicKey());
  EXPECT_EQ(r->protocol, Protocol::Bson);
  EXPECT_EQ(r->serverChallenge, "abcd");
}

TEST(UserMessagesTest, ChallengeResponseRejects) {
  auto k = InstanceKey::generate();
  auto with = [&](const std::string& sig, const std::string& pk, const std::string& proto,
                  const std::string& extra) {
    return R"({"type":"user_challenge_response","sig":")" + sig + R"(","pubkey":")" + pk +
           R"(","protocol":")" + proto + "\"" + extra + "}";
  };
  const std::string sig(128, 'a');
  EXPECT_TRUE(parseChallengeResponse(with(sig, k.publicHex(), "json", "")).ok());
  EXPECT_FALSE(parseChallengeResponse(with(sig.substr(2), k.publicHex(), "json", "")).ok());
  EXPECT_FALSE(parseChallengeResponse(with(sig, "ab" + k.publicHex().substr(2), "json", "")).ok());
  EXPECT_FALSE(parseChallengeResponse(with(sig, k.publicHex(), "xml", "")).ok());
  EXPECT_FALSE(parseChallengeResponse(with(sig, k.publicHex(), "json", R"(,"server_challenge":"")")).ok());
  EXPECT_FALSE(parseChallengeResponse(
                   with(sig, k.publicHex(), "json", R"(,"server_challenge":")" + std::string(33, 'a') + "\""))
                   .ok());
  EXPECT_FALSE(parseChallengeResponse(R"({"type":"stat"})").ok());
  EXPECT_FALSE(parseChallengeResponse("not json").ok());
  EXPECT_FALSE(parseChallengeResponse(std::string(100000, '[')).ok());
}

TEST(UserMessagesTest, ClientMessagesJsonAndBson) {
  for (auto p : {Protocol::Json, Protocol::Bson}) {
    Object o;
    o.emplace_back("type", Value("contract_input"));
    if (p == Protocol::Json) {
      o.emplace_back("input_container", Value(R"({"input":"x","nonce":1,"max_ledger_seq_no":2})"));
      o.emplace_back("sig", Value(std::string(128, 'b')));
    } else {
      o.emplace_back("input_container", Value::binary(core::Bytes{1, 2, 3}));
      o.emplace_back("sig", Value::binary(core::Bytes(64, 0xbb)));
    }
    auto m = parseClientMessage(p, render(p, Value(std::move(o))));
    ASSERT_TRUE(m.ok()) << m.error().message;
    auto* in = std::get_if<ContractInputMsg>(&*m);
    ASSERT_NE(in, nullptr);
    EXPECT_EQ(in->sig.size(), 64u);

    Object q;
    q.emplace_back("type", Value("ledger_query"));
    q.emplace_back("id", Value("q1"));
    q.emplace_back("filter_by", Value("seq_no"));
    Object params;
    params.emplace_back("seq_no", Value(7));
    q.emplace_back("params", Value(std::move(params)));
    q.emplace_back("include", Value(Array{Value("outputs")}));
    auto lq = parseClientMessage(p, render(p, Value(std::move(q))));
    ASSERT_TRUE(lq.ok()) << lq.error().message;
    auto* l = std::get_if<LedgerQueryMsg>(&*lq);
    ASSERT_NE(l, nullptr);
    EXPECT_EQ(l->seqNo, 7u);
    EXPECT_TRUE(l->outputs);
    EXPECT_FALSE(l->inputs);
  }
}

TEST(UserMessagesTest, BadMessagesGetTheirCodes) {
  auto code = [](const std::string& json) {
    auto m = parseClientMessage(Protocol::Json, json);
    return m.ok() ? std::string("ok") : m.error().code;
  };
  EXPECT_EQ(code("{"), "bad_msg_format");
  EXPECT_EQ(code("[]"), "bad_msg_format");
  EXPECT_EQ(code(R"({"type":"nope"})"), "invalid_msg_type");
  EXPECT_EQ(code(R"({"type":"contract_input","input_container":"{}","sig":"zz"})"), "bad_msg_format");
  EXPECT_EQ(code(R"({"type":"contract_read_request","content":"x"})"), "bad_read");
  EXPECT_EQ(code(R"({"type":"subscription","channel":"x","enabled":true})"), "bad_subscription");
  EXPECT_EQ(code(R"({"type":"ledger_query","id":"a","filter_by":"time","params":{"seq_no":1}})"),
            "bad_query");
  EXPECT_EQ(code(R"({"type":"stat"})"), "ok");
  EXPECT_EQ(code(std::string(200000, '[') + std::string(200000, ']')), "bad_msg_format");
}

TEST(UserMessagesTest, ServerMessagesHaveTheFieldsClientsNeed) {
  StatInfo s;
  s.ledgerSeqNo = 3;
  s.roundTimeMs = 1000;
  s.unl = {InstanceKey::generate().publicKey()};
  auto json = renderJson(statResponseMsg(s));
  EXPECT_NE(json.find("\"round_time\":1000"), std::string::npos);
  EXPECT_NE(json.find("\"ledger_seq_no\":3"), std::string::npos);
  EXPECT_NE(json.find("\"current_unl\":[\"ed"), std::string::npos);
  auto lq = renderJson(ledgerQueryResultMsg("x", std::nullopt, std::nullopt, std::nullopt, std::nullopt));
  EXPECT_NE(lq.find("\"results\":[]"), std::string::npos);
  EXPECT_NE(lq.find("\"error\":null"), std::string::npos);
}

TEST(ConfigTest, InstanceConfigRoundTrip) {
  InstanceConfig c;
  c.contractId = "abc";
  c.owner = InstanceKey::generate().publicKey();
  c.keyFile = "/x/instance.key";
  c.user.port = 9000;
  c.environment = {{"A", "1"}};
  c.roundLimits.execTimeoutMs = 5000;
  c.runAs = std::make_pair(1000u, 1000u);
  auto back = parseInstanceConfig(renderInstanceConfig(c), "test", "/");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->owner, c.owner);
  EXPECT_EQ(back->user.port, 9000);
  EXPECT_EQ(back->environment, c.environment);
  EXPECT_EQ(back->roundLimits, c.roundLimits);
  EXPECT_EQ(back->runAs, c.runAs);
  EXPECT_EQ(back->statefsControl, "");
  c.statefsControl = "/run/statefs/statefs.sock";
  back = parseInstanceConfig(renderInstanceConfig(c), "test", "/");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->statefsControl, c.statefsControl);
  EXPECT_EQ(back->statefsViews, "");
  c.statefsViews = "/run/views";
  back = parseInstanceConfig(renderInstanceConfig(c), "f", "/");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->statefsViews, "/run/views");
  EXPECT_FALSE(parseInstanceConfig(R"({"contract_id":"a","statefs_views":"views"})", "f", "/").ok());
  EXPECT_FALSE(parseInstanceConfig(R"({"contract_id":"a","statefs_control":"rel.sock"})", "f", "/").ok());
  auto bad = parseInstanceConfig(R"({"contract_id":"a","user":{"tls":"maybe"}})", "f.json", "/");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("tls"), std::string::npos) << bad.error().message;
}

TEST(ConfigTest, PatchCfgRoundTripAndCaps) {
  ContractConfig c;
  c.binPath = "/usr/bin/node";
  c.binArgs = "index.js";
  c.unl = {InstanceKey::generate().publicKey()};
  c.roundLimits.userInputBytes = 100;
  c.exposePrivateKey = true;
  c.busyRoundMs = 120;
  auto text = renderContractConfig(c);
  EXPECT_NE(text.find("\n    \"bin_path\""), std::string::npos);  // Hot Pocket's 4-space layout
  auto back = parseContractConfig(text, "patch.cfg");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->binPath, c.binPath);
  EXPECT_EQ(back->unl, c.unl);
  EXPECT_TRUE(back->exposePrivateKey);
  EXPECT_EQ(back->busyRoundMs, 120u);
  // Out of range: refused with the field named, never silently clamped.
  std::string bad = text;
  bad.replace(bad.find("\"busy_round_ms\": 120"), 20, "\"busy_round_ms\": 600000");
  auto refused = parseContractConfig(bad, "patch.cfg");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("busy_round_ms"), std::string::npos) << refused.error().message;
  RoundLimits host;
  host.userInputBytes = 50;
  host.execTimeoutMs = 1000;
  auto capped = capLimits(back->roundLimits, host);
  EXPECT_EQ(capped.userInputBytes, 50u);
  EXPECT_EQ(capped.execTimeoutMs, 1000u);
  EXPECT_EQ(capped.userOutputBytes, 0u);
}

}  // namespace
}  // namespace sashimono::runtime
