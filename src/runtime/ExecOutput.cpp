#include "ExecOutput.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <limits>

namespace sashimono::runtime::detail {

FrameReader::FrameReader(std::uint64_t budget, std::uint64_t maxFrame)
    : remaining_(budget == 0 ? std::numeric_limits<std::uint64_t>::max() : budget), maxFrame_(maxFrame) {}

bool FrameReader::feed(const std::uint8_t* data, std::size_t n, std::vector<core::Bytes>& out) {
  while (n > 0) {
    if (!inPayload_) {
      const std::size_t take = std::min(n, sizeof header_ - headerLen_);
      std::copy_n(data, take, header_ + headerLen_);
      headerLen_ += take;
      data += take;
      n -= take;
      if (headerLen_ < sizeof header_) return true;
      const std::uint64_t len = (std::uint64_t{header_[0]} << 24) | (std::uint64_t{header_[1]} << 16) |
                                (std::uint64_t{header_[2]} << 8) | std::uint64_t{header_[3]};
      if (len > remaining_ || len > maxFrame_) return false;
      remaining_ -= len;
      headerLen_ = 0;
      need_ = len;
      inPayload_ = true;
      current_.clear();
    }
    const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(n, need_));
    current_.insert(current_.end(), data, data + take);
    data += take;
    n -= take;
    need_ -= take;
    if (need_ == 0) {
      out.push_back(std::move(current_));
      current_ = {};
      inPayload_ = false;
    }
  }
  return true;
}

namespace {

// After recv() returned 0: an empty packet, or the end of the stream? The end only when the
// peer has shut down and nothing (of non-zero length) is queued.
bool atEnd(int fd) {
  int queued = 0;
  if (::ioctl(fd, FIONREAD, &queued) == 0 && queued > 0) return false;
  pollfd p{fd, POLLRDHUP, 0};
  if (::poll(&p, 1, 0) < 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

ReadState readPackets(int fd, std::size_t maxPacket, int maxPackets, std::vector<std::uint8_t>& buf,
                      const std::function<bool(const std::uint8_t*, std::size_t)>& onPacket) {
  buf.resize(maxPacket);
  for (int i = 0; i < maxPackets; ++i) {
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadState::kOpen;
      return ReadState::kClosed;
    }
    if (n == 0) {
      if (atEnd(fd)) return ReadState::kClosed;
      continue;  // an empty packet: ignored
    }
    if (static_cast<std::size_t>(n) > maxPacket) continue;  // truncated: over the packet limit
    if (!onPacket(buf.data(), static_cast<std::size_t>(n))) return ReadState::kClosed;
  }
  return ReadState::kOpen;
}

}  // namespace sashimono::runtime::detail
