#include "sashimono/net/WsServer.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <type_traits>
#include <unordered_map>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace sashimono::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using core::Error;
using core::Result;
using core::Status;

namespace {

bool loopbackAddress(const asio::ip::address& a) {
  if (a.is_loopback()) return true;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return false;
}

// OpenSSL's reason for a failed call, e.g. "key values mismatch".
std::string sslReason(const beast::error_code& ec) {
  std::string m = ec.message();
  return m.empty() ? "unknown OpenSSL error" : m;
}

// A server context from the PEM files: TLS 1.2+, no client certificates, no renegotiation.
Result<std::shared_ptr<ssl::context>> loadServerContext(const TlsServerOptions& t) {
  if (t.certificateChainFile.empty()) return Error("TLS: no certificate chain file configured");
  if (t.privateKeyFile.empty()) return Error("TLS: no private key file configured");
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
    return Error("TLS: cannot require TLS 1.2 or later");
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);  // idle connections hold no TLS buffers
  SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  beast::error_code ec;
  // An encrypted key must fail, not prompt on the terminal.
  ctx->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); }, ec);
  if (ctx->use_certificate_chain_file(t.certificateChainFile, ec); ec)
    return Error("TLS: loading certificate chain " + t.certificateChainFile + ": " + sslReason(ec));
  if (ctx->use_private_key_file(t.privateKeyFile, ssl::context::pem, ec); ec) {
    std::string why = sslReason(ec);
    if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH)
      why = "it does not match the certificate in " + t.certificateChainFile;
    return Error("TLS: loading private key " + t.privateKeyFile + ": " + why);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    return Error("TLS: private key " + t.privateKeyFile + " does not match the certificate in " +
                 t.certificateChainFile);
  }
  return ctx;
}

// What the server needs of a session, whatever its stream.
class ServerSessionBase : public WsSession {
 public:
  virtual void start() = 0;
  // From WsServer::stop: immediate.
  virtual void shutdown() = 0;
};

}  // namespace

struct WsServer::State : std::enable_shared_from_this<WsServer::State> {
  asio::io_context& ioc;
  ServerOptions options;
  std::shared_ptr<WsHandler> handler;
  tcp::acceptor acceptor;
  std::atomic<std::uint64_t> nextId{1};
  std::atomic<bool> stopped{false};
  mutable std::mutex mu;
  std::condition_variable noSessions;  // notified when `sessions` becomes empty
  struct Entry {
    std::weak_ptr<ServerSessionBase> session;
    std::string address;
  };
  std::unordered_map<std::uint64_t, Entry> sessions;        // guarded by mu
  std::unordered_map<std::string, std::size_t> perAddress;  // guarded by mu; no zero entries
  std::shared_ptr<ssl::context> tls;                        // guarded by mu; set iff options.tls

  State(asio::io_context& io, ServerOptions o, std::shared_ptr<WsHandler> h)
      : ioc(io), options(std::move(o)), handler(std::move(h)), acceptor(asio::make_strand(io)) {}

  void accept();
  void onAccepted(tcp::socket socket);
  // Idempotent.
  void remove(std::uint64_t id) {
    std::lock_guard lock(mu);
    auto it = sessions.find(id);
    if (it == sessions.end()) return;
    auto n = perAddress.find(it->second.address);
    if (n != perAddress.end() && --n->second == 0) perAddress.erase(n);
    sessions.erase(it);
    if (sessions.empty()) noSessions.notify_all();
  }
};

namespace {

constexpr bool kPlain = false;
constexpr bool kTls = true;

template <bool Tls>
using StreamOf = std::conditional_t<Tls, beast::ssl_stream<beast::tcp_stream>, beast::tcp_stream>;

// One connection. The same code serves ws:// and wss://; they differ only in the stream under the
// WebSocket and in the TLS handshake before the upgrade. Everything but the public WsSession
// members runs on the connection's strand.
template <bool Tls>
class ServerSession : public ServerSessionBase, public std::enable_shared_from_this<ServerSession<Tls>> {
 public:
  // streamArgs: what the stream is made from (the socket, and the TLS context for wss://).
  template <typename... StreamArgs>
  ServerSession(std::shared_ptr<WsServer::State> server, std::uint64_t id, std::string remote, bool loopback,
                std::shared_ptr<ssl::context> tlsContext, StreamArgs&&... streamArgs)
      : tlsContext_(std::move(tlsContext)),
        ws_(std::forward<StreamArgs>(streamArgs)...),
        server_(std::move(server)),
        id_(id),
        remote_(std::move(remote)),
        loopback_(loopback) {}

  void start() override {
    asio::dispatch(ws_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (Tls) {
        self->tlsHandshake();
      } else {
        self->accept();
      }
    });
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
        asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->drop(); });
      }
      return;
    }
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), t = std::move(text)]() mutable {
      self->enqueue(std::move(t));
    });
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->closeRequested_ = true;
      if (!self->writing_) self->startClose();
    });
  }

  void abort() override {
    closed_ = true;  // send() is a no-op from now on
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] { self->drop(); });
  }

  void shutdown() override { abort(); }

  std::uint64_t id() const override { return id_; }
  const std::string& remoteAddress() const override { return remote_; }
  bool isLoopback() const override { return loopback_; }
  bool isOpen() const override { return open_.load() && !closed_.load(); }
  std::size_t unsent() const override { return isOpen() ? queuedCount_.load() : 0; }

 private:
  void tlsHandshake() {
    beast::get_lowest_layer(ws_).expires_after(server_->options.handshakeTimeout);
    ws_.next_layer().async_handshake(
        ssl::stream_base::server,
        [self = this->shared_from_this()](beast::error_code ec) { self->onTlsHandshake(ec); });
  }

  void onTlsHandshake(beast::error_code ec) {
    if (ec) {
      spdlog::debug("ws session {} ({}): TLS handshake failed: {}", id_, remote_,
                    ec == beast::error::timeout ? "timed out" : ec.message());
      drop();
      return;
    }
    accept();
  }

  void accept() {
    if (closed_.load()) {  // aborted or stopped during the TLS handshake
      drop();
      return;
    }
    const auto& o = server_->options;
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket timeouts take over
    websocket::stream_base::timeout t{};
    t.handshake_timeout = o.handshakeTimeout;
    t.idle_timeout = o.idleTimeout;
    t.keep_alive_pings = true;
    ws_.set_option(t);
    ws_.read_message_max(o.maxMessageBytes);
    ws_.binary(o.binaryFrames);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(beast::http::field::server, "sashimono"); }));
    ws_.async_accept([self = this->shared_from_this()](beast::error_code ec) { self->onAccept(ec); });
  }

  void onAccept(beast::error_code ec) {
    if (ec) {
      spdlog::debug("ws session {} ({}): handshake failed: {}", id_, remote_, ec.message());
      drop();
      return;
    }
    open_ = true;
    server_->handler->onOpen(this->shared_from_this());
    if (closed_.load()) {  // closed from within onOpen or by the queue limit
      drop();
      return;
    }
    read();
  }

  void read() {
    ws_.async_read(
        buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
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
    if (!closed_.load()) server_->handler->onMessage(this->shared_from_this(), std::move(text));
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
    ws_.async_write(
        asio::buffer(*queue_.front()),
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->onWrite(ec); });
  }

  void onWrite(beast::error_code ec) {
    writing_ = false;
    queuedBytes_ -= queue_.front()->size();
    queuedCount_ -= 1;
    queue_.pop_front();
    if (ec) {
      spdlog::debug("ws session {} ({}): write: {}", id_, remote_, ec.message());
      drop();
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
    ws_.async_close(websocket::close_code::normal, [self = this->shared_from_this()](beast::error_code) {
      // The pending read completes with `closed` and finishes the session.
    });
  }

  // Closes the socket: pending operations complete with errors. An open session is finished by
  // its pending read (onClose); one still in a handshake leaves the server here.
  void drop() {
    closed_ = true;
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(ws_).socket();
    socket.shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();  // cancels pending operations and timers
    if (!open_.load()) server_->remove(id_);
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    closed_ = true;
    if (open_.load()) server_->handler->onClose(this->shared_from_this());
    open_ = false;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().close(ec);
    server_->remove(id_);
  }

  std::shared_ptr<ssl::context> tlsContext_;  // null for ws://; outlives the stream that uses it
  websocket::stream<StreamOf<Tls>> ws_;
  std::shared_ptr<WsServer::State> server_;
  std::uint64_t id_;
  std::string remote_;
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

void WsServer::State::onAccepted(tcp::socket socket) {
  beast::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) {  // already gone
    socket.close(ec);
    return;
  }
  std::string address = ep.address().to_string();
  std::shared_ptr<ServerSessionBase> session;
  {
    std::lock_guard lock(mu);
    if (stopped.load()) {
      // Accepted while stop() ran: stop() has taken its list of sessions under this lock, so a
      // session made now would never be shut down.
    } else if (sessions.size() >= options.maxConnections) {
      spdlog::warn("ws server: connection limit {} reached, refusing a connection from {}",
                   options.maxConnections, address);
    } else if (auto n = perAddress.find(address); options.maxConnectionsPerAddress != 0 &&
                                                  n != perAddress.end() &&
                                                  n->second >= options.maxConnectionsPerAddress) {
      spdlog::debug("ws server: {} already has {} connections, refusing another", address,
                    options.maxConnectionsPerAddress);
    } else {
      const std::uint64_t id = nextId++;
      const bool loopback = loopbackAddress(ep.address());
      if (tls) {
        session = std::make_shared<ServerSession<kTls>>(shared_from_this(), id, address, loopback, tls,
                                                        std::move(socket), *tls);
      } else {
        session = std::make_shared<ServerSession<kPlain>>(shared_from_this(), id, address, loopback, nullptr,
                                                          std::move(socket));
      }
      sessions.emplace(id, Entry{session, address});
      ++perAddress[address];
    }
  }
  if (session) {
    session->start();
  } else {
    socket.close(ec);
  }
}

void WsServer::State::accept() {
  acceptor.async_accept(asio::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (ec) {
                            if (ec == asio::error::operation_aborted || self->stopped.load()) return;
                            spdlog::warn("ws server: accept: {}", ec.message());
                          } else {
                            // Small replies leave at once (no Nagle delay behind the client's
                            // delayed ACK: ~40 ms per message otherwise).
                            beast::error_code nd;
                            socket.set_option(tcp::no_delay(true), nd);
                            self->onAccepted(std::move(socket));
                          }
                          if (!self->stopped.load()) self->accept();
                        });
}

WsServer::WsServer(asio::io_context& ioc, ServerOptions options, std::shared_ptr<WsHandler> handler)
    : state_(std::make_shared<State>(ioc, std::move(options), std::move(handler))) {}

WsServer::~WsServer() { stop(); }

Result<std::uint16_t> WsServer::listen(const std::string& host, std::uint16_t port) {
  beast::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) return Error("listen: bad address '" + host + "': " + ec.message());
  if (state_->options.tls) {
    auto ctx = loadServerContext(*state_->options.tls);
    if (!ctx.ok()) return ctx.error().context("listen on " + host + ":" + std::to_string(port));
    std::lock_guard lock(state_->mu);
    state_->tls = std::move(*ctx);
  }
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

Status WsServer::reloadTls() {
  if (!state_->options.tls) return Error("reloading TLS: this server has no TLS configured");
  auto ctx = loadServerContext(*state_->options.tls);
  if (!ctx.ok()) return ctx.error().context("reloading TLS (still serving the previous certificate)");
  std::lock_guard lock(state_->mu);
  state_->tls = std::move(*ctx);
  return {};
}

void WsServer::stop() {
  {
    // Under the lock, so that onAccepted either sees `stopped` or its session is in the list below.
    std::lock_guard lock(state_->mu);
    if (state_->stopped.exchange(true)) return;
  }
  asio::post(state_->acceptor.get_executor(), [s = state_] {
    beast::error_code ec;
    s->acceptor.close(ec);
  });
  std::vector<std::shared_ptr<ServerSessionBase>> live;
  {
    std::lock_guard lock(state_->mu);
    for (auto& [id, e] : state_->sessions) {
      if (auto s = e.session.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) s->shutdown();
}

bool WsServer::waitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  return state_->noSessions.wait_for(lock, timeout, [this] { return state_->sessions.empty(); });
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
