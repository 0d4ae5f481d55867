#include "sashimono/crypto/NodeKeys.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "fakes/ValidationVectors.h"
#include "sashimono/crypto/Base58Check.h"

using namespace sashimono;

namespace {
using sashimono::testing::loadValidationVectors;

crypto::PublicKey keyFromHex(const std::string& hex) {
  auto b = core::fromHex(hex);
  crypto::PublicKey k{};
  if (!b || b->size() != k.size()) throw std::runtime_error("bad key hex " + hex);
  std::copy(b->begin(), b->end(), k.begin());
  return k;
}

// ripple-address-codec encodeNodePublic of the keys in KeysTest.cpp and shared/testdata.
struct Known {
  const char* publicKey;
  const char* nodePublic;
};
const Known kKnown[] = {
    {"0390A196799EE412284A5D80BF78C3E84CBB80E1437A0AECD9ADF94D7FEAAFA284",
     "n9M2ATZb6U5bh3HMrPaxGCvSiW9s4DiqCZJutMXiroVzosyrj8EQ"},
    {"030D58EB48B4420B1F7B9DF55087E0E29FEF0E8468F9A6825B01CA2C361042D435",
     "n9LbfzJKqB6Xc6n76ZkgrCTkuEL7uZqmNmgWThPjKNJD5K9cHqNw"},
    {"ED1A7C082846CFF58FF9A892BA4BA2593151CCF1DBA59F37714CC9ED39824AF85F",
     "nHBZaqgYLqBr5JBL5mbAE8sr2Diz2mqq1hGAZRJ7h4e3t7oq4oT6"},
};
}  // namespace

TEST(NodeKeys, KnownEncodingsOfBothKeyTypes) {
  for (const auto& k : kKnown) {
    const auto key = keyFromHex(k.publicKey);
    EXPECT_EQ(crypto::encodeNodePublic(key), k.nodePublic);
    auto back = crypto::decodeNodePublic(k.nodePublic);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, key);
  }
}

TEST(NodeKeys, VectorsFromJsLibrariesAndSeedDerivation) {
  auto v = loadValidationVectors();
  ASSERT_GE(v["keys"].Size(), 5U);
  for (const auto& k : v["keys"].GetArray()) {
    const auto key = keyFromHex(k["publicKey"].GetString());
    EXPECT_EQ(crypto::encodeNodePublic(key), k["nodePublic"].GetString());
    auto pair = crypto::KeyPair::fromSeed(std::string_view(k["seed"].GetString()));
    ASSERT_TRUE(pair.ok());
    EXPECT_EQ(pair->publicKey(), key) << k["name"].GetString();
  }
}

// A real mainnet validator, as the xrpl.org manifest page names it: the n… keys are the keys
// inside its manifest.
TEST(NodeKeys, RealValidatorKeysMatchItsManifest) {
  auto v = loadValidationVectors();
  const auto& real = v["realManifest"];
  auto master = crypto::decodeNodePublic(real["masterNodePublic"].GetString());
  auto signing = crypto::decodeNodePublic(real["signingNodePublic"].GetString());
  ASSERT_TRUE(master.ok() && signing.ok());
  EXPECT_EQ(*master, keyFromHex(real["masterKey"].GetString()));
  EXPECT_EQ(*signing, keyFromHex(real["signingKey"].GetString()));
  EXPECT_EQ((*master)[0], 0xED);
  EXPECT_EQ((*signing)[0], 0x02);
  EXPECT_EQ(std::string(real["masterNodePublic"].GetString()).substr(0, 2), "nH");
}

TEST(NodeKeys, DecodeErrorsSayWhatIsWrong) {
  auto account = crypto::decodeNodePublic("rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh");
  ASSERT_FALSE(account.ok());
  EXPECT_NE(account.error().message.find("not a node public key"), std::string::npos)
      << account.error().message;

  std::string text = kKnown[0].nodePublic;
  text[10] = text[10] == 'a' ? 'b' : 'a';
  auto sum = crypto::decodeNodePublic(text);
  ASSERT_FALSE(sum.ok());
  EXPECT_NE(sum.error().message.find("checksum"), std::string::npos) << sum.error().message;

  EXPECT_FALSE(crypto::decodeNodePublic("").ok());
  EXPECT_FALSE(crypto::decodeNodePublic("n9M2ATZb6U5bh3HMrPaxGCvSiW9s4DiqCZJutMXiroVzosyrj8E0").ok());  // '0'

  core::Bytes payload(34, 0x11);
  payload[0] = crypto::kNodePublicPrefix;
  payload[1] = 0x05;  // neither ED nor 02/03
  auto prefix = crypto::decodeNodePublic(crypto::encodeBase58Check(payload));
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.error().message.find("not ED, 02 or 03"), std::string::npos) << prefix.error().message;

  payload.pop_back();  // 33 bytes after the version byte is one short
  EXPECT_FALSE(crypto::decodeNodePublic(crypto::encodeBase58Check(payload)).ok());
}

TEST(NodeKeys, HasKeyPrefix) {
  EXPECT_TRUE(crypto::hasKeyPrefix(keyFromHex(kKnown[0].publicKey)));
  EXPECT_TRUE(crypto::hasKeyPrefix(keyFromHex(kKnown[2].publicKey)));
  EXPECT_FALSE(crypto::hasKeyPrefix(core::Bytes(33, 0x04)));
  EXPECT_FALSE(crypto::hasKeyPrefix(core::Bytes(32, 0xED)));
}
