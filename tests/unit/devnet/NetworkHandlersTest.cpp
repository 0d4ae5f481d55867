// The devnet as a network: its validator (validations and manifests streams, manifest,
// validator_rotate), its NetworkID rules and its open ledger fee (fee_set), through
// handleRequest() without sockets.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include "HandlerFixture.h"
#include "TestTx.h"
#include "sashimono/core/Base64.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/Rpc.h"
#include "sashimono/net/WsSession.h"

using namespace sashimono;
using namespace sashimono::devnet;
using devnet::test::FakeSession;
using devnet::test::key;
using devnet::test::TempDir;

namespace {

struct Tx {
  std::uint64_t fee = 10;
  std::uint32_t sequence = 1;
  std::optional<std::uint32_t> networkId;
};
Tx paying(std::uint64_t fee, std::uint32_t sequence = 1) { return Tx{fee, sequence, std::nullopt}; }
Tx onNetwork(std::uint32_t networkId) { return Tx{10, 1, networkId}; }

class NetworkHandlersTest : public test::HandlerFixture {
 protected:
  // A signed payment genesis → alice; returns the submit result object.
  rapidjson::Document submit(const Tx& t) {
    rapidjson::Document d(rapidjson::kObjectType);
    auto& al = d.GetAllocator();
    d.AddMember("TransactionType", "Payment", al);
    d.AddMember("Account", rapidjson::Value(genesis.address().c_str(), al), al);
    d.AddMember("Destination", rapidjson::Value(alice.address().c_str(), al), al);
    d.AddMember("Amount", "50000000", al);
    d.AddMember("Fee", rapidjson::Value(std::to_string(t.fee).c_str(), al), al);
    d.AddMember("Sequence", t.sequence, al);
    d.AddMember("Flags", 0, al);
    if (t.networkId) d.AddMember("NetworkID", *t.networkId, al);
    auto blob = ledger::sign(d, al, genesis);
    EXPECT_TRUE(blob.ok());
    auto r = call(R"({"command":"submit","tx_blob":")" + core::toHex(*blob) + "\"}");
    EXPECT_STREQ(r["status"].GetString(), "success");
    return r;
  }
  static std::string engineResult(const rapidjson::Document& r) {
    return r["result"]["engine_result"].GetString();
  }
};

core::Bytes hexOf(const rapidjson::Value& v) { return *core::fromHex(v.GetString()); }

}  // namespace

TEST_F(NetworkHandlersTest, ServerInfoNamesTheValidator) {
  auto r = call(R"({"command":"server_info"})", false);
  const auto& info = r["result"]["info"];
  EXPECT_EQ(info["validation_quorum"].GetUint(), 1u);
  EXPECT_EQ(info["network_id"].GetUint(), 0u);
  std::string master = info["pubkey_validator"].GetString();
  EXPECT_EQ(master, node->validatorMasterKey());
  auto key = crypto::decodeNodePublic(master);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, node->validatorManifest().masterKey);
  // validator.json for host configs.
  std::ifstream f(dir.path / "validator.json");
  rapidjson::Document j;
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  j.Parse(text.c_str());
  ASSERT_FALSE(j.HasParseError()) << text;
  EXPECT_EQ(std::string(j["master_key"].GetString()), master);
  EXPECT_EQ(std::string(j["manifest"].GetString()), core::encodeBase64(node->validatorManifest().raw));
}

TEST_F(NetworkHandlersTest, EachCloseSendsASignedValidationFirst) {
  auto v1 = std::make_shared<FakeSession>(1);
  auto v2 = std::make_shared<FakeSession>(2);
  auto r = call(R"({"command":"subscribe","streams":["validations","ledger","transactions"]})", false, v1);
  ASSERT_STREQ(r["status"].GetString(), "success");
  call(R"({"command":"subscribe","streams":["validations"],"api_version":2})", false, v2);
  EXPECT_EQ(engineResult(submit({})), "tesSUCCESS");
  call(R"({"command":"ledger_accept"})");
  ASSERT_EQ(v1->sent.size(), 3u);
  auto val = v1->message(0);
  auto tx = v1->message(1);
  auto lc = v1->message(2);
  EXPECT_STREQ(val["type"].GetString(), "validationReceived");
  EXPECT_STREQ(tx["type"].GetString(), "transaction");
  EXPECT_STREQ(lc["type"].GetString(), "ledgerClosed");
  EXPECT_STREQ(val["ledger_hash"].GetString(), lc["ledger_hash"].GetString());
  EXPECT_STREQ(val["ledger_index"].GetString(), "2");  // API v1: a string
  EXPECT_TRUE(val["full"].GetBool());
  EXPECT_EQ(val["flags"].GetUint(), 0x80000001u);
  EXPECT_EQ(val["network_id"].GetUint(), 0u);
  EXPECT_EQ(std::string(val["master_key"].GetString()), node->validatorMasterKey());
  const auto manifest = node->validatorManifest();
  EXPECT_EQ(std::string(val["validation_public_key"].GetString()),
            crypto::encodeNodePublic(*manifest.signingKey));
  EXPECT_EQ(std::to_string(std::stoull(val["cookie"].GetString())), val["cookie"].GetString());

  // data is the whole STValidation; its signature verifies over "VAL\0" + the other fields.
  auto data = hexOf(val["data"]);
  auto doc = ledger::decode(data);
  ASSERT_TRUE(doc.ok()) << doc.error().message;
  EXPECT_EQ((*doc)["LedgerSequence"].GetUint(), 2u);
  EXPECT_STREQ((*doc)["LedgerHash"].GetString(), lc["ledger_hash"].GetString());
  EXPECT_EQ((*doc)["SigningTime"].GetUint(), val["signing_time"].GetUint());
  EXPECT_FALSE(doc->HasMember("NetworkID"));
  EXPECT_EQ(hexOf((*doc)["Signature"]), hexOf(val["signature"]));
  doc->RemoveMember("Signature");
  auto fields = ledger::encode(*doc);
  ASSERT_TRUE(fields.ok());
  core::Bytes signing{'V', 'A', 'L', 0};
  signing.insert(signing.end(), fields->begin(), fields->end());
  EXPECT_TRUE(crypto::verify(*manifest.signingKey, signing, hexOf(val["signature"])).ok());
  // And the ledger module's parser agrees.
  auto parsed = ledger::parseValidation(data);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_TRUE(ledger::verifyValidation(*parsed).ok());
  EXPECT_EQ(std::to_string(*parsed->cookie), val["cookie"].GetString());

  ASSERT_EQ(v2->sent.size(), 1u);
  auto val2 = v2->message(0);
  EXPECT_EQ(val2["ledger_index"].GetUint(), 2u);  // API v2: a number
  EXPECT_STREQ(val2["data"].GetString(), val["data"].GetString());

  // Unsubscribed: no more validations.
  call(R"({"command":"unsubscribe","streams":["validations"]})", false, v2);
  call(R"({"command":"ledger_accept"})");
  EXPECT_EQ(v2->sent.size(), 1u);
  EXPECT_EQ(v1->sent.size(), 5u);  // validation + ledgerClosed of ledger 3
}

TEST_F(NetworkHandlersTest, ManifestCommand) {
  const auto m = node->validatorManifest();
  const std::string master = crypto::encodeNodePublic(m.masterKey);
  const std::string signing = crypto::encodeNodePublic(*m.signingKey);
  for (const auto& asked : {master, signing}) {
    auto r = call(R"({"command":"manifest","public_key":")" + asked + "\"}", false);
    ASSERT_STREQ(r["status"].GetString(), "success");
    const auto& res = r["result"];
    EXPECT_EQ(std::string(res["requested"].GetString()), asked);
    EXPECT_EQ(std::string(res["details"]["master_key"].GetString()), master);
    EXPECT_EQ(std::string(res["details"]["ephemeral_key"].GetString()), signing);
    EXPECT_EQ(res["details"]["seq"].GetUint(), 1u);
    EXPECT_STREQ(res["details"]["domain"].GetString(), "");
    EXPECT_EQ(std::string(res["manifest"].GetString()), core::encodeBase64(m.raw));
  }
  // A well-formed key the devnet has no manifest for: only "requested".
  auto other = crypto::encodeNodePublic(key("other").publicKey());
  auto r = call(R"({"command":"manifest","public_key":")" + other + "\"}", false);
  ASSERT_STREQ(r["status"].GetString(), "success");
  EXPECT_EQ(r["result"].MemberCount(), 1u);
  EXPECT_EQ(std::string(r["result"]["requested"].GetString()), other);
  r = call(R"({"command":"manifest","public_key":")" + alice.address() + "\"}", false);
  EXPECT_STREQ(r["error"].GetString(), "invalidParams");
  r = call(R"({"command":"manifest"})", false);
  EXPECT_STREQ(r["error_message"].GetString(), "Missing field 'public_key'.");
  r = call(R"({"command":"manifest","public_key":7})", false);
  EXPECT_STREQ(r["error"].GetString(), "invalidParams");
}

TEST_F(NetworkHandlersTest, ValidatorRotatePublishesTheNextManifest) {
  auto r = call(R"({"command":"validator_rotate"})", false);
  EXPECT_STREQ(r["error"].GetString(), "noPermission");
  const auto before = node->validatorManifest();
  auto s = std::make_shared<FakeSession>(3);
  call(R"({"command":"subscribe","streams":["manifests","validations"]})", false, s);
  r = call(R"({"command":"validator_rotate"})");
  ASSERT_STREQ(r["status"].GetString(), "success") << r["error_message"].GetString();
  EXPECT_EQ(r["result"]["details"]["seq"].GetUint(), 2u);
  const auto after = node->validatorManifest();
  EXPECT_EQ(after.sequence, 2u);
  EXPECT_EQ(after.masterKey, before.masterKey);
  EXPECT_NE(after.signingKey, before.signingKey);

  ASSERT_EQ(s->sent.size(), 1u);
  auto mm = s->message(0);
  EXPECT_STREQ(mm["type"].GetString(), "manifestReceived");
  EXPECT_EQ(mm["seq"].GetUint(), 2u);
  EXPECT_EQ(std::string(mm["master_key"].GetString()), node->validatorMasterKey());
  EXPECT_EQ(std::string(mm["signing_key"].GetString()), crypto::encodeNodePublic(*after.signingKey));
  EXPECT_EQ(hexOf(mm["manifest"]), after.raw);
  auto parsed = ledger::parseManifest(hexOf(mm["manifest"]));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(hexOf(mm["master_signature"]), parsed->masterSignature);
  EXPECT_EQ(hexOf(mm["signature"]), parsed->signature);
  EXPECT_FALSE(mm.HasMember("domain"));

  call(R"({"command":"ledger_accept"})");
  ASSERT_EQ(s->sent.size(), 2u);
  auto val = s->message(1);
  EXPECT_EQ(std::string(val["validation_public_key"].GetString()),
            crypto::encodeNodePublic(*after.signingKey));
  // The old signing key is no longer known to the manifest command.
  r = call(R"({"command":"manifest","public_key":")" + crypto::encodeNodePublic(*before.signingKey) + "\"}");
  EXPECT_EQ(r["result"].MemberCount(), 1u);

  // Persisted: a restart keeps the rotated key.
  ASSERT_TRUE(open().ok());
  EXPECT_EQ(node->validatorManifest().raw, after.raw);
}

TEST_F(NetworkHandlersTest, DefaultNetworkRefusesNetworkId) {
  auto r = submit(onNetwork(0));
  EXPECT_EQ(engineResult(r), "telNETWORK_ID_MAKES_TX_NON_CANONICAL");
  EXPECT_FALSE(r["result"]["applied"].GetBool());
  EXPECT_EQ(r["result"]["engine_result_code"].GetInt(), -384);
  EXPECT_EQ(engineResult(submit(onNetwork(21337))), "telNETWORK_ID_MAKES_TX_NON_CANONICAL");
  EXPECT_EQ(engineResult(submit({})), "tesSUCCESS");
}

TEST_F(NetworkHandlersTest, NetworkAbove1024RequiresItsId) {
  TempDir other;
  dir.path.swap(other.path);  // a new chain
  ASSERT_TRUE(open(21337).ok());
  auto info = call(R"({"command":"server_info"})");
  EXPECT_EQ(info["result"]["info"]["network_id"].GetUint(), 21337u);
  auto r = submit({});
  EXPECT_EQ(engineResult(r), "telREQUIRES_NETWORK_ID");
  EXPECT_EQ(r["result"]["engine_result_code"].GetInt(), -385);
  EXPECT_STREQ(r["result"]["engine_result_message"].GetString(),
               "Transactions submitted to this node/network must include a correct NetworkID field.");
  EXPECT_EQ(engineResult(submit(onNetwork(21338))), "telWRONG_NETWORK");
  r = submit(onNetwork(21337));
  ASSERT_EQ(engineResult(r), "tesSUCCESS");
  std::string hash = r["result"]["tx_json"]["hash"].GetString();
  auto v = std::make_shared<FakeSession>(4);
  call(R"({"command":"subscribe","streams":["validations"]})", false, v);
  call(R"({"command":"ledger_accept"})");
  auto t = call(R"({"command":"tx","transaction":")" + hash + "\"}");
  EXPECT_STREQ(t["result"]["ctid"].GetString(), "C000000200005359");  // 21337 = 0x5359
  ASSERT_EQ(v->sent.size(), 1u);
  auto val = v->message(0);
  EXPECT_EQ(val["network_id"].GetUint(), 21337u);
  auto doc = ledger::decode(hexOf(val["data"]));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["NetworkID"].GetUint(), 21337u);

  // Stored with the chain: reopening without an id keeps it, another id is refused.
  ASSERT_TRUE(open().ok());
  EXPECT_EQ(node->networkId(), 21337u);
  auto st = open(0);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("network id 21337, not 0"), std::string::npos) << st.error().message;
  dir.path.swap(other.path);
}

TEST_F(NetworkHandlersTest, FeeSetMakesTheNetworkBusy) {
  auto r = call(R"({"command":"fee_set","open_ledger_fee":5000})", false);
  EXPECT_STREQ(r["error"].GetString(), "noPermission");
  r = call(R"({"command":"fee_set","open_ledger_fee":5000})");
  ASSERT_STREQ(r["status"].GetString(), "success");
  EXPECT_STREQ(r["result"]["open_ledger_fee"].GetString(), "5000");
  auto fee = call(R"({"command":"fee"})", false);
  const auto& f = fee["result"];
  EXPECT_STREQ(f["drops"]["open_ledger_fee"].GetString(), "5000");
  EXPECT_STREQ(f["drops"]["minimum_fee"].GetString(), "5000");
  EXPECT_STREQ(f["drops"]["base_fee"].GetString(), "10");
  EXPECT_STREQ(f["drops"]["median_fee"].GetString(), "5000");
  EXPECT_STREQ(f["levels"]["open_ledger_level"].GetString(), "128000");
  EXPECT_STREQ(f["current_queue_size"].GetString(), f["max_queue_size"].GetString());
  auto info = call(R"({"command":"server_info"})", false);
  EXPECT_DOUBLE_EQ(info["result"]["info"]["load_factor"].GetDouble(), 500.0);
  auto state = call(R"({"command":"server_state"})", false);
  EXPECT_EQ(state["result"]["state"]["load_factor"].GetUint(), 128000u);

  auto low = submit(paying(4999));
  EXPECT_EQ(engineResult(low), "telINSUF_FEE_P");
  EXPECT_FALSE(low["result"]["applied"].GetBool());
  EXPECT_FALSE(low["result"]["queued"].GetBool());
  EXPECT_STREQ(low["result"]["open_ledger_cost"].GetString(), "5000");
  EXPECT_EQ(node->openTxCount(), 0u);
  EXPECT_EQ(engineResult(submit(paying(5000))), "tesSUCCESS");
  EXPECT_EQ(node->openTxCount(), 1u);

  // Back to the base fee; out-of-range or malformed values are refused.
  r = call(R"({"command":"fee_set","open_ledger_fee":"10"})");
  ASSERT_STREQ(r["status"].GetString(), "success");
  EXPECT_EQ(node->openLedgerFee(), kBaseFee);
  fee = call(R"({"command":"fee"})", false);
  EXPECT_STREQ(fee["result"]["current_queue_size"].GetString(), "0");
  info = call(R"({"command":"server_info"})", false);
  EXPECT_EQ(info["result"]["info"]["load_factor"].GetUint(), 1u);
  EXPECT_EQ(engineResult(submit(paying(10, 2))), "tesSUCCESS");
  for (const char* bad : {"9", "-1", "\"x\"", "1e3", "1000000000001", "null"}) {
    r = call(std::string(R"({"command":"fee_set","open_ledger_fee":)") + bad + "}");
    EXPECT_STREQ(r["error"].GetString(), "invalidParams") << bad;
  }
  EXPECT_STREQ(call(R"({"command":"fee_set"})")["error_message"].GetString(),
               "Missing field 'open_ledger_fee'.");
  EXPECT_EQ(node->openLedgerFee(), kBaseFee);
}

TEST_F(NetworkHandlersTest, OpenLedgerFeeOptionIsChecked) {
  EXPECT_FALSE(open(std::nullopt, 5).ok());
  ASSERT_TRUE(open(std::nullopt, 300).ok());
  EXPECT_EQ(node->openLedgerFee(), 300u);
  EXPECT_EQ(engineResult(submit(paying(12))), "telINSUF_FEE_P");
}
