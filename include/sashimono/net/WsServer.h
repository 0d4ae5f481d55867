#pragma once
// WebSocket server (Boost.Beast, plain ws://) on a caller-owned io_context.
//
// Per connection: one strand; reads one message at a time and hands it to the WsHandler;
// writes one message at a time from a bounded queue. Limits (all in ServerOptions):
//  - maxMessageBytes: an incoming message larger than this closes the connection with close code
//    1009 "message too big" (Beast's read_message_max). Default 1 MiB.
//  - maxQueuedBytes / maxQueuedMessages: outgoing data waiting because the peer reads too slowly;
//    over either limit the connection is dropped rather than buffered without bound.
//  - handshakeTimeout: the HTTP upgrade must complete within it.
//  - idleTimeout: a ping is sent after half of it without traffic; a peer silent for the whole
//    of it is disconnected.
//  - maxConnections: further connections are closed at once.
//
// Thread-safety: listen/stop may be called from any thread; the io_context may be run by several
// threads. stop() closes the acceptor and every session.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "sashimono/core/Result.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::net {

struct ServerOptions {
  std::size_t maxMessageBytes = 1024 * 1024;
  std::size_t maxQueuedBytes = 32 * 1024 * 1024;
  std::size_t maxQueuedMessages = 100000;
  std::chrono::milliseconds handshakeTimeout{10000};
  std::chrono::milliseconds idleTimeout{60000};
  std::size_t maxConnections = 4096;
};

class WsServer {
 public:
  WsServer(boost::asio::io_context& ioc, ServerOptions options, std::shared_ptr<WsHandler> handler);
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  // Binds and starts accepting. Port 0 picks a free port; returns the bound port.
  core::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  void stop();
  [[nodiscard]] std::size_t sessionCount() const;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

// "host:port" → parts; IPv6 as "[::1]:port". Errors name the text.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
core::Result<HostPort> parseHostPort(const std::string& text);

}  // namespace sashimono::net
