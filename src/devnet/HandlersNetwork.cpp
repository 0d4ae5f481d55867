// The network as the devnet plays it: its validator (manifest, validator_rotate) and its load
// (fee_set).
#include "Handlers.h"
#include "Json.h"
#include "sashimono/core/Base64.h"
#include "sashimono/crypto/NodeKeys.h"
#include "sashimono/devnet/Devnet.h"

namespace sashimono::devnet::handlers {

using namespace json;

namespace {
// {"details":{"domain","ephemeral_key","master_key","seq"},"manifest":"<base64>"} members.
void writeManifest(JsonWriter& out, const ledger::Manifest& m) {
  out.Key("details");
  out.StartObject();
  put(out, "domain", m.domain);
  put(out, "ephemeral_key", crypto::encodeNodePublic(*m.signingKey));
  put(out, "master_key", crypto::encodeNodePublic(m.masterKey));
  putU(out, "seq", m.sequence);
  out.EndObject();
  put(out, "manifest", core::encodeBase64(m.raw));
}
}  // namespace

Out manifest(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  auto it = ctx.params.FindMember("public_key");
  if (it == ctx.params.MemberEnd()) return RpcError::missingField("public_key");
  if (!it->value.IsString()) return RpcError::expectedField("public_key", "string");
  std::string_view requested(it->value.GetString(), it->value.GetStringLength());
  auto key = crypto::decodeNodePublic(requested);
  if (!key.ok()) return RpcError::invalidParams("Invalid parameters.");
  // Known by its master key or its current signing key, as rippled's manifest cache does.
  const ledger::Manifest m = node.validatorManifest();
  if (*key == m.masterKey || m.signingKey == *key) writeManifest(out, m);
  put(out, "requested", requested);
  return std::nullopt;
}

Out validatorRotate(Devnet& node, const RequestContext&, JsonWriter& out) {
  auto m = node.rotateValidatorKey();
  if (!m.ok()) return RpcError::internal(m.error().message);
  writeManifest(out, *m);
  return std::nullopt;
}

Out feeSet(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  auto it = ctx.params.FindMember("open_ledger_fee");
  if (it == ctx.params.MemberEnd()) return RpcError::missingField("open_ledger_fee");
  std::uint64_t drops = 0;
  const auto& v = it->value;
  if (v.IsUint64()) {
    drops = v.GetUint64();
  } else if (v.IsString() && v.GetStringLength() > 0 && v.GetStringLength() <= 19 &&
             std::string_view(v.GetString(), v.GetStringLength()).find_first_not_of("0123456789") ==
                 std::string_view::npos) {
    drops = std::stoull(std::string(v.GetString(), v.GetStringLength()));
  } else {
    return RpcError::expectedField("open_ledger_fee", "drops");
  }
  if (auto st = node.setOpenLedgerFee(drops); !st.ok()) return RpcError::invalidParams(st.error().message);
  put(out, "base_fee", std::to_string(kBaseFee));
  put(out, "open_ledger_fee", std::to_string(node.openLedgerFee()));
  return std::nullopt;
}

}  // namespace sashimono::devnet::handlers
