#pragma once
// WebSocket client for ws:// and wss:// URLs, with its own I/O thread — or, for programs that
// hold many connections (load generators, a runtime's peers), on a shared ClientContext.
//
// wss:// verifies the server certificate chain against the system trust store (plus caFile if
// given) and the host name (SNI is sent). Incoming messages go either to the onMessage callback
// (called on the client's I/O thread, in order) or, without one, into an inbox read by receive().
//
// Thread-safety: send/receive/close may be called from any thread. Destruction closes the
// connection and joins the I/O thread (own thread) or waits until no onMessage call is running
// and none will follow (shared context); do not destroy the client from within onMessage, and
// do not connect() from a thread of the client's own context.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sashimono/core/Result.h"

namespace sashimono::net {

// One io_context run by `threads` threads, shared by the clients created with it. It must
// outlive them; its destructor stops the threads.
class ClientContext {
 public:
  explicit ClientContext(int threads = 1);
  ~ClientContext();
  ClientContext(const ClientContext&) = delete;
  ClientContext& operator=(const ClientContext&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct ClientOptions {
  std::string caFile;      // PEM file of additional trusted CAs
  bool verifyPeer = true;  // wss:// only; false only for tests against self-signed servers
  std::chrono::milliseconds connectTimeout{10000};
  std::size_t maxMessageBytes = 64 * 1024 * 1024;
  bool autoRead = true;       // false: never read (tests of slow readers)
  bool binaryFrames = false;  // send binary frames instead of text (Hot Pocket's user protocol)
  std::function<void(std::string&&)> onMessage;
  ClientContext* context = nullptr;  // null: the client runs its own I/O thread
};

struct Url {
  bool tls = false;
  std::string host;
  std::string port;
  std::string target = "/";
};
// ws://host[:port][/path] or wss://…; IPv6 hosts in brackets.
core::Result<Url> parseUrl(const std::string& url);

class WsClient {
 public:
  static core::Result<std::unique_ptr<WsClient>> connect(const std::string& url, ClientOptions options = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Queues a message (a text frame, or binary with ClientOptions::binaryFrames); an error if the
  // connection is closed.
  core::Status send(std::string text);
  // The next message from the inbox; errors on timeout ("timeout") or when the connection is
  // closed and the inbox is empty ("closed", message with the close code/reason).
  core::Result<std::string> receive(std::chrono::milliseconds timeout);
  // Graceful close (code 1000), waits up to `timeout` for the close handshake.
  void close(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  [[nodiscard]] bool isOpen() const;
  // Messages queued by send() and not yet written to the socket (0 once closed).
  [[nodiscard]] std::size_t unsent() const;
  // The close code received from the server, if it sent one.
  [[nodiscard]] std::optional<int> closeCode() const;

  struct Impl;

 private:
  explicit WsClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace sashimono::net
