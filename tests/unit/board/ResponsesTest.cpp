#include "sashimono/board/Responses.h"

#include <gtest/gtest.h>

#include "ParseJson.h"
#include "fakes/board/TestTx.h"
#include "sashimono/ledger/Codec.h"

using namespace sashimono;
using namespace sashimono::board;

namespace {
using sashimono::board::testing::parse;
std::string ok(const std::string& result) {
  return R"({"id":1,"status":"success","type":"response","result":)" + result + "}";
}
}  // namespace

TEST(ResponsesTest, ErrorEnvelopeCarriesTheToken) {
  auto r = resultOf(parse(R"({"id":1,"status":"error","type":"response","error":"actNotFound",
                              "error_message":"Account not found."})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "actNotFound");
  auto nf = parseTx(parse(R"({"id":1,"status":"error","error":"txnNotFound","searched_all":true})"));
  ASSERT_FALSE(nf.ok());
  EXPECT_TRUE(isSearchedAllNotFound(nf.error()));
  auto nf2 = parseTx(parse(R"({"id":1,"status":"error","error":"txnNotFound","searched_all":false})"));
  EXPECT_FALSE(isSearchedAllNotFound(nf2.error()));
  auto inv = parseSubmit(
      parse(R"({"status":"error","error":"invalidTransaction","error_exception":"fails local checks"})"));
  ASSERT_FALSE(inv.ok());
  EXPECT_EQ(inv.error().code, "invalidTransaction");
  EXPECT_NE(inv.error().message.find("fails local checks"), std::string::npos);
}

TEST(ResponsesTest, GarbageIsBadResponse) {
  for (const char* s : {"[]", R"({"status":"success"})", R"({"status":"success","result":3})",
                        R"({"status":"weird","result":{}})"}) {
    auto r = resultOf(parse(s));
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error().code, "badResponse") << s;
  }
  EXPECT_FALSE(
      parseAccountInfo(parse(ok(R"({"account_data":{"Account":"r1","Sequence":"x","Balance":"5"}})"))).ok());
  EXPECT_FALSE(parseAccountTx(parse(ok(R"({"transactions":{}})"))).ok());
  EXPECT_FALSE(
      parseAccountTx(
          parse(ok(R"({"transactions":[{"tx_blob":"ZZ","meta":"00","validated":true,"ledger_index":3}]})")))
          .ok());
  EXPECT_FALSE(parseTx(parse(ok(R"({"tx":"","validated":true})"))).ok());
}

TEST(ResponsesTest, ServerInfoFeeAccountInfo) {
  auto si = parseServerInfo(
      parse(ok(R"({"info":{"build_version":"2.3.0","complete_ledgers":"1-9","server_state":"full",
      "network_id":21338,"peers":0,"validated_ledger":{"seq":9,"hash":"AB"}}})")));
  ASSERT_TRUE(si.ok()) << si.error().message;
  EXPECT_EQ(si->validatedLedger, 9u);
  EXPECT_EQ(si->networkId, 21338u);
  EXPECT_EQ(si->completeLedgers, "1-9");
  auto f = parseFee(
      parse(ok(R"({"drops":{"base_fee":"10","median_fee":"5000","minimum_fee":"10","open_ledger_fee":"12"},
      "ledger_current_index":10})")));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->openLedgerFee, 12u);
  EXPECT_EQ(f->ledgerCurrentIndex, 10u);
  auto a = parseAccountInfo(
      parse(ok(R"({"account_data":{"Account":"rA","Sequence":5,"Balance":"1000000","OwnerCount":0,
      "Flags":0},"ledger_current_index":11,"validated":false})")));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->sequence, 5u);
  EXPECT_EQ(a->balance, 1000000u);
  EXPECT_EQ(a->ledgerIndex, 11u);
  EXPECT_FALSE(a->validated);
}

TEST(ResponsesTest, SubmitResult) {
  auto s = parseSubmit(
      parse(ok(R"({"engine_result":"tesSUCCESS","engine_result_code":0,"engine_result_message":"ok",
      "accepted":true,"applied":true,"tx_json":{"hash":"AA"},"account_sequence_next":6,"validated_ledger_index":9})")));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->engineResult, "tesSUCCESS");
  EXPECT_TRUE(s->accepted);
  EXPECT_EQ(s->hash, "AA");
  EXPECT_EQ(s->accountSequenceNext, 6u);
}

TEST(ResponsesTest, BinaryTxAndAccountTxHashTheBlobLocally) {
  auto key = board::fakes::newKey();
  auto blob = board::fakes::signedPayment(key, board::fakes::newKey().address(), 1000, 3);
  auto meta = board::fakes::metaBlob(4, "tecUNFUNDED_PAYMENT");
  const std::string hash = core::toHex(ledger::transactionHash(blob));
  // The server's claimed hash is ignored: BoardTx::hash is computed from the blob.
  auto t = parseTx(parse(ok(R"({"tx":")" + core::toHex(blob) + R"(","meta":")" + core::toHex(meta) +
                            R"(","hash":"00","ledger_index":12,"validated":true})")));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->validated);
  EXPECT_EQ(core::toHex(t->tx.hash), hash);
  EXPECT_EQ(t->tx.blob, blob);
  EXPECT_EQ(t->tx.ledgerIndex, 12u);
  EXPECT_EQ(t->tx.result, "tecUNFUNDED_PAYMENT");
  EXPECT_EQ(t->tx.txIndex, 4u);

  auto page =
      parseAccountTx(parse(ok(R"({"ledger_index_min":1,"ledger_index_max":20,"marker":{"ledger":13,"seq":0},
      "transactions":[{"ledger_index":12,"meta":")" +
                              core::toHex(meta) + R"(","tx_blob":")" + core::toHex(blob) +
                              R"(","validated":true},{"ledger_index":13,"meta":"","tx_blob":")" +
                              core::toHex(blob) + R"(","validated":false}]})")));
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->transactions.size(), 1u);  // the unvalidated entry is left out
  EXPECT_EQ(core::toHex(page->transactions[0].hash), hash);
  ASSERT_TRUE(page->marker.has_value());
  EXPECT_EQ(*page->marker, R"({"ledger":13,"seq":0})");
  EXPECT_EQ(page->ledgerIndexMax, 20u);
}

TEST(ResponsesTest, JsonFormsGiveHashLedgerResult) {
  const std::string h = "E08D6E9754025BA2534A78707605E0601F03ACE063687A0CA1BDDACFCD1698C7";
  auto t = parseTx(parse(ok(
      R"({"Account":"rA","hash":")" + h +
      R"(","meta":{"TransactionResult":"tesSUCCESS","TransactionIndex":1},"ledger_index":5,"validated":true})")));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t->tx.blob.empty());
  EXPECT_EQ(core::toHex(t->tx.hash), h);
  EXPECT_EQ(t->tx.result, "tesSUCCESS");
  auto page = parseAccountTx(
      parse(ok(R"({"transactions":[{"meta":{"TransactionResult":"tesSUCCESS"},"tx":{"hash":")" + h +
               R"(","ledger_index":6},"validated":true}]})")));
  ASSERT_TRUE(page.ok()) << page.error().message;
  ASSERT_EQ(page->transactions.size(), 1u);
  EXPECT_EQ(page->transactions[0].ledgerIndex, 6u);
}
