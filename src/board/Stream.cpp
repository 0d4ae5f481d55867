#include "sashimono/board/Stream.h"

#include <algorithm>
#include <string_view>

#include "StreamJson.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/ledger/Codec.h"

namespace sashimono::board {

using core::Result;

namespace {
using namespace streamjson;

std::optional<std::uint32_t> asU32(const rapidjson::Value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->IsUint()) return v->GetUint();
  return std::nullopt;
}
}  // namespace

bool isResponse(const rapidjson::Value& message) {
  if (!message.IsObject()) return false;
  if (message.HasMember("id")) return true;
  auto t = asStr(member(message, "type"));
  return t && *t == "response";
}

Result<StreamEvent> parseStreamEvent(const rapidjson::Value& message) {
  if (!message.IsObject()) return bad("not an object");
  auto type = asStr(member(message, "type"));
  if (!type) return bad("no type");
  StreamEvent e;
  if (*type == "ledgerClosed") {
    e.kind = StreamEvent::Kind::ledgerClosed;
    auto i = asU32(member(message, "ledger_index"));
    if (!i) return bad("ledgerClosed without ledger_index");
    e.ledgerIndex = *i;
    e.txnCount = asU32(member(message, "txn_count")).value_or(0);
    if (auto v = asStr(member(message, "validated_ledgers"))) e.validatedLedgers = std::string(*v);
    return e;
  }
  if (*type != "transaction") return e;  // other
  e.kind = StreamEvent::Kind::transaction;
  const rapidjson::Value* v = member(message, "validated");
  e.validated = v != nullptr && v->IsBool() && v->GetBool();
  auto i = asU32(member(message, "ledger_index"));
  if (!i) return bad("transaction without ledger_index");
  e.ledgerIndex = *i;
  if (auto r = asStr(member(message, "engine_result"))) e.engineResult = std::string(*r);
  auto hash = asStr(member(message, "hash"));  // api v2
  if (!hash) {
    const rapidjson::Value* tx = member(message, "transaction");  // api v1
    if (tx == nullptr) tx = member(message, "tx_json");
    if (tx != nullptr) hash = asStr(member(*tx, "hash"));
  }
  if (!hash) return bad("transaction without hash");
  auto bytes = core::fromHex(*hash);
  if (!bytes.ok() || bytes->size() != 32) return bad("transaction hash is not 32 bytes of hex");
  std::copy(bytes->begin(), bytes->end(), e.hash.begin());
  if (const rapidjson::Value* meta = member(message, "meta"); meta != nullptr)
    e.txIndex = asU32(member(*meta, "TransactionIndex"));
  return e;
}

std::optional<BoardTx> localTransaction(const rapidjson::Value& message, const StreamEvent& event) {
  if (event.kind != StreamEvent::Kind::transaction) return std::nullopt;
  const rapidjson::Value* tx = member(message, "transaction");
  if (tx == nullptr) tx = member(message, "tx_json");
  const rapidjson::Value* meta = member(message, "meta");
  if (tx == nullptr || !tx->IsObject() || meta == nullptr || !meta->IsObject()) return std::nullopt;
  rapidjson::Document t(rapidjson::kObjectType);
  auto& a = t.GetAllocator();
  const bool hasAmount = tx->HasMember("Amount");
  for (const auto& m : tx->GetObject()) {
    const std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (name == "hash" || name == "date" || name == "ctid" || name == "inLedger" || name == "ledger_index")
      continue;
    if (name == "DeliverMax") {
      if (hasAmount) continue;  // api v1 carries both
      t.AddMember("Amount", rapidjson::Value(m.value, a), a);
      continue;
    }
    t.AddMember(rapidjson::Value(m.name, a), rapidjson::Value(m.value, a), a);
  }
  auto blob = ledger::encode(t);
  if (!blob.ok() || ledger::transactionHash(*blob) != event.hash) return std::nullopt;
  rapidjson::Document md(rapidjson::kObjectType);
  auto& ma = md.GetAllocator();
  for (const auto& m : meta->GetObject()) {
    if (std::string_view(m.name.GetString(), m.name.GetStringLength()) == "delivered_amount") continue;
    md.AddMember(rapidjson::Value(m.name, ma), rapidjson::Value(m.value, ma), ma);
  }
  auto metaBlob = ledger::encode(md);
  if (!metaBlob.ok()) return std::nullopt;
  BoardTx out;
  out.hash = event.hash;
  out.blob = std::move(*blob);
  out.meta = std::move(*metaBlob);
  out.ledgerIndex = event.ledgerIndex;
  out.txIndex = event.txIndex;
  out.result = event.engineResult;
  return out;
}

}  // namespace sashimono::board
