#pragma once
// Ports of an instance: a user port, a peer port and a few general TCP/UDP ports, each taken
// from a configured host range and forwarded to a fixed port inside the container. Allocation
// is pure logic over the set of ports already held (persisted in tenant records), so a
// released port is reused by the next tenant.
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::host {

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;  // inclusive
};

struct PortRanges {
  PortRange user{26000, 26999};
  PortRange peer{27000, 27999};
  PortRange generalTcp{28000, 28999};
  PortRange generalUdp{29000, 29999};
  unsigned generalTcpCount = 2;
  unsigned generalUdpCount = 2;
};

enum class Proto { kTcp, kUdp };
const char* protoName(Proto p);

struct PortForward {
  std::string role;  // "user", "peer", "tcp", "udp"
  Proto proto = Proto::kTcp;
  std::uint16_t hostPort = 0;
  std::uint16_t containerPort = 0;
  bool operator==(const PortForward&) const = default;
};

// Fixed ports inside the container.
inline constexpr std::uint16_t kContainerUserPort = 8080;
inline constexpr std::uint16_t kContainerPeerPort = 22860;
inline constexpr std::uint16_t kContainerTcpBase = 9000;
inline constexpr std::uint16_t kContainerUdpBase = 9100;

// Lowest free ports of each range; `taken` holds host ports already allocated (any proto).
// Fails naming the exhausted range.
core::Result<std::vector<PortForward>> allocatePorts(const PortRanges& ranges,
                                                     const std::set<std::uint16_t>& taken);
core::Status validatePortRanges(const PortRanges& ranges);

// rootlesskit API (builtin port driver) request body and response parsing.
std::string renderPortRequest(const PortForward& f, const std::string& parentIp);
core::Result<int> parsePortResponseId(std::string_view body);
// Splits an HTTP/1.1 response into status and body.
core::Result<std::pair<int, std::string>> parseHttpResponse(std::string_view raw);

class PortForwarder {
 public:
  virtual ~PortForwarder() = default;
  // Adds every forward through the tenant's rootlesskit API socket.
  virtual core::Status add(const std::string& apiSocket, const std::vector<PortForward>& forwards,
                           const std::string& parentIp) = 0;
  // The forwards currently active (for leak checks and inspect): the raw JSON of GET /v1/ports.
  virtual core::Result<std::string> listRaw(const std::string& apiSocket) = 0;
};

std::unique_ptr<PortForwarder> makeRootlessKitPortForwarder();

}  // namespace sashimono::host
