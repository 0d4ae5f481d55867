#include "sashimono/board/Stream.h"

#include <gtest/gtest.h>

#include "fakes/board/TestTx.h"
#include "sashimono/devnet/TxJson.h"
#include "sashimono/ledger/Codec.h"

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

// ---- localTransaction: the blob re-encoded from the message, as the devnet renders it ----

namespace {

sashimono::core::Bytes richMeta() {
  rapidjson::Document d;
  d.Parse(R"({"AffectedNodes":[{"ModifiedNode":{"LedgerEntryType":"AccountRoot",
    "LedgerIndex":"13F1A95D7AAB7108D5CE7EEAF504B2894B8C674E6D68499076441C4837282BF8",
    "FinalFields":{"Account":"rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh","Balance":"99999990","Flags":0,
      "OwnerCount":0,"Sequence":2},
    "PreviousFields":{"Balance":"100000000","Sequence":1},
    "PreviousTxnID":"E08D6E9754025BA2534A78707605E0601F03ACE063687A0CA1BDDACFCD1698C7",
    "PreviousTxnLgrSeq":3}}],
    "TransactionIndex":4,"TransactionResult":"tesSUCCESS","DeliveredAmount":"1000"})");
  auto b = sashimono::ledger::encode(d);
  EXPECT_TRUE(b.ok()) << b.error().message;
  return *b;
}

}  // namespace

TEST(StreamTest, LocalTransactionReproducesBlobAndMetaInBothApiVersions) {
  using namespace sashimono;
  const auto from = board::fakes::newKey();
  const auto to = board::fakes::newKey();
  devnet::StoredTx st;
  st.blob = board::fakes::signedPayment(from, to.address(), 1000, 1);
  st.hash = ledger::transactionHash(st.blob);
  st.meta = richMeta();
  st.ledgerSeq = 9;
  st.index = 4;
  st.closeTime = 800000000;
  for (int api : {1, 2}) {
    SCOPED_TRACE("api v" + std::to_string(api));
    auto text = devnet::renderTransactionMessage(st, api, 0);
    ASSERT_TRUE(text.ok()) << text.error().message;
    auto msg = parse(text->c_str());
    auto ev = parseStreamEvent(msg);
    ASSERT_TRUE(ev.ok()) << ev.error().message;
    auto local = localTransaction(msg, *ev);
    ASSERT_TRUE(local.has_value()) << *text;
    EXPECT_EQ(local->blob, st.blob);
    EXPECT_EQ(local->meta, st.meta);
    EXPECT_EQ(local->hash, st.hash);
    EXPECT_EQ(local->ledgerIndex, 9u);
    EXPECT_EQ(local->txIndex, 4u);
    EXPECT_EQ(local->result, "tesSUCCESS");
    // A server whose JSON says something other than what was signed is not believed.
    auto tampered = parse(text->c_str());
    auto& tx = tampered.HasMember("tx_json") ? tampered["tx_json"] : tampered["transaction"];
    tx["DeliverMax"].SetString("999999", tampered.GetAllocator());
    if (tx.HasMember("Amount")) tx["Amount"].SetString("999999", tampered.GetAllocator());
    EXPECT_FALSE(localTransaction(tampered, *ev).has_value());
    // Metadata that does not encode (unknown field): fetched instead.
    auto badMeta = parse(text->c_str());
    badMeta["meta"].AddMember("NotAField", 1, badMeta.GetAllocator());
    EXPECT_FALSE(localTransaction(badMeta, *ev).has_value());
  }
}
