#include "sashimono/crypto/SealedBox.h"

#include <gtest/gtest.h>

using namespace sashimono;

TEST(SealedBox, RoundTripWith33And32ByteKeys) {
  auto kp = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  ASSERT_TRUE(kp.ok());
  auto msg = core::asBytes("{\"lease\":1}");
  for (auto key : {core::ByteView(kp->publicKey()), core::ByteView(kp->publicKey()).subspan(1)}) {
    auto box = crypto::seal(key, msg);
    ASSERT_TRUE(box.ok()) << box.error().message;
    EXPECT_EQ(box->size(), msg.size() + crypto::kSealOverhead);
    auto open = crypto::unseal(*kp, *box);
    ASSERT_TRUE(open.ok()) << open.error().message;
    EXPECT_EQ(core::asString(*open), core::asString(msg));
  }
  auto empty = crypto::seal(kp->publicKey(), {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(crypto::unseal(*kp, *empty)->empty());
}

TEST(SealedBox, Errors) {
  auto kp = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  auto other = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::ed25519));
  auto secp = crypto::KeyPair::fromSeed(crypto::generateSeed(crypto::KeyType::secp256k1));
  auto msg = core::asBytes("secret");
  EXPECT_FALSE(crypto::seal(core::Bytes(31, 1), msg).ok());
  EXPECT_FALSE(crypto::seal(secp->publicKey(), msg).ok());  // 0x02/0x03 prefix
  core::Bytes small(32, 0);                                 // small-order point
  small[0] = 1;
  EXPECT_FALSE(crypto::seal(small, msg).ok());

  auto box = crypto::seal(kp->publicKey(), msg);
  ASSERT_TRUE(box.ok());
  auto wrong = crypto::unseal(*other, *box);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("authentication failed"), std::string::npos);
  auto tampered = *box;
  tampered.back() ^= 1;
  EXPECT_FALSE(crypto::unseal(*kp, tampered).ok());
  EXPECT_FALSE(crypto::unseal(*kp, core::ByteView(*box).first(47)).ok());
  EXPECT_FALSE(crypto::unseal(*secp, *box).ok());
}
