#include "sashimono/board/ValidationStream.h"

#include <gtest/gtest.h>

#include "ParseJson.h"
#include "sashimono/board/Requests.h"
#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/core/Base64.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"

namespace sashimono::board {
namespace {
using testing::parse;

crypto::KeyPair key(crypto::KeyType type, std::uint8_t fill) {
  std::array<std::uint8_t, 16> e{};
  e.fill(fill);
  return *crypto::KeyPair::fromSeed(crypto::Seed(type, e));
}

// The real manifest of validator nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p as the
// xrpl.org `manifest` method page shows the answer.
const char* kRealAnswer = R"({"result":{"details":{"domain":"",
  "ephemeral_key":"n9J67zk4B7GpbQV5jRQntbgdKf7TW6894QuG7qq1rE5gvjCu6snA",
  "master_key":"nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p","seq":1},
  "manifest":"JAAAAAFxIe3AkJgOyqs3y+UuiAI27Ff3Mrfbt8e7mjdo06bnGEp5XnMhAhRmvCZmWZXlwShVE9qXs2AVCvhVuA/WGYkTX/vVGBGwdkYwRAIgGnYpIGufURojN2cTXakAM7Vwa0GR7o3osdVlZShroXQCIH9R/Lx1v9rdb4YY2n5nrxdnhSSof3U6V/wIHJmeao5ucBJA9D1iAMo7YFCpb245N3Czc0L1R2Xac0YwQ6XdGT+cZ7yw2n8JbdC3hH8Xu9OUqc867Ee6JmlXtyDHzBdY/hdJCQ==",
  "requested":"nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p"},"status":"success","type":"response"})";

TEST(ValidationStream, ValidationReceivedCarriesTheSerializedValidation) {
  ledger::ValidationFields f;
  f.ledgerSequence = 6;
  f.signingTime = 515115322;
  f.ledgerHash[0] = 0xEC;
  const auto signer = key(crypto::KeyType::secp256k1, 3);
  const core::Bytes blob = ledger::signValidation(f, signer);
  const std::string msg = R"({"type":"validationReceived","flags":2147483649,"full":true,"ledger_index":"6",)"
                          R"("validation_public_key":")" +
                          crypto::encodeNodePublic(signer.publicKey()) + R"(","data":")" + core::toHex(blob) +
                          R"(","signature":"00","signing_time":515115322})";
  auto v = parseValidationReceived(parse(msg));
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->blob, blob);
  EXPECT_EQ(v->ledgerIndex, 6U);
  EXPECT_EQ(v->validationPublicKey, crypto::encodeNodePublic(signer.publicKey()));
  auto parsed = ledger::parseValidation(v->blob);
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(ledger::verifyValidation(*parsed).ok());
}

TEST(ValidationStream, ValidationReceivedErrors) {
  // The xrpl.org example, which predates `data`: the server is too old to be of use.
  auto old = parseValidationReceived(parse(
      R"({"type":"validationReceived","flags":2147483649,"full":true,"ledger_hash":"EC02890710AAA2B71221B0D560CFB22D64317C07B7406B02959AD84BAD33E602","ledger_index":"6","signature":"3045","signing_time":515115322,"validation_public_key":"n94Gnc6svmaPPRHUAyyib1gQUov8sYbjLoEwUBYPH39qHZXuo8ZT"})"));
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, "noValidationData");
  EXPECT_NE(old.error().message.find("too old"), std::string::npos);
  EXPECT_EQ(parseValidationReceived(parse(R"({"type":"validationReceived","data":"XYZ"})")).error().code,
            "badStream");
  EXPECT_EQ(parseValidationReceived(parse(R"({"type":"validationReceived","data":7})")).error().code,
            "badStream");
  EXPECT_EQ(parseValidationReceived(parse(R"({"type":"validationReceived","data":""})")).error().code,
            "badStream");
  EXPECT_EQ(parseValidationReceived(parse(R"({"type":"ledgerClosed","data":"AA"})")).error().code,
            "badStream");
  EXPECT_EQ(parseValidationReceived(parse("[]")).error().code, "badStream");
  const std::string huge(2 * ledger::kMaxValidationBytes + 2, 'A');
  EXPECT_EQ(
      parseValidationReceived(parse(R"({"type":"validationReceived","data":")" + huge + "\"}")).error().code,
      "badStream");
}

std::string manifestMessage(const ledger::Manifest& m, bool withRaw, const core::Bytes& signature,
                            const core::Bytes& masterSignature) {
  std::string s = R"({"type":"manifestReceived","master_key":")" + crypto::encodeNodePublic(m.masterKey) +
                  R"(","seq":)" + std::to_string(m.sequence);
  if (m.signingKey) s += R"(,"signing_key":")" + crypto::encodeNodePublic(*m.signingKey) + "\"";
  if (!signature.empty()) s += R"(,"signature":")" + core::toHex(signature) + "\"";
  s += R"(,"master_signature":")" + core::toHex(masterSignature) + "\"";
  if (!m.domain.empty()) s += R"(,"domain":")" + m.domain + "\"";
  if (withRaw) s += R"(,"manifest":")" + core::toHex(m.raw) + "\"";
  return s + "}";
}

// The signatures inside a manifest blob, read with the codec.
std::pair<core::Bytes, core::Bytes> signaturesOf(const core::Bytes& blob) {
  auto json = ledger::decode(blob);
  core::Bytes sig, master;
  if (json->HasMember("Signature")) sig = *core::fromHex((*json)["Signature"].GetString());
  master = *core::fromHex((*json)["MasterSignature"].GetString());
  return {sig, master};
}

TEST(ValidationStream, ManifestReceivedRawOrRebuilt) {
  const auto master = key(crypto::KeyType::ed25519, 1);
  const auto signing = key(crypto::KeyType::secp256k1, 2);
  for (const core::Bytes& blob : {ledger::makeManifest(master, &signing, 4, "example.com"),
                                  ledger::makeManifest(master, nullptr, ledger::kRevokedSequence)}) {
    auto m = ledger::parseManifest(blob);
    ASSERT_TRUE(m.ok());
    auto [sig, masterSig] = signaturesOf(blob);
    for (bool withRaw : {true, false}) {
      auto r = parseManifestReceived(parse(manifestMessage(*m, withRaw, sig, masterSig)));
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->blob, blob) << (withRaw ? "raw" : "rebuilt");
      EXPECT_EQ(r->rebuilt, !withRaw);
      EXPECT_TRUE(ledger::parseManifest(r->blob).ok());
    }
  }
}

TEST(ValidationStream, ManifestReceivedErrors) {
  EXPECT_EQ(parseManifestReceived(parse(R"({"type":"manifestReceived","manifest":"ZZ"})")).error().code,
            "badStream");
  EXPECT_EQ(parseManifestReceived(parse(R"({"type":"validationReceived"})")).error().code, "badStream");
  const std::string master = "nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p";
  EXPECT_EQ(parseManifestReceived(
                parse(R"({"type":"manifestReceived","master_key":")" + master +
                      R"(","seq":1,"signing_key":"n9J67zk4B7GpbQV5jRQntbgdKf7TW6894QuG7qq1rE5gvjCu6snA"})"))
                .error()
                .code,
            "badStream");  // no master_signature
  EXPECT_EQ(
      parseManifestReceived(
          parse(
              R"({"type":"manifestReceived","master_key":"rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh","seq":1,"master_signature":"AA"})"))
          .error()
          .code,
      "badStream");
  EXPECT_EQ(parseManifestReceived(parse(R"({"type":"manifestReceived","master_key":")" + master +
                                        R"(","seq":-1,"master_signature":"AA"})"))
                .error()
                .code,
            "badStream");
  // Fields that make no valid manifest still give bytes; parseManifest refuses them.
  auto junk = parseManifestReceived(parse(R"({"type":"manifestReceived","master_key":")" + master +
                                          R"(","seq":1,"master_signature":"AA"})"));
  ASSERT_TRUE(junk.ok());
  EXPECT_FALSE(ledger::parseManifest(junk->blob).ok());
}

TEST(ValidationStream, ManifestAnswerFromTheDocs) {
  auto a = parseManifestResponse(parse(kRealAnswer));
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->requested, "nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p");
  ASSERT_TRUE(a->manifest);
  ASSERT_TRUE(a->details);
  EXPECT_EQ(a->details->sequence, 1U);
  EXPECT_EQ(a->details->ephemeralKey, "n9J67zk4B7GpbQV5jRQntbgdKf7TW6894QuG7qq1rE5gvjCu6snA");
  auto m = ledger::parseManifest(*a->manifest);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(crypto::encodeNodePublic(m->masterKey), a->details->masterKey);
}

TEST(ValidationStream, ManifestAnswerForAnUnknownKeyAndErrors) {
  auto unknown = parseManifestResponse(parse(
      R"({"result":{"requested":"nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p"},"status":"success","type":"response"})"));
  ASSERT_TRUE(unknown.ok()) << unknown.error().message;
  EXPECT_FALSE(unknown->manifest);
  EXPECT_FALSE(unknown->details);
  auto badB64 = parseManifestResponse(
      parse(R"({"result":{"requested":"n","manifest":"JAAA*"},"status":"success","type":"response"})"));
  ASSERT_FALSE(badB64.ok());
  EXPECT_EQ(rpcErrorCode(badB64.error()), RpcErrorCode::badResponse);
  EXPECT_EQ(rpcErrorCode(parseManifestResponse(parse(R"({"result":{},"status":"success"})")).error()),
            RpcErrorCode::badResponse);
  auto err = parseManifestResponse(parse(
      R"({"status":"error","error":"invalidParams","error_message":"Invalid parameters.","type":"response"})"));
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().code, "invalidParams");
}

TEST(ValidationStream, RenderManifest) {
  auto d = parse(renderManifest("nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p"));
  EXPECT_STREQ(d["command"].GetString(), "manifest");
  EXPECT_STREQ(d["public_key"].GetString(), "nHUFE9prPXPrHcG3SkwP1UzAQbSphqyQkQK9ATXLZsfkezhhda3p");
  EXPECT_EQ(d.MemberCount(), 2U);
}

}  // namespace
}  // namespace sashimono::board
