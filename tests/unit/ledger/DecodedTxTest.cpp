#include "sashimono/ledger/DecodedTx.h"

#include <gtest/gtest.h>

#include "VectorsFixture.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Signing.h"

using namespace sashimono;
using sashimono::testing::parseJson;

TEST(DecodedTx, VectorsMatchTheJsonPath) {
  auto v = sashimono::testing::loadXrplVectors();
  for (const auto& p : v["payments"].GetArray()) {
    auto blob = core::fromHex(p["tx_blob"].GetString());
    auto tx = ledger::decodeTransaction(*blob);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    const auto& j = p["tx_json"];
    EXPECT_EQ(tx->type, ledger::txtype::kPayment);
    EXPECT_EQ(crypto::encodeAddress(tx->account), j["Account"].GetString());
    ASSERT_TRUE(tx->destination.has_value());
    EXPECT_EQ(crypto::encodeAddress(*tx->destination), j["Destination"].GetString());
    ASSERT_TRUE(tx->amount.has_value());
    EXPECT_TRUE(tx->amount->native);
    EXPECT_EQ(std::to_string(tx->amount->drops), j["Amount"].GetString());
    EXPECT_EQ(std::to_string(tx->fee), j["Fee"].GetString());
    EXPECT_EQ(tx->sequence, j["Sequence"].GetUint());
    EXPECT_EQ(tx->flags, j["Flags"].GetUint());
    EXPECT_EQ(tx->lastLedgerSequence.has_value(), j.HasMember("LastLedgerSequence"));
    EXPECT_EQ(tx->destinationTag.has_value(), j.HasMember("DestinationTag"));
    EXPECT_EQ(tx->sourceTag.has_value(), j.HasMember("SourceTag"));
    EXPECT_EQ(tx->memos.size(), j.HasMember("Memos") ? j["Memos"].Size() : 0u);
    EXPECT_EQ(core::toHex(tx->hash), p["hash"].GetString());
    // (The vectors' signing_blob is of the unsigned tx_json, without SigningPubKey.)
    auto json = ledger::decode(*blob);
    ASSERT_TRUE(json.ok());
    EXPECT_EQ(tx->signingData, *ledger::encodeForSigning(*json));
    EXPECT_TRUE(tx->otherFields.empty());
    auto s = ledger::verifySignature(*tx);
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
}

TEST(DecodedTx, MemosAndOtherFields) {
  auto kp = crypto::KeyPair::fromSeed("sEdSJHS4oiAdz7w2X2ni1gFiqtbJHqE");
  auto tx = parseJson(R"({"TransactionType":"AccountSet","Account":")" + kp->address() +
                      R"(","Fee":"10","Sequence":3,"SetFlag":5,"Domain":"AA","NetworkID":9,"TicketSequence":4,
       "Memos":[{"Memo":{"MemoType":"01","MemoFormat":""}},{"Memo":{"MemoData":"0203"}}]})");
  auto blob = ledger::sign(tx, tx.GetAllocator(), *kp);
  ASSERT_TRUE(blob.ok());
  auto d = ledger::decodeTransaction(*blob);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->type, ledger::txtype::kAccountSet);
  EXPECT_EQ(d->setFlag, 5u);
  EXPECT_EQ(d->networkId, 9u);
  EXPECT_EQ(d->ticketSequence, 4u);
  ASSERT_EQ(d->memos.size(), 2u);
  EXPECT_EQ(d->memos[0].type, core::Bytes{1});
  EXPECT_EQ(d->memos[0].format, core::Bytes{});
  EXPECT_FALSE(d->memos[0].data.has_value());
  EXPECT_EQ(d->memos[1].data, (core::Bytes{2, 3}));
  ASSERT_EQ(d->otherFields.size(), 1u);
  EXPECT_STREQ(d->otherFields[0]->name, "Domain");
  EXPECT_TRUE(ledger::verifySignature(*d).ok());
}

TEST(DecodedTx, IssuedAmount) {
  auto tx = parseJson(R"({"TransactionType":"Payment","Account":"r9zRhGr7b6xPekLvT6wP4qNdWMryaumZS7",
      "Destination":"rLUEXYuLiQptky37CqLcm9USQpPiz5rkpD","Fee":"10","Sequence":1,
      "Amount":{"currency":"USD","issuer":"rLUEXYuLiQptky37CqLcm9USQpPiz5rkpD","value":"1.5"},
      "SendMax":"1000","DeliverMin":{"currency":"USD","issuer":"rLUEXYuLiQptky37CqLcm9USQpPiz5rkpD","value":"1"}})");
  auto blob = ledger::encode(tx);
  ASSERT_TRUE(blob.ok());
  auto d = ledger::decodeTransaction(*blob);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->amount->native);
  EXPECT_TRUE(d->sendMax->native);
  EXPECT_EQ(d->sendMax->drops, 1000u);
  EXPECT_FALSE(d->deliverMin->native);
  auto s = ledger::verifySignature(*d);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "temBAD_SIGNATURE");  // unsigned
}

TEST(DecodedTx, Errors) {
  auto enc = [](const std::string& json) { return *ledger::encode(parseJson(json)); };
  auto code = [](const core::Bytes& b) {
    auto d = ledger::decodeTransaction(b);
    return d.ok() ? std::string("ok") : d.error().code + ": " + d.error().message;
  };
  const std::string acct = R"("Account":"r9zRhGr7b6xPekLvT6wP4qNdWMryaumZS7")";
  EXPECT_NE(code(enc(R"({"Fee":"10","Sequence":1,)" + acct + "}")).find("no TransactionType"),
            std::string::npos);
  EXPECT_NE(code(enc(R"({"TransactionType":"Payment","Fee":"10","Sequence":1})")).find("no Account"),
            std::string::npos);
  EXPECT_NE(code(enc(R"({"TransactionType":"Payment","Sequence":1,)" + acct + "}")).find("no Fee"),
            std::string::npos);
  EXPECT_NE(code(enc(R"({"TransactionType":"Payment","Fee":"10",)" + acct + "}")).find("no Sequence"),
            std::string::npos);
  EXPECT_NE(
      code(enc(R"({"TransactionType":"Payment","Sequence":1,"Fee":{"currency":"USD","value":"1","issuer":)"
               R"("r9zRhGr7b6xPekLvT6wP4qNdWMryaumZS7"},)" +
               acct + "}"))
          .find("temBAD_FEE"),
      std::string::npos);
  EXPECT_NE(
      code(enc(R"({"TransactionType":"Payment","Sequence":1,"Fee":"-5",)" + acct + "}")).find("temBAD_FEE"),
      std::string::npos);
  EXPECT_NE(code(enc(R"({"TransactionType":"Payment","Fee":"1","Sequence":1,"Memos":[{"Signer":{}}],)" +
                     acct + "}"))
                .find("not a Memo"),
            std::string::npos);
  EXPECT_NE(
      code(enc(R"({"TransactionType":"Payment","Fee":"1","Sequence":1,"Memos":[{"Memo":{"Domain":"00"}}],)" +
               acct + "}"))
          .find("MemoType"),
      std::string::npos);
  auto good = enc(R"({"TransactionType":"Payment","Fee":"1","Sequence":1,)" + acct + "}");
  EXPECT_EQ(code(good), "ok");
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_NE(code(core::Bytes(good.begin(), good.begin() + static_cast<long>(n))), "ok") << n;
  }
  auto trailing = good;
  trailing.push_back(0xE1);
  EXPECT_NE(code(trailing).find("temMALFORMED"), std::string::npos);
}
