// parsePayload and renderPayload: the strict reader (JsonReader.h) and the per-message readers
// and writers (PayloadCodec.h), reached from a type's row in kMessageTypes.
#include "sashimono/protocol/Payload.h"

#include <array>
#include <utility>

#include "PayloadCodec.h"

namespace sashimono::protocol {
namespace {
using core::Result;

template <typename T>
Result<Message> readAs(json::JsonObject& o) {
  T value;
  SASHI_TRY(json::read(o, value));
  return Message(std::move(value));
}

using Reader = Result<Message> (*)(json::JsonObject&);

// One reader per alternative of Message, in its order: kReaders[info.payload].
template <std::size_t... I>
constexpr std::array<Reader, sizeof...(I)> makeReaders(std::index_sequence<I...>) {
  return {&readAs<std::variant_alternative_t<I, Message>>...};
}
constexpr auto kReaders = makeReaders(std::make_index_sequence<std::variant_size_v<Message>>{});

// Parses `json` as the type that carries T.
template <typename T>
Result<T> parseAs(std::string_view json) {
  auto m = parsePayload(messageTypeOf<T>(), json);
  if (!m) return m.error();
  return std::get<T>(std::move(m).value());
}

}  // namespace

std::size_t payloadLimit(MessageType type) { return messageTypeInfo(type).payloadLimit; }

Result<Message> parsePayload(MessageType type, std::string_view json) {
  if (static_cast<std::size_t>(type) >= std::size(kMessageTypes))
    return reasonError(Reason::unknownType, "unknown message type");
  const MessageTypeInfo& info = messageTypeInfo(type);
  rapidjson::Document doc;
  SASHI_TRY_ASSIGN(o, json::openPayload(doc, json, info.payloadLimit));
  return kReaders[info.payload](o);
}

std::string renderPayload(const Message& message) {
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::num(w, "v", kPayloadVersion);
  std::visit([&w](const auto& m) { json::write(w, m); }, message);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<AcquireRequest> parseAcquire(std::string_view json) { return parseAs<AcquireRequest>(json); }
Result<ExtendRequest> parseExtend(std::string_view json) { return parseAs<ExtendRequest>(json); }
Result<TerminateRequest> parseTerminate(std::string_view json) { return parseAs<TerminateRequest>(json); }
Result<ClusterRequest> parseCluster(std::string_view json) { return parseAs<ClusterRequest>(json); }
Result<HostAnnouncement> parseHostAnnouncement(std::string_view json) {
  return parseAs<HostAnnouncement>(json);
}

}  // namespace sashimono::protocol
