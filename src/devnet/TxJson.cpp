#include "sashimono/devnet/TxJson.h"

#include <cstdio>

#include "sashimono/devnet/Chain.h"
#include "sashimono/ledger/Codec.h"

namespace sashimono::devnet {

using core::Error;
using core::Result;
using core::Status;

namespace {
void key(JsonWriter& w, const char* k) { w.Key(k); }
void str(JsonWriter& w, const char* k, const std::string& v) {
  w.Key(k);
  w.String(v.c_str(), static_cast<rapidjson::SizeType>(v.size()));
}

bool isPayment(const rapidjson::Document& d) {
  auto it = d.FindMember("TransactionType");
  return it != d.MemberEnd() && it->value.IsString() && std::string_view(it->value.GetString()) == "Payment";
}
}  // namespace

std::string ctid(std::uint32_t ledgerSeq, std::uint32_t txIndex, std::uint32_t networkId) {
  char buf[17];
  std::uint64_t v = (std::uint64_t{0xC} << 60) | (std::uint64_t{ledgerSeq & 0x0FFFFFFF} << 32) |
                    (std::uint64_t{txIndex & 0xFFFF} << 16) | (networkId & 0xFFFF);
  (void)std::snprintf(buf, sizeof buf, "%016llX", static_cast<unsigned long long>(v));
  return buf;
}

namespace {
void putCtid(JsonWriter& out, const StoredTx& tx, std::uint32_t networkId) {
  if (networkId <= 0xFFFF) str(out, "ctid", ctid(tx.ledgerSeq, tx.index, networkId));
}
}  // namespace

Status writeTxFields(JsonWriter& out, core::ByteView txBlob, int apiVersion) {
  auto doc = ledger::decode(txBlob);
  if (!doc.ok()) return doc.error().context("decoding stored transaction");
  if (!doc->IsObject()) return Error("decoding stored transaction: not an object");
  const bool payment = isPayment(*doc);
  for (auto& m : doc->GetObject()) {
    std::string_view name(m.name.GetString(), m.name.GetStringLength());
    if (payment && name == "Amount") {
      if (apiVersion < 2) {
        out.Key("Amount");
        m.value.Accept(out);
      }
      out.Key("DeliverMax");
      m.value.Accept(out);
      continue;
    }
    out.Key(m.name.GetString(), m.name.GetStringLength());
    m.value.Accept(out);
  }
  return {};
}

Status writeMetaJson(JsonWriter& out, core::ByteView meta) {
  auto doc = ledger::decode(meta);
  if (!doc.ok()) return doc.error().context("decoding stored metadata");
  if (!doc->IsObject()) return Error("decoding stored metadata: not an object");
  out.StartObject();
  const rapidjson::Value* delivered = nullptr;
  for (auto& m : doc->GetObject()) {
    if (std::string_view(m.name.GetString()) == "DeliveredAmount") delivered = &m.value;
    out.Key(m.name.GetString(), m.name.GetStringLength());
    m.value.Accept(out);
  }
  if (delivered != nullptr) {
    out.Key("delivered_amount");
    delivered->Accept(out);
  }
  out.EndObject();
  return {};
}

namespace {

// API v2's "tx_json": the transaction's fields with its close time and ledger.
Status writeTxJsonV2(JsonWriter& out, const StoredTx& tx, int apiVersion) {
  key(out, "tx_json");
  out.StartObject();
  SASHI_TRY(writeTxFields(out, tx.blob, apiVersion));
  key(out, "date");
  out.Uint(tx.closeTime);
  key(out, "ledger_index");
  out.Uint(tx.ledgerSeq);
  out.EndObject();
  return {};
}

}  // namespace

Status writeTxResult(JsonWriter& out, const StoredTx& tx, int apiVersion, bool binary,
                     std::uint32_t networkId) {
  const std::string hash = core::toHex(tx.hash);
  if (apiVersion >= 2) {
    if (binary) {
      str(out, "tx_blob", core::toHex(tx.blob));
      str(out, "meta_blob", core::toHex(tx.meta));
    } else {
      SASHI_TRY(writeTxJsonV2(out, tx, apiVersion));
      key(out, "meta");
      SASHI_TRY(writeMetaJson(out, tx.meta));
    }
    str(out, "close_time_iso", closeTimeIso(tx.closeTime));
    putCtid(out, tx, networkId);
    str(out, "hash", hash);
    str(out, "ledger_hash", core::toHex(tx.ledgerHash));
    key(out, "ledger_index");
    out.Uint(tx.ledgerSeq);
    key(out, "validated");
    out.Bool(true);
    return {};
  }
  if (binary) {
    str(out, "tx", core::toHex(tx.blob));
    str(out, "meta", core::toHex(tx.meta));
  } else {
    SASHI_TRY(writeTxFields(out, tx.blob, apiVersion));
    key(out, "meta");
    SASHI_TRY(writeMetaJson(out, tx.meta));
  }
  putCtid(out, tx, networkId);
  key(out, "date");
  out.Uint(tx.closeTime);
  str(out, "hash", hash);
  key(out, "inLedger");
  out.Uint(tx.ledgerSeq);
  key(out, "ledger_index");
  out.Uint(tx.ledgerSeq);
  key(out, "validated");
  out.Bool(true);
  return {};
}

Status writeAccountTxEntry(JsonWriter& out, const StoredTx& tx, int apiVersion, bool binary,
                           std::uint32_t networkId) {
  out.StartObject();
  if (binary) {
    key(out, "ledger_index");
    out.Uint(tx.ledgerSeq);
    str(out, "meta", core::toHex(tx.meta));
    str(out, "tx_blob", core::toHex(tx.blob));
  } else if (apiVersion >= 2) {
    str(out, "close_time_iso", closeTimeIso(tx.closeTime));
    str(out, "hash", core::toHex(tx.hash));
    str(out, "ledger_hash", core::toHex(tx.ledgerHash));
    key(out, "ledger_index");
    out.Uint(tx.ledgerSeq);
    key(out, "meta");
    SASHI_TRY(writeMetaJson(out, tx.meta));
    SASHI_TRY(writeTxJsonV2(out, tx, apiVersion));
  } else {
    key(out, "meta");
    SASHI_TRY(writeMetaJson(out, tx.meta));
    key(out, "tx");
    out.StartObject();
    SASHI_TRY(writeTxFields(out, tx.blob, apiVersion));
    putCtid(out, tx, networkId);
    key(out, "date");
    out.Uint(tx.closeTime);
    str(out, "hash", core::toHex(tx.hash));
    key(out, "inLedger");
    out.Uint(tx.ledgerSeq);
    key(out, "ledger_index");
    out.Uint(tx.ledgerSeq);
    out.EndObject();
  }
  key(out, "validated");
  out.Bool(true);
  out.EndObject();
  return {};
}

Result<std::string> renderTransactionMessage(const StoredTx& tx, int apiVersion, std::uint32_t networkId) {
  rapidjson::StringBuffer buf;
  JsonWriter out(buf);
  out.StartObject();
  auto ter = static_cast<Ter>(tx.result);
  str(out, "close_time_iso", closeTimeIso(tx.closeTime));
  putCtid(out, tx, networkId);
  str(out, "engine_result", terName(ter));
  key(out, "engine_result_code");
  out.Int(tx.result);
  str(out, "engine_result_message", terMessage(ter));
  if (apiVersion >= 2) str(out, "hash", core::toHex(tx.hash));
  str(out, "ledger_hash", core::toHex(tx.ledgerHash));
  key(out, "ledger_index");
  out.Uint(tx.ledgerSeq);
  key(out, "meta");
  SASHI_TRY(writeMetaJson(out, tx.meta));
  str(out, "status", "closed");
  key(out, apiVersion >= 2 ? "tx_json" : "transaction");
  out.StartObject();
  SASHI_TRY(writeTxFields(out, tx.blob, apiVersion));
  key(out, "date");
  out.Uint(tx.closeTime);
  if (apiVersion < 2) str(out, "hash", core::toHex(tx.hash));
  out.EndObject();
  str(out, "type", "transaction");
  key(out, "validated");
  out.Bool(true);
  out.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace sashimono::devnet
