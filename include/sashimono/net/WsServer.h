#pragma once
// WebSocket server (Boost.Beast; plain ws://, or wss:// only when ServerOptions::tls is set) on a
// caller-owned io_context.
//
// Per connection: one strand; reads one message at a time and hands it to the WsHandler;
// writes one message at a time from a bounded queue, as text frames or (binaryFrames) as binary
// frames. Limits (all in ServerOptions):
//  - maxMessageBytes: an incoming message larger than this closes the connection with close code
//    1009 "message too big" (Beast's read_message_max). Default 1 MiB.
//  - maxQueuedBytes / maxQueuedMessages: outgoing data waiting because the peer reads too slowly;
//    over either limit the connection is dropped rather than buffered without bound.
//  - handshakeTimeout: the TLS handshake (wss://) must complete within it, and then the HTTP
//    upgrade within it again.
//  - idleTimeout: a ping is sent after half of it without traffic; a peer silent for the whole
//    of it is disconnected.
//  - maxConnections: further connections are closed at once.
//  - maxConnectionsPerAddress: further connections from a remote IP address that already holds
//    this many are closed at once, before any TLS or WebSocket handshake (logged at debug).
//    Connections still in their handshake count; addresses are compared exactly (an IPv6 peer
//    with many addresses is not grouped by prefix). 0 = no per-address limit.
//
// TLS (wss://): TLS 1.2 or later, server authentication only (no client certificates, no
// renegotiation). The certificate chain and private key are PEM files; an encrypted key is
// refused (there is no one to ask for a passphrase). listen() fails if they cannot be loaded or
// do not match. reloadTls() re-reads them for new connections (certificate renewal); open
// connections keep the context they were accepted with.
//
// Thread-safety: listen/stop/reloadTls may be called from any thread; the io_context may be run
// by several threads. stop() closes the acceptor and every session.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>

#include "sashimono/core/Result.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::net {

struct TlsServerOptions {
  std::string certificateChainFile;  // PEM: the server certificate first, then intermediates
  std::string privateKeyFile;        // PEM, unencrypted
};

struct ServerOptions {
  std::size_t maxMessageBytes = 1024 * 1024;
  std::size_t maxQueuedBytes = 32 * 1024 * 1024;
  std::size_t maxQueuedMessages = 100000;
  std::chrono::milliseconds handshakeTimeout{10000};
  std::chrono::milliseconds idleTimeout{60000};
  std::size_t maxConnections = 4096;
  std::size_t maxConnectionsPerAddress = 0;  // 0 = unlimited
  bool binaryFrames = false;                 // every message sent goes out as a binary frame
  std::optional<TlsServerOptions> tls;       // set: wss:// only
};

class WsServer {
 public:
  WsServer(boost::asio::io_context& ioc, ServerOptions options, std::shared_ptr<WsHandler> handler);
  ~WsServer();
  WsServer(const WsServer&) = delete;
  WsServer& operator=(const WsServer&) = delete;

  // Binds and starts accepting. Port 0 picks a free port; returns the bound port.
  // With TLS, loads the certificate and key first; an error names the file and what is wrong.
  core::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  // Re-reads the TLS files for connections accepted from now on. On failure (or without TLS)
  // returns the error and keeps serving with the previous certificate.
  core::Status reloadTls();
  // Closes the acceptor and every session. Sessions leave (their handler's onClose runs) on the
  // io_context's threads, so keep running it until waitClosed() says they have all left: a
  // handler that holds its sessions would otherwise keep them, and the server, alive forever.
  void stop();
  // Blocks until no session is left or `timeout` passes; true when none is left. Never call it
  // from a thread that runs the io_context.
  bool waitClosed(std::chrono::milliseconds timeout);
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
