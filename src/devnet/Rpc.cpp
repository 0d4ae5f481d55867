#include "sashimono/devnet/Rpc.h"

#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include <rapidjson/error/en.h>
#include <spdlog/spdlog.h>

#include "Handlers.h"
#include "Json.h"
#include "sashimono/devnet/Devnet.h"

namespace sashimono::devnet {

namespace {

constexpr std::array<HandlerInfo, 20> kHandlers = {{
    {"account_info", &handlers::accountInfo, false},
    {"account_lines", &handlers::accountLines, false},
    {"account_objects", &handlers::accountObjects, false},
    {"account_tx", &handlers::accountTx, false},
    {"fee", &handlers::fee, false},
    {"fee_set", &handlers::feeSet, true},
    {"ledger", &handlers::ledger, false},
    {"ledger_accept", &handlers::ledgerAccept, true},
    {"ledger_closed", &handlers::ledgerClosed, false},
    {"ledger_current", &handlers::ledgerCurrent, false},
    {"manifest", &handlers::manifest, false},
    {"ping", &handlers::ping, false},
    {"server_info", &handlers::serverInfo, false},
    {"server_state", &handlers::serverState, false},
    {"submit", &handlers::submit, false},
    {"subscribe", &handlers::subscribe, false},
    {"tx", &handlers::tx, false},
    {"unsubscribe", &handlers::unsubscribe, false},
    {"validator_rotate", &handlers::validatorRotate, true},
    {"random", &handlers::random, false},
}};

void writeId(JsonWriter& w, const rapidjson::Value* request) {
  if (request != nullptr && request->IsObject()) {
    auto it = request->FindMember("id");
    if (it != request->MemberEnd()) {
      w.Key("id");
      it->value.Accept(w);
    }
  }
}

}  // namespace

const HandlerInfo* findHandler(std::string_view command) {
  for (const auto& h : kHandlers) {
    if (command == h.name) return &h;
  }
  return nullptr;
}

std::string renderError(const RpcError& e, const rapidjson::Value* request, int apiVersion) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  if (apiVersion >= 2) json::putU(w, "api_version", static_cast<std::uint64_t>(apiVersion));
  json::put(w, "error", e.token);
  if (e.code >= 0) json::putI(w, "error_code", e.code);
  if (!e.exception.empty()) json::put(w, "error_exception", e.exception);
  json::put(w, "error_message", e.message);
  writeId(w, request);
  if (request != nullptr) {
    w.Key("request");
    request->Accept(w);
  }
  json::put(w, "status", "error");
  json::put(w, "type", "response");
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

namespace {

// Any number in the document that is not finite (walked with an explicit stack: the document may
// be deeply nested).
bool hasNonFiniteNumber(const rapidjson::Value& root) {
  std::vector<const rapidjson::Value*> todo{&root};
  while (!todo.empty()) {
    const rapidjson::Value* v = todo.back();
    todo.pop_back();
    if (v->IsDouble() && !std::isfinite(v->GetDouble())) return true;
    if (v->IsArray())
      for (const auto& e : v->GetArray()) todo.push_back(&e);
    else if (v->IsObject())
      for (const auto& m : v->GetObject()) todo.push_back(&m.value);
  }
  return false;
}

}  // namespace

std::string handleRequest(Devnet& node, std::string_view text, bool admin,
                          const std::shared_ptr<net::WsSession>& session) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  // rapidjson reads a number beyond the double range (1e400) as infinity, which no JSON answer
  // can carry (the request's id is echoed): such a request is not valid JSON to us.
  const bool nonFinite = !doc.HasParseError() && hasNonFiniteNumber(doc);
  if (doc.HasParseError() || !doc.IsObject() || nonFinite) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    json::put(w, "error", "jsonInvalid");
    json::putI(w, "error_code", -1);
    std::string why = doc.HasParseError() ? std::string("Unable to parse request: ") +
                                                rapidjson::GetParseError_En(doc.GetParseError()) +
                                                " at offset " + std::to_string(doc.GetErrorOffset())
                      : nonFinite ? "Unable to parse request: a number is out of range."
                                  : "Unable to parse request: not a JSON object.";
    json::put(w, "error_message", why);
    json::put(w, "status", "error");
    json::put(w, "type", "error");
    json::put(w, "value", text.substr(0, 1024));
    w.EndObject();
    return {buf.GetString(), buf.GetSize()};
  }

  int apiVersion = 1;
  if (auto it = doc.FindMember("api_version"); it != doc.MemberEnd()) {
    if (!it->value.IsInt() || it->value.GetInt() < 1 || it->value.GetInt() > 2)
      return renderError(RpcError::invalidApiVersion(), &doc, 1);
    apiVersion = it->value.GetInt();
  }
  auto cmd = doc.FindMember("command");
  if (cmd == doc.MemberEnd()) cmd = doc.FindMember("method");
  if (cmd == doc.MemberEnd()) return renderError(RpcError::missingCommand(), &doc, apiVersion);
  if (!cmd->value.IsString())
    return renderError(RpcError::expectedField("command", "string"), &doc, apiVersion);
  const HandlerInfo* h = findHandler(std::string_view(cmd->value.GetString(), cmd->value.GetStringLength()));
  if (h == nullptr) return renderError(RpcError::unknownCmd(), &doc, apiVersion);
  if (h->adminOnly && !admin) return renderError(RpcError::noPermission(), &doc, apiVersion);

  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  if (apiVersion >= 2) json::putU(w, "api_version", static_cast<std::uint64_t>(apiVersion));
  writeId(w, &doc);
  w.Key("result");
  w.StartObject();
  RequestContext ctx{doc, apiVersion, admin, session};
  std::optional<RpcError> err;
  try {
    err = h->fn(node, ctx, w);
  } catch (const std::exception& e) {
    spdlog::error("devnet: handler {} threw: {}", h->name, e.what());
    err = RpcError::internal("Internal error.");
  }
  if (err) return renderError(*err, &doc, apiVersion);
  w.EndObject();
  json::put(w, "status", "success");
  json::put(w, "type", "response");
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

namespace json {

std::optional<RpcError> ledgerSelector(Devnet& node, const rapidjson::Value& params, bool defaultCurrent,
                                       LedgerSel& out) {
  out = {};
  if (auto h = params.FindMember("ledger_hash"); h != params.MemberEnd()) {
    if (!h->value.IsString()) return RpcError::expectedField("ledger_hash", "hex string");
    auto bytes = core::fromHex(std::string_view(h->value.GetString(), h->value.GetStringLength()));
    if (!bytes.ok() || bytes->size() != 32) return RpcError::invalidField("ledger_hash");
    crypto::Hash256 hash{};
    std::memcpy(hash.data(), bytes->data(), 32);
    auto found = node.store().ledgerByHash(hash);
    if (!found.ok()) return RpcError::internal(found.error().message);
    if (!*found) return RpcError::lgrNotFound();
    out.seq = (*found)->seq;
    return std::nullopt;
  }
  auto it = params.FindMember("ledger_index");
  std::uint32_t validated = node.validatedLedger().seq;
  if (it == params.MemberEnd() || it->value.IsNull()) {
    out.current = defaultCurrent;
    out.seq = defaultCurrent ? 0 : validated;
    return std::nullopt;
  }
  const auto& v = it->value;
  std::int64_t n = -1;
  if (v.IsString()) {
    std::string_view s(v.GetString(), v.GetStringLength());
    if (s == "validated" || s == "closed") {
      out.seq = validated;
      return std::nullopt;
    }
    if (s == "current") {
      out.current = true;
      return std::nullopt;
    }
    if (s.empty() || s.size() > 10 || s.find_first_not_of("0123456789") != std::string_view::npos)
      return RpcError::lgrIdxMalformed();
    n = std::stoll(std::string(s));
  } else if (v.IsUint()) {
    n = v.GetUint();
  } else {
    return RpcError::lgrIdxMalformed();
  }
  if (n <= 0 || n > 0xFFFFFFFFll) return RpcError::lgrIdxMalformed();
  if (static_cast<std::uint32_t>(n) == node.openSeq()) {
    out.current = true;
    return std::nullopt;
  }
  if (static_cast<std::uint32_t>(n) > validated) return RpcError::lgrNotFound();
  out.seq = static_cast<std::uint32_t>(n);
  return std::nullopt;
}

std::optional<RpcError> accountField(const rapidjson::Value& params, const char* name,
                                     crypto::AccountId& out) {
  auto it = params.FindMember(name);
  if (it == params.MemberEnd()) return RpcError::missingField(name);
  if (!it->value.IsString()) return RpcError::actMalformed();
  auto id = crypto::decodeAddress(std::string_view(it->value.GetString(), it->value.GetStringLength()));
  if (!id.ok()) return RpcError::actMalformed();
  out = *id;
  return std::nullopt;
}

std::optional<RpcError> optBool(const rapidjson::Value& params, const char* name, bool& out) {
  auto it = params.FindMember(name);
  if (it == params.MemberEnd() || it->value.IsNull()) return std::nullopt;
  if (!it->value.IsBool()) return RpcError::expectedField(name, "boolean");
  out = it->value.GetBool();
  return std::nullopt;
}

std::optional<RpcError> optUint(const rapidjson::Value& params, const char* name, std::uint32_t& out,
                                bool& present) {
  present = false;
  auto it = params.FindMember(name);
  if (it == params.MemberEnd() || it->value.IsNull()) return std::nullopt;
  if (!it->value.IsUint()) return RpcError::expectedField(name, "unsigned integer");
  out = it->value.GetUint();
  present = true;
  return std::nullopt;
}

}  // namespace json

}  // namespace sashimono::devnet
