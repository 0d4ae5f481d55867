// Ledger header hash and transaction tree (SHAMap) against real mainnet ledgers: the vectors in
// tests/testdata/xrpl-ledger-*.json (made by tools/vectors/ledger-vectors.js from XRPLF/xrpl.js
// fixtures, checked there against xrpl.js's own hashes).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "VectorsFixture.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/LedgerHeader.h"
#include "sashimono/ledger/ShaMap.h"

using namespace sashimono;
using ledger::LedgerHeader;
using ledger::LedgerTxData;

namespace {

rapidjson::Document loadVector(const std::string& name) {
  std::ifstream in(std::string(SASHIMONO_SOURCE_DIR) + "/tests/testdata/" + name);
  if (!in) throw std::runtime_error("cannot read tests/testdata/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return sashimono::testing::parseJson(ss.str());
}

crypto::Hash256 hashOf(const rapidjson::Value& v) {
  auto b = core::fromHex(v.GetString());
  if (!b.ok() || b->size() != 32)
    throw std::runtime_error(std::string("bad hash in vector: ") + v.GetString());
  crypto::Hash256 h{};
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

LedgerHeader headerOf(const rapidjson::Value& j) {
  LedgerHeader h;
  h.seq = j["ledger_index"].GetUint();
  h.totalDrops = std::stoull(j["total_coins"].GetString());
  h.parentHash = hashOf(j["parent_hash"]);
  h.txHash = hashOf(j["transaction_hash"]);
  h.accountHash = hashOf(j["account_hash"]);
  if (!j["parent_close_time"].IsNull()) h.parentCloseTime = j["parent_close_time"].GetUint();
  h.closeTime = j["close_time"].GetUint();
  h.closeTimeResolution = static_cast<std::uint8_t>(j["close_time_resolution"].GetUint());
  if (!j["close_flags"].IsNull()) h.closeFlags = static_cast<std::uint8_t>(j["close_flags"].GetUint());
  return h;
}

struct Tx {
  core::Bytes blob;
  core::Bytes meta;
  crypto::Hash256 id{};
};

std::vector<Tx> txsOf(const rapidjson::Value& arr) {
  std::vector<Tx> out;
  for (const auto& t : arr.GetArray()) {
    Tx x;
    x.blob = *core::fromHex(t["tx_blob"].GetString());
    x.meta = *core::fromHex(t["meta"].GetString());
    x.id = hashOf(t["hash"]);
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<LedgerTxData> views(const std::vector<Tx>& txs) {
  std::vector<LedgerTxData> v;
  for (const auto& t : txs) v.push_back({t.blob, t.meta});
  return v;
}

crypto::Hash256 root(const std::vector<Tx>& txs) {
  auto v = views(txs);
  auto r = ledger::transactionTreeRoot(v);
  EXPECT_TRUE(r.ok()) << r.error().message;
  return r.ok() ? *r : crypto::Hash256{};
}

crypto::Hash256 innerOf(const std::vector<std::pair<int, crypto::Hash256>>& children) {
  core::Bytes b(ledger::kPrefixInnerNode.begin(), ledger::kPrefixInnerNode.end());
  b.resize(4 + 16 * 32, 0);
  for (const auto& [branch, h] : children) std::copy(h.begin(), h.end(), b.begin() + 4 + branch * 32);
  return crypto::sha512Half(b);
}

crypto::Hash256 filled(std::uint8_t first, std::uint8_t rest) {
  crypto::Hash256 h{};
  h.fill(rest);
  h[0] = first;
  return h;
}

bool mentions(const core::Error& e, const crypto::Hash256& h) {
  return e.message.find(core::toHex(h)) != std::string::npos;
}

}  // namespace

TEST(LedgerHash, MainnetHeaderHashesToItsPublishedHash) {
  auto v = loadVector("xrpl-ledger-38129.json");
  LedgerHeader h = headerOf(v["header"]);
  EXPECT_EQ(h.seq, 38129u);
  EXPECT_EQ(core::toHex(ledger::ledgerHash(h)), v["ledger_hash"].GetString());
  // One bit anywhere in the header changes the hash.
  LedgerHeader later = h;
  later.closeTime += 1;
  EXPECT_NE(ledger::ledgerHash(later), ledger::ledgerHash(h));
  LedgerHeader flagged = h;
  flagged.closeFlags = 1;
  EXPECT_NE(ledger::ledgerHash(flagged), ledger::ledgerHash(h));
}

TEST(LedgerHash, HeaderOnlyVectors) {
  auto v = loadVector("xrpl-ledger-headers.json");
  ASSERT_EQ(v["ledgers"].Size(), 2u);
  for (const auto& l : v["ledgers"].GetArray()) {
    LedgerHeader h = headerOf(l["header"]);
    EXPECT_EQ(core::toHex(ledger::ledgerHash(h)), l["ledger_hash"].GetString()) << h.seq;
  }
}

TEST(LedgerHash, BinaryHeaderRoundTrips) {
  auto v = loadVector("xrpl-ledger-38129.json");
  LedgerHeader h = headerOf(v["header"]);
  core::Bytes b = ledger::serializeHeader(h);
  ASSERT_EQ(b.size(), ledger::kLedgerHeaderSize);
  // seq 38129 = 0x000094F1, big-endian first; then total_coins; flags last.
  EXPECT_EQ(core::toHex(core::ByteView(b).first(12)), "000094F1016345785D89F196");
  EXPECT_EQ(b[116], 10);
  EXPECT_EQ(b[117], 0);
  auto back = ledger::parseHeader(b);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, h);
  // The hash is SHA512Half("LWR\0" + the binary header).
  EXPECT_EQ(crypto::sha512Half({core::ByteView(ledger::kPrefixLedger), core::ByteView(b)}),
            ledger::ledgerHash(h));
}

TEST(LedgerHash, ParseHeaderWantsExactly118Bytes) {
  core::Bytes b(200, 0xAB);
  for (std::size_t n : {0u, 1u, 117u, 119u, 200u}) {
    auto r = ledger::parseHeader(core::ByteView(b).first(n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_EQ(r.error().code, "badLedgerHeader");
    EXPECT_NE(r.error().message.find(std::to_string(n) + " bytes, expected 118"), std::string::npos)
        << r.error().message;
  }
  auto any = ledger::parseHeader(core::ByteView(b).first(118));
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->seq, 0xABABABABu);
  EXPECT_EQ(ledger::serializeHeader(*any), core::Bytes(118, 0xAB));
}

TEST(LedgerHash, MainnetOneTxTreeIsAnInnerNode) {
  auto v = loadVector("xrpl-ledger-38129.json");
  auto txs = txsOf(v["transactions"]);
  ASSERT_EQ(txs.size(), 1u);
  EXPECT_EQ(ledger::transactionHash(txs[0].blob), txs[0].id);
  crypto::Hash256 r = root(txs);
  EXPECT_EQ(core::toHex(r), v["transaction_hash"].GetString());
  crypto::Hash256 leaf = ledger::txLeafHash(txs[0].id, txs[0].blob, txs[0].meta);
  EXPECT_NE(r, leaf);
  EXPECT_EQ(r, innerOf({{txs[0].id[0] >> 4, leaf}}));
}

TEST(LedgerHash, MainnetSeventeenTxTree) {
  // Ledger 7501326: 17 transactions, one with 284,648 bytes of metadata (3-byte VL prefix).
  auto v = loadVector("xrpl-ledger-7501326.json");
  auto txs = txsOf(v["transactions"]);
  ASSERT_EQ(txs.size(), 17u);
  EXPECT_TRUE(std::any_of(txs.begin(), txs.end(), [](const Tx& t) { return t.meta.size() > 12481; }));
  for (const auto& t : txs) EXPECT_EQ(ledger::transactionHash(t.blob), t.id);
  EXPECT_EQ(core::toHex(root(txs)), v["transaction_hash"].GetString());
}

TEST(LedgerHash, InputOrderDoesNotMatter) {
  auto v = loadVector("xrpl-ledger-7501326.json");
  auto txs = txsOf(v["transactions"]);
  const crypto::Hash256 expected = hashOf(v["transaction_hash"]);
  std::reverse(txs.begin(), txs.end());
  EXPECT_EQ(root(txs), expected);
  std::mt19937 rng(7);
  for (int i = 0; i < 5; ++i) {
    std::shuffle(txs.begin(), txs.end(), rng);
    EXPECT_EQ(root(txs), expected);
  }
}

TEST(LedgerHash, VerifyLedgerAcceptsTheRealOneAndNamesEachLie) {
  auto v = loadVector("xrpl-ledger-7501326.json");
  auto txs = txsOf(v["transactions"]);
  // Its fixture lacks parent_close_time and close_flags: the expected hash is the header's own.
  LedgerHeader h = headerOf(v["header"]);
  const crypto::Hash256 signedHash = ledger::ledgerHash(h);
  auto ok = ledger::verifyLedger(h, signedHash, views(txs));
  EXPECT_TRUE(ok.ok()) << ok.error().message;

  // A header that is not the signed one.
  LedgerHeader forged = h;
  forged.totalDrops += 1;
  auto bad = ledger::verifyLedger(forged, signedHash, views(txs));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "headerMismatch");
  EXPECT_TRUE(mentions(bad.error(), signedHash)) << bad.error().message;
  EXPECT_TRUE(mentions(bad.error(), ledger::ledgerHash(forged))) << bad.error().message;

  auto expectTreeMismatch = [&](const std::vector<Tx>& changed, const char* what) {
    auto r = ledger::verifyLedger(h, signedHash, views(changed));
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.error().code, "txTreeMismatch") << what;
    EXPECT_TRUE(mentions(r.error(), h.txHash)) << what << ": " << r.error().message;
    EXPECT_NE(r.error().message.find("ledger 7501326"), std::string::npos) << r.error().message;
  };
  // One metadata byte altered (the large one, deep inside).
  auto altered = txs;
  auto big = std::max_element(altered.begin(), altered.end(),
                              [](const Tx& a, const Tx& b) { return a.meta.size() < b.meta.size(); });
  big->meta[big->meta.size() / 2] ^= 0x01;
  expectTreeMismatch(altered, "meta byte");
  {
    auto r = ledger::verifyLedger(h, signedHash, views(altered));
    EXPECT_TRUE(mentions(r.error(), root(altered))) << r.error().message;
  }
  // One transaction byte altered.
  auto alteredTx = txs;
  alteredTx[3].blob.back() ^= 0x80;
  expectTreeMismatch(alteredTx, "tx byte");
  // One transaction hidden, each in turn.
  for (std::size_t i = 0; i < txs.size(); ++i) {
    auto dropped = txs;
    dropped.erase(dropped.begin() + static_cast<std::ptrdiff_t>(i));
    expectTreeMismatch(dropped, "dropped");
  }
  // One transaction invented (a real one from another ledger).
  auto added = txs;
  added.push_back(txsOf(loadVector("xrpl-ledger-38129.json")["transactions"])[0]);
  expectTreeMismatch(added, "added");
  // One transaction listed twice.
  auto twice = txs;
  twice.push_back(txs[5]);
  expectTreeMismatch(twice, "duplicate");
  auto dupRoot = ledger::transactionTreeRoot(views(twice));
  ASSERT_FALSE(dupRoot.ok());
  EXPECT_EQ(dupRoot.error().code, "duplicateTx");
  EXPECT_TRUE(mentions(dupRoot.error(), txs[5].id)) << dupRoot.error().message;
  // Metadata moved from one transaction to another.
  auto swapped = txs;
  std::swap(swapped[0].meta, swapped[1].meta);
  expectTreeMismatch(swapped, "swapped meta");
}

TEST(LedgerHash, GivenIdsSaveAHashButCannotHideALie) {
  auto v = loadVector("xrpl-ledger-7501326.json");
  auto txs = txsOf(v["transactions"]);
  const crypto::Hash256 expected = hashOf(v["transaction_hash"]);
  auto withIds = views(txs);
  for (std::size_t i = 0; i < txs.size(); ++i) withIds[i].id = txs[i].id;
  EXPECT_EQ(*ledger::transactionTreeRoot(withIds), expected);
  // An id that is not the blob's (a server's claim passed on unchecked) gives another root.
  auto wrong = withIds;
  wrong[4].id = txs[5].id;
  wrong[5].id = txs[4].id;
  auto r = ledger::transactionTreeRoot(wrong);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(*r, expected);
  // The real id with another transaction's blob.
  auto swapped = withIds;
  std::swap(swapped[2].blob, swapped[3].blob);
  EXPECT_NE(*ledger::transactionTreeRoot(swapped), expected);
}

TEST(LedgerHash, EmptyTreeIsZero) {
  EXPECT_EQ(*ledger::transactionTreeRoot({}), crypto::Hash256{});
  std::vector<ledger::ShaMapItem> none;
  EXPECT_EQ(*ledger::shaMapRoot(none), crypto::Hash256{});
  // Mainnet ledger 40000 had no transactions: its header says zero, and verifies with none.
  auto v = loadVector("xrpl-ledger-headers.json");
  LedgerHeader h = headerOf(v["ledgers"][0]["header"]);
  ASSERT_EQ(h.seq, 40000u);
  EXPECT_EQ(h.txHash, crypto::Hash256{});
  EXPECT_TRUE(ledger::verifyLedger(h, hashOf(v["ledgers"][0]["ledger_hash"]), {}).ok());
  auto v1 = loadVector("xrpl-ledger-38129.json");
  auto one = txsOf(v1["transactions"]);
  auto r = ledger::verifyLedger(h, hashOf(v["ledgers"][0]["ledger_hash"]), views(one));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "txTreeMismatch");
}

TEST(LedgerHash, ShaMapShapes) {
  const crypto::Hash256 l1 = filled(0x12, 1), l2 = filled(0x13, 2), l3 = filled(0x90, 3);
  // A single item: the root is an inner node with the leaf under the key's first nibble.
  std::vector<ledger::ShaMapItem> one{{filled(0x12, 0xEE), l1}};
  EXPECT_EQ(*ledger::shaMapRoot(one), innerOf({{1, l1}}));
  // Keys 12…, 13… and 90…: 12 and 13 share nibble 1, so branch 1 is an inner node over 2 and 3;
  // the lone 90… item is its leaf directly under the root.
  std::vector<ledger::ShaMapItem> three{
      {filled(0x90, 0xEE), l3}, {filled(0x13, 0xEE), l2}, {filled(0x12, 0xEE), l1}};
  EXPECT_EQ(*ledger::shaMapRoot(three), innerOf({{1, innerOf({{2, l1}, {3, l2}})}, {9, l3}}));
  // Keys that agree on all but the last nibble: a chain of 63 inner nodes.
  crypto::Hash256 ka = filled(0x55, 0x55), kb = ka;
  kb[31] = 0x56;
  std::vector<ledger::ShaMapItem> deep{{ka, l1}, {kb, l2}};
  crypto::Hash256 expected = innerOf({{5, l1}, {6, l2}});
  for (int depth = 62; depth >= 0; --depth) expected = innerOf({{5, expected}});
  EXPECT_EQ(*ledger::shaMapRoot(deep), expected);
  // Two items with one key are not a map.
  std::vector<ledger::ShaMapItem> dup{{ka, l1}, {kb, l2}, {ka, l3}};
  auto r = ledger::shaMapRoot(dup);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "duplicateKey");
}

TEST(LedgerHash, TxLeafVlPrefixes) {
  // "SND\0" + VL(blob) + blob + VL(meta) + meta + txid; VL: 1 byte to 192, 2 to 12480, 3 beyond.
  const crypto::Hash256 id = filled(0xAA, 0x0F);
  struct Case {
    std::size_t size;
    const char* prefix;
  };
  for (Case c : {Case{0, "00"}, Case{192, "C0"}, Case{193, "C100"}, Case{12480, "F0FF"},
                 Case{12481, "F10000"}, Case{918744, "FED417"}}) {
    core::Bytes blob(c.size, 0x42);
    core::Bytes meta(5, 0x07);
    core::Bytes expected(ledger::kPrefixTxNode.begin(), ledger::kPrefixTxNode.end());
    auto vl = *core::fromHex(c.prefix);
    expected.insert(expected.end(), vl.begin(), vl.end());
    expected.insert(expected.end(), blob.begin(), blob.end());
    expected.push_back(5);
    expected.insert(expected.end(), meta.begin(), meta.end());
    expected.insert(expected.end(), id.begin(), id.end());
    EXPECT_EQ(ledger::txLeafHash(id, blob, meta), crypto::sha512Half(expected)) << c.size;
  }
  core::Bytes tooBig(ledger::kMaxLeafBlob + 1, 0);
  core::Bytes small(10, 1);
  std::vector<LedgerTxData> txs{{small, tooBig}};
  auto r = ledger::transactionTreeRoot(txs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "txTooLarge");
  EXPECT_THROW((void)ledger::txLeafHash(id, tooBig, small), std::invalid_argument);
}
