#include "sashimono/net/WsServer.h"

#include <atomic>
#include <deque>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace sashimono::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using core::Error;
using core::Result;

namespace {

bool loopbackAddress(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return false;
}

class ServerSession;

}  // namespace

struct WsServer::State : std::enable_shared_from_this<WsServer::State> {
  asio::io_context& ioc;
  ServerOptions options;
  std::shared_ptr<WsHandler> handler;
  tcp::acceptor acceptor;
  std::atomic<std::uint64_t> nextId{1};
  std::atomic<bool> stopped{false};
  mutable std::mutex mu;
  std::unordered_map<std::uint64_t, std::weak_ptr<ServerSession>> sessions;

  State(asio::io_context& io, ServerOptions o, std::shared_ptr<WsHandler> h)
      : ioc(io), options(o), handler(std::move(h)), acceptor(asio::make_strand(io)) {}

  void accept();
  void remove(std::uint64_t id) {
    std::lock_guard lock(mu);
    sessions.erase(id);
  }
};

namespace {

class ServerSession : public WsSession, public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(tcp::socket&& socket, std::shared_ptr<WsServer::State> server, std::uint64_t id)
      : ws_(std::move(socket)), server_(std::move(server)), id_(id) {
    beast::error_code ec;
    auto ep = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    if (!ec) {
      remote_ = ep.address().to_string();
      loopback_ = loopbackAddress(ep.address());
    }
  }

  void start() {
    asio::dispatch(ws_.get_executor(), [self = shared_from_this()] { self->accept(); });
  }

  void send(std::shared_ptr<const std::string> text) override {
    if (closed_.load()) return;
    const auto& o = server_->options;
    std::size_t bytes = queuedBytes_.fetch_add(text->size()) + text->size();
    std::size_t count = queuedCount_.fetch_add(1) + 1;
    if (bytes > o.maxQueuedBytes || count > o.maxQueuedMessages) {
      if (!closed_.exchange(true)) {
        spdlog::warn(
            "ws session {} ({}): peer reads too slowly ({} messages, {} bytes queued), disconnecting", id_,
            remote_, count, bytes);
        asio::post(ws_.get_executor(), [self = shared_from_this()] { self->abort(); });
      }
      return;
    }
    asio::post(ws_.get_executor(),
               [self = shared_from_this(), t = std::move(text)]() mutable { self->enqueue(std::move(t)); });
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->closeRequested_ = true;
      if (!self->writing_) self->startClose();
    });
  }

  // From WsServer::stop: immediate.
  void shutdown() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->abort(); });
  }

  std::uint64_t id() const override { return id_; }
  const std::string& remoteAddress() const override { return remote_; }
  bool isLoopback() const override { return loopback_; }
  bool isOpen() const override { return open_.load() && !closed_.load(); }

 private:
  void accept() {
    const auto& o = server_->options;
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = o.handshakeTimeout;
    t.idle_timeout = o.idleTimeout;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(o.maxMessageBytes);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(beast::http::field::server, "sashimono"); }));
    ws_.async_accept([self = shared_from_this()](beast::error_code ec) { self->onAccept(ec); });
  }

  void onAccept(beast::error_code ec) {
    if (ec) {
      spdlog::debug("ws session {} ({}): handshake failed: {}", id_, remote_, ec.message());
      server_->remove(id_);
      return;
    }
    open_ = true;
    server_->handler->onOpen(shared_from_this());
    if (closed_.load()) {  // closed from within onOpen or by the queue limit
      abort();
      return;
    }
    read();
  }

  void read() {
    ws_.async_read(buffer_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    if (ec) {
      if (ec == websocket::error::message_too_big) {
        spdlog::info("ws session {} ({}): message over {} bytes, closed with 1009", id_, remote_,
                     server_->options.maxMessageBytes);
      } else if (ec != websocket::error::closed && ec != asio::error::operation_aborted) {
        spdlog::debug("ws session {} ({}): read: {}", id_, remote_, ec.message());
      }
      finish();
      return;
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!closed_.load()) server_->handler->onMessage(shared_from_this(), std::move(text));
    read();
  }

  void enqueue(std::shared_ptr<const std::string> text) {
    if (closed_.load() || finished_) {
      queuedBytes_ -= text->size();
      queuedCount_ -= 1;
      return;
    }
    queue_.push_back(std::move(text));
    if (!writing_) write();
  }

  void write() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onWrite(ec); });
  }

  void onWrite(beast::error_code ec) {
    writing_ = false;
    queuedBytes_ -= queue_.front()->size();
    queuedCount_ -= 1;
    queue_.pop_front();
    if (ec) {
      spdlog::debug("ws session {} ({}): write: {}", id_, remote_, ec.message());
      abort();
      return;
    }
    if (!queue_.empty() && !closed_.load()) {
      write();
    } else if (closeRequested_) {
      startClose();
    }
  }

  void startClose() {
    if (closing_ || finished_) return;
    closing_ = true;
    ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {
      // The pending read completes with `closed` and finishes the session.
    });
  }

  void abort() {
    closed_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();  // cancels pending operations, closes the socket
    if (!open_.load()) server_->remove(id_);
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    closed_ = true;
    if (open_.load()) server_->handler->onClose(shared_from_this());
    open_ = false;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    server_->remove(id_);
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<WsServer::State> server_;
  std::uint64_t id_;
  std::string remote_ = "?";
  bool loopback_ = false;
  beast::flat_buffer buffer_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::atomic<std::size_t> queuedBytes_{0};
  std::atomic<std::size_t> queuedCount_{0};
  std::atomic<bool> open_{false};
  std::atomic<bool> closed_{false};
  bool writing_ = false;
  bool closeRequested_ = false;
  bool closing_ = false;
  bool finished_ = false;
};

}  // namespace

void WsServer::State::accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (ec) {
                            if (ec == asio::error::operation_aborted || self->stopped.load()) return;
                            spdlog::warn("ws server: accept: {}", ec.message());
                          } else {
                            std::shared_ptr<ServerSession> session;
                            {
                              std::lock_guard lock(self->mu);
                              if (self->sessions.size() >= self->options.maxConnections) {
                                spdlog::warn("ws server: connection limit {} reached, refusing a connection",
                                             self->options.maxConnections);
                                beast::error_code ignored;
                                socket.close(ignored);
                              } else {
                                std::uint64_t id = self->nextId++;
                                session = std::make_shared<ServerSession>(std::move(socket), self, id);
                                self->sessions.emplace(id, session);
                              }
                            }
                            if (session) session->start();
                          }
                          if (!self->stopped.load()) self->accept();
                        });
}

WsServer::WsServer(asio::io_context& ioc, ServerOptions options, std::shared_ptr<WsHandler> handler)
    : state_(std::make_shared<State>(ioc, options, std::move(handler))) {}

WsServer::~WsServer() { stop(); }

Result<std::uint16_t> WsServer::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Error("listen: bad address '" + host + "': " + ec.message());
  tcp::endpoint ep(addr, port);
  auto& a = state_->acceptor;
  const std::string where = host + ":" + std::to_string(port);
  if (a.open(ep.protocol(), ec); ec)
    return Error("listen on " + where + ": open: " + ec.message(), ec.value());
  if (a.set_option(asio::socket_base::reuse_address(true), ec); ec)
    return Error("listen on " + where + ": set reuse_address: " + ec.message(), ec.value());
  if (a.bind(ep, ec); ec) return Error("listen on " + where + ": bind: " + ec.message(), ec.value());
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec)
    return Error("listen on " + where + ": listen: " + ec.message(), ec.value());
  auto bound = a.local_endpoint(ec).port();
  asio::dispatch(a.get_executor(), [s = state_] { s->accept(); });
  return bound;
}

void WsServer::stop() {
  if (state_->stopped.exchange(true)) return;
  asio::post(state_->acceptor.get_executor(), [s = state_] {
    beast::error_code ec;
    s->acceptor.close(ec);
  });
  std::vector<std::shared_ptr<ServerSession>> live;
  {
    std::lock_guard lock(state_->mu);
    for (auto& [id, w] : state_->sessions) {
      if (auto s = w.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->shutdown();
}

std::size_t WsServer::sessionCount() const {
  std::lock_guard lock(state_->mu);
  return state_->sessions.size();
}

Result<HostPort> parseHostPort(const std::string& text) {
  HostPort hp;
  std::string portText;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Error("bad HOST:PORT '" + text + "': expected [IPv6]:PORT");
    hp.host = text.substr(1, close - 1);
    portText = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
      return Error("bad HOST:PORT '" + text + "': expected HOST:PORT");
    hp.host = text.substr(0, colon);
    portText = text.substr(colon + 1);
  }
  if (portText.empty() || portText.size() > 5 ||
      portText.find_first_not_of("0123456789") != std::string::npos)
    return Error("bad HOST:PORT '" + text + "': port must be a number 0-65535");
  unsigned long p = std::stoul(portText);
  if (p > 65535) return Error("bad HOST:PORT '" + text + "': port must be a number 0-65535");
  hp.port = static_cast<std::uint16_t>(p);
  return hp;
}

}  // namespace sashimono::net
