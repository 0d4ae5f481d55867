#include "sashimono/ledger/Payment.h"

#include <gtest/gtest.h>

#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Signing.h"

using namespace sashimono;

namespace {

crypto::KeyPair newKey(crypto::KeyType t = crypto::KeyType::ed25519) {
  return *crypto::KeyPair::fromSeed(crypto::generateSeed(t));
}

core::Bytes bytes(std::string_view s) { return core::Bytes(s.begin(), s.end()); }

}  // namespace

TEST(PaymentTest, SignsAVerifiablePaymentWithEveryField) {
  for (auto type : {crypto::KeyType::ed25519, crypto::KeyType::secp256k1}) {
    const auto from = newKey(type);
    const auto to = newKey();
    ledger::Payment p;
    p.destination = to.accountId();
    p.amount.drops = 1234;
    p.fee = 15;
    p.sequence = 7;
    p.lastLedgerSequence = 120;
    p.memos.push_back(ledger::Memo{bytes("sashimono.acquire"), bytes("x"), bytes("application/x-sealed")});
    auto blob = ledger::signPayment(p, from);
    ASSERT_TRUE(blob.ok()) << blob.error().message;
    auto tx = ledger::decodeTransaction(*blob);
    ASSERT_TRUE(tx.ok()) << tx.error().message;
    EXPECT_TRUE(ledger::verifySignature(*tx).ok());
    EXPECT_EQ(tx->type, 0);  // Payment
    EXPECT_EQ(tx->account, from.accountId());
    ASSERT_TRUE(tx->destination);
    EXPECT_EQ(*tx->destination, to.accountId());
    ASSERT_TRUE(tx->amount);
    EXPECT_TRUE(tx->amount->native);
    EXPECT_EQ(tx->amount->drops, 1234u);
    EXPECT_EQ(tx->fee, 15u);
    EXPECT_EQ(tx->sequence, 7u);
    EXPECT_EQ(tx->flags, 0u);
    EXPECT_EQ(tx->lastLedgerSequence, std::optional<std::uint32_t>(120));
    ASSERT_EQ(tx->memos.size(), 1u);
    EXPECT_EQ(tx->memos[0].type, bytes("sashimono.acquire"));
    EXPECT_EQ(tx->memos[0].data, bytes("x"));
    EXPECT_EQ(tx->memos[0].format, bytes("application/x-sealed"));
    EXPECT_EQ(tx->hash, ledger::transactionHash(*blob));
  }
}

TEST(PaymentTest, OptionalPartsAreLeftOut) {
  const auto from = newKey();
  ledger::Payment p;
  p.destination = newKey().accountId();
  p.amount.drops = 1;
  auto blob = ledger::signPayment(p, from);
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto tx = ledger::decodeTransaction(*blob);
  ASSERT_TRUE(tx.ok());
  EXPECT_FALSE(tx->lastLedgerSequence);
  EXPECT_TRUE(tx->memos.empty());
  auto json = ledger::decode(*blob);
  ASSERT_TRUE(json.ok());
  EXPECT_FALSE(json->HasMember("Memos"));
  EXPECT_FALSE(json->HasMember("LastLedgerSequence"));

  // A memo with only some fields writes only those.
  p.memos.push_back(ledger::Memo{bytes("t"), std::nullopt, bytes("d")});
  auto withMemo = ledger::decodeTransaction(*ledger::signPayment(p, from));
  ASSERT_TRUE(withMemo.ok());
  ASSERT_EQ(withMemo->memos.size(), 1u);
  EXPECT_FALSE(withMemo->memos[0].data);
  EXPECT_EQ(withMemo->memos[0].format, bytes("d"));
}

TEST(PaymentTest, IssuedAmountsRoundTrip) {
  // An issued amount as the decoder reports it, re-signed into a new payment.
  const auto issuer = newKey();
  rapidjson::Document d(rapidjson::kObjectType);
  auto& a = d.GetAllocator();
  d.AddMember("TransactionType", "Payment", a);
  d.AddMember("Account", rapidjson::Value(issuer.address().c_str(), a), a);
  d.AddMember("Destination", rapidjson::Value(newKey().address().c_str(), a), a);
  rapidjson::Value amt(rapidjson::kObjectType);
  amt.AddMember("currency", "USD", a);
  amt.AddMember("issuer", rapidjson::Value(issuer.address().c_str(), a), a);
  amt.AddMember("value", "1.5", a);
  d.AddMember("Amount", amt, a);
  d.AddMember("Fee", "10", a);
  d.AddMember("Sequence", 1u, a);
  auto src = ledger::decodeTransaction(*ledger::sign(d, a, issuer));
  ASSERT_TRUE(src.ok()) << src.error().message;
  ASSERT_TRUE(src->amount && !src->amount->native);

  ledger::Payment p;
  p.destination = issuer.accountId();
  p.amount = *src->amount;
  auto tx = ledger::decodeTransaction(*ledger::signPayment(p, newKey()));
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(tx->amount);
  EXPECT_FALSE(tx->amount->native);
  EXPECT_EQ(tx->amount->issued, src->amount->issued);
}

TEST(PaymentTest, RefusesImpossibleNativeAmounts) {
  ledger::Payment p;
  p.destination = newKey().accountId();
  p.amount.drops = 5;
  p.amount.negative = true;
  EXPECT_FALSE(ledger::signPayment(p, newKey()).ok());
  p.amount.negative = false;
  p.amount.drops = 100'000'000'000'000'001ULL;
  EXPECT_FALSE(ledger::signPayment(p, newKey()).ok());
}

TEST(PaymentTest, PaymentFeeTakesTheLargestWithinBounds) {
  EXPECT_EQ(ledger::paymentFee(10, 12), 12u);
  EXPECT_EQ(ledger::paymentFee(0, 0), 10u);                  // the floor
  EXPECT_EQ(ledger::paymentFee(20, 5, 10), 20u);             // the base fee
  EXPECT_EQ(ledger::paymentFee(10, 5000, 10, 1000), 1000u);  // capped
  EXPECT_EQ(ledger::paymentFee(10, 500, 10, 1000), 500u);
}

TEST(PaymentTest, NetworkIdIsWrittenOnlyWhenSet) {
  const auto from = newKey();
  ledger::Payment p;
  p.destination = newKey().accountId();
  p.amount.drops = 1;
  auto plain = ledger::signPayment(p, from);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  auto plainJson = ledger::decode(*plain);
  ASSERT_TRUE(plainJson.ok());
  EXPECT_FALSE(plainJson->HasMember("NetworkID"));
  EXPECT_FALSE(ledger::decodeTransaction(*plain)->networkId);

  p.networkId = 21337;
  auto tagged = ledger::signPayment(p, from);
  ASSERT_TRUE(tagged.ok()) << tagged.error().message;
  auto json = ledger::decode(*tagged);
  ASSERT_TRUE(json.ok());
  ASSERT_TRUE(json->HasMember("NetworkID"));
  EXPECT_EQ((*json)["NetworkID"].GetUint(), 21337u);
  auto tx = ledger::decodeTransaction(*tagged);
  ASSERT_TRUE(tx.ok()) << tx.error().message;
  EXPECT_EQ(tx->networkId, std::optional<std::uint32_t>(21337));
  EXPECT_TRUE(ledger::verifySignature(*tx).ok());  // the field is signed
  EXPECT_NE(tx->hash, ledger::decodeTransaction(*plain)->hash);
}

TEST(PaymentTest, NetworkIdFieldOnlyAbove1024) {
  EXPECT_FALSE(ledger::networkIdField(std::nullopt));
  EXPECT_FALSE(ledger::networkIdField(0));
  EXPECT_FALSE(ledger::networkIdField(1));
  EXPECT_FALSE(ledger::networkIdField(1024));
  EXPECT_EQ(ledger::networkIdField(1025), std::optional<std::uint32_t>(1025));
  EXPECT_EQ(ledger::networkIdField(21337), std::optional<std::uint32_t>(21337));
  EXPECT_EQ(ledger::networkIdField(0xFFFFFFFFu), std::optional<std::uint32_t>(0xFFFFFFFFu));
}
