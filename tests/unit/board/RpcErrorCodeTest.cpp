#include "sashimono/board/RpcErrorCode.h"

#include <gtest/gtest.h>

#include "sashimono/board/Responses.h"

namespace sashimono::board {
namespace {

TEST(RpcErrorCodeTest, TokensRoundTrip) {
  for (auto c : {RpcErrorCode::txnNotFound, RpcErrorCode::actNotFound, RpcErrorCode::lgrNotFound,
                 RpcErrorCode::badResponse}) {
    auto e = rpcError(c, "message");
    EXPECT_EQ(e.code, rpcErrorName(c));
    EXPECT_EQ(e.message, "message");
    EXPECT_EQ(rpcErrorCode(e), c);
  }
  EXPECT_EQ(rpcErrorName(RpcErrorCode::txnNotFound), "txnNotFound");
  EXPECT_EQ(rpcErrorName(RpcErrorCode::badResponse), "badResponse");
}

TEST(RpcErrorCodeTest, UnlistedTokensAreOther) {
  EXPECT_EQ(rpcErrorCode(core::Error::withCode("invalidTransaction", "x")), RpcErrorCode::other);
  EXPECT_EQ(rpcErrorCode(core::Error::withCode("TXNNOTFOUND", "x")), RpcErrorCode::other);
  EXPECT_EQ(rpcErrorCode(core::Error("no code")), RpcErrorCode::other);
}

TEST(RpcErrorCodeTest, SearchedAllNotFound) {
  EXPECT_TRUE(isSearchedAllNotFound(rpcError(
      RpcErrorCode::txnNotFound, "board server error txnNotFound: Transaction not found. (searched_all)")));
  EXPECT_FALSE(
      isSearchedAllNotFound(rpcError(RpcErrorCode::txnNotFound, "board server error txnNotFound: x")));
  EXPECT_FALSE(isSearchedAllNotFound(rpcError(RpcErrorCode::actNotFound, "x (searched_all)")));
}

}  // namespace
}  // namespace sashimono::board
