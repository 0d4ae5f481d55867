#pragma once
// The devnet's request layer, independent of the transport: a request object (rippled's
// WebSocket shape {"id", "command", …params, "api_version"}) goes to the handler registered for
// its command; the response is rendered in rippled's envelope
//   {"id", "result": {…}, "status": "success", "type": "response", "api_version"?}
//   {"id", "error", "error_code", "error_message", "request", "status": "error", "type": "response"}
// Handlers parse their parameters, process against the Devnet, and render a result object.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace sashimono::net {
class WsSession;
}

namespace sashimono::devnet {

class Devnet;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// rippled's RPC error: token, numeric code (error_code_i; absent when negative) and message.
struct RpcError {
  std::string token;
  int code = -1;
  std::string message;
  std::string exception;  // error_exception, for invalidTransaction

  static RpcError invalidParams(std::string msg) { return {"invalidParams", 31, std::move(msg), {}}; }
  static RpcError missingField(const std::string& f) { return invalidParams("Missing field '" + f + "'."); }
  static RpcError invalidField(const std::string& f) { return invalidParams("Invalid field '" + f + "'."); }
  static RpcError expectedField(const std::string& f, const std::string& type) {
    return invalidParams("Invalid field '" + f + "', not " + type + ".");
  }
  static RpcError unknownCmd() { return {"unknownCmd", 32, "Unknown method.", {}}; }
  static RpcError actNotFound() { return {"actNotFound", 19, "Account not found.", {}}; }
  static RpcError actMalformed() { return {"actMalformed", 35, "Account malformed.", {}}; }
  static RpcError lgrNotFound() { return {"lgrNotFound", 21, "ledgerNotFound", {}}; }
  static RpcError lgrIdxMalformed() { return {"lgrIdxMalformed", 58, "Ledger index malformed.", {}}; }
  static RpcError txnNotFound() { return {"txnNotFound", 29, "Transaction not found.", {}}; }
  static RpcError noPermission() {
    return {"noPermission", 6, "You don't have permission for this command.", {}};
  }
  static RpcError internal(std::string msg) { return {"internal", 73, std::move(msg), {}}; }
  static RpcError badSyntax() { return {"badSyntax", 1, "Syntax error.", {}}; }
  static RpcError missingCommand() { return {"missingCommand", -1, "Missing command entry.", {}}; }
  static RpcError malformedStream() { return {"malformedStream", 71, "Stream malformed.", {}}; }
  static RpcError invalidApiVersion() { return {"invalid_API_version", -1, "Invalid API version.", {}}; }
  static RpcError invalidTransaction(std::string exception) {
    return {"invalidTransaction", -1, "Invalid transaction.", std::move(exception)};
  }
};

struct RequestContext {
  const rapidjson::Value& params;  // the request object itself
  int apiVersion = 1;
  bool admin = false;  // loopback client: may use ledger_accept, fee_set, validator_rotate
  std::shared_ptr<net::WsSession> session;  // null when not over WebSocket (tests)
};

// Writes the members of "result" (the writer is inside an open object) or returns an error.
using HandlerFn = std::optional<RpcError> (*)(Devnet& node, const RequestContext& ctx, JsonWriter& out);

struct HandlerInfo {
  const char* name;
  HandlerFn fn;
  bool adminOnly;
};

// The command table; nullptr for an unknown command.
const HandlerInfo* findHandler(std::string_view command);

// Parses and answers one request text. Never throws on bad input; returns the response text.
std::string handleRequest(Devnet& node, std::string_view text, bool admin,
                          const std::shared_ptr<net::WsSession>& session);

// Renders an error response for a request that could not be parsed at all.
std::string renderError(const RpcError& e, const rapidjson::Value* request, int apiVersion);

}  // namespace sashimono::devnet
