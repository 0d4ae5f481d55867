#pragma once
// A small HTTP/1.1 server (Boost.Beast, plain TCP) for what a host owner's tools read from a
// running process: GET of a few fixed paths (the node's /metrics for Prometheus). It owns its
// io_context and one thread.
//
// Bounded: a request's header is at most 8 KiB and it may carry no body (413); only GET and HEAD
// (405); an unknown path is 404; a connection idle (or slow to send its request) for
// idleTimeout is closed; at most maxConnections at once, further ones are closed at accept.
// Keep-alive as the client asks. Handlers run on the server's thread: keep them quick (render
// what is already computed).
//
// Thread-safety: listen/stop from any one thread; handlers may be called concurrently with it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "sashimono/core/Result.h"

namespace sashimono::net {

struct HttpResponse {
  unsigned status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

struct HttpServerOptions {
  std::chrono::milliseconds idleTimeout{15000};
  std::size_t maxConnections = 32;
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse()>;
  // path (exact, e.g. "/metrics") → handler.
  HttpServer(std::map<std::string, Handler> routes, HttpServerOptions options = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (port 0: any free port) and starts serving; returns the bound port.
  [[nodiscard]] core::Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  // Closes the listener and every connection and joins the thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:port" (IPv6 in brackets: "[::1]:9100") → host and port; errors name what is wrong.
[[nodiscard]] core::Result<std::pair<std::string, std::uint16_t>> parseListenAddress(const std::string& text);

}  // namespace sashimono::net
