#pragma once
// One connection to one board server: request/response correlation by "id", per-request
// timeouts, and stream messages handed to a callback.
//
// The socket is behind the small Transport interface (WebSocket in production, a fake in unit
// tests). Incoming text goes to Connection::Router::onMessage (from the transport's I/O thread):
// a response with a known id completes its waiting call; any other response (unknown id, garbage,
// not JSON) is dropped and counted; a stream message goes to the StreamFn, in arrival order.
//
// Thread-safety: start/await/call/close may be used from any thread, concurrently. The StreamFn
// runs on the transport's I/O thread and must not block.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <rapidjson/document.h>

#include "sashimono/core/Result.h"
#include "sashimono/net/WsClient.h"

namespace sashimono::board {

// An open text-message connection. Thread-safe.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual core::Status send(std::string text) = 0;
  [[nodiscard]] virtual bool isOpen() const = 0;
  virtual void close() = 0;
};

using MessageFn = std::function<void(std::string&&)>;
// Opens a transport to `url`; incoming messages go to onMessage (possibly before it returns).
using TransportFactory = std::function<core::Result<std::unique_ptr<Transport>>(
    const std::string& url, const net::ClientOptions& options, MessageFn onMessage)>;

// The production factory: net::WsClient (ws:// and wss://).
TransportFactory webSocketTransport();

class Connection {
 public:
  using StreamFn = std::function<void(rapidjson::Document&&)>;

  // The shared routing state (defined in Connection.cpp); lives as long as the transport may call it.
  class Router;
  struct Call;  // one request in flight

  static core::Result<std::unique_ptr<Connection>> open(const std::string& url,
                                                        const net::ClientOptions& options,
                                                        const TransportFactory& factory, StreamFn onStream);
  ~Connection();  // closes the transport; waiting calls fail with code "closed"
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `request` (object text without id, see Requests.h). Errors: "closed" if not open.
  [[nodiscard]] core::Result<std::shared_ptr<Call>> start(const std::string& request);
  // The response envelope. Errors: "timeout", "closed" (the connection dropped while waiting).
  [[nodiscard]] core::Result<rapidjson::Document> await(const std::shared_ptr<Call>& call,
                                                        std::chrono::milliseconds timeout);
  // start + await.
  [[nodiscard]] core::Result<rapidjson::Document> call(const std::string& request,
                                                       std::chrono::milliseconds timeout);

  [[nodiscard]] bool isOpen() const;
  void close();
  [[nodiscard]] const std::string& url() const { return url_; }
  // Messages that were neither a pending response nor a well-formed stream message.
  [[nodiscard]] std::uint64_t droppedMessages() const;

 private:
  Connection(std::string url, std::shared_ptr<Router> router, std::unique_ptr<Transport> transport);

  std::string url_;
  std::shared_ptr<Router> router_;
  std::unique_ptr<Transport> transport_;
};

struct Connection::Call {
  std::uint64_t id = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<rapidjson::Document> response;
  bool failed = false;
};

}  // namespace sashimono::board
