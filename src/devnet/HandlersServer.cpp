// server_info, server_state, fee, ping, random, ledger, ledger_current, ledger_closed, ledger_accept.
#include <algorithm>
#include <chrono>

#include "Handlers.h"
#include "Json.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/devnet/TxJson.h"
#include "sashimono/ledger/LedgerHeader.h"

namespace sashimono::devnet::handlers {

using namespace json;

namespace {
constexpr const char* kBuildVersion = "2.3.0";

std::uint64_t uptimeSeconds(const Devnet& node) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - node.startTime())
          .count());
}

void writeServerCommon(Devnet& node, JsonWriter& out, bool state) {
  LedgerHeader v = node.validatedLedger();
  put(out, "build_version", kBuildVersion);
  put(out, "complete_ledgers", node.completeLedgers());
  put(out, "hostid", "sashimono-devnet");
  putU(out, "io_latency_ms", 1);
  put(out, "jq_trans_overflow", "0");
  out.Key("last_close");
  out.StartObject();
  putD(out, state ? "converge_time" : "converge_time_s", 0.0);
  putU(out, "proposers", 0);
  out.EndObject();
  // A busy network's fee escalation shows in the load factor (xrpl.js autofill multiplies by it).
  const std::uint64_t openFee = node.openLedgerFee();
  if (state) {
    putU(out, "load_base", 256);
    putU(out, "load_factor", openFee * 256 / kBaseFee);
  } else if (openFee == kBaseFee) {
    putU(out, "load_factor", 1);
  } else {
    putD(out, "load_factor", static_cast<double>(openFee) / static_cast<double>(kBaseFee));
  }
  putU(out, "network_id", node.networkId());
  put(out, "peer_disconnects", "0");
  put(out, "peer_disconnects_resources", "0");
  putU(out, "peers", 0);
  put(out, "pubkey_node", "n9devnet");
  put(out, "pubkey_validator", node.validatorMasterKey());
  put(out, "server_state", "full");
  putU(out, "uptime", uptimeSeconds(node));
  out.Key("validated_ledger");
  out.StartObject();
  std::uint32_t now = rippleNow();
  putU(out, "age", now > v.closeTime ? now - v.closeTime : 0);
  if (state) {
    putU(out, "base_fee", kBaseFee);
    putU(out, "close_time", v.closeTime);
  } else {
    putD(out, "base_fee_xrp", static_cast<double>(kBaseFee) / 1e6);
  }
  put(out, "hash", core::toHex(v.hash));
  if (state) {
    putU(out, "reserve_base", kReserveBase);
    putU(out, "reserve_inc", kReserveIncrement);
  } else {
    putD(out, "reserve_base_xrp", static_cast<double>(kReserveBase) / 1e6);
    putD(out, "reserve_inc_xrp", static_cast<double>(kReserveIncrement) / 1e6);
  }
  putU(out, "seq", v.seq);
  out.EndObject();
  putU(out, "validation_quorum", 1);
}

// The closed ledger's header fields; with `binary`, also the binary header as `ledger_data` (hex), as
// rippled answers binary requests (rippled then leaves the other fields out; the devnet keeps them).
void writeHeader(JsonWriter& out, const LedgerHeader& h, int apiVersion, bool binary) {
  put(out, "account_hash", core::toHex(h.accountHash));
  putU(out, "close_flags", h.closeFlags);
  putU(out, "close_time", h.closeTime);
  put(out, "close_time_human", closeTimeHuman(h.closeTime));
  put(out, "close_time_iso", closeTimeIso(h.closeTime));
  putU(out, "close_time_resolution", h.closeTimeResolution);
  put(out, "closed", true);
  if (binary) put(out, "ledger_data", core::toHex(ledger::serializeHeader(h)));
  put(out, "ledger_hash", core::toHex(h.hash));
  if (apiVersion >= 2) {
    putU(out, "ledger_index", h.seq);
  } else {
    put(out, "ledger_index", std::to_string(h.seq));
  }
  putU(out, "parent_close_time", h.parentCloseTime);
  put(out, "parent_hash", core::toHex(h.parentHash));
  put(out, "total_coins", std::to_string(h.totalDrops));
  put(out, "transaction_hash", core::toHex(h.txHash));
}
}  // namespace

Out ping(Devnet&, const RequestContext& ctx, JsonWriter& out) {
  if (ctx.admin) put(out, "role", "admin");
  return std::nullopt;
}

Out random(Devnet&, const RequestContext&, JsonWriter& out) {
  std::array<std::uint8_t, 32> r{};
  crypto::randomBytes(r);
  put(out, "random", core::toHex(r));
  return std::nullopt;
}

Out serverInfo(Devnet& node, const RequestContext&, JsonWriter& out) {
  out.Key("info");
  out.StartObject();
  writeServerCommon(node, out, false);
  out.EndObject();
  return std::nullopt;
}

Out serverState(Devnet& node, const RequestContext&, JsonWriter& out) {
  out.Key("state");
  out.StartObject();
  writeServerCommon(node, out, true);
  out.EndObject();
  return std::nullopt;
}

Out fee(Devnet& node, const RequestContext&, JsonWriter& out) {
  // Busy (open ledger fee above the base fee): the open ledger and the queue are full, so the
  // queue's minimum is the open ledger fee too.
  const std::uint64_t openFee = node.openLedgerFee();
  const bool busy = openFee > kBaseFee;
  const std::uint64_t median = std::max<std::uint64_t>(5000, openFee);
  const auto level = [](std::uint64_t drops) { return std::to_string(drops * 256 / kBaseFee); };
  constexpr const char* kMaxQueue = "20000";
  put(out, "current_ledger_size", std::to_string(node.openTxCount()));
  put(out, "current_queue_size", busy ? kMaxQueue : "0");
  out.Key("drops");
  out.StartObject();
  put(out, "base_fee", std::to_string(kBaseFee));
  put(out, "median_fee", std::to_string(median));
  put(out, "minimum_fee", std::to_string(openFee));
  put(out, "open_ledger_fee", std::to_string(openFee));
  out.EndObject();
  put(out, "expected_ledger_size", "1000000");
  putU(out, "ledger_current_index", node.openSeq());
  out.Key("levels");
  out.StartObject();
  put(out, "median_level", level(median));
  put(out, "minimum_level", level(openFee));
  put(out, "open_ledger_level", level(openFee));
  put(out, "reference_level", "256");
  out.EndObject();
  put(out, "max_queue_size", kMaxQueue);
  return std::nullopt;
}

Out ledgerCurrent(Devnet& node, const RequestContext&, JsonWriter& out) {
  putU(out, "ledger_current_index", node.openSeq());
  return std::nullopt;
}

Out ledgerClosed(Devnet& node, const RequestContext&, JsonWriter& out) {
  LedgerHeader v = node.validatedLedger();
  put(out, "ledger_hash", core::toHex(v.hash));
  putU(out, "ledger_index", v.seq);
  return std::nullopt;
}

Out ledgerAccept(Devnet& node, const RequestContext&, JsonWriter& out) {
  auto h = node.closeLedger();
  if (!h.ok()) return RpcError::internal(h.error().message);
  putU(out, "ledger_current_index", h->seq + 1);
  return std::nullopt;
}

Out ledger(Devnet& node, const RequestContext& ctx, JsonWriter& out) {
  const auto& p = ctx.params;
  LedgerSel sel;
  if (auto e = ledgerSelector(node, p, false, sel)) return e;
  bool transactions = false;
  bool expand = false;
  bool binary = false;
  if (auto e = optBool(p, "transactions", transactions)) return e;
  if (auto e = optBool(p, "expand", expand)) return e;
  if (auto e = optBool(p, "binary", binary)) return e;

  if (sel.current) {
    LedgerHeader parent = node.validatedLedger();
    std::uint32_t seq = node.openSeq();
    out.Key("ledger");
    out.StartObject();
    put(out, "closed", false);
    if (ctx.apiVersion >= 2) {
      putU(out, "ledger_index", seq);
    } else {
      put(out, "ledger_index", std::to_string(seq));
    }
    putU(out, "parent_close_time", parent.closeTime);
    put(out, "parent_hash", core::toHex(parent.hash));
    put(out, "total_coins", std::to_string(parent.totalDrops));
    if (transactions) {
      out.Key("transactions");
      out.StartArray();
      out.EndArray();
    }
    out.EndObject();
    putU(out, "ledger_current_index", seq);
    put(out, "validated", false);
    return std::nullopt;
  }

  auto header = node.store().ledger(sel.seq);
  if (!header.ok()) return RpcError::internal(header.error().message);
  if (!*header) return RpcError::lgrNotFound();
  const LedgerHeader& h = **header;
  out.Key("ledger");
  out.StartObject();
  writeHeader(out, h, ctx.apiVersion, binary);
  if (transactions) {
    auto txs = node.store().ledgerTxs(h.seq);
    if (!txs.ok()) return RpcError::internal(txs.error().message);
    out.Key("transactions");
    out.StartArray();
    for (const auto& t : *txs) {
      if (!expand) {
        auto hex = core::toHex(t.hash);
        out.String(hex.c_str());
        continue;
      }
      out.StartObject();
      if (binary) {
        put(out, "hash", core::toHex(t.hash));
        put(out, ctx.apiVersion >= 2 ? "meta_blob" : "meta", core::toHex(t.meta));
        put(out, "tx_blob", core::toHex(t.blob));
      } else if (ctx.apiVersion >= 2) {
        put(out, "hash", core::toHex(t.hash));
        out.Key("meta");
        if (auto st = writeMetaJson(out, t.meta); !st.ok()) return RpcError::internal(st.error().message);
        out.Key("tx_json");
        out.StartObject();
        if (auto st = writeTxFields(out, t.blob, ctx.apiVersion); !st.ok())
          return RpcError::internal(st.error().message);
        out.EndObject();
      } else {
        if (auto st = writeTxFields(out, t.blob, ctx.apiVersion); !st.ok())
          return RpcError::internal(st.error().message);
        put(out, "hash", core::toHex(t.hash));
        out.Key("metaData");
        if (auto st = writeMetaJson(out, t.meta); !st.ok()) return RpcError::internal(st.error().message);
      }
      out.EndObject();
    }
    out.EndArray();
  }
  out.EndObject();
  put(out, "ledger_hash", core::toHex(h.hash));
  putU(out, "ledger_index", h.seq);
  put(out, "validated", true);
  return std::nullopt;
}

}  // namespace sashimono::devnet::handlers
