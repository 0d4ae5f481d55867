#include "sashimono/board/RpcErrorCode.h"

#include <array>
#include <utility>

namespace sashimono::board {
namespace {
constexpr std::array<std::pair<RpcErrorCode, std::string_view>, 4> kTokens{{
    {RpcErrorCode::txnNotFound, "txnNotFound"},
    {RpcErrorCode::actNotFound, "actNotFound"},
    {RpcErrorCode::lgrNotFound, "lgrNotFound"},
    {RpcErrorCode::badResponse, "badResponse"},
}};
}  // namespace

std::string_view rpcErrorName(RpcErrorCode c) {
  for (const auto& [code, token] : kTokens) {
    if (code == c) return token;
  }
  return "";
}

RpcErrorCode rpcErrorCode(const core::Error& e) {
  for (const auto& [code, token] : kTokens) {
    if (e.code == token) return code;
  }
  return RpcErrorCode::other;
}

core::Error rpcError(RpcErrorCode c, std::string message) {
  return core::Error::withCode(std::string(rpcErrorName(c)), std::move(message));
}

}  // namespace sashimono::board
