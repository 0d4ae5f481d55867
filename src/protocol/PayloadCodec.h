#pragma once
// Per-message readers and writers of payload fields, internal to protocol/ (docs/PROTOCOL.md
// §5, §6, §12). Payload.cpp reaches them from a message type's row in kMessageTypes (its
// payload, an index in Message) and from a Message's alternative; they live in
// PayloadRequests.cpp, PayloadReplies.cpp and PayloadHost.cpp.
//
// read(o, out) reads the fields after "v" from `o` into `out` and finishes `o` (unknown fields
// are errors); write(w, m) writes the fields after "v" in canonical order.
#include <optional>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "JsonReader.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::protocol::json {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

inline void str(Writer& w, std::string_view key, std::string_view value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}
inline void num(Writer& w, std::string_view key, std::uint64_t value) {
  w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  w.Uint64(value);
}
inline void optKey(Writer& w, const std::optional<Ed25519Key>& k) {
  if (k) str(w, "replyKey", formatEd25519Key(*k));
}

// Requests (PayloadRequests.cpp).
core::Status read(JsonObject& o, AcquireRequest& out);
core::Status read(JsonObject& o, ExtendRequest& out);
core::Status read(JsonObject& o, TerminateRequest& out);
core::Status read(JsonObject& o, ClusterRequest& out);
void write(Writer& w, const AcquireRequest& m);
void write(Writer& w, const ExtendRequest& m);
void write(Writer& w, const TerminateRequest& m);
void write(Writer& w, const ClusterRequest& m);

// Replies and notices (PayloadReplies.cpp).
core::Status read(JsonObject& o, AcquireOk& out);
core::Status read(JsonObject& o, ExtendOk& out);
core::Status read(JsonObject& o, TerminateOk& out);
core::Status read(JsonObject& o, ClusterOk& out);
core::Status read(JsonObject& o, ErrorReply& out);
core::Status read(JsonObject& o, ExpiredNotice& out);
void write(Writer& w, const AcquireOk& m);
void write(Writer& w, const ExtendOk& m);
void write(Writer& w, const TerminateOk& m);
void write(Writer& w, const ClusterOk& m);
void write(Writer& w, const ErrorReply& m);
void write(Writer& w, const ExpiredNotice& m);

// Host announcements (PayloadHost.cpp).
core::Status read(JsonObject& o, HostAnnouncement& out);
void write(Writer& w, const HostAnnouncement& m);

}  // namespace sashimono::protocol::json
