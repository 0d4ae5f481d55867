#pragma once
// Memo types, memo formats and size limits of the Sashimono protocol (docs/PROTOCOL.md §2–§3).
//
// Every fact about a message type (its name, direction, sealing, ok/error replies, payload limit,
// the payload it carries and the order a host sends it in) is one row of kMessageTypes; the
// functions below read that table, and so does everything else that asks about a type.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>

#include "sashimono/protocol/Messages.h"

namespace sashimono::protocol {

enum class MessageType {
  // Requests, tenant → host, sealed to the host's key.
  acquire,
  extend,
  terminate,
  cluster,
  // Replies, host → tenant. *.ok are sealed to the tenant's reply key; errors are plain JSON.
  acquireOk,
  acquireError,
  extendOk,
  extendError,
  terminateOk,
  terminateError,
  clusterOk,
  clusterError,
  error,    // "sashimono.error": reply to a request whose type could not be determined
  expired,  // "sashimono.expired": notice after a lease expired and its instance was destroyed
  // Announcement, host → registry account, plain JSON.
  host,
};

// Every memo type of the protocol starts with this; a memo whose type does not is not ours.
inline constexpr std::string_view kTypePrefix = "sashimono.";
// MemoFormat of sealed messages (MemoData = envelope, §3) and of plain ones (MemoData = JSON).
inline constexpr std::string_view kFormatSealed = "application/x-sashimono-sealed";
inline constexpr std::string_view kFormatJson = "application/json";

// Envelope version byte of sealed MemoData.
inline constexpr std::uint8_t kEnvelopeVersion = 1;
// Payload schema version ("v").
inline constexpr std::uint64_t kPayloadVersion = 1;

// Size limits, in bytes. MemoType and MemoFormat (as UTF-8, before hex) at most 64 each;
// MemoData at most 900; the JSON plaintext inside a sealed envelope at most
// 900 - 1 (version) - 48 (box overhead) = 851. Together they keep the serialized Memos field
// under the XRPL's 1024-byte limit.
inline constexpr std::size_t kMaxMemoTypeBytes = 64;
inline constexpr std::size_t kMaxMemoFormatBytes = 64;
inline constexpr std::size_t kMaxMemoDataBytes = 900;
inline constexpr std::size_t kMaxSealedPlaintextBytes = kMaxMemoDataBytes - 1 - 48;

enum class Direction {
  request,       // tenant → host
  reply,         // host → tenant: *.ok, *.error, sashimono.error and the sashimono.expired notice
  announcement,  // host → registry
};

// The order in which a host signs what it sends (lowest first): replies that serve a lease, then
// refunds of refused requests, then announcements, so that a flood of bad requests cannot queue
// the refunds it earns ahead of a good request's reply. Requests are never sent by a host.
enum class SendPriority { leaseReply, refund, announcement };

// The index in Message of payload type T.
template <typename T, std::size_t I = 0>
constexpr std::size_t payloadIndex() {
  if constexpr (std::is_same_v<std::variant_alternative_t<I, Message>, T>) {
    return I;
  } else {
    return payloadIndex<T, I + 1>();
  }
}

struct MessageTypeInfo {
  MessageType type;
  std::string_view name;  // the MemoType: "sashimono.acquire", "sashimono.acquire.ok", …
  Direction direction;
  bool sealed;               // MemoData is a sealed envelope (requests and *.ok), else plain JSON
  MessageType ok;            // a request's ok reply; MessageType::error for the others
  MessageType error;         // a request's error reply; MessageType::error for the others
  std::size_t payloadLimit;  // largest JSON text: kMaxSealedPlaintextBytes if sealed, else kMaxMemoDataBytes
  SendPriority priority;     // where a host sends it in its queue
  std::size_t payload;       // index in Message of the payload it carries (payloadIndex<T>())
};

// One row per MessageType, in the enum's order (so messageTypeInfo is an index).
inline constexpr auto kMessageTypes = [] {
  using enum MessageType;
  using enum Direction;
  constexpr std::size_t sealedLimit = kMaxSealedPlaintextBytes, plainLimit = kMaxMemoDataBytes;
  constexpr SendPriority lease = SendPriority::leaseReply, refund = SendPriority::refund;
  // clang-format off
  return std::array<MessageTypeInfo, 15>{{
    // type          name                         direction     sealed ok           error           limit        priority                   payload
    {acquire,        "sashimono.acquire",         request,      true,  acquireOk,   acquireError,   sealedLimit, refund,                    payloadIndex<AcquireRequest>()},
    {extend,         "sashimono.extend",          request,      true,  extendOk,    extendError,    sealedLimit, refund,                    payloadIndex<ExtendRequest>()},
    {terminate,      "sashimono.terminate",       request,      true,  terminateOk, terminateError, sealedLimit, refund,                    payloadIndex<TerminateRequest>()},
    {cluster,        "sashimono.cluster",         request,      true,  clusterOk,   clusterError,   sealedLimit, refund,                    payloadIndex<ClusterRequest>()},
    {acquireOk,      "sashimono.acquire.ok",      reply,        true,  error,       error,          sealedLimit, lease,                     payloadIndex<AcquireOk>()},
    {acquireError,   "sashimono.acquire.error",   reply,        false, error,       error,          plainLimit,  refund,                    payloadIndex<ErrorReply>()},
    {extendOk,       "sashimono.extend.ok",       reply,        true,  error,       error,          sealedLimit, lease,                     payloadIndex<ExtendOk>()},
    {extendError,    "sashimono.extend.error",    reply,        false, error,       error,          plainLimit,  refund,                    payloadIndex<ErrorReply>()},
    {terminateOk,    "sashimono.terminate.ok",    reply,        true,  error,       error,          sealedLimit, lease,                     payloadIndex<TerminateOk>()},
    {terminateError, "sashimono.terminate.error", reply,        false, error,       error,          plainLimit,  refund,                    payloadIndex<ErrorReply>()},
    {clusterOk,      "sashimono.cluster.ok",      reply,        true,  error,       error,          sealedLimit, lease,                     payloadIndex<ClusterOk>()},
    {clusterError,   "sashimono.cluster.error",   reply,        false, error,       error,          plainLimit,  refund,                    payloadIndex<ErrorReply>()},
    {error,          "sashimono.error",           reply,        false, error,       error,          plainLimit,  refund,                    payloadIndex<ErrorReply>()},
    {expired,        "sashimono.expired",         reply,        false, error,       error,          plainLimit,  lease,                     payloadIndex<ExpiredNotice>()},
    {host,           "sashimono.host",            announcement, false, error,       error,          plainLimit,  SendPriority::announcement, payloadIndex<HostAnnouncement>()},
  }};
  // clang-format on
}();

constexpr const MessageTypeInfo& messageTypeInfo(MessageType t) {
  return kMessageTypes[static_cast<std::size_t>(t)];
}

// The type a payload T is sent as. ErrorReply, the payload of every *.error type, goes out as
// sashimono.error unless the request it answers is known (errorReplyFor).
template <typename T>
constexpr MessageType messageTypeOf() {
  if constexpr (std::is_same_v<T, ErrorReply>) {
    return MessageType::error;
  } else {
    for (const auto& t : kMessageTypes) {
      if (t.payload == payloadIndex<T>()) return t.type;
    }
    return MessageType::error;
  }
}

// Every type, in the enum's order.
inline constexpr auto kAllMessageTypes = [] {
  std::array<MessageType, std::size(kMessageTypes)> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = kMessageTypes[i].type;
  return all;
}();

// "sashimono.acquire", "sashimono.acquire.ok", …
constexpr std::string_view messageTypeName(MessageType t) { return messageTypeInfo(t).name; }
std::optional<MessageType> parseMessageType(std::string_view name);
constexpr bool isRequest(MessageType t) { return messageTypeInfo(t).direction == Direction::request; }
// Replies that carry a sealed payload (the *.ok replies).
constexpr bool isSealedReply(MessageType t) {
  return messageTypeInfo(t).direction == Direction::reply && messageTypeInfo(t).sealed;
}
// The ok / error reply type for a request type (error → MessageType::error for non-requests).
constexpr MessageType okReplyFor(MessageType request) { return messageTypeInfo(request).ok; }
constexpr MessageType errorReplyFor(MessageType request) { return messageTypeInfo(request).error; }

}  // namespace sashimono::protocol
