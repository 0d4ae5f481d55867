#include "sashimono/net/WsClient.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
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

Result<Url> parseUrl(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("ws://", 0) == 0) {
    rest = url.substr(5);
  } else if (url.rfind("wss://", 0) == 0) {
    u.tls = true;
    rest = url.substr(6);
  } else {
    return Error("bad WebSocket URL '" + url + "': must start with ws:// or wss://");
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.target = rest.substr(slash);
  if (authority.empty()) return Error("bad WebSocket URL '" + url + "': no host");
  if (authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return Error("bad WebSocket URL '" + url + "': unclosed '['");
    u.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return Error("bad WebSocket URL '" + url + "': junk after ']'");
      u.port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    u.host = authority.substr(0, colon);
    if (colon != std::string::npos) u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) return Error("bad WebSocket URL '" + url + "': no host");
  if (u.port.empty()) u.port = u.tls ? "443" : "80";
  if (u.port.find_first_not_of("0123456789") != std::string::npos || u.port.size() > 5 ||
      std::stoul(u.port) > 65535)
    return Error("bad WebSocket URL '" + url + "': bad port '" + u.port + "'");
  return u;
}

struct ClientContext::Impl {
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::vector<std::thread> threads;
};

ClientContext::ClientContext(int threads) : impl_(std::make_unique<Impl>()) {
  for (int i = 0; i < std::max(threads, 1); ++i)
    impl_->threads.emplace_back([i = impl_.get()] { i->ioc.run(); });
}

ClientContext::~ClientContext() {
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
}

struct WsClient::Impl : std::enable_shared_from_this<WsClient::Impl> {
  using PlainWs = websocket::stream<beast::tcp_stream>;
  using TlsWs = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

  explicit Impl(ClientContext* shared)
      : own(shared == nullptr ? std::make_unique<asio::io_context>() : nullptr),
        ioc(shared == nullptr ? *own : shared->impl().ioc) {}

  std::unique_ptr<asio::io_context> own;  // null on a shared context
  asio::io_context& ioc;
  ssl::context sslCtx{ssl::context::tls_client};
  ClientOptions options;
  Url url;
  std::unique_ptr<PlainWs> plain;
  std::unique_ptr<TlsWs> tls;
  tcp::resolver resolver{asio::make_strand(ioc)};
  beast::flat_buffer buffer;
  std::deque<std::string> outQueue;  // strand-only
  bool writing = false;
  std::atomic<std::size_t> unsent{0};  // sent and not yet written (outQueue's size, and posts on the way)
  std::thread thread;
  // Keeps run() going while the client lives, even with no operation pending (autoRead off).
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  // Shared context: onMessage runs under this lock, and not at all once the owner let go.
  std::mutex callbackMu;
  bool detached = false;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> inbox;
  bool open = false;
  bool done = false;
  std::optional<int> closeCode;
  std::string closeWhy;

  template <typename F>
  void withWs(F&& f) {
    if (tls)
      f(*tls);
    else
      f(*plain);
  }
  beast::tcp_stream& lowest() {
    if (tls) return beast::get_lowest_layer(*tls);
    return beast::get_lowest_layer(*plain);
  }

  void markDone(const std::string& why) {
    std::lock_guard lock(mu);
    if (!done) closeWhy = why;
    done = true;
    open = false;
    cv.notify_all();
  }

  template <typename Ws>
  void startRead(Ws& ws) {
    ws.async_read(buffer, [self = shared_from_this(), &ws](beast::error_code ec, std::size_t) {
      if (ec) {
        {
          std::lock_guard lock(self->mu);
          if (ws.reason().code != websocket::close_code::none) self->closeCode = ws.reason().code;
        }
        self->markDone(ec.message());
        return;
      }
      std::string text = beast::buffers_to_string(self->buffer.data());
      self->buffer.consume(self->buffer.size());
      if (self->options.onMessage) {
        std::lock_guard cb(self->callbackMu);
        if (self->detached) return;
        self->options.onMessage(std::move(text));
      } else {
        std::lock_guard lock(self->mu);
        self->inbox.push_back(std::move(text));
        self->cv.notify_all();
      }
      self->startRead(ws);
    });
  }

  template <typename Ws>
  void doWrite(Ws& ws) {
    writing = true;
    ws.text(!options.binaryFrames);
    ws.async_write(asio::buffer(outQueue.front()),
                   [self = shared_from_this(), &ws](beast::error_code ec, std::size_t) {
                     self->writing = false;
                     self->outQueue.pop_front();
                     self->unsent -= 1;
                     if (ec) {
                       self->markDone("write: " + ec.message());
                       return;
                     }
                     if (!self->outQueue.empty()) self->doWrite(ws);
                   });
  }

  template <typename Ws>
  void handshake(Ws& ws, std::shared_ptr<std::promise<Status>> done) {
    websocket::stream_base::timeout t = websocket::stream_base::timeout::suggested(beast::role_type::client);
    t.handshake_timeout = options.connectTimeout;
    ws.set_option(t);
    ws.read_message_max(options.maxMessageBytes);
    std::string hostHeader = url.host + ":" + url.port;
    ws.async_handshake(hostHeader, url.target, [self = shared_from_this(), &ws, done](beast::error_code ec) {
      if (ec) {
        done->set_value(Error("WebSocket handshake with " + self->url.host + ": " + ec.message()));
        return;
      }
      {
        std::lock_guard lock(self->mu);
        self->open = true;
      }
      if (self->options.autoRead) self->startRead(ws);
      done->set_value({});
    });
  }

  void connect(std::shared_ptr<std::promise<Status>> done) {
    resolver.async_resolve(
        url.host, url.port,
        [self = shared_from_this(), done](beast::error_code ec, tcp::resolver::results_type res) {
          if (ec) {
            done->set_value(Error("resolving " + self->url.host + ": " + ec.message()));
            return;
          }
          self->lowest().expires_after(self->options.connectTimeout);
          self->lowest().async_connect(res, [self, done](beast::error_code ec2, const tcp::endpoint&) {
            if (ec2) {
              done->set_value(
                  Error("connecting to " + self->url.host + ":" + self->url.port + ": " + ec2.message()));
              return;
            }
            self->lowest().expires_never();
            beast::error_code nd;
            self->lowest().socket().set_option(tcp::no_delay(true), nd);
            if (!self->tls) {
              self->handshake(*self->plain, done);
              return;
            }
            auto& stream = self->tls->next_layer();
            SSL* ssl = stream.native_handle();
            // An IP literal is checked against the certificate's IP addresses and sent as no SNI
            // name (RFC 6066 allows only host names there); a name is both.
            std::string bare = self->url.host;
            if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
              bare = bare.substr(1, bare.size() - 2);
            in6_addr a6{};
            in_addr a4{};
            const bool ipLiteral =
                ::inet_pton(AF_INET, bare.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, bare.c_str(), &a6) == 1;
            if (!ipLiteral && !SSL_set_tlsext_host_name(ssl, bare.c_str())) {
              done->set_value(Error("TLS: cannot set SNI host name " + bare));
              return;
            }
            if (self->options.verifyPeer) {
              // OpenSSL's own check, so a mismatch is reported as one ("hostname mismatch",
              // "IP address mismatch") rather than as a bare verification failure.
              X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
              const int set = ipLiteral ? X509_VERIFY_PARAM_set1_ip_asc(param, bare.c_str())
                                        : X509_VERIFY_PARAM_set1_host(param, bare.c_str(), 0);
              if (set != 1) {
                done->set_value(Error("TLS: cannot set the expected peer name " + bare));
                return;
              }
            }
            self->lowest().expires_after(self->options.connectTimeout);
            stream.async_handshake(ssl::stream_base::client, [self, done](beast::error_code ec3) {
              self->lowest().expires_never();
              if (ec3) {
                std::string why = ec3.message();
                const long verify = SSL_get_verify_result(self->tls->next_layer().native_handle());
                if (verify != X509_V_OK)
                  why += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
                done->set_value(Error("TLS handshake with " + self->url.host + ": " + why));
                return;
              }
              self->handshake(*self->tls, done);
            });
          });
        });
  }
};

WsClient::WsClient(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<WsClient>> WsClient::connect(const std::string& urlText, ClientOptions options) {
  auto url = parseUrl(urlText);
  if (!url.ok()) return url.error();
  auto impl = std::make_shared<Impl>(options.context);
  impl->options = std::move(options);
  impl->url = *url;
  if (url->tls) {
    beast::error_code ec;
    if (impl->options.verifyPeer) {
      impl->sslCtx.set_verify_mode(ssl::verify_peer, ec);
      if (!ec) impl->sslCtx.set_default_verify_paths(ec);
      if (ec) return Error("TLS: loading the system trust store: " + ec.message());
      if (!impl->options.caFile.empty()) {
        impl->sslCtx.load_verify_file(impl->options.caFile, ec);
        if (ec) return Error("TLS: loading CA file " + impl->options.caFile + ": " + ec.message());
      }
    } else {
      impl->sslCtx.set_verify_mode(ssl::verify_none, ec);
    }
    impl->tls = std::make_unique<Impl::TlsWs>(asio::make_strand(impl->ioc), impl->sslCtx);
  } else {
    impl->plain = std::make_unique<Impl::PlainWs>(asio::make_strand(impl->ioc));
  }
  auto done = std::make_shared<std::promise<Status>>();
  auto fut = done->get_future();
  if (impl->own) {
    impl->work.emplace(impl->ioc.get_executor());
    impl->thread = std::thread([i = impl.get()] { i->ioc.run(); });
  }
  asio::post(impl->lowest().get_executor(), [i = impl, done] { i->connect(done); });
  auto wait = impl->options.connectTimeout * 2 + std::chrono::seconds(1);
  Status st =
      fut.wait_for(wait) == std::future_status::ready ? fut.get() : Status(Error("connect: timed out"));
  std::unique_ptr<WsClient> client(new WsClient(impl));
  if (!st.ok()) {
    client.reset();  // closes and joins
    return st.error().context("connecting to " + urlText);
  }
  return client;
}

WsClient::~WsClient() {
  if (!impl_) return;
  close(std::chrono::milliseconds(500));
  // Abort whatever is still pending: every handler completes, so io_context::run returns and no
  // handler is left holding the Impl.
  asio::post(impl_->lowest().get_executor(), [i = impl_] {
    beast::error_code ec;
    i->lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    i->lowest().socket().close(ec);
    i->resolver.cancel();
    i->work.reset();
  });
  if (!impl_->own) {
    // Shared context: the handlers still pending hold the Impl and end on the context's threads;
    // the owner's callback is never called again.
    std::lock_guard cb(impl_->callbackMu);
    impl_->detached = true;
    return;
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->ioc.restart();
  impl_->ioc.poll();  // runs handlers posted after the thread ran out of work
}

Status WsClient::send(std::string text) {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->open) return Error("send: connection closed", 0, "closed");
  }
  impl_->unsent += 1;
  asio::post(impl_->lowest().get_executor(), [i = impl_, t = std::move(text)]() mutable {
    i->outQueue.push_back(std::move(t));
    if (!i->writing) i->withWs([&](auto& ws) { i->doWrite(ws); });
  });
  return {};
}

Result<std::string> WsClient::receive(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  if (!impl_->cv.wait_for(lock, timeout, [&] { return !impl_->inbox.empty() || impl_->done; })) {
    return Error("receive: no message within " + std::to_string(timeout.count()) + " ms", 0, "timeout");
  }
  if (!impl_->inbox.empty()) {
    std::string m = std::move(impl_->inbox.front());
    impl_->inbox.pop_front();
    return m;
  }
  std::string why = "receive: connection closed (" + impl_->closeWhy + ")";
  if (impl_->closeCode) why += ", close code " + std::to_string(*impl_->closeCode);
  return Error(why, 0, "closed");
}

void WsClient::close(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->open) return;
  }
  asio::post(impl_->lowest().get_executor(), [i = impl_, timeout] {
    i->withWs([&](auto& ws) {
      // Beast bounds the close handshake by the handshake timeout: make it this call's timeout.
      websocket::stream_base::timeout t =
          websocket::stream_base::timeout::suggested(beast::role_type::client);
      t.handshake_timeout = timeout;
      ws.set_option(t);
      ws.async_close(websocket::close_code::normal, [i](beast::error_code ec) {
        if (!i->options.autoRead || ec) i->markDone(ec ? ec.message() : "closed");
      });
    });
  });
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return impl_->done; });
}

bool WsClient::isOpen() const {
  std::lock_guard lock(impl_->mu);
  return impl_->open && !impl_->done;
}

std::size_t WsClient::unsent() const { return isOpen() ? impl_->unsent.load() : 0; }

std::optional<int> WsClient::closeCode() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closeCode;
}

}  // namespace sashimono::net
