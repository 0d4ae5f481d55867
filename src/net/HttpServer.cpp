#include "sashimono/net/HttpServer.h"

#include <atomic>
#include <charconv>
#include <optional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace sashimono::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kHeaderLimit = 8 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const std::map<std::string, HttpServer::Handler>& routes,
          std::chrono::milliseconds idle, std::atomic<std::size_t>& live)
      : stream_(std::move(socket)), routes_(routes), idle_(idle), live_(live) {
    ++live_;
  }
  ~Session() { --live_; }

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(0);
    stream_.expires_after(idle_);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec == http::error::body_limit) return respond(413, "a request carries no body\n", false);
    if (ec == http::error::header_limit) return respond(431, "request header too large\n", false);
    if (ec) return close();
    const auto& req = parser_->get();
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return respond(405, "only GET and HEAD\n", req.keep_alive(), req.method() == http::verb::head);
    std::string target(req.target());
    if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
    auto it = routes_.find(target);
    if (it == routes_.end()) return respond(404, "not found\n", req.keep_alive());
    HttpResponse r = it->second();
    send(r, req.keep_alive(), req.method() == http::verb::head);
  }

  void respond(unsigned status, const char* text, bool keepAlive, bool head = false) {
    send(HttpResponse{status, "text/plain; charset=utf-8", text}, keepAlive, head);
  }

  void send(const HttpResponse& r, bool keepAlive, bool head) {
    res_ = {};
    res_.version(11);
    res_.result(r.status);
    res_.set(http::field::server, "sashimono");
    res_.set(http::field::content_type, r.contentType);
    res_.keep_alive(keepAlive);
    res_.body() = head ? std::string() : r.body;
    res_.content_length(r.body.size());
    keepAlive_ = keepAlive;
    stream_.expires_after(idle_);
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->keepAlive_) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  const std::map<std::string, HttpServer::Handler>& routes_;
  std::chrono::milliseconds idle_;
  std::atomic<std::size_t>& live_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  bool keepAlive_ = false;
};

}  // namespace

// Sessions refer to routes and live: both outlive the io_context (declared before it), whose
// destruction destroys the sessions a stop() left in its queue.
struct HttpServer::Impl {
  std::map<std::string, Handler> routes;
  HttpServerOptions options;
  std::atomic<std::size_t> live{0};
  asio::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;

  void accept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
      if (!ec) {
        if (live.load() >= options.maxConnections) {
          beast::error_code ignored;
          s.close(ignored);
        } else {
          std::make_shared<Session>(std::move(s), routes, options.idleTimeout, live)->start();
        }
      }
      accept();
    });
  }
};

HttpServer::HttpServer(std::map<std::string, Handler> routes, HttpServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->routes = std::move(routes);
  impl_->options = options;
}

HttpServer::~HttpServer() { stop(); }

core::Result<std::uint16_t> HttpServer::listen(const std::string& host, std::uint16_t port) {
  if (impl_->thread.joinable()) return core::Error("http server: already listening");
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return core::Error("http server: not an IP address: " + host);
  tcp::endpoint ep(addr, port);
  tcp::acceptor a(impl_->ioc);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return core::Error("http server: cannot listen on " + host + ":" + std::to_string(port) + ": " +
                       ec.message());
  const std::uint16_t bound = a.local_endpoint().port();
  impl_->acceptor.emplace(std::move(a));
  impl_->work.emplace(impl_->ioc.get_executor());
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
  return bound;
}

void HttpServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  impl_->work.reset();
  // Sessions end at their idle timeout at the latest; do not wait for them.
  impl_->ioc.stop();
  impl_->thread.join();
}

core::Result<std::pair<std::string, std::uint16_t>> parseListenAddress(const std::string& text) {
  std::string host;
  std::string portText;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return core::Error("'" + text + "' is not [IPv6]:port");
    host = text.substr(1, close - 1);
    portText = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon)
      return core::Error("'" + text + "' is not host:port");
    host = text.substr(0, colon);
    portText = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [p, ec] = std::from_chars(portText.data(), portText.data() + portText.size(), port);
  if (ec != std::errc() || p != portText.data() + portText.size() || portText.empty() || port > 65535)
    return core::Error("'" + text + "': the port is not a number from 0 to 65535");
  beast::error_code bec;
  asio::ip::make_address(host, bec);
  if (bec) return core::Error("'" + text + "': '" + host + "' is not an IP address");
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

}  // namespace sashimono::net
