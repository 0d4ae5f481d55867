#pragma once
// Memo types, memo formats and size limits of the Sashimono protocol (docs/PROTOCOL.md §2–§3).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

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

inline constexpr MessageType kAllMessageTypes[] = {
    MessageType::acquire,     MessageType::extend,         MessageType::terminate, MessageType::cluster,
    MessageType::acquireOk,   MessageType::acquireError,   MessageType::extendOk,  MessageType::extendError,
    MessageType::terminateOk, MessageType::terminateError, MessageType::clusterOk, MessageType::clusterError,
    MessageType::error,       MessageType::expired,        MessageType::host};

// "sashimono.acquire", "sashimono.acquire.ok", …
std::string_view messageTypeName(MessageType t);
std::optional<MessageType> parseMessageType(std::string_view name);
bool isRequest(MessageType t);
// Replies that carry a sealed payload (the *.ok replies).
bool isSealedReply(MessageType t);
// The ok / error reply type for a request type (error → MessageType::error for non-requests).
MessageType okReplyFor(MessageType request);
MessageType errorReplyFor(MessageType request);

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

}  // namespace sashimono::protocol
