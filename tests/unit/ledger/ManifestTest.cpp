#include "sashimono/ledger/Manifest.h"

#include <gtest/gtest.h>

#include "ValidatorFixture.h"
#include "sashimono/ledger/Codec.h"

namespace sashimono::ledger {
namespace {
using crypto::KeyType;
using testing::keyPair;

const crypto::KeyPair& edMaster() {
  static const auto k = keyPair(KeyType::ed25519, 1);
  return k;
}
const crypto::KeyPair& secpMaster() {
  static const auto k = keyPair(KeyType::secp256k1, 2);
  return k;
}
const crypto::KeyPair& signingA() {
  static const auto k = keyPair(KeyType::secp256k1, 3);
  return k;
}
const crypto::KeyPair& signingB() {
  static const auto k = keyPair(KeyType::secp256k1, 4);
  return k;
}

// "MAN\0" + the unsigned fields of f, signed by the given keys (either may be null).
ManifestFields signedFields(ManifestFields f, const crypto::KeyPair* master, const crypto::KeyPair* signing) {
  core::Bytes message(kPrefixManifest.begin(), kPrefixManifest.end());
  ManifestFields bare = f;
  bare.signature.reset();
  bare.masterSignature.clear();
  const core::Bytes u = serializeManifest(bare);
  message.insert(message.end(), u.begin(), u.end());
  if (signing != nullptr) f.signature = signing->sign(message);
  if (master != nullptr) f.masterSignature = master->sign(message);
  return f;
}

TEST(Manifest, RoundTripsWithBothMasterKeyTypes) {
  for (const crypto::KeyPair* master : {&edMaster(), &secpMaster()}) {
    const core::Bytes blob = makeManifest(*master, &signingA(), 5, "example.com");
    auto m = parseManifest(blob);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->masterKey, master->publicKey());
    EXPECT_EQ(m->sequence, 5U);
    ASSERT_TRUE(m->signingKey);
    EXPECT_EQ(*m->signingKey, signingA().publicKey());
    EXPECT_EQ(m->domain, "example.com");
    EXPECT_EQ(m->raw, blob);
    EXPECT_FALSE(m->revoked());
  }
}

TEST(Manifest, TheCodecDecodesIt) {
  const core::Bytes blob = makeManifest(edMaster(), &signingA(), 9, "example.com");
  auto json = decode(blob);
  ASSERT_TRUE(json.ok()) << json.error().message;
  EXPECT_EQ((*json)["Sequence"].GetUint(), 9U);
  EXPECT_EQ(std::string((*json)["PublicKey"].GetString()), core::toHex(edMaster().publicKey()));
  EXPECT_EQ(std::string((*json)["SigningPubKey"].GetString()), core::toHex(signingA().publicKey()));
  ASSERT_TRUE(json->HasMember("Signature"));
  ASSERT_TRUE(json->HasMember("MasterSignature"));
  // parseManifest hands out both signatures as they stand in the blob.
  auto m = parseManifest(blob);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(core::toHex(m->signature), std::string((*json)["Signature"].GetString()));
  EXPECT_EQ(core::toHex(m->masterSignature), std::string((*json)["MasterSignature"].GetString()));
  EXPECT_NE(m->signature, m->masterSignature);
  auto again = encode(*json);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, blob);
}

TEST(Manifest, Revocation) {
  const core::Bytes blob = makeManifest(edMaster(), nullptr, kRevokedSequence);
  auto m = parseManifest(blob);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_TRUE(m->revoked());
  EXPECT_FALSE(m->signingKey);
  EXPECT_TRUE(m->signature.empty());
  EXPECT_FALSE(m->masterSignature.empty());
  // Without a signing key the sequence must be the revocation's.
  auto notRevoked = parseManifest(makeManifest(edMaster(), nullptr, 3));
  ASSERT_FALSE(notRevoked.ok());
  EXPECT_EQ(notRevoked.error().code, "malformed");
  EXPECT_NE(notRevoked.error().message.find("no SigningPubKey"), std::string::npos);
  // A revocation that names a signing key is refused.
  auto withKey = parseManifest(makeManifest(edMaster(), &signingA(), kRevokedSequence));
  ASSERT_FALSE(withKey.ok());
  EXPECT_EQ(withKey.error().code, "malformed");
}

TEST(Manifest, EveryTamperedByteIsRefused) {
  for (const crypto::KeyPair* master : {&edMaster(), &secpMaster()}) {
    const core::Bytes blob = makeManifest(*master, &signingA(), 5, "example.com");
    for (std::size_t i = 0; i < blob.size(); ++i) {
      core::Bytes t = blob;
      t[i] ^= 0x01;
      auto m = parseManifest(t);
      ASSERT_FALSE(m.ok()) << "byte " << i;
      EXPECT_TRUE(m.error().code == "malformed" || m.error().code == "badSignature") << m.error().code;
    }
    for (std::size_t n = 0; n < blob.size(); ++n) {
      EXPECT_FALSE(parseManifest(core::ByteView(blob.data(), n)).ok()) << "prefix of " << n << " bytes";
    }
  }
}

TEST(Manifest, WrongKeysAreBadSignatures) {
  ManifestFields f;
  f.masterKey = edMaster().publicKey();
  f.sequence = 2;
  f.signingKey = signingA().publicKey();
  // Master signature by another key.
  auto byOther = parseManifest(serializeManifest(signedFields(f, &secpMaster(), &signingA())));
  ASSERT_FALSE(byOther.ok());
  EXPECT_EQ(byOther.error().code, "badSignature");
  EXPECT_NE(byOther.error().message.find("MasterSignature"), std::string::npos);
  // Ephemeral signature by another key.
  auto ephemeral = parseManifest(serializeManifest(signedFields(f, &edMaster(), &signingB())));
  ASSERT_FALSE(ephemeral.ok());
  EXPECT_EQ(ephemeral.error().code, "badSignature");
  EXPECT_NE(ephemeral.error().message.find("Signature"), std::string::npos);
  // Both right.
  EXPECT_TRUE(parseManifest(serializeManifest(signedFields(f, &edMaster(), &signingA()))).ok());
}

TEST(Manifest, StructureErrors) {
  ManifestFields f;
  f.masterKey = edMaster().publicKey();
  f.sequence = 2;
  f.signingKey = signingA().publicKey();
  auto good = signedFields(f, &edMaster(), &signingA());

  auto noMasterSig = good;
  noMasterSig.masterSignature.clear();
  EXPECT_EQ(parseManifest(serializeManifest(noMasterSig)).error().code, "malformed");

  auto noSig = good;
  noSig.signature.reset();
  EXPECT_EQ(parseManifest(serializeManifest(noSig)).error().code, "malformed");

  auto sameKey = f;
  sameKey.signingKey = edMaster().publicKey();
  auto same = parseManifest(serializeManifest(signedFields(sameKey, &edMaster(), &edMaster())));
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.error().message.find("is the master key"), std::string::npos);

  auto badDomain = f;
  badDomain.domain = "not a domain";
  EXPECT_EQ(parseManifest(serializeManifest(signedFields(badDomain, &edMaster(), &signingA()))).error().code,
            "malformed");

  EXPECT_EQ(parseManifest({}).error().code, "malformed");
  EXPECT_EQ(parseManifest(core::Bytes(kMaxManifestBytes + 1, 0x24)).error().code, "malformed");
}

// Fields rippled's manifest template does not have, and Version other than 0, are refused;
// Version 0 is accepted.
TEST(Manifest, VersionAndUnexpectedFields) {
  auto withExtra = [](const char* json) {
    rapidjson::Document d;
    d.Parse(json);
    auto unsignedBlob = encode(d);
    EXPECT_TRUE(unsignedBlob.ok());
    core::Bytes message(kPrefixManifest.begin(), kPrefixManifest.end());
    message.insert(message.end(), unsignedBlob->begin(), unsignedBlob->end());
    d.AddMember("Signature",
                rapidjson::Value(core::toHex(signingA().sign(message)).c_str(), d.GetAllocator()),
                d.GetAllocator());
    d.AddMember("MasterSignature",
                rapidjson::Value(core::toHex(edMaster().sign(message)).c_str(), d.GetAllocator()),
                d.GetAllocator());
    return *encode(d);
  };
  const std::string keys = "\"PublicKey\":\"" + core::toHex(edMaster().publicKey()) +
                           "\",\"SigningPubKey\":\"" + core::toHex(signingA().publicKey()) + "\"";
  EXPECT_TRUE(parseManifest(withExtra(("{\"Sequence\":1,\"Version\":0," + keys + "}").c_str())).ok());
  auto v1 = parseManifest(withExtra(("{\"Sequence\":1,\"Version\":1," + keys + "}").c_str()));
  ASSERT_FALSE(v1.ok());
  EXPECT_NE(v1.error().message.find("Version"), std::string::npos);
  auto extra = parseManifest(withExtra(("{\"Sequence\":1,\"Flags\":0," + keys + "}").c_str()));
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.error().message.find("unexpected field Flags"), std::string::npos) << extra.error().message;
}

TEST(Manifest, Domains) {
  for (const char* ok :
       {"example.com", "a.io", "ripple.com", "validator-1.example.org", "EXAMPLE.COM", "x1.y2.zz"})
    EXPECT_TRUE(isManifestDomain(ok)) << ok;
  for (const char* bad : {"", "com", "a.b", "-a.com", "a-.com", "a..com", ".a.com", "a.com.", "a.c0m",
                          "a b.com", "exa_mple.com"})
    EXPECT_FALSE(isManifestDomain(bad)) << bad;
  EXPECT_TRUE(
      isManifestDomain(std::string(60, 'a') + "." + std::string(60, 'b') + ".com"));  // 125 characters
  EXPECT_FALSE(isManifestDomain(std::string(64, 'a') + ".com"));                      // label over 63
  EXPECT_FALSE(
      isManifestDomain(std::string(62, 'a') + "." + std::string(62, 'b') + ".com"));  // 129 characters
}

}  // namespace
}  // namespace sashimono::ledger
