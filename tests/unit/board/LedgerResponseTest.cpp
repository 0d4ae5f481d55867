// board::parseLedger / verifyLedger / renderLedger, on answers built from mainnet ledger 38129
// (tests/testdata/xrpl-ledger-38129.json) in the shapes rippled gives for API v1 and v2.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "ParseJson.h"
#include "sashimono/board/Requests.h"
#include "sashimono/board/Responses.h"
#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/ledger/LedgerHeader.h"

using namespace sashimono;
using namespace sashimono::board;
using sashimono::board::testing::parse;

namespace {

struct Vector {
  rapidjson::Document doc;
  std::string txBlob, meta, txHash, ledgerHash;
  const rapidjson::Value& header() const { return doc["header"]; }
};

const Vector& mainnet() {
  static const Vector v = [] {
    std::ifstream in(std::string(SASHIMONO_SOURCE_DIR) + "/tests/testdata/xrpl-ledger-38129.json");
    std::stringstream ss;
    ss << in.rdbuf();
    Vector x;
    x.doc.Parse(ss.str().c_str());
    if (x.doc.HasParseError()) throw std::runtime_error("cannot read xrpl-ledger-38129.json");
    const auto& t = x.doc["transactions"][0];
    x.txBlob = t["tx_blob"].GetString();
    x.meta = t["meta"].GetString();
    x.txHash = t["hash"].GetString();
    x.ledgerHash = x.doc["ledger_hash"].GetString();
    return x;
  }();
  return v;
}

ledger::LedgerHeader header38129() {
  const auto& h = mainnet().header();
  ledger::LedgerHeader out;
  out.seq = h["ledger_index"].GetUint();
  out.totalDrops = std::stoull(h["total_coins"].GetString());
  auto hash = [](const rapidjson::Value& v) {
    auto b = *core::fromHex(v.GetString());
    crypto::Hash256 x{};
    std::copy(b.begin(), b.end(), x.begin());
    return x;
  };
  out.parentHash = hash(h["parent_hash"]);
  out.txHash = hash(h["transaction_hash"]);
  out.accountHash = hash(h["account_hash"]);
  out.parentCloseTime = h["parent_close_time"].GetUint();
  out.closeTime = h["close_time"].GetUint();
  out.closeTimeResolution = static_cast<std::uint8_t>(h["close_time_resolution"].GetUint());
  out.closeFlags = static_cast<std::uint8_t>(h["close_flags"].GetUint());
  return out;
}

crypto::Hash256 published() {
  auto b = *core::fromHex(mainnet().ledgerHash);
  crypto::Hash256 x{};
  std::copy(b.begin(), b.end(), x.begin());
  return x;
}

std::string envelope(const std::string& result) {
  return R"({"id":3,"status":"success","type":"response","result":)" + result + "}";
}

// rippled's binary answer: the header as ledger_data only; meta (v1) or meta_blob (v2).
std::string binaryAnswer(int api, const std::string& txs) {
  const std::string data = core::toHex(ledger::serializeHeader(header38129()));
  const std::string index = api >= 2 ? "38129" : "\"38129\"";
  return envelope(R"({"ledger":{"closed":true,"ledger_data":")" + data + R"(","transactions":)" + txs +
                  R"(},"ledger_hash":")" + mainnet().ledgerHash + R"(","ledger_index":)" + index +
                  R"(,"validated":true})");
}

std::string oneTx(int api) {
  const Vector& v = mainnet();
  return R"([{"hash":")" + v.txHash + R"(",")" + (api >= 2 ? "meta_blob" : "meta") + R"(":")" + v.meta +
         R"(","tx_blob":")" + v.txBlob + R"("}])";
}

// The JSON header fields (what the devnet also sends beside ledger_data), as rippled's API v1 gives them.
std::string jsonHeaderFields() {
  const auto& h = mainnet().header();
  auto s = [&](const char* k) { return std::string(h[k].GetString()); };
  auto n = [&](const char* k) { return std::to_string(h[k].GetUint()); };
  return R"("account_hash":")" + s("account_hash") + R"(","close_flags":)" + n("close_flags") +
         R"(,"close_time":)" + n("close_time") + R"(,"close_time_resolution":)" + n("close_time_resolution") +
         R"(,"closed":true,"ledger_index":"38129","parent_close_time":)" + n("parent_close_time") +
         R"(,"parent_hash":")" + s("parent_hash") + R"(","total_coins":")" + s("total_coins") +
         R"(","transaction_hash":")" + s("transaction_hash") + R"(")";
}

core::Error parseError(const std::string& text) {
  auto d = parse(text);
  auto r = parseLedger(d);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? core::Error() : r.error();
}

void expectBad(const std::string& text, const std::string& naming) {
  core::Error e = parseError(text);
  EXPECT_EQ(rpcErrorCode(e), RpcErrorCode::badResponse) << e.message;
  EXPECT_NE(e.message.find(naming), std::string::npos) << "wanted '" << naming << "' in: " << e.message;
}

}  // namespace

TEST(LedgerResponseTest, RenderAsksForExpandedBinaryTransactions) {
  auto d = parse(renderLedger(38129, true));
  EXPECT_STREQ(d["command"].GetString(), "ledger");
  EXPECT_EQ(d["ledger_index"].GetUint(), 38129u);
  EXPECT_TRUE(d["transactions"].GetBool());
  EXPECT_TRUE(d["expand"].GetBool());
  EXPECT_TRUE(d["binary"].GetBool());
  EXPECT_FALSE(d.HasMember("id"));  // the Connection adds it
  EXPECT_EQ(
      withId(9, renderLedger(5, true)),
      R"({"id":9,"command":"ledger","ledger_index":5,"transactions":true,"expand":true,"binary":true})");
  auto h = parse(renderLedger(7, false));
  EXPECT_FALSE(h["transactions"].GetBool());
  EXPECT_TRUE(h["binary"].GetBool());
}

TEST(LedgerResponseTest, BinaryAnswersOfBothApiVersionsVerify) {
  for (int api : {1, 2}) {
    auto d = parse(binaryAnswer(api, oneTx(api)));
    auto l = parseLedger(d);
    ASSERT_TRUE(l.ok()) << api << ": " << l.error().message;
    EXPECT_EQ(l->header, header38129());
    EXPECT_EQ(l->claimedHash, published());
    EXPECT_TRUE(l->validated);
    EXPECT_TRUE(l->hasTransactions);
    ASSERT_EQ(l->txs.size(), 1u);
    EXPECT_EQ(core::toHex(l->txs[0].hash), mainnet().txHash);
    ASSERT_TRUE(l->txs[0].claimedHash.has_value());
    EXPECT_EQ(*l->txs[0].claimedHash, l->txs[0].hash);
    auto st = verifyLedger(*l, published());
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
}

TEST(LedgerResponseTest, JsonHeaderFormVerifies) {
  // No ledger_data: the header from the JSON fields; v2 gives ledger_index as a number, and some
  // servers the times as strings. The ledger_hash inside the ledger object, no "hash" per tx.
  const Vector& v = mainnet();
  std::string txs = R"([{"meta":")" + v.meta + R"(","tx_blob":")" + v.txBlob + R"("}])";
  std::string fields = jsonHeaderFields();
  for (const std::string& f : {fields, std::string(fields).replace(fields.find("\"38129\""), 7, "38129"),
                               std::string(fields).replace(fields.find("\"close_time\":410424200"), 22,
                                                           "\"close_time\":\"410424200\"")}) {
    auto d = parse(envelope(R"({"ledger":{)" + f + R"(,"ledger_hash":")" + v.ledgerHash +
                            R"(","transactions":)" + txs + "}}"));
    auto l = parseLedger(d);
    ASSERT_TRUE(l.ok()) << l.error().message;
    EXPECT_EQ(l->header, header38129());
    EXPECT_FALSE(l->validated);  // absent
    EXPECT_FALSE(l->txs[0].claimedHash.has_value());
    EXPECT_TRUE(verifyLedger(*l, published()).ok());
  }
}

TEST(LedgerResponseTest, VerifyNamesTheLie) {
  // A board that alters one metadata byte, hides the transaction or lies about the header.
  const Vector& v = mainnet();
  std::string meta = v.meta;
  meta[meta.size() - 1] = meta.back() == '0' ? '1' : '0';
  auto altered =
      parseLedger(parse(binaryAnswer(1, R"([{"meta":")" + meta + R"(","tx_blob":")" + v.txBlob + "\"}]")));
  ASSERT_TRUE(altered.ok());
  auto st = verifyLedger(*altered, published());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "txTreeMismatch");
  auto hidden = parseLedger(parse(binaryAnswer(1, "[]")));
  ASSERT_TRUE(hidden.ok());
  EXPECT_EQ(verifyLedger(*hidden, published()).error().code, "txTreeMismatch");
  auto good = parseLedger(parse(binaryAnswer(2, oneTx(2))));
  ASSERT_TRUE(good.ok());
  crypto::Hash256 other = published();
  other[0] ^= 1;
  EXPECT_EQ(verifyLedger(*good, other).error().code, "headerMismatch");
  // Without transactions there is nothing to verify the tree with.
  auto noTxs = parseLedger(parse(envelope(
      R"({"ledger":{"closed":true,"ledger_data":")" + core::toHex(ledger::serializeHeader(header38129())) +
      R"("},"ledger_hash":")" + v.ledgerHash + R"(","ledger_index":38129})")));
  ASSERT_TRUE(noTxs.ok()) << noTxs.error().message;
  EXPECT_FALSE(noTxs->hasTransactions);
  EXPECT_EQ(rpcErrorCode(verifyLedger(*noTxs, published()).error()), RpcErrorCode::badResponse);
}

TEST(LedgerResponseTest, ServerErrorsKeepTheirToken) {
  auto e = parseError(R"({"id":1,"status":"error","type":"response","error":"lgrNotFound"})");
  EXPECT_EQ(rpcErrorCode(e), RpcErrorCode::lgrNotFound);
}

TEST(LedgerResponseTest, EveryMissingOrIllTypedFieldIsNamed) {
  const Vector& v = mainnet();
  const std::string data = core::toHex(ledger::serializeHeader(header38129()));
  auto withLedger = [&](const std::string& ledgerBody, const std::string& rest = "") {
    return envelope(R"({"ledger":{)" + ledgerBody + R"(},"ledger_hash":")" + v.ledgerHash + "\"" + rest +
                    "}");
  };
  expectBad(envelope(R"({"ledger_hash":")" + v.ledgerHash + "\"}"), "ledger is missing");
  expectBad(envelope(R"({"ledger":[]})"), "ledger is not an object");
  expectBad(withLedger(R"("closed":false,"ledger_data":")" + data + "\""), "not closed");
  expectBad(withLedger(R"("closed":"yes","ledger_data":")" + data + "\""), "ledger.closed");
  expectBad(withLedger(R"("ledger_data":")" + data.substr(2) + "\""), "118");
  expectBad(withLedger(R"("ledger_data":"XYZ")"), "ledger.ledger_data is not hex");
  expectBad(withLedger(R"("ledger_data":7)"), "ledger.ledger_data");
  expectBad(withLedger(R"("ledger_data":")" + data + "\"", R"(,"ledger_index":38130)"), "38130");
  expectBad(withLedger(R"("ledger_data":")" + data + "\"", R"(,"ledger_index":-1)"), "ledger_index");
  expectBad(withLedger(R"("ledger_data":")" + data + "\"", R"(,"validated":"true")"), "validated");
  expectBad(envelope(R"({"ledger":{"ledger_data":")" + data + "\"}}"), "ledger_hash is missing");
  expectBad(envelope(R"({"ledger":{"ledger_data":")" + data + R"("},"ledger_hash":"ABCD"})"),
            "ledger_hash is not");
  expectBad(envelope(R"({"ledger":{"ledger_data":")" + data + R"(","hash":17}})"), "ledger.hash is not");

  // The JSON header: each field removed, then each field of the wrong type.
  const std::string fields = jsonHeaderFields();
  for (const char* name : {"ledger_index", "total_coins", "parent_hash", "transaction_hash", "account_hash",
                           "parent_close_time", "close_time", "close_time_resolution", "close_flags"}) {
    rapidjson::Document d = parse("{" + fields + "}");
    d.RemoveMember(name);
    std::string body;
    for (auto& m : d.GetObject()) {
      if (!body.empty()) body += ",";
      rapidjson::StringBuffer sb;
      rapidjson::Writer<rapidjson::StringBuffer> w(sb);
      m.value.Accept(w);
      body += "\"" + std::string(m.name.GetString()) + "\":" + sb.GetString();
    }
    expectBad(withLedger(body), std::string("ledger.") + name + " is missing");
    for (const char* wrong : {"true", "\"x\"", "-3", "[1]", "1.5"}) {
      expectBad(withLedger(body + ",\"" + name + "\":" + wrong), std::string("ledger.") + name + " is not");
    }
  }
  expectBad(withLedger(fields.substr(0, fields.find("\"close_flags\":")) + "\"close_flags\":256" +
                       fields.substr(fields.find(",\"close_time\":"))),
            "ledger.close_flags is not an integer from 0 to 255");
  expectBad(withLedger(std::string(fields).replace(fields.find("\"38129\""), 7, "4294967296")),
            "ledger.ledger_index");

  // Transactions: not an array, hashes only, JSON forms, missing or bad hex.
  auto withTxs = [&](const std::string& txs) {
    return withLedger(R"("ledger_data":")" + data + R"(","transactions":)" + txs);
  };
  expectBad(withTxs("{}"), "ledger.transactions is not an array");
  expectBad(withTxs("[\"" + v.txHash + "\"]"), "ledger.transactions[0] is a hash");
  expectBad(withTxs("[3]"), "ledger.transactions[0] is not an object");
  expectBad(withTxs(R"([{"meta":")" + v.meta + "\"}]"), "ledger.transactions[0].tx_blob is missing");
  expectBad(withTxs(R"([{"tx_blob":"","meta":")" + v.meta + "\"}]"), "ledger.transactions[0].tx_blob is not");
  expectBad(withTxs(R"([{"tx_blob":"0G","meta":")" + v.meta + "\"}]"),
            "ledger.transactions[0].tx_blob is not");
  expectBad(withTxs(R"([{"tx_blob":")" + v.txBlob + "\"}]"), "ledger.transactions[0].meta_blob is missing");
  expectBad(withTxs(R"([{"tx_blob":")" + v.txBlob + R"(","meta":{"TransactionIndex":0}}])"),
            "ledger.transactions[0].meta is not");
  expectBad(withTxs(oneTx(1).replace(oneTx(1).find(v.txHash), 64, "12")),
            "ledger.transactions[0].hash is not");
  expectBad(withTxs("[" + oneTx(2).substr(1, oneTx(2).size() - 2) + ",{\"tx_blob\":1}]"),
            "ledger.transactions[1].tx_blob");
}
