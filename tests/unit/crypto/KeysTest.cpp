#include "sashimono/crypto/Keys.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "sashimono/crypto/Base58Check.h"

using namespace sashimono;

namespace {
rapidjson::Document loadVectors() {
  std::ifstream in(std::string(SASHIMONO_SHARED_DIR) + "/testdata/xrpl-vectors.json");
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document d;
  d.Parse(ss.str().c_str());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error("cannot read xrpl-vectors.json");
  return d;
}

struct SecpVector {
  const char* seed;
  const char* publicKey;
  const char* privateKey;
  const char* address;
};
// From ripple-keypairs (deriveKeypair / deriveAddress); the last is the well-known genesis account.
const SecpVector kSecp[] = {
    {"sp6JS7f14BuwFY8Mw6bTtLKWauoUs", "0390A196799EE412284A5D80BF78C3E84CBB80E1437A0AECD9ADF94D7FEAAFA284",
     "002512BBDFDBB77510883B7DCCBEF270B86DEAC8B64AC762873D75A1BEE6298665",
     "rGCkuB7PBr5tNy68tPEABEtcdno4hE6Y7f"},
    {"sp5fghtJtpUorTwvof1NpDXAzNwf5", "030D58EB48B4420B1F7B9DF55087E0E29FEF0E8468F9A6825B01CA2C361042D435",
     "00D78B9735C3F26501C7337B8A5727FD53A6EFDBC6AA55984F098488561F985E23",
     "rU6K7V3Po4snVhBBaU29sesqs2qTQJWDw1"},
    {"snoPBrXtMeMyMHUVTgbuqAfg1SUTb", "0330E7FC9D56BB25D6893BA3F317AE5BCF33B3291BD63DB32654A313222F7FD020",
     nullptr, "rHb9CJAWyB4rj91VRWn96DkukG4bwdtyTh"},
};
}  // namespace

TEST(Keys, Ed25519VectorsFromJsLibraries) {
  auto v = loadVectors();
  ASSERT_GE(v["keys"].Size(), 3u);
  for (const auto& k : v["keys"].GetArray()) {
    std::string seedText = k["seed"].GetString();
    auto seed = crypto::decodeSeed(seedText);
    ASSERT_TRUE(seed.ok()) << seed.error().message;
    EXPECT_EQ(seed->type(), crypto::KeyType::ed25519);
    EXPECT_EQ(core::toHex(seed->entropy()), k["entropy_hex"].GetString());
    EXPECT_EQ(crypto::encodeSeed(*seed), seedText);
    auto kp = crypto::KeyPair::fromSeed(*seed);
    ASSERT_TRUE(kp.ok());
    EXPECT_EQ(core::toHex(kp->publicKey()), k["publicKey"].GetString());
    EXPECT_EQ(kp->privateKeyHex(), k["privateKey"].GetString());
    EXPECT_EQ(core::toHex(kp->accountId()), k["account_id_hex"].GetString());
    EXPECT_EQ(kp->address(), k["address"].GetString());
    auto id = crypto::decodeAddress(k["address"].GetString());
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(*id, kp->accountId());
  }
}

TEST(Keys, Secp256k1Vectors) {
  for (const auto& v : kSecp) {
    auto kp = crypto::KeyPair::fromSeed(v.seed);
    ASSERT_TRUE(kp.ok()) << kp.error().message;
    EXPECT_EQ(kp->type(), crypto::KeyType::secp256k1);
    EXPECT_EQ(core::toHex(kp->publicKey()), v.publicKey);
    if (v.privateKey != nullptr) {
      EXPECT_EQ(kp->privateKeyHex(), v.privateKey);
    }
    EXPECT_EQ(kp->address(), v.address);
    auto seed = crypto::decodeSeed(v.seed);
    ASSERT_TRUE(seed.ok());
    EXPECT_EQ(crypto::encodeSeed(*seed), v.seed);
  }
}

TEST(Keys, VerifiesSecp256k1SignatureFromRippleKeypairs) {
  // ripple-keypairs sign("48656C6C6F", privateKey of sp6JS7f14BuwFY8Mw6bTtLKWauoUs)
  auto sig = core::fromHex(
      "3045022100AEDCB8E01630E42309947F84398887C7B8F4D9C255EAB58CF5FCE995B920C1DF02205E6241FA537519042D02CA0E"
      "9974F7F3"
      "0730EE591DE07C5C1C6F4CFB9AEFC94C");
  auto pub = core::fromHex(kSecp[0].publicKey);
  EXPECT_TRUE(crypto::verify(*pub, core::asBytes("Hello"), *sig).ok());
  EXPECT_FALSE(crypto::verify(*pub, core::asBytes("Hellp"), *sig).ok());
}

TEST(Keys, SignAndVerifyBothTypes) {
  for (auto type : {crypto::KeyType::ed25519, crypto::KeyType::secp256k1}) {
    auto kp = crypto::KeyPair::fromSeed(crypto::generateSeed(type));
    ASSERT_TRUE(kp.ok());
    auto msg = core::asBytes("a message to sign");
    for (int i = 0; i < 20; ++i) {
      auto sig = kp->sign(msg);
      ASSERT_TRUE(crypto::verify(kp->publicKey(), msg, sig).ok()) << crypto::keyTypeName(type);
      if (type == crypto::KeyType::ed25519) {
        EXPECT_EQ(sig.size(), 64u);
      }
      auto tampered = sig;
      tampered[tampered.size() / 2] ^= 1;
      auto bad = crypto::verify(kp->publicKey(), msg, tampered);
      ASSERT_FALSE(bad.ok());
      EXPECT_EQ(bad.error().code, "badSignature");
    }
  }
}

TEST(Keys, Secp256k1RejectsHighSAndNonStrictDer) {
  auto kp = crypto::KeyPair::fromSeed(kSecp[0].seed);
  auto msg = core::asBytes("x");
  auto sig = kp->sign(msg);
  // Build the high-S twin: s' = n - s.
  ASSERT_EQ(sig[0], 0x30);
  std::size_t rlen = sig[3];
  std::size_t slen = sig[5 + rlen];
  core::Bytes s(sig.begin() + 6 + static_cast<long>(rlen), sig.begin() + 6 + static_cast<long>(rlen + slen));
  auto n = *core::fromHex("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141");
  core::Bytes s32(32 - (s.size() > 32 ? 32 : s.size()), 0);
  s32.insert(s32.end(), s.end() - static_cast<long>(std::min<std::size_t>(s.size(), 32)), s.end());
  core::Bytes hs(32);
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = n[i] - s32[i] - borrow;
    borrow = d < 0;
    hs[i] = static_cast<std::uint8_t>(d & 0xFF);
  }
  core::Bytes hsDer = hs;
  if (hsDer[0] & 0x80) hsDer.insert(hsDer.begin(), 0);
  core::Bytes high{0x30, 0, 0x02, static_cast<std::uint8_t>(rlen)};
  high.insert(high.end(), sig.begin() + 4, sig.begin() + 4 + static_cast<long>(rlen));
  high.push_back(0x02);
  high.push_back(static_cast<std::uint8_t>(hsDer.size()));
  high.insert(high.end(), hsDer.begin(), hsDer.end());
  high[1] = static_cast<std::uint8_t>(high.size() - 2);
  auto r = crypto::verify(kp->publicKey(), msg, high);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("high S"), std::string::npos);

  // Excess padding in r.
  core::Bytes padded{0x30, 0, 0x02, static_cast<std::uint8_t>(rlen + 1), 0x00};
  padded.insert(padded.end(), sig.begin() + 4, sig.end());
  padded[1] = static_cast<std::uint8_t>(padded.size() - 2);
  EXPECT_FALSE(crypto::verify(kp->publicKey(), msg, padded).ok());
  // Trailing garbage, truncation, empty.
  auto trailing = sig;
  trailing.push_back(0);
  EXPECT_FALSE(crypto::verify(kp->publicKey(), msg, trailing).ok());
  EXPECT_FALSE(crypto::verify(kp->publicKey(), msg, core::ByteView(sig).first(sig.size() - 1)).ok());
  EXPECT_FALSE(crypto::verify(kp->publicKey(), msg, {}).ok());
}

TEST(Keys, VerifyRejectsBadKeys) {
  auto sig = core::Bytes(64, 1);
  auto msg = core::asBytes("m");
  auto r = crypto::verify(core::Bytes(32, 0xED), msg, sig);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "badKey");
  core::Bytes unknown(33, 0x05);
  EXPECT_EQ(crypto::verify(unknown, msg, sig).error().code, "badKey");
  core::Bytes notOnCurve(33, 0xFF);
  notOnCurve[0] = 0x02;
  auto kp = crypto::KeyPair::fromSeed(kSecp[0].seed);
  auto good = kp->sign(msg);
  EXPECT_FALSE(crypto::verify(notOnCurve, msg, good).ok());
  core::Bytes ed(33, 0);
  ed[0] = 0xED;
  EXPECT_FALSE(crypto::verify(ed, msg, sig).ok());
  EXPECT_FALSE(crypto::verify(ed, msg, core::Bytes(63, 0)).ok());
}

TEST(Keys, SeedErrors) {
  auto badChecksum = crypto::decodeSeed("sEdSJHS4oiAdz7w2X2ni1gFiqtbJHqF");
  ASSERT_FALSE(badChecksum.ok());
  EXPECT_NE(badChecksum.error().message.find("checksum"), std::string::npos);
  auto badChar = crypto::decodeSeed("sEdSJHS4oiAdz7w2X2ni1gFiqtbJHq0");
  ASSERT_FALSE(badChar.ok());
  EXPECT_NE(badChar.error().message.find("invalid base58 character"), std::string::npos);
  // An address is valid base58check but not a seed.
  auto address = crypto::decodeSeed("r9zRhGr7b6xPekLvT6wP4qNdWMryaumZS7");
  ASSERT_FALSE(address.ok());
  EXPECT_NE(address.error().message.find("wrong seed length"), std::string::npos);
  // Right length, wrong prefix.
  core::Bytes payload(17, 7);
  payload[0] = 0x22;
  auto prefix = crypto::decodeSeed(crypto::encodeBase58Check(payload));
  ASSERT_FALSE(prefix.ok());
  EXPECT_NE(prefix.error().message.find("unknown seed prefix"), std::string::npos);
  EXPECT_FALSE(crypto::decodeSeed("").ok());
  EXPECT_FALSE(crypto::KeyPair::fromSeed("nonsense").ok());
}

TEST(Keys, GenerateSeedIsRandomAndRoundTrips) {
  auto a = crypto::generateSeed(crypto::KeyType::ed25519);
  auto b = crypto::generateSeed(crypto::KeyType::ed25519);
  EXPECT_NE(a.entropy(), b.entropy());
  auto text = crypto::encodeSeed(a);
  EXPECT_EQ(text.substr(0, 3), "sEd");
  auto back = crypto::decodeSeed(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->entropy(), a.entropy());
  auto s = crypto::encodeSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
  EXPECT_EQ(s[0], 's');
  EXPECT_EQ(crypto::decodeSeed(s)->type(), crypto::KeyType::secp256k1);
}

TEST(Keys, AddressErrors) {
  auto badChecksum = crypto::decodeAddress("r9zRhGr7b6xPekLvT6wP4qNdWMryaumZS8");
  ASSERT_FALSE(badChecksum.ok());
  EXPECT_NE(badChecksum.error().message.find("checksum"), std::string::npos);
  auto seed = crypto::decodeAddress("sEdSJHS4oiAdz7w2X2ni1gFiqtbJHqE");
  ASSERT_FALSE(seed.ok());
  EXPECT_NE(seed.error().message.find("not an account address"), std::string::npos);
  EXPECT_FALSE(crypto::decodeAddress("").ok());
  EXPECT_FALSE(crypto::decodeAddress("r").ok());
}
