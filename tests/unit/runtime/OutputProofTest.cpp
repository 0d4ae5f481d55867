#include "sashimono/runtime/OutputProof.h"

#include <gtest/gtest.h>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/UserClient.h"
#include "sashimono/runtime/UserMessages.h"

namespace sashimono::runtime {
namespace {

InstanceKey seedKey(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return InstanceKey::fromSeed(seed);
}

core::Bytes text(const std::string& s) { return core::Bytes(s.begin(), s.end()); }

// Fact sheet 2.6 test vectors (seed 32×01 user, 32×02 server).
TEST(OutputProofTest, SheetVectors) {
  auto user = seedKey(1);
  auto server = seedKey(2);
  EXPECT_EQ(user.publicHex(), "ed8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
  EXPECT_EQ(server.publicHex(), "ed8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394");
  auto h = userOutputHash(user.publicKey(), {text("Echo: hello")});
  EXPECT_EQ(core::toHexLower(h), "308b1a5bfc17a74eb51460e3cd470066b29aa5c6ecc38b3cd9d5a97733e334bc");
  Hash state{};
  state.fill(0x09);
  OutputTree tree({h}, state);
  EXPECT_EQ(core::toHexLower(tree.root()),
            "e65adcbe742440caf406b293b1b5b2675f573abf76fc37a690fbb5b690cf2af1");
  auto sig = server.sign(tree.root());
  EXPECT_EQ(core::toHexLower(sig),
            "6b5d3b573c3eddec0802107b58dd4a1aad0be6b2902efd16bad9d458c3d4e6e0135c57ee3df9cef39b1d2d8f241b96a8"
            "ab0fa49f"
            "1723fa086058167e0ff5c90b");
  // The collapsed tree for the only user: [null, state].
  auto t = tree.collapsedFor(h);
  ASSERT_TRUE(t.isArray());
  ASSERT_EQ(t.asArray().size(), 2u);
  EXPECT_TRUE(t.asArray()[0].isNull());
  EXPECT_EQ(renderJson(t), "[null,\"" + core::toHexLower(state) + "\"]");
}

TEST(OutputProofTest, ChallengeVectors) {
  auto user = seedKey(1);
  auto server = seedKey(2);
  EXPECT_EQ(
      core::toHexLower(user.sign(core::asBytes("00112233445566778899aabbccddeeff"))),
      "c5149ff022dc2b4ccecbd62481c0fd83b96077c1222b7bebbddbb7cee0fd2006abb210662a56ab9e997193f611b1b88e1c732d"
      "8878d8492e9336675bfe502000");
  EXPECT_EQ(core::toHexLower(server.sign(core::asBytes("ffeeddccbbaa99887766554433221100"
                                                       "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
                                                       "1.0"))),
            "622a71fb15dc2e9a35891bddfa0d11509666b5733a72582cd22fad768d778f8a17469aee0774c5287e9c163dcfc297d3"
            "6c020c6f"
            "c26a66e35d6bdc9b1fc7070d");
  auto sig = user.sign(core::asBytes(R"({"input":"hello","nonce":1,"max_ledger_seq_no":20})"));
  EXPECT_EQ(core::toHexLower(crypto::blake3(sig)),
            "cf1ef87c65b335daba5dbecc3f557ef6158d58f7db734939f44a2231d0486dc7");
}

// A JSON-mode Node contract writes "text" with quotes; the client hashes the decoded string.
TEST(OutputProofTest, JsonStringOutputsHashAsTheClientSeesThem) {
  auto user = seedKey(1);
  EXPECT_EQ(userOutputHash(user.publicKey(), {text("\"Echo: hello\"")}),
            userOutputHash(user.publicKey(), {text("Echo: hello")}));
  EXPECT_EQ(clientVisibleOutput(text("\"a\\nb\"")), text("a\nb"));
  EXPECT_EQ(clientVisibleOutput(text("\"a\"b\"")), text("\"a\"b\""));  // not one JSON string: raw
  EXPECT_EQ(clientVisibleOutput(text("{\"a\":1}")), text("{\"a\":1}"));
}

TEST(OutputProofTest, ManyUsersEachVerify) {
  Hash state{};
  state.fill(0x42);
  std::vector<InstanceKey> users;
  std::vector<Hash> hashes;
  std::vector<std::vector<core::Bytes>> outs;
  for (int i = 0; i < 40; ++i) {
    users.push_back(InstanceKey::generate());
    outs.push_back({text("out " + std::to_string(i)), text("second")});
    hashes.push_back(userOutputHash(users.back().publicKey(), outs.back()));
  }
  OutputTree tree(hashes, state);
  auto server = InstanceKey::generate();
  auto sig = server.sign(tree.root());
  for (std::size_t i = 0; i < users.size(); ++i) {
    auto msg = contractOutputMsg(Protocol::Bson, 5, Hash{}, outs[i], hashes[i], tree.collapsedFor(hashes[i]),
                                 {{server.publicKey(), sig}});
    EXPECT_TRUE(verifyOutputProof(users[i].publicKey(), outs[i], msg, {server.publicKey()})) << i;
    // Another user's outputs, a wrong key, or a missing signer fail.
    EXPECT_FALSE(
        verifyOutputProof(users[(i + 1) % users.size()].publicKey(), outs[i], msg, {server.publicKey()}));
    EXPECT_FALSE(
        verifyOutputProof(users[i].publicKey(), outs[i], msg, {InstanceKey::generate().publicKey()}));
    EXPECT_FALSE(verifyOutputProof(users[i].publicKey(), outs[i], msg,
                                   {server.publicKey(), InstanceKey::generate().publicKey()}));
  }
}

TEST(OutputProofTest, JsonEmbedding) {
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("\"hi\""))), "\"hi\"");
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("hi"))), "\"hi\"");
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("{\"a\":1}"))), "{\"a\":1}");
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("12.5"))), "12.5");
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("true"))), "true");
  // Hot Pocket would insert these as they are and break the client's parse; we quote them.
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("{not json}"))), "\"{not json}\"");
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("1."))), "\"1.\"");
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes("null"))), "\"null\"");
  EXPECT_EQ(renderJson(jsonEmbedded(core::asBytes(""))), "\"\"");
}

}  // namespace
}  // namespace sashimono::runtime
