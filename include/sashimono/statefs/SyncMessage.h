#pragma once
// Sync messages: the requests a syncing node sends and the responses a SyncSource gives, as
// bytes, so that the cluster's transport can carry them (it adds its own framing and request
// ids; these bytes are one message each). Layout (integers big-endian):
//
//   request   version(1)=1 ‖ op(1) ‖ pathLen(2) ‖ path ‖ arguments
//               listing      afterLen(1) ‖ after        (0 = from the first name)
//               blockHashes  first(8)
//               block        index(8)
//               symlink      —
//   response  version(1)=1 ‖ op(1) ‖ status(1) ‖ body
//               status 1 (error)  len(2) ‖ message          (1..1024 bytes)
//               status 0, by op:
//               listing      count(2) ‖ count × [nameLen(1) ‖ name ‖ kind(1) ‖ perm(2) ‖ size(8) ‖ hash(32)]
//               blockHashes  count(4) ‖ count × cv(32)
//               block        len(4) ‖ bytes
//               symlink      len(2) ‖ target
//
// op: 1 listing, 2 blockHashes, 3 block, 4 symlink. Bounds, checked by both encode and decode:
// a path is a valid state path (StatePath: "/" or "/a/b", at most 4095 bytes); a name is a plain
// name of 1..255 bytes; a listing holds at most kMaxEntriesPerPage entries with names strictly
// ascending, kinds 1..4, perm ≤ 07777, size 0 unless a file; at most kMaxCvsPerPage chaining
// values; a block at most 64 KiB; a block index below 2^48 (2^64 bytes); a symlink target of
// 1..4095 bytes without NUL. The largest message is a full listing page (about 1.2 MiB).
// Decoding refuses anything else — a short or long message, an unknown version, op or status,
// an out-of-range field — with an error saying what and at which byte. The encoding is
// canonical: a message that decodes encodes back to the same bytes.
//
// MessageSyncSource is a SyncSource that sends each request as bytes through a function (the
// transport) and decodes the answer; answerSyncRequest is the serving side. Pure logic.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/statefs/StateTree.h"
#include "sashimono/statefs/SyncSource.h"

namespace sashimono::statefs {

inline constexpr std::uint8_t kSyncVersion = 1;
inline constexpr std::size_t kMaxSyncPath = 4095;
inline constexpr std::size_t kMaxSyncError = 1024;
inline constexpr std::uint64_t kMaxBlockIndex = std::uint64_t{1} << 48;
// The largest encoded messages: a listing request with the longest path and name to list after,
// and a full listing page of the longest names (the largest response, 1,224,709 bytes).
inline constexpr std::size_t kMaxSyncRequestBytes = 4 + kMaxSyncPath + 1 + 255;
inline constexpr std::size_t kMaxSyncResponseBytes = 5 + kMaxEntriesPerPage * (1 + 255 + 1 + 2 + 8 + 32);

enum class SyncOp : std::uint8_t { listing = 1, blockHashes = 2, block = 3, symlink = 4 };

struct SyncRequest {
  SyncOp op = SyncOp::listing;
  std::string path;
  std::string after;        // listing
  std::uint64_t index = 0;  // blockHashes: the first block; block: the block
  bool operator==(const SyncRequest&) const = default;
};

struct SyncResponse {
  SyncOp op = SyncOp::listing;
  std::string error;                 // not empty: the peer could not answer; nothing else is set
  std::vector<TreeEntry> entries;    // listing
  std::vector<crypto::Hash256> cvs;  // blockHashes
  core::Bytes data;                  // block
  std::string target;                // symlink
  bool operator==(const SyncResponse&) const = default;
};

// Encoding refuses (with an error) a message outside the bounds rather than truncating it.
[[nodiscard]] core::Result<core::Bytes> encodeSyncRequest(const SyncRequest& r);
[[nodiscard]] core::Result<core::Bytes> encodeSyncResponse(const SyncResponse& r);
[[nodiscard]] core::Result<SyncRequest> decodeSyncRequest(core::ByteView in);
[[nodiscard]] core::Result<SyncResponse> decodeSyncResponse(core::ByteView in);

// The serving side: asks `source` and wraps its answer (or its error, cut to kMaxSyncError bytes).
[[nodiscard]] SyncResponse answerSyncRequest(SyncSource& source, const SyncRequest& r);

class MessageSyncSource : public SyncSource {
 public:
  // Sends one encoded request, returns the encoded response (or the transport's error).
  using Exchange = std::function<core::Result<core::Bytes>(const core::Bytes& request)>;
  explicit MessageSyncSource(Exchange exchange) : exchange_(std::move(exchange)) {}

  core::Result<std::vector<TreeEntry>> listing(std::string_view path, std::string_view after) override;
  core::Result<std::vector<crypto::Hash256>> blockHashes(std::string_view path, std::uint64_t first) override;
  core::Result<core::Bytes> block(std::string_view path, std::uint64_t index) override;
  core::Result<std::string> symlinkTarget(std::string_view path) override;

 private:
  core::Result<SyncResponse> ask(SyncRequest r);
  Exchange exchange_;
};

}  // namespace sashimono::statefs
