#pragma once
// One WebSocket connection as the business layer sees it: send, close, who is on the other end.
// Transport knows nothing of the business; a WsHandler receives the connection's messages.
// Whether messages go out as text or binary frames is the server's choice (ServerOptions).
//
// Thread-safety: every member of WsSession may be called from any thread. Messages passed to
// send() are queued on the connection's strand and written one at a time in order.
#include <cstdint>
#include <memory>
#include <string>

namespace sashimono::net {

class WsSession {
 public:
  virtual ~WsSession() = default;

  // Queues a message (a text frame, or a binary one on a server with binaryFrames). If the peer reads too
  // slowly and the queue exceeds the server's limit, the connection is dropped (the message is discarded).
  // After close, a no-op.
  virtual void send(std::shared_ptr<const std::string> text) = 0;
  void send(std::string text) { send(std::make_shared<const std::string>(std::move(text))); }
  // Closes gracefully once queued messages are written (close code 1000).
  virtual void close() = 0;
  // Drops the connection now: no closing handshake, queued messages discarded. For peers that
  // violate the protocol. onClose still follows (once). The default, for fakes, is close();
  // the server's sessions override it.
  virtual void abort() { close(); }

  // Unique per server for the process lifetime.
  [[nodiscard]] virtual std::uint64_t id() const = 0;
  // Remote address as text ("127.0.0.1", "::1").
  [[nodiscard]] virtual const std::string& remoteAddress() const = 0;
  // True for 127.0.0.0/8 and ::1 (and v4-mapped loopback).
  [[nodiscard]] virtual bool isLoopback() const = 0;
  [[nodiscard]] virtual bool isOpen() const = 0;
  // Messages queued and not yet written to the socket (0 once closed; fakes: 0).
  [[nodiscard]] virtual std::size_t unsent() const { return 0; }
};

// Callbacks from the server. They run on the connection's strand (so calls for one connection
// never overlap) on an I/O thread: do not block in them — hand heavy work to another executor.
class WsHandler {
 public:
  virtual ~WsHandler() = default;
  virtual void onOpen(const std::shared_ptr<WsSession>& session) {}
  // Text (or binary) data messages, whole. Never larger than the server's maxMessageBytes.
  virtual void onMessage(const std::shared_ptr<WsSession>& session, std::string&& text) = 0;
  // Called exactly once per opened session, whatever the reason for closing.
  virtual void onClose(const std::shared_ptr<WsSession>& session) {}
};

}  // namespace sashimono::net
