// The devnet's validator identity: node public keys, manifests, validations, persistence.
#include "sashimono/devnet/Validator.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

#include "sashimono/devnet/ChainStore.h"
#include "sashimono/ledger/Codec.h"

using namespace sashimono;
using namespace sashimono::devnet;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sashi-validator-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

crypto::KeyPair keyOf(crypto::KeyType type, std::uint8_t fill) {
  std::array<std::uint8_t, 16> entropy{};
  entropy.fill(fill);
  return *crypto::KeyPair::fromSeed(crypto::Seed(type, entropy));
}

core::Bytes base64Decode(std::string_view text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  core::Bytes out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) throw std::runtime_error("bad base64");
    acc = (acc << 6) | static_cast<std::uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
    }
  }
  return out;
}

// "PREFIX" + the object's fields without `drop`, rebuilt from the decoded JSON (independently
// of the code under test's own signing-data function).
core::Bytes signingDataOf(core::ByteView serialized, const char* prefix,
                          std::initializer_list<const char*> drop) {
  auto doc = ledger::decode(serialized);
  if (!doc.ok()) throw std::runtime_error(doc.error().message);
  for (const char* d : drop) doc->RemoveMember(d);
  auto fields = ledger::encode(*doc);
  if (!fields.ok()) throw std::runtime_error(fields.error().message);
  core::Bytes out(prefix, prefix + 4);
  out.insert(out.end(), fields->begin(), fields->end());
  return out;
}

core::Bytes hexField(const rapidjson::Value& obj, const char* name) {
  return *core::fromHex(obj[name].GetString());
}

}  // namespace

TEST(ValidatorTest, NodePublicKeysRoundTripAndRejectOtherTokens) {
  auto k = keyOf(crypto::KeyType::secp256k1, 7);
  std::string text = encodeNodePublic(k.publicKey());
  EXPECT_EQ(text[0], 'n');
  auto back = decodeNodePublic(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, k.publicKey());
  EXPECT_FALSE(decodeNodePublic(k.address()).ok());  // an account address: version 0x00
  EXPECT_FALSE(decodeNodePublic("n9KnrcCmL5psyKtk2KWP6jy14Hj4EXuZDg7XMdQJ9cSDoFSp53hX").ok());  // checksum
  EXPECT_FALSE(decodeNodePublic("").ok());
}

TEST(ValidatorTest, Base64MatchesRfc4648) {
  EXPECT_EQ(base64Encode(core::asBytes("")), "");
  EXPECT_EQ(base64Encode(core::asBytes("f")), "Zg==");
  EXPECT_EQ(base64Encode(core::asBytes("fo")), "Zm8=");
  EXPECT_EQ(base64Encode(core::asBytes("foo")), "Zm9v");
  EXPECT_EQ(base64Encode(core::asBytes("foobar")), "Zm9vYmFy");
}

// A manifest published by rippled (xrpl.org's validator_info example): our codec, "MAN\0"
// signing data and signature checks accept it, and its keys print as rippled printed them.
TEST(ValidatorTest, ParsesAManifestMadeByRippled) {
  auto bytes = base64Decode(
      "JAAAAAFxIe002KClGBUlRA7h5J2Y5B7Xdlxn1Z5OxY7ZC2UmqUIikHMhAkVIeB7McBf4NFsBceQQlScTVUWMdpYzwmvs115SUGDKdk"
      "cwR"
      "QIhAJnKfYWnPsBsATIIRfgkAAK+"
      "HE4zp8G8AmOPrHmLZpZAAiANiNECVQTKktoD7BEoEmS8jaFBNMgRdcG0dttPurCAGXcKbWR1bzEzLmN"
      "vbXASQPjO6wxOfhtWsJ6oMWBg8Rs5STAGvQV2ArI5MG3KbpFrNSMxbx630Ars9d9j1ORsUS5v1biZRShZfg9180JuZAo=");
  auto m = parseManifest(bytes);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(encodeNodePublic(m->masterKey), "nHBk5DPexBjinXV8qHn7SEKzoxh2W92FxSbNTPgGtQYBzEF4msn9");
  EXPECT_EQ(encodeNodePublic(m->signingKey), "n9KnrcCmL5psyKtk2KWP6jy14Hj4EXuZDg7XMdQJ9cSDoFSp53hu");
  EXPECT_EQ(m->sequence, 1u);
  EXPECT_EQ(m->domain, "mduo13.com");
  // Our own manifest bytes for the same fields have the same signing data.
  auto data = manifestSigningData(m->masterKey, m->signingKey, 1, "mduo13.com");
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(*data, signingDataOf(bytes, "MAN", {"Signature", "MasterSignature"}));
  bytes[bytes.size() / 2] ^= 1;
  EXPECT_FALSE(parseManifest(bytes).ok());
}

TEST(ValidatorTest, ManifestIsSignedByBothKeys) {
  for (auto masterType : {crypto::KeyType::ed25519, crypto::KeyType::secp256k1}) {
    auto master = keyOf(masterType, 1);
    auto signing = keyOf(crypto::KeyType::secp256k1, 2);
    auto m = makeManifest(master, signing, 3, "example.com");
    ASSERT_TRUE(m.ok()) << m.error().message;
    auto doc = ledger::decode(m->serialized);
    ASSERT_TRUE(doc.ok());
    EXPECT_EQ(hexField(*doc, "PublicKey"), core::toBytes(master.publicKey()));
    EXPECT_EQ(hexField(*doc, "SigningPubKey"), core::toBytes(signing.publicKey()));
    EXPECT_EQ((*doc)["Sequence"].GetUint(), 3u);
    EXPECT_EQ(core::asString(hexField(*doc, "Domain")), "example.com");
    auto data = signingDataOf(m->serialized, "MAN", {"Signature", "MasterSignature"});
    EXPECT_TRUE(crypto::verify(master.publicKey(), data, hexField(*doc, "MasterSignature")).ok());
    EXPECT_TRUE(crypto::verify(signing.publicKey(), data, hexField(*doc, "Signature")).ok());
    // Each signature is by its own key.
    EXPECT_FALSE(crypto::verify(signing.publicKey(), data, hexField(*doc, "MasterSignature")).ok());
    auto parsed = parseManifest(m->serialized);
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(parsed->serialized, m->serialized);
  }
}

TEST(ValidatorTest, ParseManifestRefusesGarbage) {
  EXPECT_FALSE(parseManifest(core::Bytes{}).ok());
  EXPECT_FALSE(parseManifest(core::Bytes{0x24, 0x00}).ok());
  auto m = makeManifest(keyOf(crypto::KeyType::ed25519, 1), keyOf(crypto::KeyType::secp256k1, 2), 1, {});
  ASSERT_TRUE(m.ok());
  // Signed by the signing key only: the master signature swapped for the other.
  auto other = makeManifest(keyOf(crypto::KeyType::ed25519, 9), keyOf(crypto::KeyType::secp256k1, 2), 1, {});
  auto doc = ledger::decode(m->serialized);
  auto& a = doc->GetAllocator();
  (*doc)["MasterSignature"].SetString(core::toHex(other->masterSignature).c_str(), a);
  auto forged = ledger::encode(*doc);
  ASSERT_TRUE(forged.ok());
  auto r = parseManifest(*forged);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("master signature"), std::string::npos) << r.error().message;
}

TEST(ValidatorTest, ValidationIsSignedOverValPrefixAndFields) {
  TempDir dir;
  auto store = ChainStore::open(dir.path.string());
  ASSERT_TRUE(store.ok());
  auto v = Validator::loadOrCreate(**store, std::nullopt);
  ASSERT_TRUE(v.ok()) << v.error().message;
  LedgerHeader h;
  h.seq = 42;
  h.hash.fill(0xAB);
  for (std::uint32_t networkId : {0u, 21337u}) {
    auto s = v->sign(h, 800'000'000, networkId);
    ASSERT_TRUE(s.ok()) << s.error().message;
    auto doc = ledger::decode(s->serialized);
    ASSERT_TRUE(doc.ok()) << doc.error().message;
    EXPECT_EQ((*doc)["Flags"].GetUint(), 0x80000001u);
    EXPECT_EQ((*doc)["LedgerSequence"].GetUint(), 42u);
    EXPECT_EQ((*doc)["SigningTime"].GetUint(), 800'000'000u);
    EXPECT_EQ(hexField(*doc, "LedgerHash"), core::toBytes(h.hash));
    EXPECT_EQ(hexField(*doc, "SigningPubKey"), core::toBytes(v->signingKey()));
    EXPECT_TRUE(doc->HasMember("Cookie"));
    EXPECT_EQ(doc->HasMember("NetworkID"), networkId != 0);
    if (networkId != 0) {
      EXPECT_EQ((*doc)["NetworkID"].GetUint(), networkId);
    }
    auto data = signingDataOf(s->serialized, "VAL", {"Signature"});
    EXPECT_EQ(data, *validationSigningData(*s));
    EXPECT_TRUE(crypto::verify(v->signingKey(), data, hexField(*doc, "Signature")).ok());
    EXPECT_FALSE(crypto::verify(v->masterKey(), data, hexField(*doc, "Signature")).ok());
  }
}

TEST(ValidatorTest, IdentityPersistsAndRotates) {
  TempDir dir;
  crypto::PublicKey master{};
  crypto::PublicKey signing2{};
  {
    auto store = ChainStore::open(dir.path.string());
    ASSERT_TRUE(store.ok());
    auto v = Validator::loadOrCreate(**store, std::nullopt);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->masterType(), crypto::KeyType::ed25519);
    EXPECT_EQ(v->masterKey()[0], 0xED);
    EXPECT_EQ(v->manifest().sequence, 1u);
    EXPECT_NE(v->cookie(), 0u);
    master = v->masterKey();
    auto again = Validator::loadOrCreate(**store, crypto::KeyType::ed25519);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->manifest().serialized, v->manifest().serialized);
    const auto signing1 = v->signingKey();
    ASSERT_TRUE(v->rotate(**store).ok());
    EXPECT_EQ(v->manifest().sequence, 2u);
    EXPECT_EQ(v->masterKey(), master);
    EXPECT_NE(v->signingKey(), signing1);
    EXPECT_TRUE(parseManifest(v->manifest().serialized).ok());
    signing2 = v->signingKey();
    auto other = Validator::loadOrCreate(**store, crypto::KeyType::secp256k1);
    ASSERT_FALSE(other.ok());
    EXPECT_NE(other.error().message.find("ed25519"), std::string::npos) << other.error().message;
  }
  auto store = ChainStore::open(dir.path.string());
  ASSERT_TRUE(store.ok());
  auto v = Validator::loadOrCreate(**store, std::nullopt);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->masterKey(), master);
  EXPECT_EQ(v->signingKey(), signing2);
  EXPECT_EQ(v->manifest().sequence, 2u);
}

TEST(ValidatorTest, Secp256k1MasterAndCorruptStore) {
  TempDir dir;
  auto store = ChainStore::open(dir.path.string());
  ASSERT_TRUE(store.ok());
  auto v = Validator::loadOrCreate(**store, crypto::KeyType::secp256k1);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_TRUE(v->masterKey()[0] == 0x02 || v->masterKey()[0] == 0x03);
  ASSERT_TRUE((*store)->setMeta("validator", R"({"master_seed":"x"})").ok());
  auto bad = Validator::loadOrCreate(**store, std::nullopt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("unreadable"), std::string::npos) << bad.error().message;
}
