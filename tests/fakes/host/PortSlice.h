#pragma once
// Port ranges for the tenants of one test or benchmark process: a slice of 400 ports from a base
// that differs per process, so that processes running at once (and a node on the same machine,
// on the default ranges) never hand out the same port.
#include <cstdint>

#include "sashimono/host/Ports.h"

namespace sashimono::host::fakes {

// 100 ports each from `base`: user, peer, general TCP, general UDP; `tcpCount` and `udpCount`
// general ports per tenant.
inline PortRanges portSlice(std::uint16_t base, unsigned tcpCount, unsigned udpCount) {
  PortRanges p;
  p.user = {base, static_cast<std::uint16_t>(base + 99)};
  p.peer = {static_cast<std::uint16_t>(base + 100), static_cast<std::uint16_t>(base + 199)};
  p.generalTcp = {static_cast<std::uint16_t>(base + 200), static_cast<std::uint16_t>(base + 299)};
  p.generalUdp = {static_cast<std::uint16_t>(base + 300), static_cast<std::uint16_t>(base + 399)};
  p.generalTcpCount = tcpCount;
  p.generalUdpCount = udpCount;
  return p;
}

}  // namespace sashimono::host::fakes
