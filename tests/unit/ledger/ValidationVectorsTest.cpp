// Manifests and validations from the official JavaScript libraries (tests/testdata/
// xrpl-validations.json, written by tools/vectors/gen-xrpl-validations.js), and a real mainnet
// manifest from the xrpl.org documentation.
#include <gtest/gtest.h>

#include "ValidatorFixture.h"
#include "sashimono/core/Base64.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"

namespace sashimono::ledger {
namespace {
using testing::hexBytes;

const rapidjson::Document& vectors() {
  static const rapidjson::Document d = testing::loadValidationVectors();
  return d;
}

crypto::KeyPair keyNamed(const std::string& name) {
  for (const auto& k : vectors()["keys"].GetArray()) {
    if (name == k["name"].GetString())
      return *crypto::KeyPair::fromSeed(std::string_view(k["seed"].GetString()));
  }
  throw std::runtime_error("no key " + name);
}

crypto::Hash256 hash(const char* hex) {
  crypto::Hash256 h{};
  auto b = hexBytes(hex);
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

TEST(ValidationVectors, JsManifestsParseAndVerify) {
  ASSERT_GE(vectors()["manifests"].Size(), 4U);
  for (const auto& m : vectors()["manifests"].GetArray()) {
    const std::string name = m["name"].GetString();
    auto parsed = parseManifest(hexBytes(m["blob"].GetString()));
    ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.error().message;
    EXPECT_EQ(parsed->masterKey, keyNamed(m["master"].GetString()).publicKey()) << name;
    EXPECT_EQ(parsed->sequence, m["sequence"].GetUint()) << name;
    EXPECT_EQ(parsed->domain, m["domain"].GetString()) << name;
    if (m["signing"].IsNull()) {
      EXPECT_TRUE(parsed->revoked()) << name;
    } else {
      ASSERT_TRUE(parsed->signingKey) << name;
      EXPECT_EQ(*parsed->signingKey, keyNamed(m["signing"].GetString()).publicKey()) << name;
    }
  }
}

// makeManifest writes the bytes the codec writes: the unsigned fields are equal, and ed25519
// signatures are deterministic, so a revocation (master signature only) is byte for byte the
// JS one. secp256k1 signatures (random nonces here, RFC 6979 there) verify each other's way.
TEST(ValidationVectors, MakeManifestMatchesTheCodec) {
  for (const auto& m : vectors()["manifests"].GetArray()) {
    const std::string name = m["name"].GetString();
    const auto master = keyNamed(m["master"].GetString());
    std::optional<crypto::KeyPair> signing;
    if (!m["signing"].IsNull()) signing = keyNamed(m["signing"].GetString());
    const core::Bytes ours =
        makeManifest(master, signing ? &*signing : nullptr, m["sequence"].GetUint(), m["domain"].GetString());
    ManifestFields unsignedFields;
    unsignedFields.masterKey = master.publicKey();
    unsignedFields.sequence = m["sequence"].GetUint();
    if (signing) unsignedFields.signingKey = signing->publicKey();
    unsignedFields.domain = m["domain"].GetString();
    EXPECT_EQ(core::toHex(serializeManifest(unsignedFields)), m["unsignedHex"].GetString()) << name;
    auto parsed = parseManifest(ours);
    ASSERT_TRUE(parsed.ok()) << name << ": " << parsed.error().message;
    if (!signing) {
      EXPECT_EQ(core::toHex(ours), m["blob"].GetString()) << name;
    }
  }
}

TEST(ValidationVectors, JsValidationsParseAndVerify) {
  ASSERT_GE(vectors()["validations"].Size(), 3U);
  for (const auto& j : vectors()["validations"].GetArray()) {
    const std::string name = j["name"].GetString();
    auto v = parseValidation(hexBytes(j["blob"].GetString()));
    ASSERT_TRUE(v.ok()) << name << ": " << v.error().message;
    EXPECT_TRUE(verifyValidation(*v).ok()) << name;
    EXPECT_EQ(v->flags, j["flags"].GetUint()) << name;
    EXPECT_EQ(v->ledgerSequence, j["ledgerSequence"].GetUint()) << name;
    EXPECT_EQ(v->signingTime, j["signingTime"].GetUint()) << name;
    EXPECT_EQ(v->ledgerHash, hash(j["ledgerHash"].GetString())) << name;
    EXPECT_EQ(v->signingKey, keyNamed(j["signing"].GetString()).publicKey()) << name;
    EXPECT_EQ(v->full(), (j["flags"].GetUint() & 1) != 0) << name;
    if (j.HasMember("networkId")) {
      EXPECT_EQ(v->networkId, j["networkId"].GetUint()) << name;
    }
    if (j.HasMember("cookie")) {
      EXPECT_EQ(v->cookie, std::stoull(j["cookie"].GetString(), nullptr, 16)) << name;
    }
    if (j.HasMember("validatedHash")) {
      EXPECT_EQ(v->validatedHash, hash(j["validatedHash"].GetString())) << name;
    }
    if (j.HasMember("consensusHash")) {
      EXPECT_EQ(v->consensusHash, hash(j["consensusHash"].GetString())) << name;
    }
    // The signature covers exactly "VAL\0" + the codec's unsigned encoding.
    EXPECT_EQ(core::toHex(v->signingData), "56414C00" + std::string(j["unsignedHex"].GetString())) << name;
  }
}

TEST(ValidationVectors, SignValidationMatchesTheCodec) {
  for (const auto& j : vectors()["validations"].GetArray()) {
    const std::string name = j["name"].GetString();
    ValidationFields f;
    f.flags = j["flags"].GetUint();
    f.ledgerSequence = j["ledgerSequence"].GetUint();
    f.signingTime = j["signingTime"].GetUint();
    f.ledgerHash = hash(j["ledgerHash"].GetString());
    if (j.HasMember("networkId")) f.networkId = j["networkId"].GetUint();
    if (j.HasMember("cookie")) f.cookie = std::stoull(j["cookie"].GetString(), nullptr, 16);
    if (j.HasMember("serverVersion")) f.serverVersion = std::stoull(j["serverVersion"].GetString());
    if (j.HasMember("consensusHash")) f.consensusHash = hash(j["consensusHash"].GetString());
    if (j.HasMember("validatedHash")) f.validatedHash = hash(j["validatedHash"].GetString());
    const core::Bytes ours = signValidation(f, keyNamed(j["signing"].GetString()));
    auto v = parseValidation(ours);
    ASSERT_TRUE(v.ok()) << name << ": " << v.error().message;
    EXPECT_TRUE(verifyValidation(*v).ok()) << name;
    EXPECT_EQ(core::toHex(v->signingData), "56414C00" + std::string(j["unsignedHex"].GetString())) << name;
  }
}

TEST(ValidationVectors, RealMainnetManifest) {
  const auto& real = vectors()["realManifest"];
  auto blob = core::decodeBase64(real["base64"].GetString());
  ASSERT_TRUE(blob.ok());
  EXPECT_EQ(core::toHex(*blob), real["blob"].GetString());
  auto m = parseManifest(*blob);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(crypto::encodeNodePublic(m->masterKey), real["masterNodePublic"].GetString());
  ASSERT_TRUE(m->signingKey);
  EXPECT_EQ(crypto::encodeNodePublic(*m->signingKey), real["signingNodePublic"].GetString());
  EXPECT_EQ(m->sequence, 1U);
  EXPECT_TRUE(m->domain.empty());
  // One bit off anywhere and it no longer verifies.
  core::Bytes t = *blob;
  t[20] ^= 1;
  EXPECT_FALSE(parseManifest(t).ok());
}

// A manifest with a Domain, as rippled hands it out (xrpl.org's validator_info example): it
// verifies, its keys print as rippled printed them, and serializeManifest writes its fields back
// to the same bytes.
TEST(ValidationVectors, RealManifestWithDomain) {
  auto blob = core::decodeBase64(
      "JAAAAAFxIe002KClGBUlRA7h5J2Y5B7Xdlxn1Z5OxY7ZC2UmqUIikHMhAkVIeB7McBf4NFsBceQQlScTVUWMdpYzwmvs115SUGDKdk"
      "cwRQIhAJnKfYWnPsBsATIIRfgkAAK+HE4zp8G8AmOPrHmLZpZAAiANiNECVQTKktoD7BEoEmS8jaFBNMgRdcG0dttPurCAGXcKbWR1"
      "bzEzLmNvbXASQPjO6wxOfhtWsJ6oMWBg8Rs5STAGvQV2ArI5MG3KbpFrNSMxbx630Ars9d9j1ORsUS5v1biZRShZfg9180JuZAo=");
  ASSERT_TRUE(blob.ok()) << blob.error().message;
  auto m = parseManifest(*blob);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(crypto::encodeNodePublic(m->masterKey), "nHBk5DPexBjinXV8qHn7SEKzoxh2W92FxSbNTPgGtQYBzEF4msn9");
  ASSERT_TRUE(m->signingKey);
  EXPECT_EQ(crypto::encodeNodePublic(*m->signingKey), "n9KnrcCmL5psyKtk2KWP6jy14Hj4EXuZDg7XMdQJ9cSDoFSp53hu");
  EXPECT_EQ(m->sequence, 1U);
  EXPECT_EQ(m->domain, "mduo13.com");
  EXPECT_EQ(serializeManifest(
                {m->masterKey, m->sequence, m->signingKey, m->signature, m->domain, m->masterSignature}),
            *blob);
  core::Bytes t = *blob;
  t[t.size() / 2] ^= 1;
  EXPECT_FALSE(parseManifest(t).ok());
}

}  // namespace
}  // namespace sashimono::ledger
