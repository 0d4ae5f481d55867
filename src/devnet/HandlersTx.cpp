// submit and tx.
#include <cstring>

#include "Handlers.h"
#include "Json.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/TxJson.h"

namespace sashimono::devnet::handlers {

using namespace json;

Out submit(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  // parse
  auto it = ctx.params.FindMember("tx_blob");
  if (it == ctx.params.MemberEnd()) return RpcError::missingField("tx_blob");
  if (!it->value.IsString()) return RpcError::expectedField("tx_blob", "string");
  std::string_view hex(it->value.GetString(), it->value.GetStringLength());
  auto blob = core::fromHex(hex);
  if (!blob.ok() || blob->empty()) return RpcError::invalidParams("Invalid field 'tx_blob'.");

  // process
  auto r = node.submit(*blob);
  if (!r.ok()) return RpcError::invalidTransaction(r.error().message);

  // render
  const bool included = r->included;
  put(out, "accepted", included);
  putU(out, "account_sequence_available", r->accountSequenceNext);
  putU(out, "account_sequence_next", r->accountSequenceNext);
  put(out, "applied", included);
  put(out, "broadcast", included);
  put(out, "engine_result", terName(r->result));
  putI(out, "engine_result_code", terCode(r->result));
  put(out, "engine_result_message", terMessage(r->result));
  put(out, "kept", included);
  put(out, "open_ledger_cost", std::to_string(node.openLedgerFee()));
  put(out, "queued", false);
  put(out, "tx_blob", hex);
  out.Key("tx_json");
  out.StartObject();
  if (auto st = writeTxFields(out, *blob, ctx.apiVersion); !st.ok())
    return RpcError::internal(st.error().message);
  put(out, "hash", core::toHex(r->tx.hash));
  out.EndObject();
  putU(out, "validated_ledger_index", r->validatedSeq);
  return std::nullopt;
}

Out tx(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  auto it = ctx.params.FindMember("transaction");
  if (it == ctx.params.MemberEnd()) return RpcError::missingField("transaction");
  if (!it->value.IsString()) return RpcError::expectedField("transaction", "string");
  auto bytes = core::fromHex(std::string_view(it->value.GetString(), it->value.GetStringLength()));
  if (!bytes.ok() || bytes->size() != 32)
    return RpcError{"notImpl", 74, "Not implemented.", {}};  // as rippled
  bool binary = false;
  if (auto e = optBool(ctx.params, "binary", binary)) return e;
  crypto::Hash256 hash{};
  std::memcpy(hash.data(), bytes->data(), 32);
  auto found = node.store().tx(hash);
  if (!found.ok()) return RpcError::internal(found.error().message);
  if (!*found) return RpcError::txnNotFound();
  if (auto st = writeTxResult(out, **found, ctx.apiVersion, binary, node.networkId()); !st.ok())
    return RpcError::internal(st.error().message);
  return std::nullopt;
}

}  // namespace sashimono::devnet::handlers
