#include "sashimono/board/ValidationStream.h"

#include <string_view>

#include "StreamJson.h"
#include "sashimono/board/Responses.h"
#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/core/Base64.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"

namespace sashimono::board {

using core::Error;
using core::Result;

namespace {
using namespace streamjson;

Error badAnswer(const std::string& what) {
  return rpcError(RpcErrorCode::badResponse, "malformed manifest response: " + what);
}

// A number or a decimal string (rippled sends ledger_index of validations as a string).
std::optional<std::uint32_t> asU32(const rapidjson::Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->IsUint()) return v->GetUint();
  auto s = asStr(v);
  if (!s || s->empty() || s->size() > 10) return std::nullopt;
  std::uint64_t x = 0;
  for (char c : *s) {
    if (c < '0' || c > '9') return std::nullopt;
    x = x * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (x > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<std::uint32_t>(x);
}
bool isType(const rapidjson::Value& m, std::string_view type) {
  auto t = asStr(member(m, "type"));
  return t && *t == type;
}
// Hex of at most maxBytes bytes.
Result<core::Bytes> hexOf(const rapidjson::Value& m, const char* name, std::size_t maxBytes) {
  auto s = asStr(member(m, name));
  if (!s) return bad(std::string("missing ") + name);
  if (s->size() > 2 * maxBytes)
    return bad(std::string(name) + " is longer than " + std::to_string(maxBytes) + " bytes");
  auto b = core::fromHex(*s);
  if (!b) return bad(std::string(name) + " is not hex");
  return std::move(*b);
}
Result<crypto::PublicKey> nodeKeyOf(const rapidjson::Value& m, const char* name) {
  auto s = asStr(member(m, name));
  if (!s) return bad(std::string("missing ") + name);
  auto k = crypto::decodeNodePublic(*s);
  if (!k) return bad(std::string(name) + ": " + k.error().message);
  return *k;
}
}  // namespace

Result<ValidationReceived> parseValidationReceived(const rapidjson::Value& message) {
  if (!isType(message, "validationReceived")) return bad("not a validationReceived message");
  ValidationReceived out;
  if (auto k = asStr(member(message, "validation_public_key")))
    out.validationPublicKey = std::string(k->substr(0, 80));
  out.ledgerIndex = asU32(member(message, "ledger_index"));
  if (member(message, "data") == nullptr) {
    return Error::withCode("noValidationData",
                           "the board server's validations stream carries no serialized validation (`data`): "
                           "it is too old to let this node verify validations itself");
  }
  SASHI_TRY_ASSIGN(blob, hexOf(message, "data", ledger::kMaxValidationBytes));
  if (blob.empty()) return bad("data is empty");
  out.blob = std::move(blob);
  return out;
}

Result<ManifestReceived> parseManifestReceived(const rapidjson::Value& message) {
  if (!isType(message, "manifestReceived")) return bad("not a manifestReceived message");
  ManifestReceived out;
  if (member(message, "manifest") != nullptr) {
    SASHI_TRY_ASSIGN(blob, hexOf(message, "manifest", ledger::kMaxManifestBytes));
    if (blob.empty()) return bad("manifest is empty");
    out.blob = std::move(blob);
    return out;
  }
  ledger::ManifestFields f;
  SASHI_TRY_ASSIGN(master, nodeKeyOf(message, "master_key"));
  f.masterKey = master;
  auto seq = member(message, "seq");
  if (seq == nullptr || !seq->IsUint()) return bad("missing seq");
  f.sequence = seq->GetUint();
  if (member(message, "signing_key") != nullptr) {
    SASHI_TRY_ASSIGN(signing, nodeKeyOf(message, "signing_key"));
    f.signingKey = signing;
  }
  if (member(message, "signature") != nullptr) {
    SASHI_TRY_ASSIGN(sig, hexOf(message, "signature", 128));
    f.signature = std::move(sig);
  }
  if (auto d = member(message, "domain")) {
    auto s = asStr(d);
    if (!s || s->size() > 128) return bad("domain is not a string of at most 128 characters");
    f.domain = std::string(*s);
  }
  SASHI_TRY_ASSIGN(masterSig, hexOf(message, "master_signature", 128));
  f.masterSignature = std::move(masterSig);
  out.blob = ledger::serializeManifest(f);
  out.rebuilt = true;
  return out;
}

Result<ManifestAnswer> parseManifestResponse(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r) return r.error();
  const rapidjson::Value& result = **r;
  ManifestAnswer out;
  auto requested = asStr(member(result, "requested"));
  if (!requested) return badAnswer("missing requested");
  out.requested = std::string(requested->substr(0, 80));
  if (auto m = member(result, "manifest")) {
    auto text = asStr(m);
    if (!text) return badAnswer("manifest is not a string");
    if (text->size() > core::base64Size(ledger::kMaxManifestBytes)) return badAnswer("manifest is too long");
    auto blob = core::decodeBase64(*text);
    if (!blob) return badAnswer("manifest: " + blob.error().message);
    out.manifest = std::move(*blob);
  }
  if (auto d = member(result, "details"); d != nullptr && d->IsObject()) {
    ManifestDetails details;
    auto master = asStr(member(*d, "master_key"));
    auto seq = member(*d, "seq");
    if (!master || seq == nullptr || !seq->IsUint()) return badAnswer("details without master_key or seq");
    details.masterKey = std::string(master->substr(0, 80));
    details.sequence = seq->GetUint();
    if (auto e = asStr(member(*d, "ephemeral_key"))) details.ephemeralKey = std::string(e->substr(0, 80));
    if (auto dom = asStr(member(*d, "domain"))) details.domain = std::string(dom->substr(0, 128));
    out.details = std::move(details);
  }
  return out;
}

}  // namespace sashimono::board
