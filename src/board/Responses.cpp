#include "sashimono/board/Responses.h"

#include <charconv>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/ShaMap.h"

namespace sashimono::board {

using core::Error;
using core::Result;

namespace {
Error bad(const std::string& what) {
  return rpcError(RpcErrorCode::badResponse, "malformed board response: " + what);
}

const rapidjson::Value* member(const rapidjson::Value& o, const char* name) {
  if (!o.IsObject()) return nullptr;
  auto it = o.FindMember(name);
  return it == o.MemberEnd() ? nullptr : &it->value;
}

// An unsigned integer given as a JSON number or a decimal string (rippled uses both).
std::optional<std::uint64_t> asU64(const rapidjson::Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->IsUint64()) return v->GetUint64();
  if (v->IsString()) {
    std::string_view s(v->GetString(), v->GetStringLength());
    std::uint64_t out = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return out;
  }
  return std::nullopt;
}
std::optional<std::uint32_t> asU32(const rapidjson::Value* v) {
  auto x = asU64(v);
  if (!x || *x > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<std::uint32_t>(*x);
}
std::optional<std::string> asStr(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}
bool asBool(const rapidjson::Value* v) { return v != nullptr && v->IsBool() && v->GetBool(); }

Result<core::Bytes> hexField(const rapidjson::Value& o, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (auto s = asStr(member(o, n))) {
      auto b = core::fromHex(*s);
      if (!b.ok()) return bad(std::string(n) + " is not hex");
      return std::move(*b);
    }
  }
  return bad(std::string("missing ") + *names.begin());
}

std::string toJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

// JSON-form transaction (tx / account_tx without binary): what can be read without a blob.
void fillFromJson(BoardTx& t, const rapidjson::Value& txObj, const rapidjson::Value* meta) {
  if (auto h = asStr(member(txObj, "hash"))) {
    auto b = core::fromHex(*h);
    if (b.ok() && b->size() == 32) std::copy(b->begin(), b->end(), t.hash.begin());
  }
  if (meta != nullptr && meta->IsObject()) {
    if (auto r = asStr(member(*meta, "TransactionResult"))) t.result = *r;
    if (auto i = asU32(member(*meta, "TransactionIndex"))) t.txIndex = *i;
  }
}

Result<BoardTx> binaryTx(core::Bytes blob, core::Bytes meta, std::uint32_t ledger) {
  if (blob.empty()) return bad("empty transaction blob");
  BoardTx t;
  t.hash = ledger::transactionHash(blob);
  t.blob = std::move(blob);
  t.meta = std::move(meta);
  t.ledgerIndex = ledger;
  fillFromMeta(t);
  return t;
}
}  // namespace

void fillFromMeta(BoardTx& tx) {
  if (tx.meta.empty()) return;
  auto doc = ledger::decode(tx.meta);
  if (!doc.ok() || !doc->IsObject()) return;
  if (auto r = asStr(member(*doc, "TransactionResult"))) tx.result = *r;
  if (auto i = asU32(member(*doc, "TransactionIndex"))) tx.txIndex = *i;
}

Result<const rapidjson::Value*> resultOf(const rapidjson::Value& response) {
  if (!response.IsObject()) return bad("not an object");
  auto status = asStr(member(response, "status"));
  if (status && *status == "error") {
    std::string token = asStr(member(response, "error")).value_or("error");
    std::string msg = asStr(member(response, "error_message")).value_or(token);
    if (auto ex = asStr(member(response, "error_exception"))) msg += ": " + *ex;
    if (asBool(member(response, "searched_all"))) msg += " (searched_all)";
    return Error::withCode(token, "board server error " + token + ": " + msg);
  }
  const rapidjson::Value* result = member(response, "result");
  if (result == nullptr || !result->IsObject()) return bad("no result object");
  // Some servers put errors inside result with status "error".
  if (auto rs = asStr(member(*result, "status")); rs && *rs == "error") {
    std::string token = asStr(member(*result, "error")).value_or("error");
    std::string msg = asStr(member(*result, "error_message")).value_or(token);
    if (asBool(member(*result, "searched_all"))) msg += " (searched_all)";
    return Error::withCode(token, "board server error " + token + ": " + msg);
  }
  if (!status || *status != "success") return bad("status is not success");
  return result;
}

bool isSearchedAllNotFound(const Error& e) {
  return rpcErrorCode(e) == RpcErrorCode::txnNotFound &&
         e.message.find("(searched_all)") != std::string::npos;
}

Result<ServerInfo> parseServerInfo(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  const rapidjson::Value* info = member(**r, "info");
  if (info == nullptr || !info->IsObject()) return bad("server_info: no info object");
  ServerInfo s;
  s.buildVersion = asStr(member(*info, "build_version")).value_or("");
  s.completeLedgers = asStr(member(*info, "complete_ledgers")).value_or("");
  s.serverState = asStr(member(*info, "server_state")).value_or("");
  s.networkId = asU32(member(*info, "network_id"));
  s.peers = asU32(member(*info, "peers")).value_or(0);
  if (const rapidjson::Value* v = member(*info, "validated_ledger"); v != nullptr && v->IsObject()) {
    s.validatedLedger = asU32(member(*v, "seq")).value_or(0);
    s.validatedLedgerHash = asStr(member(*v, "hash")).value_or("");
  }
  return s;
}

Result<FeeInfo> parseFee(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  const rapidjson::Value* drops = member(**r, "drops");
  if (drops == nullptr || !drops->IsObject()) return bad("fee: no drops object");
  FeeInfo f;
  auto base = asU64(member(*drops, "base_fee"));
  auto open = asU64(member(*drops, "open_ledger_fee"));
  if (!base || !open) return bad("fee: base_fee/open_ledger_fee missing");
  f.baseFee = *base;
  f.openLedgerFee = *open;
  f.medianFee = asU64(member(*drops, "median_fee")).value_or(*base);
  f.minimumFee = asU64(member(*drops, "minimum_fee")).value_or(*base);
  f.ledgerCurrentIndex = asU32(member(**r, "ledger_current_index")).value_or(0);
  return f;
}

Result<AccountInfo> parseAccountInfo(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  const rapidjson::Value* data = member(**r, "account_data");
  if (data == nullptr || !data->IsObject()) return bad("account_info: no account_data");
  AccountInfo a;
  auto acct = asStr(member(*data, "Account"));
  auto seq = asU32(member(*data, "Sequence"));
  auto bal = asU64(member(*data, "Balance"));
  if (!acct || !seq || !bal) return bad("account_info: Account/Sequence/Balance missing or ill-typed");
  a.account = *acct;
  a.sequence = *seq;
  a.balance = *bal;
  a.ownerCount = asU32(member(*data, "OwnerCount")).value_or(0);
  a.flags = asU32(member(*data, "Flags")).value_or(0);
  a.validated = asBool(member(**r, "validated"));
  a.ledgerIndex = asU32(member(**r, a.validated ? "ledger_index" : "ledger_current_index"))
                      .value_or(asU32(member(**r, "ledger_index")).value_or(0));
  return a;
}

Result<SubmitResult> parseSubmit(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  SubmitResult s;
  auto er = asStr(member(**r, "engine_result"));
  if (!er) return bad("submit: no engine_result");
  s.engineResult = *er;
  if (const rapidjson::Value* c = member(**r, "engine_result_code"); c != nullptr && c->IsInt())
    s.engineResultCode = c->GetInt();
  s.engineResultMessage = asStr(member(**r, "engine_result_message")).value_or("");
  s.accepted = asBool(member(**r, "accepted"));
  s.applied = asBool(member(**r, "applied"));
  if (const rapidjson::Value* tj = member(**r, "tx_json"); tj != nullptr && tj->IsObject())
    s.hash = asStr(member(*tj, "hash")).value_or("");
  s.accountSequenceNext = asU32(member(**r, "account_sequence_next"));
  s.validatedLedgerIndex = asU32(member(**r, "validated_ledger_index"));
  return s;
}

Result<TxResult> parseTx(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  const rapidjson::Value& res = **r;
  TxResult t;
  t.validated = asBool(member(res, "validated"));
  auto ledger = asU32(member(res, "ledger_index"));
  if (!ledger) ledger = asU32(member(res, "inLedger"));
  t.hasLedger = ledger.has_value();
  const bool binary =
      member(res, "tx") != nullptr ? member(res, "tx")->IsString() : member(res, "tx_blob") != nullptr;
  if (binary) {
    auto blob = hexField(res, {"tx", "tx_blob"});
    if (!blob.ok()) return blob.error().context("tx");
    core::Bytes meta;
    if (member(res, "meta") != nullptr || member(res, "meta_blob") != nullptr) {
      auto m = hexField(res, {"meta", "meta_blob"});
      if (!m.ok()) return m.error().context("tx");
      meta = std::move(*m);
    }
    auto bt = binaryTx(std::move(*blob), std::move(meta), ledger.value_or(0));
    if (!bt.ok()) return bt.error().context("tx");
    t.tx = std::move(*bt);
  } else {
    fillFromJson(t.tx, res, member(res, "meta"));  // "hash" is top-level in both API versions
    t.tx.ledgerIndex = ledger.value_or(0);
  }
  return t;
}

Result<AccountTxPage> parseAccountTx(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  const rapidjson::Value& res = **r;
  AccountTxPage page;
  page.ledgerIndexMin = asU32(member(res, "ledger_index_min")).value_or(0);
  page.ledgerIndexMax = asU32(member(res, "ledger_index_max")).value_or(0);
  if (const rapidjson::Value* m = member(res, "marker"); m != nullptr && !m->IsNull())
    page.marker = toJson(*m);
  const rapidjson::Value* txs = member(res, "transactions");
  if (txs == nullptr || !txs->IsArray()) return bad("account_tx: no transactions array");
  for (const auto& e : txs->GetArray()) {
    if (!e.IsObject()) return bad("account_tx: entry is not an object");
    if (!asBool(member(e, "validated"))) continue;
    if (const rapidjson::Value* blobV = member(e, "tx_blob"); blobV != nullptr) {
      auto blob = hexField(e, {"tx_blob"});
      if (!blob.ok()) return blob.error().context("account_tx");
      auto meta = hexField(e, {"meta", "meta_blob"});
      if (!meta.ok()) return meta.error().context("account_tx");
      auto ledger = asU32(member(e, "ledger_index"));
      if (!ledger) return bad("account_tx: entry without ledger_index");
      auto bt = binaryTx(std::move(*blob), std::move(*meta), *ledger);
      if (!bt.ok()) return bt.error().context("account_tx");
      page.transactions.push_back(std::move(*bt));
    } else {
      const rapidjson::Value* txObj = member(e, "tx_json");
      if (txObj == nullptr) txObj = member(e, "tx");
      if (txObj == nullptr || !txObj->IsObject()) return bad("account_tx: entry without tx");
      BoardTx t;
      fillFromJson(t, *txObj, member(e, "meta"));
      if (member(e, "hash") != nullptr) fillFromJson(t, e, nullptr);
      auto ledger = asU32(member(e, "ledger_index"));
      if (!ledger) ledger = asU32(member(*txObj, "ledger_index"));
      if (!ledger) return bad("account_tx: entry without ledger_index");
      t.ledgerIndex = *ledger;
      page.transactions.push_back(std::move(t));
    }
  }
  return page;
}

Result<SubscribeResult> parseSubscribe(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  SubscribeResult s;
  s.validatedLedger = asU32(member(**r, "ledger_index"));
  s.validatedLedgers = asStr(member(**r, "validated_ledgers")).value_or("");
  return s;
}

Result<std::uint32_t> parseLedgerCurrent(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  auto i = asU32(member(**r, "ledger_current_index"));
  if (!i) return bad("ledger_current: no ledger_current_index");
  return *i;
}

Result<LedgerClosedInfo> parseLedgerClosed(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  LedgerClosedInfo l;
  auto i = asU32(member(**r, "ledger_index"));
  if (!i) return bad("ledger_closed: no ledger_index");
  l.ledgerIndex = *i;
  l.ledgerHash = asStr(member(**r, "ledger_hash")).value_or("");
  return l;
}

namespace {
// A `ledger` answer's field at `path` ("ledger.close_time"): missing, or not what was wanted.
Error ledgerField(const rapidjson::Value& o, const std::string& path, const char* name, const char* want) {
  const bool missing = member(o, name) == nullptr;
  return bad("ledger: " + path + name + (missing ? " is missing" : std::string(" is not ") + want));
}

std::optional<core::Bytes> asHexBytes(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString()) return std::nullopt;
  auto b = core::fromHex(std::string_view(v->GetString(), v->GetStringLength()));
  if (!b.ok()) return std::nullopt;
  return std::move(*b);
}

std::optional<crypto::Hash256> asHash(const rapidjson::Value* v) {
  if (v == nullptr || !v->IsString() || v->GetStringLength() != 64) return std::nullopt;
  auto b = core::fromHex(std::string_view(v->GetString(), 64));
  if (!b.ok()) return std::nullopt;
  crypto::Hash256 h{};
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

Result<ledger::LedgerHeader> headerFromJson(const rapidjson::Value& l) {
  ledger::LedgerHeader h;
  const std::string p = "ledger.";
  auto seq = asU32(member(l, "ledger_index"));
  if (!seq) return ledgerField(l, p, "ledger_index", "an unsigned 32-bit integer");
  h.seq = *seq;
  auto coins = asU64(member(l, "total_coins"));
  if (!coins) return ledgerField(l, p, "total_coins", "a decimal amount of drops");
  h.totalDrops = *coins;
  for (auto [name, out] : {std::pair{"parent_hash", &h.parentHash}, std::pair{"transaction_hash", &h.txHash},
                           std::pair{"account_hash", &h.accountHash}}) {
    auto v = asHash(member(l, name));
    if (!v) return ledgerField(l, p, name, "a 64-digit hex hash");
    *out = *v;
  }
  for (auto [name, out] :
       {std::pair{"parent_close_time", &h.parentCloseTime}, std::pair{"close_time", &h.closeTime}}) {
    auto v = asU32(member(l, name));
    if (!v) return ledgerField(l, p, name, "an unsigned 32-bit integer");
    *out = *v;
  }
  for (auto [name, out] : {std::pair{"close_time_resolution", &h.closeTimeResolution},
                           std::pair{"close_flags", &h.closeFlags}}) {
    auto v = asU64(member(l, name));
    if (!v || *v > 0xFF) return ledgerField(l, p, name, "an integer from 0 to 255");
    *out = static_cast<std::uint8_t>(*v);
  }
  return h;
}

Result<LedgerTxBlob> ledgerTx(const rapidjson::Value& e, std::size_t i) {
  const std::string p = "ledger.transactions[" + std::to_string(i) + "].";
  if (e.IsString())
    return bad("ledger: " + p.substr(0, p.size() - 1) + " is a hash: expand and binary needed");
  if (!e.IsObject()) return bad("ledger: " + p.substr(0, p.size() - 1) + " is not an object");
  LedgerTxBlob t;
  auto blobBytes = asHexBytes(member(e, "tx_blob"));
  if (!blobBytes || blobBytes->empty()) return ledgerField(e, p, "tx_blob", "non-empty hex (binary: true)");
  t.blob = std::move(*blobBytes);
  const char* metaName = member(e, "meta") != nullptr ? "meta" : "meta_blob";
  auto metaBytes = asHexBytes(member(e, metaName));
  if (!metaBytes || metaBytes->empty()) return ledgerField(e, p, metaName, "non-empty hex (binary: true)");
  t.meta = std::move(*metaBytes);
  if (const rapidjson::Value* h = member(e, "hash"); h != nullptr) {
    t.claimedHash = asHash(h);
    if (!t.claimedHash) return ledgerField(e, p, "hash", "a 64-digit hex hash");
  }
  t.hash = ledger::transactionHash(t.blob);
  return t;
}
}  // namespace

Result<LedgerData> parseLedger(const rapidjson::Value& response) {
  auto r = resultOf(response);
  if (!r.ok()) return r.error();
  const rapidjson::Value& res = **r;
  const rapidjson::Value* l = member(res, "ledger");
  if (l == nullptr || !l->IsObject()) return ledgerField(res, "", "ledger", "an object");
  if (const rapidjson::Value* c = member(*l, "closed"); c != nullptr) {
    if (!c->IsBool()) return ledgerField(*l, "ledger.", "closed", "a boolean");
    if (!c->GetBool()) return bad("ledger: the ledger is not closed");
  }
  LedgerData d;
  if (const rapidjson::Value* raw = member(*l, "ledger_data"); raw != nullptr) {
    auto bytes = asHexBytes(raw);
    if (!bytes) return ledgerField(*l, "ledger.", "ledger_data", "hex");
    auto h = ledger::parseHeader(*bytes);
    if (!h.ok()) return bad("ledger: ledger.ledger_data: " + h.error().message);
    d.header = *h;
  } else {
    auto h = headerFromJson(*l);
    if (!h.ok()) return h.error();
    d.header = *h;
  }
  if (member(res, "ledger_index") != nullptr) {
    auto seq = asU32(member(res, "ledger_index"));
    if (!seq) return ledgerField(res, "", "ledger_index", "an unsigned 32-bit integer");
    if (*seq != d.header.seq)
      return bad("ledger: ledger_index " + std::to_string(*seq) + " is not the header's " +
                 std::to_string(d.header.seq));
  }
  // rippled puts ledger_hash beside the ledger object; older answers inside it (also as "hash").
  struct Where {
    const rapidjson::Value* obj;
    const char* path;
    const char* name;
  };
  Where claimed{&res, "", "ledger_hash"};
  for (Where w :
       {Where{&res, "", "ledger_hash"}, Where{l, "ledger.", "ledger_hash"}, Where{l, "ledger.", "hash"}}) {
    if (member(*w.obj, w.name) != nullptr) {
      claimed = w;
      break;
    }
  }
  auto ch = asHash(member(*claimed.obj, claimed.name));
  if (!ch) return ledgerField(*claimed.obj, claimed.path, claimed.name, "a 64-digit hex hash");
  d.claimedHash = *ch;
  if (const rapidjson::Value* v = member(res, "validated"); v != nullptr) {
    if (!v->IsBool()) return ledgerField(res, "", "validated", "a boolean");
    d.validated = v->GetBool();
  }
  if (const rapidjson::Value* txs = member(*l, "transactions"); txs != nullptr) {
    if (!txs->IsArray()) return ledgerField(*l, "ledger.", "transactions", "an array");
    d.hasTransactions = true;
    d.txs.reserve(txs->Size());
    std::size_t i = 0;
    for (const auto& e : txs->GetArray()) {
      auto t = ledgerTx(e, i++);
      if (!t.ok()) return t.error();
      d.txs.push_back(std::move(*t));
    }
  }
  return d;
}

core::Status verifyLedger(const LedgerData& data, const crypto::Hash256& expectedHash) {
  if (!data.hasTransactions)
    return bad("ledger " + std::to_string(data.header.seq) + " answered without its transactions");
  std::vector<ledger::LedgerTxData> views;
  views.reserve(data.txs.size());
  for (const auto& t : data.txs) views.push_back({t.blob, t.meta, t.hash});  // hash: computed by parseLedger
  return ledger::verifyLedger(data.header, expectedHash, views);
}

}  // namespace sashimono::board
