#include "sashimono/ledger/Validation.h"

#include <gtest/gtest.h>

#include "ValidatorFixture.h"
#include "sashimono/ledger/Codec.h"

namespace sashimono::ledger {
namespace {
using crypto::KeyType;
using testing::hashOf;
using testing::keyPair;

const crypto::KeyPair& signer() {
  static const auto k = keyPair(KeyType::secp256k1, 7);
  return k;
}

ValidationFields fields(std::uint32_t seq) {
  ValidationFields f;
  f.ledgerSequence = seq;
  f.signingTime = 800000000;
  f.ledgerHash = hashOf(seq);
  return f;
}

TEST(Validation, SignParseVerify) {
  ValidationFields f = fields(42);
  f.networkId = 21337;
  f.cookie = 0x0123456789ABCDEFULL;
  f.consensusHash = hashOf(1);
  f.validatedHash = hashOf(41);
  f.serverVersion = 1745990410175512576ULL;
  const core::Bytes blob = signValidation(f, signer());
  auto v = parseValidation(blob);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->flags, 0x80000001U);
  EXPECT_TRUE(v->full());
  EXPECT_EQ(v->ledgerSequence, 42U);
  EXPECT_EQ(v->signingTime, 800000000U);
  EXPECT_EQ(v->ledgerHash, hashOf(42));
  EXPECT_EQ(v->networkId, 21337U);
  EXPECT_EQ(v->cookie, 0x0123456789ABCDEFULL);
  EXPECT_EQ(v->consensusHash, hashOf(1));
  EXPECT_EQ(v->validatedHash, hashOf(41));
  EXPECT_EQ(v->signingKey, signer().publicKey());
  EXPECT_EQ(v->raw, blob);
  EXPECT_TRUE(verifyValidation(*v).ok());

  const core::Bytes minimal = signValidation(fields(43), signer());
  auto m = parseValidation(minimal);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_FALSE(m->networkId);
  EXPECT_FALSE(m->cookie);
  EXPECT_FALSE(m->consensusHash);
  EXPECT_FALSE(m->validatedHash);
  EXPECT_TRUE(verifyValidation(*m).ok());
}

// Our bytes are the codec's encoding of the same fields, and the signature covers "VAL\0" + the
// fields without Signature.
TEST(Validation, BytesAreTheCodecsEncoding) {
  ValidationFields f = fields(6);
  f.cookie = 7;
  f.validatedHash = hashOf(5);
  const core::Bytes blob = signValidation(f, signer());
  auto json = decode(blob);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ((*json)["Flags"].GetUint(), 0x80000001U);
  EXPECT_EQ((*json)["LedgerSequence"].GetUint(), 6U);
  EXPECT_EQ(std::string((*json)["LedgerHash"].GetString()), core::toHex(hashOf(6)));
  auto again = encode(*json);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, blob);
  json->RemoveMember("Signature");
  auto unsignedBlob = encode(*json);
  ASSERT_TRUE(unsignedBlob.ok());
  auto v = parseValidation(blob);
  ASSERT_TRUE(v.ok());
  core::Bytes expected(kPrefixValidation.begin(), kPrefixValidation.end());
  expected.insert(expected.end(), unsignedBlob->begin(), unsignedBlob->end());
  EXPECT_EQ(v->signingData, expected);
}

TEST(Validation, TamperedBytesNeverVerify) {
  const core::Bytes blob = signValidation(fields(99), signer());
  for (std::size_t i = 0; i < blob.size(); ++i) {
    core::Bytes t = blob;
    t[i] ^= 0x04;
    auto v = parseValidation(t);
    if (!v.ok()) {
      EXPECT_EQ(v.error().code, "malformed");
      continue;
    }
    auto s = verifyValidation(*v);
    ASSERT_FALSE(s.ok()) << "byte " << i << " tampered still verifies";
    EXPECT_EQ(s.error().code, "badSignature");
  }
  for (std::size_t n = 0; n < blob.size(); ++n) {
    EXPECT_FALSE(parseValidation(core::ByteView(blob.data(), n)).ok()) << n;
  }
}

TEST(Validation, SignedByAnotherKeyDoesNotVerify) {
  // Swap in another key's SigningPubKey: the signature is not that key's.
  const auto other = keyPair(KeyType::secp256k1, 8);
  core::Bytes blob = signValidation(fields(5), signer());
  const auto& pk = signer().publicKey();
  auto at = std::search(blob.begin(), blob.end(), pk.begin(), pk.end());
  ASSERT_NE(at, blob.end());
  std::copy(other.publicKey().begin(), other.publicKey().end(), at);
  auto v = parseValidation(blob);
  ASSERT_TRUE(v.ok());
  auto s = verifyValidation(*v);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "badSignature");
}

TEST(Validation, Ed25519SigningKeysAreRefused) {
  const auto ed = keyPair(KeyType::ed25519, 9);
  auto v = parseValidation(signValidation(fields(5), ed));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, "malformed");
  EXPECT_NE(v.error().message.find("secp256k1"), std::string::npos);
}

TEST(Validation, RequiredFields) {
  // Each required field left out of an otherwise well-formed object.
  const std::string key = core::toHex(signer().publicKey());
  const std::string hash = core::toHex(hashOf(1));
  const std::vector<std::pair<const char*, std::string>> all = {{"Flags", "2147483649"},
                                                                {"LedgerSequence", "1"},
                                                                {"SigningTime", "2"},
                                                                {"LedgerHash", '"' + hash + '"'},
                                                                {"SigningPubKey", '"' + key + '"'},
                                                                {"Signature", "\"3006020101020101\""}};
  for (std::size_t skip = 0; skip < all.size(); ++skip) {
    std::string json = "{";
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (i == skip) continue;
      if (json.size() > 1) json += ",";
      json += std::string("\"") + all[i].first + "\":" + all[i].second;
    }
    json += "}";
    rapidjson::Document d;
    d.Parse(json.c_str());
    auto blob = encode(d);
    ASSERT_TRUE(blob.ok()) << json;
    auto v = parseValidation(*blob);
    ASSERT_FALSE(v.ok()) << "without " << all[skip].first;
    EXPECT_EQ(v.error().code, "malformed");
    EXPECT_NE(v.error().message.find(all[skip].first), std::string::npos) << v.error().message;
  }
}

TEST(Validation, StructureErrors) {
  EXPECT_EQ(parseValidation({}).error().code, "malformed");
  EXPECT_EQ(parseValidation(core::Bytes(kMaxValidationBytes + 1, 0)).error().code, "malformed");
  // Nested objects do not belong in a validation.
  rapidjson::Document d;
  d.Parse(R"({"Flags":1,"Memos":[{"Memo":{"MemoType":"AA"}}]})");
  auto blob = encode(d);
  ASSERT_TRUE(blob.ok());
  auto v = parseValidation(*blob);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("nested"), std::string::npos) << v.error().message;
  // Non-canonical order is refused by the codec's rules.
  core::Bytes good = signValidation(fields(3), signer());
  core::Bytes swapped = good;
  std::rotate(swapped.begin(), swapped.begin() + 5, swapped.begin() + 10);  // Flags after LedgerSequence
  EXPECT_FALSE(parseValidation(swapped).ok());
}

TEST(Validation, PartialValidationsParseAndVerify) {
  ValidationFields f = fields(10);
  f.flags = kValidationFullyCanonicalSig;
  auto v = parseValidation(signValidation(f, signer()));
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->full());
  EXPECT_TRUE(verifyValidation(*v).ok());
}

}  // namespace
}  // namespace sashimono::ledger
