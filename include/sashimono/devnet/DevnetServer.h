#pragma once
// The devnet's WebSocket front: a net::WsServer whose messages are answered by handleRequest().
//
// Threads: `ioThreads` run the sockets (framing only); requests run on a pool of `workThreads`
// (JSON, signature checks, sqlite reads), serialized per connection so that a client's
// submissions apply in the order it sent them, in parallel across connections.
// A connection with more than kMaxPendingPerSession requests not yet answered gets "slowDown"
// errors instead of unbounded queueing.
#include <cstdint>
#include <memory>
#include <string>

#include "sashimono/core/Result.h"
#include "sashimono/devnet/Devnet.h"
#include "sashimono/net/WsServer.h"

namespace sashimono::devnet {

struct DevnetServerOptions {
  net::ServerOptions ws;
  unsigned ioThreads = 1;
  unsigned workThreads = 0;  // 0: one per core
};

class DevnetServer {
 public:
  static constexpr std::size_t kMaxPendingPerSession = 100000;

  DevnetServer(Devnet& node, DevnetServerOptions options);
  ~DevnetServer();
  DevnetServer(const DevnetServer&) = delete;
  DevnetServer& operator=(const DevnetServer&) = delete;

  // Binds and starts the threads; returns the bound port.
  core::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sashimono::devnet
