#pragma once
// The closed set of board error codes the host node and the client interpret. A board error is
// a core::Error whose code is rippled's token ("txnNotFound", "actNotFound", …, from resultOf in
// Responses.h) or "badResponse" for a response this client could not read. Callers compare
// rpcErrorCode(e) with an enum value, never the token text; a token not listed here is
// RpcErrorCode::other, and the Error keeps the original text for messages. Pure, thread-safe.
#include <string>
#include <string_view>

#include "sashimono/core/Result.h"

namespace sashimono::board {

enum class RpcErrorCode {
  txnNotFound,  // "txnNotFound": no such transaction (in the range asked for, with searched_all)
  actNotFound,  // "actNotFound": no such account in the ledger asked for
  lgrNotFound,  // "lgrNotFound": the server does not have the ledger asked for
  badResponse,  // "badResponse": a response missing fields or of the wrong shape (this client's code)
  other,        // any other token, or no code
};

// The token of a listed code ("" for other).
std::string_view rpcErrorName(RpcErrorCode c);
// The code of a board error: its token, parsed; other when not listed.
RpcErrorCode rpcErrorCode(const core::Error& e);
// An error with the code's token and `message`.
core::Error rpcError(RpcErrorCode c, std::string message);

}  // namespace sashimono::board
