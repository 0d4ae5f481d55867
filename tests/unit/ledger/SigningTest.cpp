#include "sashimono/ledger/Signing.h"

#include <gtest/gtest.h>

#include "VectorsFixture.h"
#include "sashimono/ledger/Codec.h"

using namespace sashimono;
using sashimono::testing::parseJson;

TEST(Signing, ReproducesVectorBlobsWithEd25519) {
  // ed25519 signatures are deterministic, so signing tx_json must give exactly tx_blob.
  auto v = sashimono::testing::loadXrplVectors();
  for (const auto& p : v["payments"].GetArray()) {
    auto kp = crypto::KeyPair::fromSeed(p["signer_seed"].GetString());
    ASSERT_TRUE(kp.ok());
    rapidjson::Document tx;
    tx.CopyFrom(p["tx_json"], tx.GetAllocator());
    auto blob = ledger::sign(tx, tx.GetAllocator(), *kp);
    ASSERT_TRUE(blob.ok()) << blob.error().message;
    EXPECT_EQ(core::toHex(*blob), p["tx_blob"].GetString());
    EXPECT_TRUE(ledger::verifySignature(tx).ok());
    auto decoded = ledger::decode(*blob);
    ASSERT_TRUE(decoded.ok());
    auto s = ledger::verifySignature(*decoded);
    EXPECT_TRUE(s.ok()) << s.error().message;
  }
}

TEST(Signing, Secp256k1SignAndVerify) {
  auto kp = crypto::KeyPair::fromSeed("sp5fghtJtpUorTwvof1NpDXAzNwf5");
  ASSERT_TRUE(kp.ok());
  auto tx = parseJson(R"({"TransactionType":"AccountSet","Account":")" + kp->address() +
                      R"(","Fee":"12","Sequence":5,"SetFlag":8,"Domain":"6578616D706C652E636F6D"})");
  auto blob = ledger::sign(tx, tx.GetAllocator(), *kp);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto s = ledger::verifySignature(tx);
  EXPECT_TRUE(s.ok()) << s.error().message;
  // Re-signing replaces the old signature rather than adding a second one.
  auto again = ledger::sign(tx, tx.GetAllocator(), *kp);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(tx.MemberCount(), 8u);
}

TEST(Signing, VerifyErrorCodes) {
  auto kp = crypto::KeyPair::fromSeed("sEdSJHS4oiAdz7w2X2ni1gFiqtbJHqE");
  auto other = crypto::KeyPair::fromSeed("sEdSKaCy2JT7JaM7v95H9SxkhP9wS2r");
  auto base = R"({"TransactionType":"Payment","Account":")" + kp->address() + R"(","Destination":")" +
              other->address() + R"(","Amount":"1","Fee":"10","Sequence":1})";

  auto tx = parseJson(base);
  ASSERT_TRUE(ledger::sign(tx, tx.GetAllocator(), *kp).ok());
  tx["Sequence"].SetUint(2);  // changed after signing
  auto r = ledger::verifySignature(tx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "temBAD_SIGNATURE");

  auto wrongKey = parseJson(base);
  ASSERT_TRUE(ledger::sign(wrongKey, wrongKey.GetAllocator(), *other).ok());
  r = ledger::verifySignature(wrongKey);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "tefBAD_AUTH");

  auto unsignedTx = parseJson(base);
  r = ledger::verifySignature(unsignedTx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "temMALFORMED");

  auto multi = parseJson(base);
  multi.AddMember("SigningPubKey", "", multi.GetAllocator());
  multi.AddMember("TxnSignature", "00", multi.GetAllocator());
  EXPECT_EQ(ledger::verifySignature(multi).error().code, "temBAD_SIGNATURE");

  auto badHex = parseJson(base);
  badHex.AddMember("SigningPubKey", "XYZ", badHex.GetAllocator());
  badHex.AddMember("TxnSignature", "00", badHex.GetAllocator());
  EXPECT_EQ(ledger::verifySignature(badHex).error().code, "temMALFORMED");

  auto noAccount = parseJson(R"({"TransactionType":"Payment","Fee":"10","Sequence":1})");
  ASSERT_TRUE(ledger::sign(noAccount, noAccount.GetAllocator(), *kp).ok());
  EXPECT_EQ(ledger::verifySignature(noAccount).error().code, "temMALFORMED");

  auto bad = parseJson(R"({"TransactionType":"Nope"})");
  EXPECT_FALSE(ledger::sign(bad, bad.GetAllocator(), *kp).ok());
  auto notObject = parseJson("[]");
  EXPECT_FALSE(ledger::sign(notObject, notObject.GetAllocator(), *kp).ok());
  EXPECT_FALSE(ledger::verifySignature(notObject).ok());
}
