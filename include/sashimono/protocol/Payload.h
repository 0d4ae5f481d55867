#pragma once
// Strict JSON parsing and canonical rendering of every message payload (docs/PROTOCOL.md §4–§6).
//
// Parsing checks, in order: size (payloadLimit), valid UTF-8 JSON with one object at the top,
// no duplicate keys, "v" present and an integer (else bad_payload) and equal to
// kPayloadVersion (else unsupported_version), then every field: presence, JSON type, length,
// pattern, range, and no unknown fields. Every error names the field ("field 'config.env.FOO':
// …") and carries a Reason name in Error::code: config_out_of_bounds for a config value outside
// its bounds (roundtimeMs, number of env entries), bad_payload for everything else.
//
// Rendering is canonical: compact JSON, fields in the order of docs/PROTOCOL.md, integers as
// numbers, drops as decimal strings, keys and hashes as upper-case hex. For every value v that
// parsePayload returned, parsePayload(type, renderPayload(v)) == v.
// Pure functions, thread-safe.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::protocol {

// Largest JSON text accepted for a type (its row in kMessageTypes): kMaxSealedPlaintextBytes
// for sealed types, kMaxMemoDataBytes for plain ones.
std::size_t payloadLimit(MessageType type);

// Error replies (acquire.error, …, sashimono.error) all parse to ErrorReply.
core::Result<Message> parsePayload(MessageType type, std::string_view json);
std::string renderPayload(const Message& message);

// Typed shortcuts; an error when the JSON does not parse as that type.
core::Result<AcquireRequest> parseAcquire(std::string_view json);
core::Result<ExtendRequest> parseExtend(std::string_view json);
core::Result<TerminateRequest> parseTerminate(std::string_view json);
core::Result<ClusterRequest> parseCluster(std::string_view json);
core::Result<HostAnnouncement> parseHostAnnouncement(std::string_view json);

// The fields of a host announcement after "v", in canonical order under their wire names
// (docs/PROTOCOL.md §12). renderPayload writes an announcement through this; whoever shows one
// in another form (the CLI's `hosts` listing) does too, so the list of fields is written once.
class AnnouncementFields {
 public:
  virtual ~AnnouncementFields() = default;
  virtual void text(std::string_view name, std::string_view value) = 0;  // version, key ("ED…"), host
  virtual void integer(std::string_view name, std::uint64_t value) = 0;
  virtual void drops(std::string_view name, Drops value) = 0;                            // price
  virtual void list(std::string_view name, const std::vector<std::string>& values) = 0;  // images
};
void visitAnnouncement(const HostAnnouncement& a, AnnouncementFields& to);

}  // namespace sashimono::protocol
