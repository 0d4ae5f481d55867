// The devnet's validator identity: its manifest and validations (the ledger module's formats,
// checked here independently with the codec), persistence and rotation.
#include "sashimono/devnet/Validator.h"

#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <unistd.h>

#include "sashimono/devnet/ChainStore.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Manifest.h"

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

// The manifest delegates from the master key to the signing key: both signatures verify over
// "MAN\0" + the other fields (rebuilt here with the codec), each by its own key.
TEST(ValidatorTest, ManifestIsSignedByBothKeys) {
  for (auto masterType : {crypto::KeyType::ed25519, crypto::KeyType::secp256k1}) {
    TempDir dir;
    auto store = ChainStore::open(dir.path.string());
    ASSERT_TRUE(store.ok());
    auto v = Validator::loadOrCreate(**store, masterType);
    ASSERT_TRUE(v.ok()) << v.error().message;
    EXPECT_EQ(v->masterType(), masterType);
    const ledger::Manifest& m = v->manifest();
    ASSERT_TRUE(m.signingKey);
    EXPECT_EQ(*m.signingKey, v->signingKey());
    EXPECT_EQ(m.masterKey, v->masterKey());
    auto doc = ledger::decode(m.raw);
    ASSERT_TRUE(doc.ok()) << doc.error().message;
    EXPECT_EQ(hexField(*doc, "PublicKey"), core::toBytes(v->masterKey()));
    EXPECT_EQ(hexField(*doc, "SigningPubKey"), core::toBytes(v->signingKey()));
    EXPECT_EQ((*doc)["Sequence"].GetUint(), 1u);
    EXPECT_FALSE(doc->HasMember("Domain"));
    EXPECT_EQ(hexField(*doc, "Signature"), m.signature);
    EXPECT_EQ(hexField(*doc, "MasterSignature"), m.masterSignature);
    auto data = signingDataOf(m.raw, "MAN", {"Signature", "MasterSignature"});
    EXPECT_TRUE(crypto::verify(v->masterKey(), data, m.masterSignature).ok());
    EXPECT_TRUE(crypto::verify(v->signingKey(), data, m.signature).ok());
    EXPECT_FALSE(crypto::verify(v->signingKey(), data, m.masterSignature).ok());
    EXPECT_FALSE(crypto::verify(v->masterKey(), data, m.signature).ok());
  }
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
    EXPECT_TRUE(ledger::verifyValidation(*s).ok());
    EXPECT_TRUE(s->full());
    EXPECT_EQ(s->cookie, v->cookie());
    auto doc = ledger::decode(s->raw);
    ASSERT_TRUE(doc.ok()) << doc.error().message;
    EXPECT_EQ((*doc)["Flags"].GetUint(), 0x80000001u);
    EXPECT_EQ((*doc)["LedgerSequence"].GetUint(), 42u);
    EXPECT_EQ((*doc)["SigningTime"].GetUint(), 800'000'000u);
    EXPECT_EQ(hexField(*doc, "LedgerHash"), core::toBytes(h.hash));
    EXPECT_EQ(hexField(*doc, "SigningPubKey"), core::toBytes(v->signingKey()));
    ASSERT_TRUE(doc->HasMember("Cookie"));
    EXPECT_EQ(doc->HasMember("NetworkID"), networkId != 0);
    if (networkId != 0) {
      EXPECT_EQ((*doc)["NetworkID"].GetUint(), networkId);
    }
    char cookie[17];
    std::snprintf(cookie, sizeof cookie, "%016llX", static_cast<unsigned long long>(v->cookie()));
    EXPECT_STREQ((*doc)["Cookie"].GetString(), cookie);
    auto data = signingDataOf(s->raw, "VAL", {"Signature"});
    EXPECT_EQ(data, s->signingData);
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
    EXPECT_EQ(again->manifest().raw, v->manifest().raw);
    const auto signing1 = v->signingKey();
    ASSERT_TRUE(v->rotate(**store).ok());
    EXPECT_EQ(v->manifest().sequence, 2u);
    EXPECT_EQ(v->masterKey(), master);
    EXPECT_NE(v->signingKey(), signing1);
    EXPECT_EQ(v->manifest().signingKey, v->signingKey());
    EXPECT_TRUE(ledger::parseManifest(v->manifest().raw).ok());
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

// The stored manifest must be a valid delegation from the stored master to the stored signing
// key: another signing key, a revocation or a flipped bit make the identity unreadable.
TEST(ValidatorTest, StoredManifestMustMatchTheStoredSeeds) {
  TempDir dir;
  auto store = ChainStore::open(dir.path.string());
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(Validator::loadOrCreate(**store, std::nullopt).ok());
  auto text = (*store)->meta("validator");
  ASSERT_TRUE(text.ok() && *text);
  rapidjson::Document stored;
  stored.Parse((*text)->c_str());
  ASSERT_TRUE(stored.IsObject());
  const auto master = *crypto::KeyPair::fromSeed(std::string_view(stored["master_seed"].GetString()));
  const auto signing = *crypto::KeyPair::fromSeed(std::string_view(stored["signing_seed"].GetString()));
  const auto other = *crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
  auto loadWith = [&](const core::Bytes& manifest) {
    rapidjson::Document d;
    d.CopyFrom(stored, d.GetAllocator());
    d["manifest"].SetString(core::toHex(manifest).c_str(), d.GetAllocator());
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    d.Accept(w);
    EXPECT_TRUE((*store)->setMeta("validator", buf.GetString()).ok());
    return Validator::loadOrCreate(**store, std::nullopt);
  };
  // The same delegation under a later sequence is accepted as it stands.
  auto later = loadWith(ledger::makeManifest(master, &signing, 7));
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(later->manifest().sequence, 7u);
  core::Bytes flipped = ledger::makeManifest(master, &signing, 7);
  flipped[flipped.size() - 3] ^= 1;
  for (const core::Bytes& bad : {ledger::makeManifest(master, &other, 7),
                                 ledger::makeManifest(master, nullptr, ledger::kRevokedSequence), flipped}) {
    auto v = loadWith(bad);
    ASSERT_FALSE(v.ok());
    EXPECT_NE(v.error().message.find("unreadable"), std::string::npos) << v.error().message;
  }
}
