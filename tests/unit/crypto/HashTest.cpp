#include "sashimono/crypto/Hash.h"

#include <gtest/gtest.h>

using namespace sashimono;

TEST(Hash, KnownVectors) {
  auto abc = core::asBytes("abc");
  EXPECT_EQ(core::toHexLower(crypto::sha256(abc)),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(core::toHexLower(crypto::sha512(abc)),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(core::toHexLower(crypto::sha512Half(abc)),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a");
  EXPECT_EQ(core::toHexLower(crypto::ripemd160(abc)), "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
}

TEST(Hash, Sha512HalfOfPartsEqualsConcatenation) {
  auto a = core::asBytes("hello ");
  auto b = core::asBytes("world");
  EXPECT_EQ(crypto::sha512Half({a, b}), crypto::sha512Half(core::asBytes("hello world")));
  EXPECT_EQ(crypto::sha512Half({}), crypto::sha512Half(core::ByteView{}));
}
