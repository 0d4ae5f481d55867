// subscribe and unsubscribe.
#include "Handlers.h"
#include "Json.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::devnet::handlers {

using namespace json;

namespace {
Out parseChange(const RequestContext& ctx, Subscriptions::Change& c) {
  const auto& p = ctx.params;
  if (auto it = p.FindMember("streams"); it != p.MemberEnd()) {
    if (!it->value.IsArray()) return RpcError::malformedStream();
    for (const auto& s : it->value.GetArray()) {
      if (!s.IsString()) return RpcError::malformedStream();
      std::string_view name(s.GetString(), s.GetStringLength());
      if (name == "ledger") {
        c.ledger = true;
      } else if (name == "transactions") {
        c.transactions = true;
      } else if (name == "validations") {
        c.validations = true;
      } else if (name == "manifests") {
        c.manifests = true;
      } else if (name == "server" || name == "transactions_proposed" || name == "consensus" ||
                 name == "peer_status" || name == "book_changes") {
        // Accepted; a single standalone node never produces these events.
      } else {
        return RpcError::malformedStream();
      }
    }
  }
  for (const char* field : {"accounts", "accounts_proposed"}) {
    auto it = p.FindMember(field);
    if (it == p.MemberEnd()) continue;
    if (!it->value.IsArray() || it->value.Empty()) return RpcError::actMalformed();
    for (const auto& a : it->value.GetArray()) {
      if (!a.IsString()) return RpcError::actMalformed();
      auto id = crypto::decodeAddress(std::string_view(a.GetString(), a.GetStringLength()));
      if (!id.ok()) return RpcError::actMalformed();
      c.accounts.push_back(*id);
    }
  }
  return std::nullopt;
}
}  // namespace

Out subscribe(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  Subscriptions::Change c;
  if (auto e = parseChange(ctx, c)) return e;
  if (!ctx.session) return RpcError{"noEvents", 7, "Current transport does not support events.", {}};
  node.subscriptions().subscribe(ctx.session, ctx.apiVersion, c);
  if (c.ledger) {
    LedgerHeader v = node.validatedLedger();
    putU(out, "fee_base", kBaseFee);
    if (ctx.apiVersion < 2) putU(out, "fee_ref", kBaseFee);
    put(out, "ledger_hash", core::toHex(v.hash));
    putU(out, "ledger_index", v.seq);
    putU(out, "ledger_time", v.closeTime);
    putU(out, "reserve_base", kReserveBase);
    putU(out, "reserve_inc", kReserveIncrement);
    put(out, "validated_ledgers", node.completeLedgers());
  }
  return std::nullopt;
}

Out unsubscribe(Devnet& node, const RequestContext& ctx, JsonWriter&) {
  Subscriptions::Change c;
  if (auto e = parseChange(ctx, c)) return e;
  if (ctx.session) node.subscriptions().unsubscribe(ctx.session->id(), c);
  return std::nullopt;
}

}  // namespace sashimono::devnet::handlers
