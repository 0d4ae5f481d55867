#pragma once
// Private to the executor: reassembly of a user's framed output stream (4-byte big-endian
// length ‖ payload) with a byte budget, and reading SOCK_SEQPACKET packets.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "sashimono/core/Bytes.h"

namespace sashimono::runtime::detail {

class FrameReader {
 public:
  // budget: payload bytes this user may still produce (0 = none); maxFrame: absolute cap.
  FrameReader(std::uint64_t budget, std::uint64_t maxFrame);
  // Appends complete frames to `out`. False once a frame's length exceeds the remaining budget
  // or maxFrame: the stream must then be closed (frames before it were already appended).
  bool feed(const std::uint8_t* data, std::size_t n, std::vector<core::Bytes>& out);

 private:
  std::uint64_t remaining_;
  std::uint64_t maxFrame_;
  std::uint8_t header_[4] = {};
  std::size_t headerLen_ = 0;
  std::uint64_t need_ = 0;  // payload bytes still missing of the current frame
  bool inPayload_ = false;
  core::Bytes current_;
};

enum class ReadState { kOpen, kClosed };

// Reads packets from a SOCK_SEQPACKET socket until it would block (at most `maxPackets`), into
// `buf` (resized to maxPacket). Empty packets are skipped, packets over maxPacket dropped;
// onPacket gets the rest and returns false to stop (→ kClosed: the caller closes the socket).
// kClosed also at end of stream (peer gone, nothing queued) and on an error.
ReadState readPackets(int fd, std::size_t maxPacket, int maxPackets, std::vector<std::uint8_t>& buf,
                      const std::function<bool(const std::uint8_t*, std::size_t)>& onPacket);

}  // namespace sashimono::runtime::detail
