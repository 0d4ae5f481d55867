// account_info, account_lines, account_objects, account_tx.
#include <algorithm>

#include "Handlers.h"
#include "Json.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/TxJson.h"

namespace sashimono::devnet::handlers {

using namespace json;

namespace {
constexpr std::uint32_t kDefaultTxLimit = 200;
constexpr std::uint32_t kMaxTxLimit = 1000;

struct AccountLookup {
  crypto::AccountId id{};
  LedgerSel sel;
};

Out parseAccountLookup(Devnet& node, const RequestContext& ctx, AccountLookup& a) {
  const char* field = ctx.params.HasMember("account") ? "account" : "ident";
  if (!ctx.params.HasMember(field)) field = "account";
  if (auto e = accountField(ctx.params, field, a.id)) return e;
  return ledgerSelector(node, ctx.params, true, a.sel);
}

void writeLedgerRef(Devnet& node, JsonWriter& out, const LedgerSel& sel) {
  if (sel.current) {
    putU(out, "ledger_current_index", node.openSeq());
    put(out, "validated", false);
  } else {
    LedgerHeader v = node.validatedLedger();
    put(out, "ledger_hash", core::toHex(v.hash));
    putU(out, "ledger_index", v.seq);
    put(out, "validated", true);
  }
}
}  // namespace

Out accountInfo(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  AccountLookup q;
  if (auto e = parseAccountLookup(node, ctx, q)) return e;
  // Only the open and the latest validated state are kept; an older ledger index is answered
  // from the latest validated state.
  auto a = node.account(q.id, !q.sel.current);
  if (!a) return RpcError::actNotFound();
  out.Key("account_data");
  out.StartObject();
  put(out, "Account", crypto::encodeAddress(a->id));
  put(out, "Balance", std::to_string(a->balance));
  putU(out, "Flags", a->flags);
  put(out, "LedgerEntryType", "AccountRoot");
  putU(out, "OwnerCount", a->ownerCount);
  if (a->previousTxnLgrSeq != 0) {
    put(out, "PreviousTxnID", core::toHex(a->previousTxnId));
    putU(out, "PreviousTxnLgrSeq", a->previousTxnLgrSeq);
  }
  putU(out, "Sequence", a->sequence);
  put(out, "index", core::toHex(accountRootIndex(a->id)));
  out.EndObject();
  out.Key("account_flags");
  out.StartObject();
  for (const char* f : {"allowTrustLineClawback", "defaultRipple", "depositAuth", "disableMasterKey",
                        "disallowIncomingCheck", "disallowIncomingNFTokenOffer", "disallowIncomingPayChan",
                        "disallowIncomingTrustline", "disallowIncomingXRP", "globalFreeze", "noFreeze",
                        "passwordSpent", "requireAuthorization", "requireDestinationTag"}) {
    put(out, f, false);
  }
  out.EndObject();
  writeLedgerRef(node, out, q.sel);
  return std::nullopt;
}

Out accountLines(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  AccountLookup q;
  if (auto e = parseAccountLookup(node, ctx, q)) return e;
  if (!node.account(q.id, !q.sel.current)) return RpcError::actNotFound();
  put(out, "account", crypto::encodeAddress(q.id));
  out.Key("lines");
  out.StartArray();  // the devnet has no trust lines
  out.EndArray();
  writeLedgerRef(node, out, q.sel);
  return std::nullopt;
}

Out accountObjects(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  AccountLookup q;
  if (auto e = parseAccountLookup(node, ctx, q)) return e;
  if (!node.account(q.id, !q.sel.current)) return RpcError::actNotFound();
  put(out, "account", crypto::encodeAddress(q.id));
  out.Key("account_objects");
  out.StartArray();
  out.EndArray();
  writeLedgerRef(node, out, q.sel);
  return std::nullopt;
}

namespace {
struct AccountTxRequest {
  crypto::AccountId account{};
  std::uint32_t minSeq = 1;
  std::uint32_t maxSeq = 0;
  bool forward = false;
  bool binary = false;
  std::uint32_t limit = kDefaultTxLimit;
  std::optional<AccountTxMarker> marker;
};

Out parseLedgerBound(const rapidjson::Value& p, const char* name, std::int64_t& out) {
  auto it = p.FindMember(name);
  if (it == p.MemberEnd() || it->value.IsNull()) return std::nullopt;
  if (!it->value.IsInt64()) return RpcError::expectedField(name, "integer");
  out = it->value.GetInt64();
  return std::nullopt;
}

Out parseAccountTx(Devnet& node, const RequestContext& ctx, AccountTxRequest& r) {
  const auto& p = ctx.params;
  if (auto e = accountField(p, "account", r.account)) return e;
  if (auto e = optBool(p, "forward", r.forward)) return e;
  if (auto e = optBool(p, "binary", r.binary)) return e;
  bool has = false;
  if (auto e = optUint(p, "limit", r.limit, has)) return e;
  if (!has) r.limit = kDefaultTxLimit;
  r.limit = std::clamp<std::uint32_t>(r.limit, 1, kMaxTxLimit);
  const std::uint32_t validated = node.validatedLedger().seq;
  if (p.HasMember("ledger_index") || p.HasMember("ledger_hash")) {
    LedgerSel sel;
    if (auto e = ledgerSelector(node, p, false, sel)) return e;
    if (sel.current) return RpcError{"lgrNotValidated", 22, "Ledger not validated.", {}};
    r.minSeq = r.maxSeq = sel.seq;
  } else {
    std::int64_t lo = -1;
    std::int64_t hi = -1;
    if (auto e = parseLedgerBound(p, "ledger_index_min", lo)) return e;
    if (auto e = parseLedgerBound(p, "ledger_index_max", hi)) return e;
    r.minSeq = lo < 0 ? 1 : static_cast<std::uint32_t>(std::min<std::int64_t>(lo, 0xFFFFFFFF));
    r.maxSeq = hi < 0 ? validated : static_cast<std::uint32_t>(std::min<std::int64_t>(hi, validated));
    if (lo >= 0 && hi >= 0 && lo > hi) return RpcError{"lgrIdxsInvalid", 57, "Ledger indexes invalid.", {}};
  }
  if (auto it = p.FindMember("marker"); it != p.MemberEnd() && !it->value.IsNull()) {
    const auto& m = it->value;
    if (!m.IsObject() || !m.HasMember("ledger") || !m.HasMember("seq") || !m["ledger"].IsUint() ||
        !m["seq"].IsUint())
      return RpcError::invalidParams("Invalid field 'marker'.");
    r.marker = AccountTxMarker{m["ledger"].GetUint(), m["seq"].GetUint()};
  }
  return std::nullopt;
}
}  // namespace

Out accountTx(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  AccountTxRequest r;
  if (auto e = parseAccountTx(node, ctx, r)) return e;
  auto page = node.store().accountTx(r.account, r.minSeq, r.maxSeq, r.forward, r.limit, r.marker);
  if (!page.ok()) return RpcError::internal(page.error().message);
  put(out, "account", crypto::encodeAddress(r.account));
  putU(out, "ledger_index_max", r.maxSeq);
  putU(out, "ledger_index_min", r.minSeq);
  putU(out, "limit", r.limit);
  if (page->marker) {
    out.Key("marker");
    out.StartObject();
    putU(out, "ledger", page->marker->ledger);
    putU(out, "seq", page->marker->seq);
    out.EndObject();
  }
  out.Key("transactions");
  out.StartArray();
  for (const auto& t : page->txs) {
    if (auto st = writeAccountTxEntry(out, t, ctx.apiVersion, r.binary, node.networkId()); !st.ok())
      return RpcError::internal(st.error().message);
  }
  out.EndArray();
  put(out, "validated", true);
  return std::nullopt;
}

}  // namespace sashimono::devnet::handlers
