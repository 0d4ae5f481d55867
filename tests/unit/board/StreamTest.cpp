#include "sashimono/board/Stream.h"

#include <gtest/gtest.h>

using namespace sashimono::board;

namespace {
rapidjson::Document parse(const char* s) {
  rapidjson::Document d;
  d.Parse(s);
  return d;
}
const char* kHash = "E08D6E9754025BA2534A78707605E0601F03ACE063687A0CA1BDDACFCD1698C7";
}  // namespace

TEST(StreamTest, LedgerClosed) {
  auto e =
      parseStreamEvent(parse(R"({"type":"ledgerClosed","ledger_index":42,"ledger_hash":"AB","txn_count":3,
                                      "validated_ledgers":"1-42"})"));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->kind, StreamEvent::Kind::ledgerClosed);
  EXPECT_EQ(e->ledgerIndex, 42u);
  EXPECT_EQ(e->txnCount, 3u);
  EXPECT_EQ(e->validatedLedgers, "1-42");
  EXPECT_FALSE(parseStreamEvent(parse(R"({"type":"ledgerClosed","ledger_index":"x"})")).ok());
}

TEST(StreamTest, TransactionV1AndV2) {
  std::string v1 =
      std::string(R"({"type":"transaction","validated":true,"ledger_index":7,"engine_result":"tesSUCCESS",
      "meta":{"TransactionIndex":2},"transaction":{"hash":")") +
      kHash + R"("}})";
  auto e = parseStreamEvent(parse(v1.c_str()));
  ASSERT_TRUE(e.ok()) << e.error().message;
  EXPECT_EQ(e->kind, StreamEvent::Kind::transaction);
  EXPECT_TRUE(e->validated);
  EXPECT_EQ(e->ledgerIndex, 7u);
  EXPECT_EQ(e->engineResult, "tesSUCCESS");
  EXPECT_EQ(e->txIndex, 2u);
  EXPECT_EQ(e->hash[0], 0xE0);

  std::string v2 = std::string(R"({"type":"transaction","validated":false,"ledger_index":8,"hash":")") +
                   kHash + R"(","tx_json":{}})";
  auto e2 = parseStreamEvent(parse(v2.c_str()));
  ASSERT_TRUE(e2.ok());
  EXPECT_FALSE(e2->validated);
  EXPECT_EQ(e2->hash[31], 0xC7);
}

TEST(StreamTest, GarbageIsAnErrorOrOther) {
  EXPECT_FALSE(parseStreamEvent(parse("[1,2]")).ok());
  EXPECT_FALSE(parseStreamEvent(parse(R"({"no":"type"})")).ok());
  EXPECT_FALSE(parseStreamEvent(parse(R"({"type":"transaction","ledger_index":1,"hash":"abc"})")).ok());
  EXPECT_FALSE(parseStreamEvent(parse(R"({"type":"transaction","hash":"00"})")).ok());
  auto other = parseStreamEvent(parse(R"({"type":"serverStatus"})"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->kind, StreamEvent::Kind::other);
}

TEST(StreamTest, IsResponse) {
  EXPECT_TRUE(isResponse(parse(R"({"id":1,"result":{}})")));
  EXPECT_TRUE(isResponse(parse(R"({"type":"response"})")));
  EXPECT_FALSE(isResponse(parse(R"({"type":"ledgerClosed"})")));
}
