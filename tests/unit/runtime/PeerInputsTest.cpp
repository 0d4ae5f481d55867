// A user's input relayed between members (`input`, docs/CLUSTER.md): what a member rebuilds from
// it is what the round engine made from the user's own message, and a forged or malformed one
// is refused with the code the user protocol uses.
#include <gtest/gtest.h>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {
namespace {

InstanceKey user() {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = 42;
  return InstanceKey::fromSeed(seed);
}

RoundInput signedInput(const InstanceKey& k, const std::string& container) {
  RoundInput in;
  in.protocol = Protocol::Json;
  in.user = k.publicKey();
  in.container = core::Bytes(container.begin(), container.end());
  in.sig = k.sign(in.container);
  in.hash = crypto::blake3(in.sig);
  return in;
}

TEST(PeerInputsTest, ARelayedInputIsTheUsersOwn) {
  const auto k = user();
  const RoundInput in = signedInput(k, R"({"input":"hello","nonce":3,"max_ledger_seq_no":10})");
  auto bytes = encodePeerMessage(toPeerInput(in));
  auto decoded = decodePeerMessage(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  auto back = fromPeerInput(std::get<PeerInput>(*decoded));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->user, in.user);
  EXPECT_EQ(back->hash, in.hash);
  EXPECT_EQ(back->sig, in.sig);
  EXPECT_EQ(back->container, in.container);
  EXPECT_EQ(back->protocol, Protocol::Json);
  EXPECT_EQ(core::asString(back->blob), "hello");
  EXPECT_EQ(back->nonce, 3U);
  EXPECT_EQ(back->maxLedgerSeqNo, 10U);
}

TEST(PeerInputsTest, AForgedOrMalformedInputIsRefused) {
  const auto k = user();
  RoundInput in = signedInput(k, R"({"input":"hello","nonce":3,"max_ledger_seq_no":10})");
  PeerInput forged = toPeerInput(in);
  forged.container.back() = ' ';  // the signature no longer covers it
  auto r = fromPeerInput(forged);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "bad_sig");

  std::array<std::uint8_t, 32> other{};
  other[0] = 7;
  PeerInput stranger = toPeerInput(in);
  stranger.user = InstanceKey::fromSeed(other).publicKey();  // someone else's key
  EXPECT_EQ(fromPeerInput(stranger).error().code, "bad_sig");

  const RoundInput bad = signedInput(k, R"({"input":"hello","nonce":0,"max_ledger_seq_no":10})");
  auto m = fromPeerInput(toPeerInput(bad));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code, "bad_msg_format");
  EXPECT_NE(m.error().message.find("nonce"), std::string::npos) << m.error().message;

  PeerInput asBson = toPeerInput(in);
  asBson.protocol = Protocol::Bson;  // JSON bytes read as BSON
  EXPECT_EQ(fromPeerInput(asBson).error().code, "bad_msg_format");
}

}  // namespace
}  // namespace sashimono::runtime
