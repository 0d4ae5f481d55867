#include "sashimono/board/Requests.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "ParseJson.h"

using namespace sashimono::board;

using sashimono::board::testing::parse;

TEST(RequestsTest, WithIdPrependsTheId) {
  EXPECT_EQ(withId(7, R"({"command":"ping"})"), R"({"id":7,"command":"ping"})");
  EXPECT_EQ(withId(1, "{}"), R"({"id":1})");
  EXPECT_EQ(withId(1, "[]"), "");
  EXPECT_EQ(withId(1, ""), "");
}

TEST(RequestsTest, AccountTxIsBinaryForwardWithMarker) {
  AccountTxQuery q;
  q.account = "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh";
  q.ledgerMin = 5;
  q.ledgerMax = 9;
  q.marker = R"({"ledger":6,"seq":2})";
  auto d = parse(renderAccountTx(q));
  EXPECT_STREQ(d["command"].GetString(), "account_tx");
  EXPECT_EQ(d["ledger_index_min"].GetInt64(), 5);
  EXPECT_EQ(d["ledger_index_max"].GetInt64(), 9);
  EXPECT_TRUE(d["forward"].GetBool());
  EXPECT_TRUE(d["binary"].GetBool());
  EXPECT_EQ(d["marker"]["ledger"].GetUint(), 6u);
  EXPECT_EQ(d["marker"]["seq"].GetUint(), 2u);
  q.marker = "not json";
  EXPECT_TRUE(parse(renderAccountTx(q))["marker"].IsNull());
}

TEST(RequestsTest, TxSubscribeSubmit) {
  TxQuery q;
  q.hash[0] = 0xAB;
  q.minLedger = 3;
  q.maxLedger = 8;
  auto d = parse(renderTx(q));
  EXPECT_EQ(std::string(d["transaction"].GetString()).substr(0, 4), "AB00");
  EXPECT_TRUE(d["binary"].GetBool());
  EXPECT_EQ(d["min_ledger"].GetUint(), 3u);
  auto s = parse(renderSubscribe("rX", true));
  EXPECT_STREQ(s["accounts"][0].GetString(), "rX");
  EXPECT_STREQ(s["streams"][0].GetString(), "ledger");
  EXPECT_FALSE(parse(renderSubscribe("", true)).HasMember("accounts"));
  std::uint8_t blob[] = {0x12, 0x00};
  EXPECT_STREQ(parse(renderSubmit(blob))["tx_blob"].GetString(), "1200");
  EXPECT_STREQ(parse(renderAccountInfo("rX", true))["ledger_index"].GetString(), "validated");
}
