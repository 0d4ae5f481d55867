#include "sashimono/protocol/Envelope.h"

#include "sashimono/crypto/SealedBox.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::protocol {
namespace {
using core::Error;
using core::Result;

// ErrorReply is the payload of every *.error type and of sashimono.error; each other payload
// belongs to one type.
bool belongsTo(MessageType type, const Message& m) { return messageTypeInfo(type).payload == m.index(); }
}  // namespace

rapidjson::Value memoToJson(const Memo& memo, rapidjson::Document::AllocatorType& alloc) {
  auto hex = [&](core::ByteView b) {
    std::string h = core::toHex(b);
    return rapidjson::Value(h.c_str(), static_cast<rapidjson::SizeType>(h.size()), alloc);
  };
  rapidjson::Value inner(rapidjson::kObjectType);
  inner.AddMember("MemoType", hex(core::asBytes(memo.type)), alloc);
  inner.AddMember("MemoFormat", hex(core::asBytes(memo.format)), alloc);
  inner.AddMember("MemoData", hex(memo.data), alloc);
  rapidjson::Value wrapper(rapidjson::kObjectType);
  wrapper.AddMember("Memo", inner, alloc);
  return wrapper;
}

Memo memoFromLedger(const ledger::Memo& memo) {
  Memo m;
  if (memo.type) m.type = core::asString(*memo.type);
  if (memo.format) m.format = core::asString(*memo.format);
  if (memo.data) m.data = *memo.data;
  return m;
}

ledger::Memo memoToLedger(const Memo& memo) {
  ledger::Memo m;
  m.type = core::Bytes(memo.type.begin(), memo.type.end());
  m.format = core::Bytes(memo.format.begin(), memo.format.end());
  m.data = memo.data;
  return m;
}

MessageType defaultTypeOf(const Message& m) {
  return std::visit([](const auto& v) { return messageTypeOf<std::decay_t<decltype(v)>>(); }, m);
}

Result<Memo> buildMemo(MessageType type, const Message& message, const std::optional<Ed25519Key>& sealTo) {
  if (!belongsTo(type, message)) {
    return Error(std::string("message does not belong to memo type ") + std::string(messageTypeName(type)));
  }
  std::string json = renderPayload(message);
  if (json.size() > payloadLimit(type)) {
    return Error(std::string(messageTypeName(type)) + ": payload of " + std::to_string(json.size()) +
                 " bytes exceeds the limit of " + std::to_string(payloadLimit(type)));
  }
  Memo memo;
  memo.type = std::string(messageTypeName(type));
  if (messageTypeInfo(type).sealed) {
    if (!sealTo) return Error(std::string(messageTypeName(type)) + " must be sealed, but no key was given");
    auto box = crypto::seal(*sealTo, core::asBytes(json));
    if (!box) return box.error().context("sealing " + memo.type);
    memo.format = std::string(kFormatSealed);
    memo.data.reserve(1 + box->size());
    memo.data.push_back(kEnvelopeVersion);
    memo.data.insert(memo.data.end(), box->begin(), box->end());
  } else {
    memo.format = std::string(kFormatJson);
    memo.data.assign(json.begin(), json.end());
  }
  return memo;
}

Result<Memo> buildRequest(const Message& request, const Ed25519Key& hostKey) {
  MessageType t = defaultTypeOf(request);
  if (!isRequest(t)) return Error("buildRequest: not a request message");
  return buildMemo(t, request, hostKey);
}

Result<std::string> openMemoText(MessageType type, const Memo& memo, const crypto::KeyPair* recipient) {
  if (memo.data.size() > kMaxMemoDataBytes) {
    return reasonError(Reason::badPayload, "MemoData: " + std::to_string(memo.data.size()) +
                                               " bytes, more than " + std::to_string(kMaxMemoDataBytes));
  }
  if (!messageTypeInfo(type).sealed) {
    if (memo.format != kFormatJson) {
      return reasonError(Reason::badPayload, "MemoFormat: expected '" + std::string(kFormatJson) + "'");
    }
    return core::asString(memo.data);
  }
  if (memo.format != kFormatSealed) {
    return reasonError(Reason::badPayload, "MemoFormat: expected '" + std::string(kFormatSealed) + "'");
  }
  if (memo.data.empty()) return reasonError(Reason::badPayload, "MemoData: empty");
  if (memo.data[0] != kEnvelopeVersion) {
    return reasonError(Reason::unsupportedVersion,
                       "MemoData: envelope version " + std::to_string(memo.data[0]) + " is not supported");
  }
  if (recipient == nullptr)
    return reasonError(Reason::internalError, "MemoData: sealed, but no key to open it");
  auto plain = crypto::unseal(*recipient, core::ByteView(memo.data).subspan(1));
  if (!plain)
    return reasonError(Reason::badPayload, "MemoData: cannot unseal (" + plain.error().message + ")");
  return core::asString(*plain);
}

Result<Message> openMemo(const Memo& memo, const crypto::KeyPair* recipient) {
  auto type = parseMessageType(memo.type);
  if (!type) return reasonError(Reason::unknownType, "MemoType: unknown type");
  auto text = openMemoText(*type, memo, recipient);
  if (!text) return text.error();
  return parsePayload(*type, *text);
}

}  // namespace sashimono::protocol
