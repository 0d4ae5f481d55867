#pragma once
// Quick checks that a tenant's parts still serve (the node's heal loop, docs/OPERATIONS.md):
// each answers in milliseconds and never blocks on a dead part.
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sashimono/core/Result.h"

namespace sashimono::host {

// A listening unix socket at `path` accepts a connection (containerd's API socket).
core::Status unixSocketAnswers(const std::string& path);
// `path` is the root of a live FUSE mount: not a dead one (ENOTCONN), not a plain directory.
core::Status fuseMountAlive(const std::string& path);

// The process whose pid `pidFile` holds is alive (not gone, not a zombie): a container's init
// (containerd's shim writes init.pid).
core::Status pidFileAlive(const std::string& pidFile);

struct TcpProbe {
  std::string ip;
  std::uint16_t port = 0;
};
// Connects to every endpoint at once and watches them for `wait`: one that refuses, or that the
// far side closes or resets within `wait` (a port forward whose backend is gone), does not serve;
// one that stays open and silent (a server waiting for its client to speak) does. One result per
// probe, in order: ok, or what was seen.
std::vector<core::Status> probeTcp(const std::vector<TcpProbe>& probes, std::chrono::milliseconds wait);

}  // namespace sashimono::host
