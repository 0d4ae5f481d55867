#include "sashimono/node/BoardClientPort.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/ledger/LedgerRanges.h"

namespace sashimono::node {

bool ledgersCover(const std::string& complete, std::uint32_t first, std::uint32_t last) {
  // "empty" or anything malformed covers nothing.
  auto ranges = ledger::parseLedgerRanges(complete);
  return ranges && ledger::coversLedgers(*ranges, first, last);
}

namespace {

constexpr std::uint64_t kMaxDrops = 100'000'000'000'000'000ull;  // 10^17: all XRP there is

core::Error badReserves(const std::string& what) {
  return board::rpcError(board::RpcErrorCode::badResponse, "reserves: " + what);
}

// A reserve in drops (an integer) or in XRP (a number), within [0, 10^17] drops.
std::optional<std::uint64_t> dropsOf(const rapidjson::Value& obj, const char* dropsKey, const char* xrpKey) {
  if (auto it = obj.FindMember(dropsKey); it != obj.MemberEnd()) {
    if (!it->value.IsUint64() || it->value.GetUint64() > kMaxDrops) return std::nullopt;
    return it->value.GetUint64();
  }
  if (auto it = obj.FindMember(xrpKey); it != obj.MemberEnd()) {
    if (!it->value.IsNumber()) return std::nullopt;
    const double drops = std::round(it->value.GetDouble() * 1e6);
    if (!std::isfinite(drops) || drops < 0 || drops > static_cast<double>(kMaxDrops)) return std::nullopt;
    return static_cast<std::uint64_t>(drops);
  }
  return std::nullopt;
}

}  // namespace

core::Result<ReserveView> parseReserves(const rapidjson::Value& response) {
  auto r = board::resultOf(response);
  if (!r) return r.error();
  const rapidjson::Value& result = **r;
  const rapidjson::Value* info = nullptr;
  for (const char* key : {"state", "info"})
    if (auto it = result.FindMember(key); it != result.MemberEnd() && it->value.IsObject()) info = &it->value;
  if (info == nullptr) return badReserves("no state/info object");
  auto v = info->FindMember("validated_ledger");
  if (v == info->MemberEnd() || !v->value.IsObject())
    return badReserves("the server has no validated ledger");
  auto base = dropsOf(v->value, "reserve_base", "reserve_base_xrp");
  auto inc = dropsOf(v->value, "reserve_inc", "reserve_inc_xrp");
  if (!base || !inc) return badReserves("reserve_base/reserve_inc missing or out of range");
  return ReserveView{*base, *inc};
}

core::Result<std::uint32_t> BoardClientPort::validatedLedger() {
  auto info = client_.serverInfo();
  if (!info) return info.error();
  if (info->validatedLedger == 0) return core::Error("board has no validated ledger yet");
  return info->validatedLedger;
}

core::Result<FeeView> BoardClientPort::fee() {
  auto f = client_.fee();
  if (!f) return f.error();
  return FeeView{f->baseFee, f->openLedgerFee, f->minimumFee};
}

core::Result<ReserveView> BoardClientPort::reserves() {
  auto d = client_.request(R"({"command":"server_state"})");
  if (!d) return d.error();
  return parseReserves(*d);
}

core::Result<AccountView> BoardClientPort::account(const std::string& address) {
  auto info = client_.accountInfo(address, true);
  if (!info) return info.error();
  return AccountView{info->sequence, info->balance, info->ownerCount, info->ledgerIndex};
}

core::Result<std::uint32_t> BoardClientPort::networkId() {
  if (!networkId_) {
    auto info = client_.serverInfo();
    if (!info) return info.error().context("server_info");
    networkId_ = info->networkId.value_or(0);
  }
  return *networkId_;
}

core::Result<SubmitOutcome> BoardClientPort::submit(core::ByteView blob) {
  auto r = client_.submit(blob);
  if (!r) return r.error();
  return SubmitOutcome{r->engineResult, r->accepted};
}

core::Result<TxLookup> BoardClientPort::lookup(const crypto::Hash256& hash, std::uint32_t minLedger,
                                               std::uint32_t maxLedger) {
  board::TxQuery q;
  q.hash = hash;
  q.binary = true;
  q.minLedger = minLedger;
  q.maxLedger = maxLedger;
  auto r = client_.tx(q);
  if (!r) {
    if (board::isSearchedAllNotFound(r.error())) return TxLookup{};
    if (board::rpcErrorCode(r.error()) != board::RpcErrorCode::txnNotFound) return r.error();
    // No searched_all from this server: not found counts only if it holds the whole range.
    auto info = client_.serverInfo();
    if (!info) return info.error();
    if (ledgersCover(info->completeLedgers, minLedger, maxLedger)) return TxLookup{};
    return core::Error("tx lookup: the server does not hold ledgers " + std::to_string(minLedger) + "-" +
                       std::to_string(maxLedger) + " (complete_ledgers " + info->completeLedgers + ")");
  }
  TxLookup l;
  l.found = true;
  l.validated = r->validated;
  l.ledger = r->tx.ledgerIndex;
  l.result = r->tx.result;
  return l;
}

}  // namespace sashimono::node
