// The devnet's request handlers, driven without sockets through handleRequest().
#include <filesystem>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include "HandlerFixture.h"
#include "TestTx.h"
#include "sashimono/board/Responses.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/Rpc.h"
#include "sashimono/ledger/LedgerHeader.h"
#include "sashimono/net/WsSession.h"

using namespace sashimono;
using namespace sashimono::devnet;
using devnet::test::FakeSession;
using devnet::test::key;
using devnet::test::signedBlob;
using devnet::test::TxSpec;

namespace {

class HandlersTest : public test::HandlerFixture {
 protected:
  std::string submitPayment(std::uint64_t drops, std::uint32_t seq, std::string* engineResult = nullptr) {
    TxSpec s;
    s.destination = alice.address();
    s.amount = std::to_string(drops);
    s.sequence = seq;
    auto blob = signedBlob(genesis, s);
    auto r = call(R"({"id":1,"command":"submit","tx_blob":")" + core::toHex(blob) + "\"}");
    EXPECT_STREQ(r["status"].GetString(), "success");
    if (engineResult != nullptr) *engineResult = r["result"]["engine_result"].GetString();
    return r["result"]["tx_json"]["hash"].GetString();
  }
};

}  // namespace

TEST_F(HandlersTest, EnvelopeEchoesIdAndVersion) {
  auto r = call(R"({"id":"abc","command":"ping","api_version":2})");
  EXPECT_STREQ(r["id"].GetString(), "abc");
  EXPECT_STREQ(r["status"].GetString(), "success");
  EXPECT_STREQ(r["type"].GetString(), "response");
  EXPECT_EQ(r["api_version"].GetInt(), 2);
  r = call(R"({"id":{"nested":[1]},"command":"ping"})");
  EXPECT_EQ(r["id"]["nested"][0].GetInt(), 1);
}

TEST_F(HandlersTest, ErrorsInRippledForm) {
  auto r = call(R"({"id":3,"command":"frobnicate"})");
  EXPECT_STREQ(r["status"].GetString(), "error");
  EXPECT_STREQ(r["error"].GetString(), "unknownCmd");
  EXPECT_EQ(r["error_code"].GetInt(), 32);
  EXPECT_EQ(r["id"].GetInt(), 3);
  EXPECT_STREQ(r["request"]["command"].GetString(), "frobnicate");
  r = call("{not json");
  EXPECT_STREQ(r["error"].GetString(), "jsonInvalid");
  r = call("[1,2]");
  EXPECT_STREQ(r["error"].GetString(), "jsonInvalid");
  r = call(R"({"id":4})");
  EXPECT_STREQ(r["error"].GetString(), "missingCommand");
  r = call(R"({"id":5,"command":7})");
  EXPECT_STREQ(r["error"].GetString(), "invalidParams");
  r = call(R"({"command":"account_info"})");
  EXPECT_STREQ(r["error"].GetString(), "invalidParams");
  r = call(R"({"command":"account_info","account":12})");
  EXPECT_STREQ(r["error"].GetString(), "actMalformed");
  r = call(R"({"command":"account_info","account":"rNotAnAddress"})");
  EXPECT_STREQ(r["error"].GetString(), "actMalformed");
  r = call(R"({"command":"account_info","account":")" + alice.address() + "\"}");
  EXPECT_STREQ(r["error"].GetString(), "actNotFound");
  EXPECT_EQ(r["error_code"].GetInt(), 19);
  r = call(R"({"command":"ledger","ledger_index":"latest"})");
  EXPECT_STREQ(r["error"].GetString(), "lgrIdxMalformed");
  r = call(R"({"command":"ledger","ledger_index":99999})");
  EXPECT_STREQ(r["error"].GetString(), "lgrNotFound");
  r = call(R"({"command":"ledger","transactions":"yes"})");
  EXPECT_STREQ(r["error"].GetString(), "invalidParams");
  r = call(R"({"command":"ping","api_version":3})");
  EXPECT_STREQ(r["error"].GetString(), "invalid_API_version");
  r = call(R"({"command":"submit","tx_blob":"XYZ"})");
  EXPECT_STREQ(r["error"].GetString(), "invalidParams");
  r = call(R"({"command":"submit","tx_blob":"1200"})");
  EXPECT_STREQ(r["error"].GetString(), "invalidTransaction");
  r = call(R"({"command":"tx","transaction":")" + std::string(64, '0') + "\"}");
  EXPECT_STREQ(r["error"].GetString(), "txnNotFound");
  r = call(R"({"command":"subscribe","streams":["bogus"]})", true, std::make_shared<FakeSession>());
  EXPECT_STREQ(r["error"].GetString(), "malformedStream");
}

TEST_F(HandlersTest, DeeplyNestedRequestIsJsonInvalidNotACrash) {
  // 1 MiB of '[' (the server's frame limit): the recursive parser would overflow the stack.
  auto r = call(std::string(1 << 20, '['));
  EXPECT_STREQ(r["error"].GetString(), "jsonInvalid");
  auto ok = call(R"({"id":2,"command":"server_info"})");
  EXPECT_STREQ(ok["status"].GetString(), "success");
}

TEST_F(HandlersTest, NumberBeyondTheDoubleRangeIsJsonInvalid) {
  // Found by fuzz.DevnetRequestFuzz: an id of 3e315 parsed as infinity and was echoed as
  // broken JSON.
  for (const char* text : {R"({"id":{"i2d":30038001000E305}})", R"({"id":1e400,"command":"server_info"})",
                           R"({"id":1,"command":"server_info","x":[[-1e999]]})"}) {
    auto r = call(text);  // call() also checks that the answer is JSON
    EXPECT_STREQ(r["error"].GetString(), "jsonInvalid") << text;
  }
  EXPECT_STREQ(call(R"({"id":1.5e300,"command":"server_info"})")["status"].GetString(), "success");
}

TEST_F(HandlersTest, LedgerAcceptOnlyForLoopback) {
  auto r = call(R"({"command":"ledger_accept"})", false);
  EXPECT_STREQ(r["error"].GetString(), "noPermission");
  r = call(R"({"command":"ledger_accept"})", true);
  EXPECT_EQ(r["result"]["ledger_current_index"].GetUint(), 3u);
}

TEST_F(HandlersTest, ServerInfoStateAndFeeShapes) {
  auto r = call(R"({"command":"server_info"})");
  const auto& info = r["result"]["info"];
  EXPECT_DOUBLE_EQ(info["validated_ledger"]["base_fee_xrp"].GetDouble(), 0.00001);
  EXPECT_DOUBLE_EQ(info["validated_ledger"]["reserve_base_xrp"].GetDouble(), 1.0);
  EXPECT_DOUBLE_EQ(info["validated_ledger"]["reserve_inc_xrp"].GetDouble(), 0.2);
  EXPECT_STREQ(info["server_state"].GetString(), "full");
  r = call(R"({"command":"server_state"})");
  EXPECT_EQ(r["result"]["state"]["validated_ledger"]["reserve_base"].GetUint(), 1000000u);
  EXPECT_EQ(r["result"]["state"]["validated_ledger"]["reserve_inc"].GetUint(), 200000u);
  EXPECT_EQ(r["result"]["state"]["validated_ledger"]["base_fee"].GetUint(), 10u);
  r = call(R"({"command":"fee"})");
  EXPECT_STREQ(r["result"]["drops"]["base_fee"].GetString(), "10");
  EXPECT_EQ(r["result"]["ledger_current_index"].GetUint(), 2u);
}

TEST_F(HandlersTest, SubmitValidateAndQuery) {
  std::string er;
  std::string hash = submitPayment(25'000'000, 1, &er);
  EXPECT_EQ(er, "tesSUCCESS");
  auto nf = call(R"({"command":"tx","transaction":")" + hash + "\"}");
  EXPECT_STREQ(nf["error"].GetString(), "txnNotFound");  // not validated yet
  auto cur =
      call(R"({"command":"account_info","account":")" + alice.address() + R"(","ledger_index":"current"})");
  EXPECT_STREQ(cur["result"]["account_data"]["Balance"].GetString(), "25000000");
  auto val =
      call(R"({"command":"account_info","account":")" + alice.address() + R"(","ledger_index":"validated"})");
  EXPECT_STREQ(val["error"].GetString(), "actNotFound");
  call(R"({"command":"ledger_accept"})");
  val =
      call(R"({"command":"account_info","account":")" + alice.address() + R"(","ledger_index":"validated"})");
  EXPECT_STREQ(val["result"]["account_data"]["Balance"].GetString(), "25000000");
  EXPECT_TRUE(val["result"]["validated"].GetBool());

  auto v2 = call(R"({"command":"tx","api_version":2,"transaction":")" + hash + "\"}");
  const auto& res = v2["result"];
  EXPECT_TRUE(res["validated"].GetBool());
  EXPECT_STREQ(res["hash"].GetString(), hash.c_str());
  EXPECT_EQ(res["ledger_index"].GetUint(), 2u);
  EXPECT_STREQ(res["tx_json"]["DeliverMax"].GetString(), "25000000");
  EXPECT_FALSE(res["tx_json"].HasMember("Amount"));
  EXPECT_STREQ(res["meta"]["delivered_amount"].GetString(), "25000000");
  EXPECT_TRUE(res.HasMember("close_time_iso"));
  auto v1 = call(R"({"command":"tx","transaction":")" + hash + "\"}");
  EXPECT_STREQ(v1["result"]["Amount"].GetString(), "25000000");
  EXPECT_STREQ(v1["result"]["meta"]["TransactionResult"].GetString(), "tesSUCCESS");
  auto bin = call(R"({"command":"tx","api_version":2,"binary":true,"transaction":")" + hash + "\"}");
  EXPECT_TRUE(bin["result"]["tx_blob"].IsString());
  EXPECT_TRUE(bin["result"]["meta_blob"].IsString());

  auto lg =
      call(R"({"command":"ledger","ledger_index":2,"transactions":true,"expand":true,"api_version":2})");
  ASSERT_EQ(lg["result"]["ledger"]["transactions"].Size(), 1u);
  EXPECT_STREQ(lg["result"]["ledger"]["transactions"][0]["hash"].GetString(), hash.c_str());

  // Binary: the header as ledger_data (rippled's 118 bytes), beside the JSON fields; what a board
  // client parses and verifies against the ledger hash, in both API versions.
  for (int api : {1, 2}) {
    auto b = call(R"({"id":4,"command":"ledger","ledger_index":2,"transactions":true,"expand":true,)"
                  R"("binary":true,"api_version":)" +
                  std::to_string(api) + "}");
    const auto& l = b["result"]["ledger"];
    ASSERT_TRUE(l["ledger_data"].IsString());
    EXPECT_TRUE(l["closed"].GetBool());
    auto raw = core::fromHex(l["ledger_data"].GetString());
    ASSERT_TRUE(raw.ok());
    auto header = ledger::parseHeader(*raw);
    ASSERT_TRUE(header.ok()) << header.error().message;
    EXPECT_EQ(header->seq, 2u);
    EXPECT_EQ(core::toHex(header->txHash), l["transaction_hash"].GetString());
    EXPECT_EQ(core::toHex(ledger::ledgerHash(*header)), b["result"]["ledger_hash"].GetString());
    auto parsed = board::parseLedger(b);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    ASSERT_EQ(parsed->txs.size(), 1u);
    EXPECT_EQ(core::toHex(parsed->txs[0].hash), hash);
    EXPECT_TRUE(parsed->validated);
    auto st = board::verifyLedger(*parsed, parsed->claimedHash);
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  auto json = call(R"({"command":"ledger","ledger_index":2})");
  EXPECT_FALSE(json["result"]["ledger"].HasMember("ledger_data"));
}

TEST_F(HandlersTest, SubmitResultsAndFields) {
  std::string er;
  submitPayment(25'000'000, 1, &er);
  EXPECT_EQ(er, "tesSUCCESS");
  submitPayment(25'000'000, 1, &er);
  EXPECT_EQ(er, "tefALREADY");  // the very same transaction
  submitPayment(26'000'000, 1, &er);
  EXPECT_EQ(er, "tefPAST_SEQ");
  submitPayment(25'000'000, 9, &er);
  EXPECT_EQ(er, "terPRE_SEQ");
  TxSpec s;
  s.destination = alice.address();
  s.amount = "1000000";
  s.sequence = 2;
  auto blob = signedBlob(genesis, s);
  auto r = call(R"({"command":"submit","tx_blob":")" + core::toHex(blob) + "\"}");
  const auto& res = r["result"];
  EXPECT_TRUE(res["accepted"].GetBool());
  EXPECT_TRUE(res["applied"].GetBool());
  EXPECT_FALSE(res["queued"].GetBool());
  EXPECT_EQ(res["engine_result_code"].GetInt(), 0);
  EXPECT_STREQ(res["engine_result_message"].GetString(),
               "The transaction was applied. Only final in a validated ledger.");
  EXPECT_EQ(res["account_sequence_next"].GetUint(), 3u);
  EXPECT_STREQ(res["tx_blob"].GetString(), core::toHex(blob).c_str());
  // Flip a signature byte: rejected before the engine.
  blob[blob.size() - 5] ^= 1;
  r = call(R"({"command":"submit","tx_blob":")" + core::toHex(blob) + "\"}");
  EXPECT_STREQ(r["error"].GetString(), "invalidTransaction");
  // Signed by a key that is not the account's.
  s.sequence = 3;
  auto other = signedBlob(alice, s);
  auto doc = ledger::decode(other);
  ASSERT_TRUE(doc.ok());
  (*doc)["Account"].SetString(genesis.address().c_str(), doc->GetAllocator());
  auto forged = ledger::sign(*doc, doc->GetAllocator(), alice);
  ASSERT_TRUE(forged.ok());
  r = call(R"({"command":"submit","tx_blob":")" + core::toHex(*forged) + "\"}");
  EXPECT_STREQ(r["result"]["engine_result"].GetString(), "tefBAD_AUTH");
}

TEST_F(HandlersTest, AccountTxPagesWithMarker) {
  for (std::uint32_t i = 0; i < 12; ++i) {
    submitPayment(20'000'000 + i, i + 1);
    if (i % 5 == 4) call(R"({"command":"ledger_accept"})");
  }
  call(R"({"command":"ledger_accept"})");
  std::vector<std::string> seen;
  std::string marker;
  int pages = 0;
  do {
    std::string req = R"({"command":"account_tx","limit":5,"account":")" + alice.address() + "\"";
    if (!marker.empty()) req += ",\"marker\":" + marker;
    auto r = call(req + "}");
    ASSERT_STREQ(r["status"].GetString(), "success");
    for (const auto& t : r["result"]["transactions"].GetArray()) seen.push_back(t["tx"]["hash"].GetString());
    marker.clear();
    if (r["result"].HasMember("marker")) {
      const auto& m = r["result"]["marker"];
      marker = "{\"ledger\":" + std::to_string(m["ledger"].GetUint()) +
               ",\"seq\":" + std::to_string(m["seq"].GetUint()) + "}";
    }
    ++pages;
  } while (!marker.empty());
  EXPECT_EQ(seen.size(), 12u);
  EXPECT_EQ(pages, 3);
  auto fwd = call(R"({"command":"account_tx","forward":true,"limit":1,"api_version":2,"account":")" +
                  alice.address() + "\"}");
  EXPECT_STREQ(fwd["result"]["transactions"][0]["hash"].GetString(), seen.back().c_str());
  auto bin = call(R"({"command":"account_tx","binary":true,"account":")" + alice.address() + "\"}");
  EXPECT_TRUE(bin["result"]["transactions"][0]["tx_blob"].IsString());
  auto bad = call(R"({"command":"account_tx","marker":"x","account":")" + alice.address() + "\"}");
  EXPECT_STREQ(bad["error"].GetString(), "invalidParams");
}

TEST_F(HandlersTest, SubscriptionsReceiveValidatedTransactions) {
  auto session = std::make_shared<FakeSession>();
  auto r = call(R"({"command":"subscribe","streams":["ledger"],"accounts":[")" + alice.address() +
                    R"("],"api_version":2})",
                true, session);
  ASSERT_STREQ(r["status"].GetString(), "success");
  EXPECT_EQ(r["result"]["reserve_base"].GetUint(), 1000000u);
  std::string hash = submitPayment(30'000'000, 1);
  EXPECT_TRUE(session->sent.empty());  // nothing before validation
  call(R"({"command":"ledger_accept"})");
  ASSERT_EQ(session->sent.size(), 2u);
  rapidjson::Document tx;
  tx.Parse(session->sent[0].c_str());
  EXPECT_STREQ(tx["type"].GetString(), "transaction");
  EXPECT_TRUE(tx["validated"].GetBool());
  EXPECT_STREQ(tx["engine_result"].GetString(), "tesSUCCESS");
  EXPECT_STREQ(tx["hash"].GetString(), hash.c_str());
  EXPECT_TRUE(tx["tx_json"].IsObject());
  EXPECT_EQ(tx["ledger_index"].GetUint(), 2u);
  rapidjson::Document lc;
  lc.Parse(session->sent[1].c_str());
  EXPECT_STREQ(lc["type"].GetString(), "ledgerClosed");
  EXPECT_EQ(lc["txn_count"].GetUint(), 1u);
  call(R"({"command":"unsubscribe","streams":["ledger"],"accounts":[")" + alice.address() + "\"]}", true,
       session);
  submitPayment(30'000'000, 2);
  call(R"({"command":"ledger_accept"})");
  EXPECT_EQ(session->sent.size(), 2u);
}

TEST_F(HandlersTest, StateSurvivesReopen) {
  std::string hash = submitPayment(40'000'000, 1);
  call(R"({"command":"ledger_accept"})");
  submitPayment(1'000'000, 2);  // open ledger only: lost on restart, as never validated
  ASSERT_TRUE(open().ok());
  EXPECT_EQ(node->validatedLedger().seq, 2u);
  auto t = call(R"({"command":"tx","transaction":")" + hash + "\"}");
  EXPECT_STREQ(t["status"].GetString(), "success");
  auto a = call(R"({"command":"account_info","account":")" + alice.address() + "\"}");
  EXPECT_STREQ(a["result"]["account_data"]["Balance"].GetString(), "40000000");
  std::string er;
  submitPayment(1'000'000, 2, &er);
  EXPECT_EQ(er, "tesSUCCESS");
}
