// WsServer and WsClient over real sockets on 127.0.0.1 (and 127.0.0.2 for the per-address
// limit); wss:// with a self-signed certificate made at test time; bare Beast clients where the
// frame type or the client's local address matters.
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "fakes/Eventually.h"
#include "sashimono/net/TlsCert.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/net/WsServer.h"

using namespace sashimono::net;
using namespace std::chrono_literals;

namespace {

// Echoes each message `copies` times, each padded to `pad` bytes.
class EchoHandler : public WsHandler {
 public:
  std::size_t copies = 1;
  std::size_t pad = 0;
  std::atomic<int> opened{0};
  std::atomic<int> closed{0};
  void onOpen(const std::shared_ptr<WsSession>&) override { ++opened; }
  void onMessage(const std::shared_ptr<WsSession>& s, std::string&& text) override {
    if (text == "close") {
      s->close();
      return;
    }
    if (text == "abort") {
      s->send("never seen");
      s->abort();
      return;
    }
    if (pad > text.size()) text.resize(pad, '.');
    auto shared = std::make_shared<const std::string>(std::move(text));
    for (std::size_t i = 0; i < copies; ++i) s->send(shared);
  }
  void onClose(const std::shared_ptr<WsSession>&) override { ++closed; }
};

struct Fixture {
  boost::asio::io_context ioc;
  std::shared_ptr<EchoHandler> handler = std::make_shared<EchoHandler>();
  std::unique_ptr<WsServer> server;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  bool tls = false;

  explicit Fixture(ServerOptions o = {}) : tls(o.tls.has_value()) {
    server = std::make_unique<WsServer>(ioc, o, handler);
    auto p = server->listen("127.0.0.1", 0);
    EXPECT_TRUE(p.ok()) << p.error().message;
    port = *p;
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { ioc.run(); });
  }
  ~Fixture() {
    server->stop();
    // Aborted sessions may leave Beast's close-handshake timer armed; don't wait for it.
    EXPECT_TRUE(server->waitClosed(std::chrono::seconds(5))) << server->sessionCount() << " session(s) left";
    server.reset();
    ioc.stop();
    for (auto& t : threads) t.join();
  }
  std::string url() const {
    return (tls ? "wss" : "ws") + std::string("://127.0.0.1:") + std::to_string(port) + "/";
  }
};

using sashimono::fakes::eventually;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sashi-wss-XXXXXX").string();
    path = ::mkdtemp(t.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// A self-signed certificate for 127.0.0.1 in a temp dir, and server options using it.
struct SelfSigned {
  TempDir dir;
  std::string key = dir.file("user.key");
  std::string cert = dir.file("user.crt");
  SelfSigned() {
    auto st = makeSelfSignedCertificate(key, cert, "127.0.0.1");
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  ServerOptions options() const {
    ServerOptions o;
    o.tls = TlsServerOptions{cert, key};
    return o;
  }
};

// Blocking socket operations give up after 5 s rather than hang a broken test.
void boundedIo(tcp::socket& s) {
  timeval tv{5, 0};
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// A TCP connection to 127.0.0.1:port from the local address `from`.
tcp::socket connectFrom(asio::io_context& ioc, const std::string& from, std::uint16_t port) {
  tcp::socket s(ioc);
  s.open(tcp::v4());
  s.bind(tcp::endpoint(asio::ip::make_address(from), 0));
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  boundedIo(s);
  return s;
}

struct Frame {
  std::string data;
  bool binary = false;
};

// Sends one text message and reads one message back, noting its frame type.
template <typename Ws>
Frame roundTrip(Ws& ws, const std::string& text) {
  ws.text(true);
  ws.write(asio::buffer(text));
  beast::flat_buffer b;
  ws.read(b);
  return {beast::buffers_to_string(b.data()), ws.got_binary()};
}

// A bare Beast ws:// client from a chosen local address.
struct RawClient {
  asio::io_context ioc;
  websocket::stream<tcp::socket> ws;
  RawClient(const std::string& from, std::uint16_t port) : ws(connectFrom(ioc, from, port)) {
    ws.handshake("127.0.0.1:" + std::to_string(port), "/");
  }
};

// A bare Beast wss:// client that does not verify the server (like rejectUnauthorized: false).
struct RawTlsClient {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  std::optional<websocket::stream<ssl::stream<tcp::socket>>> ws;
  explicit RawTlsClient(std::uint16_t port) {
    ctx.set_verify_mode(ssl::verify_none);
    ws.emplace(connectFrom(ioc, "127.0.0.1", port), ctx);
    ws->next_layer().handshake(ssl::stream_base::client);
    ws->handshake("127.0.0.1:" + std::to_string(port), "/");
  }
};

}  // namespace

TEST(WsServerTest, EchoesInOrderAndClosesGracefully) {
  Fixture f;
  auto c = WsClient::connect(f.url());
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE((*c)->send("m" + std::to_string(i)).ok());
  for (int i = 0; i < 200; ++i) {
    auto m = (*c)->receive(5000ms);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(*m, "m" + std::to_string(i));
  }
  ASSERT_TRUE((*c)->send("close").ok());
  auto end = (*c)->receive(5000ms);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ(end.error().code, "closed");
  EXPECT_EQ((*c)->closeCode(), 1000);
  EXPECT_TRUE(eventually([&] { return f.handler->closed == 1 && f.server->sessionCount() == 0; }));
}

// Many clients on one shared ClientContext thread: each gets its own messages in order through
// onMessage (inbox-less) or receive(); destroying a client while the server still sends stops
// its callbacks at once, and the other clients go on; the context outlives them all.
TEST(WsServerTest, ClientsShareOneContextThread) {
  Fixture f;
  f.handler->copies = 3;
  ClientContext context(1);
  constexpr int kClients = 16;
  struct Counted {
    std::atomic<int> got{0};
    std::atomic<bool> inOrder{true};
    std::atomic<bool> gone{false};
    std::atomic<bool> calledAfterGone{false};
  };
  std::vector<std::unique_ptr<Counted>> counts;
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    counts.push_back(std::make_unique<Counted>());
    ClientOptions o;
    o.context = &context;
    Counted* c = counts.back().get();
    o.onMessage = [c](std::string&& m) {
      if (c->gone) c->calledAfterGone = true;
      const int n = c->got++;
      if (m != "m" + std::to_string(n / 3)) c->inOrder = false;
    };
    auto client = WsClient::connect(f.url(), o);
    ASSERT_TRUE(client.ok()) << client.error().message;
    clients.push_back(std::move(*client));
  }
  for (int k = 0; k < 100; ++k)
    for (auto& c : clients) ASSERT_TRUE(c->send("m" + std::to_string(k)).ok());
  // Half the clients leave while their echoes are still coming.
  for (int i = 0; i < kClients; i += 2) {
    clients[static_cast<std::size_t>(i)].reset();
    counts[static_cast<std::size_t>(i)]->gone = true;
  }
  for (int i = 1; i < kClients; i += 2)
    EXPECT_TRUE(eventually([&] { return counts[static_cast<std::size_t>(i)]->got == 300; }))
        << "client " << i << " got " << counts[static_cast<std::size_t>(i)]->got;
  for (int i = 0; i < kClients; ++i) {
    EXPECT_TRUE(counts[static_cast<std::size_t>(i)]->inOrder) << "client " << i;
    EXPECT_FALSE(counts[static_cast<std::size_t>(i)]->calledAfterGone) << "client " << i;
  }
  // receive() works on a shared context too.
  ClientOptions o;
  o.context = &context;
  auto polled = WsClient::connect(f.url(), o);
  ASSERT_TRUE(polled.ok()) << polled.error().message;
  ASSERT_TRUE((*polled)->send("x").ok());
  auto m = (*polled)->receive(5000ms);
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(*m, "x");
  clients.clear();
  polled->reset();
  EXPECT_TRUE(eventually([&] { return f.server->sessionCount() == 0; }))
      << "a shared-context client stayed open";
}

TEST(WsServerTest, OversizedMessageClosesWith1009) {
  ServerOptions o;
  o.maxMessageBytes = 64 * 1024;
  Fixture f(o);
  auto c = WsClient::connect(f.url());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->send(std::string(64 * 1024, 'x')).ok());  // at the limit: fine
  auto ok = (*c)->receive(5000ms);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_TRUE((*c)->send(std::string(64 * 1024 + 1, 'x')).ok());
  auto r = (*c)->receive(5000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "closed");
  EXPECT_EQ((*c)->closeCode(), 1009);
  // The server is still up for others.
  auto c2 = WsClient::connect(f.url());
  ASSERT_TRUE(c2.ok());
  ASSERT_TRUE((*c2)->send("hi").ok());
  EXPECT_EQ(*(*c2)->receive(5000ms), "hi");
}

TEST(WsServerTest, SlowReaderIsDisconnected) {
  ServerOptions o;
  o.maxQueuedBytes = 4 * 1024 * 1024;
  Fixture f(o);
  f.handler->copies = 64;
  f.handler->pad = 64 * 1024;  // each request queues 4 MiB of replies
  ClientOptions co;
  co.autoRead = false;
  auto slow = WsClient::connect(f.url(), co);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(f.handler->opened == 1 || eventually([&] { return f.handler->opened == 1; }));
  for (int i = 0; i < 8; ++i) (void)(*slow)->send("flood");
  // Socket buffers absorb a few MiB; beyond that the queue limit must drop the connection.
  EXPECT_TRUE(eventually([&] { return f.handler->closed == 1; }, 10000ms));
  EXPECT_TRUE(eventually([&] { return f.server->sessionCount() == 0; }));
  // A normal client is unaffected.
  f.handler->copies = 1;
  f.handler->pad = 0;
  auto c = WsClient::connect(f.url());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->send("ok").ok());
  EXPECT_EQ(*(*c)->receive(5000ms), "ok");
}

TEST(WsServerTest, ConnectFailsCleanly) {
  ClientOptions o;
  o.connectTimeout = 2000ms;
  auto c = WsClient::connect("ws://127.0.0.1:1/", o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("127.0.0.1"), std::string::npos);
}

TEST(WsServerTest, NonWebSocketRequestIsDropped) {
  Fixture f;
  // A plain TCP connection that never upgrades times out of the handshake without harm.
  auto c = WsClient::connect(f.url());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->send("x").ok());
  EXPECT_EQ(*(*c)->receive(5000ms), "x");
}

TEST(WsServerTest, TextFramesByDefault) {
  Fixture f;
  RawClient c("127.0.0.1", f.port);
  Frame r = roundTrip(c.ws, "hello");
  EXPECT_EQ(r.data, "hello");
  EXPECT_FALSE(r.binary);
}

TEST(WsServerTest, BinaryFramesWhenAsked) {
  ServerOptions o;
  o.binaryFrames = true;
  Fixture f(o);
  RawClient c("127.0.0.1", f.port);
  for (int i = 0; i < 3; ++i) {
    Frame r = roundTrip(c.ws, "m" + std::to_string(i));
    EXPECT_EQ(r.data, "m" + std::to_string(i));
    EXPECT_TRUE(r.binary);
  }
  c.ws.close(websocket::close_code::normal);
  EXPECT_TRUE(eventually([&] { return f.handler->closed == 1; }));
}

TEST(WsServerTest, AbortDropsWithoutClosingHandshake) {
  Fixture f;
  auto c = WsClient::connect(f.url());
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_TRUE((*c)->send("abort").ok());
  auto r = (*c)->receive(5000ms);
  ASSERT_FALSE(r.ok()) << "got " << *r;
  EXPECT_EQ(r.error().code, "closed");
  EXPECT_EQ((*c)->closeCode(), std::nullopt);  // no close frame
  EXPECT_TRUE(eventually([&] { return f.handler->closed == 1 && f.server->sessionCount() == 0; }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(f.handler->closed, 1);
}

TEST(WsServerTest, PerAddressLimit) {
  ServerOptions o;
  o.maxConnectionsPerAddress = 2;
  Fixture f(o);
  ClientOptions co;
  co.connectTimeout = 2000ms;
  auto a = WsClient::connect(f.url(), co);
  auto b = WsClient::connect(f.url(), co);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  // The third from 127.0.0.1 is closed before any handshake.
  ClientOptions quick = co;
  quick.connectTimeout = 1000ms;
  auto third = WsClient::connect(f.url(), quick);
  EXPECT_FALSE(third.ok());
  EXPECT_EQ(f.handler->opened, 2);
  // The first two still work.
  ASSERT_TRUE((*a)->send("a").ok());
  ASSERT_TRUE((*b)->send("b").ok());
  EXPECT_EQ((*a)->receive(5000ms).valueOr("?"), "a");
  EXPECT_EQ((*b)->receive(5000ms).valueOr("?"), "b");
  // Another address is counted on its own.
  RawClient other("127.0.0.2", f.port);
  EXPECT_EQ(roundTrip(other.ws, "from .2").data, "from .2");
  EXPECT_EQ(f.server->sessionCount(), 3u);
  // A slot freed on 127.0.0.1 can be taken again.
  (*a)->close();
  a->reset();
  ASSERT_TRUE(eventually([&] { return f.server->sessionCount() == 2; }));
  auto again = WsClient::connect(f.url(), co);
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_TRUE((*again)->send("again").ok());
  EXPECT_EQ((*again)->receive(5000ms).valueOr("?"), "again");
}

TEST(WsServerTest, WssRoundTripWithSelfSignedCertificate) {
  SelfSigned pki;
  Fixture f(pki.options());
  ASSERT_EQ(f.url().rfind("wss://", 0), 0u);
  // Our client, trusting the certificate as its CA file, with host (IP) name checking.
  ClientOptions co;
  co.caFile = pki.cert;
  auto c = WsClient::connect(f.url(), co);
  ASSERT_TRUE(c.ok()) << c.error().message;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*c)->send("s" + std::to_string(i)).ok());
  for (int i = 0; i < 50; ++i) {
    auto m = (*c)->receive(5000ms);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(*m, "s" + std::to_string(i));
  }
  ASSERT_TRUE((*c)->send("close").ok());
  auto end = (*c)->receive(5000ms);
  ASSERT_FALSE(end.ok());
  EXPECT_EQ((*c)->closeCode(), 1000);
  EXPECT_TRUE(eventually([&] { return f.handler->closed == 1 && f.server->sessionCount() == 0; }));
  // Without trusting it, verification fails.
  auto untrusted = WsClient::connect(f.url());
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(untrusted.error().message.find("certificate verify failed"), std::string::npos)
      << untrusted.error().message;
}

TEST(WsServerTest, WssBinaryFramesToANonVerifyingClient) {
  SelfSigned pki;
  ServerOptions o = pki.options();
  o.binaryFrames = true;
  Fixture f(o);
  RawTlsClient c(f.port);
  Frame r = roundTrip(*c.ws, "{\"type\":\"stat\"}");
  EXPECT_EQ(r.data, "{\"type\":\"stat\"}");
  EXPECT_TRUE(r.binary);
  // TLS 1.2 or later was negotiated.
  const int version = SSL_version(c.ws->next_layer().native_handle());
  EXPECT_GE(version, TLS1_2_VERSION);
}

TEST(WsServerTest, TlsClientStallingInHandshakeIsDropped) {
  SelfSigned pki;
  ServerOptions o = pki.options();
  o.handshakeTimeout = 300ms;
  Fixture f(o);
  asio::io_context ioc;
  tcp::socket s = connectFrom(ioc, "127.0.0.1", f.port);
  // The start of a TLS record header, then nothing.
  const char partial[] = {0x16, 0x03, 0x01};
  asio::write(s, asio::buffer(partial, sizeof partial));
  ASSERT_TRUE(eventually([&] { return f.server->sessionCount() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  char buf[64];
  beast::error_code ec;
  s.read_some(asio::buffer(buf), ec);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 3000ms);
  EXPECT_TRUE(eventually([&] { return f.server->sessionCount() == 0; }));
  EXPECT_EQ(f.handler->opened, 0);
  // A silent TCP connection is dropped the same way.
  tcp::socket silent = connectFrom(ioc, "127.0.0.1", f.port);
  silent.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST(WsServerTest, PlainClientAgainstTlsServerFailsCleanly) {
  SelfSigned pki;
  Fixture f(pki.options());
  ClientOptions co;
  co.connectTimeout = 1000ms;
  const std::string plainUrl = "ws://127.0.0.1:" + std::to_string(f.port) + "/";
  for (int i = 0; i < 2; ++i) {
    auto c = WsClient::connect(plainUrl, co);
    EXPECT_FALSE(c.ok());
  }
  EXPECT_TRUE(eventually([&] { return f.server->sessionCount() == 0; }));
  EXPECT_EQ(f.handler->opened, 0);
  // The server keeps serving wss://.
  co.connectTimeout = 5000ms;
  co.caFile = pki.cert;
  auto good = WsClient::connect(f.url(), co);
  ASSERT_TRUE(good.ok()) << good.error().message;
  ASSERT_TRUE((*good)->send("still here").ok());
  EXPECT_EQ((*good)->receive(5000ms).valueOr("?"), "still here");
}

TEST(WsServerTest, ListenFailsOnUnusableTlsFiles) {
  SelfSigned pki;
  SelfSigned other;
  boost::asio::io_context ioc;
  auto handler = std::make_shared<EchoHandler>();
  auto listenWith = [&](const std::string& cert, const std::string& key) {
    ServerOptions o;
    o.tls = TlsServerOptions{cert, key};
    WsServer server(ioc, o, handler);
    auto p = server.listen("127.0.0.1", 0);
    return p.ok() ? std::string() : p.error().message;
  };
  EXPECT_EQ(listenWith(pki.cert, pki.key), "");
  std::string e = listenWith(pki.dir.file("missing.crt"), pki.key);
  EXPECT_NE(e.find("missing.crt"), std::string::npos) << e;
  e = listenWith(pki.cert, pki.dir.file("missing.key"));
  EXPECT_NE(e.find("missing.key"), std::string::npos) << e;
  e = listenWith(pki.cert, other.key);
  EXPECT_NE(e.find("does not match"), std::string::npos) << e;
  EXPECT_NE(e.find(other.key), std::string::npos) << e;
  e = listenWith(pki.key, pki.key);  // a key where the certificate should be
  EXPECT_NE(e.find("certificate chain"), std::string::npos) << e;
  e = listenWith("", "");
  EXPECT_NE(e.find("TLS"), std::string::npos) << e;
  std::cerr << "last listen error: " << e << "\n";
}

TEST(WsServerTest, ReloadTlsServesTheRenewedCertificate) {
  SelfSigned pki;
  Fixture f(pki.options());
  const std::string oldCert = pki.dir.file("old.crt");
  std::filesystem::copy_file(pki.cert, oldCert);
  ClientOptions trustOld;
  trustOld.caFile = oldCert;
  trustOld.connectTimeout = 2000ms;
  auto before = WsClient::connect(f.url(), trustOld);
  ASSERT_TRUE(before.ok()) << before.error().message;

  // Renewal: new key and certificate at the same paths; new connections get them.
  ASSERT_TRUE(makeSelfSignedCertificate(pki.key, pki.cert, "127.0.0.1").ok());
  auto st = f.server->reloadTls();
  ASSERT_TRUE(st.ok()) << st.error().message;
  const std::string newCert = pki.dir.file("new.crt");
  std::filesystem::copy_file(pki.cert, newCert);
  ClientOptions trustNew = trustOld;
  trustNew.caFile = newCert;
  auto renewed = WsClient::connect(f.url(), trustNew);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_FALSE(WsClient::connect(f.url(), trustOld).ok());
  // The connection made before the renewal is unaffected.
  ASSERT_TRUE((*before)->send("old").ok());
  EXPECT_EQ((*before)->receive(5000ms).valueOr("?"), "old");

  // A broken renewal is refused and the current certificate stays.
  { std::ofstream(pki.cert, std::ios::trunc) << "not a certificate\n"; }
  st = f.server->reloadTls();
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(pki.cert), std::string::npos) << st.error().message;
  auto still = WsClient::connect(f.url(), trustNew);
  EXPECT_TRUE(still.ok());

  // Without TLS there is nothing to reload.
  Fixture plain;
  EXPECT_FALSE(plain.server->reloadTls().ok());
}

// A handler that keeps its sessions until onClose (as the test boards and the runtime do) makes a
// cycle with the server's state: stop() + waitClosed() must run every onClose, so nothing is kept.
TEST(WsServerTest, StopClosesEverySessionAHandlerHolds) {
  struct Holding : WsHandler {
    std::mutex mu;
    std::vector<std::shared_ptr<WsSession>> live;
    void onOpen(const std::shared_ptr<WsSession>& s) override {
      std::lock_guard lock(mu);
      live.push_back(s);
    }
    void onMessage(const std::shared_ptr<WsSession>&, std::string&&) override {}
    void onClose(const std::shared_ptr<WsSession>& s) override {
      std::lock_guard lock(mu);
      std::erase(live, s);
    }
  };
  asio::io_context ioc;
  auto work = asio::make_work_guard(ioc);
  auto handler = std::make_shared<Holding>();
  auto server = std::make_unique<WsServer>(ioc, ServerOptions{}, handler);
  auto port = server->listen("127.0.0.1", 0);
  ASSERT_TRUE(port.ok()) << port.error().message;
  std::atomic<bool> ran{false};
  std::thread loop([&] {
    ioc.run();
    ran = true;
  });
  struct Join {  // the loop ends whatever the test's outcome
    asio::io_context& ioc;
    std::thread& loop;
    ~Join() {
      ioc.stop();
      if (loop.joinable()) loop.join();
    }
  } join{ioc, loop};
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<RawClient>("127.0.0.1", *port));
  // A client's handshake returns before the server's onOpen has run: wait for the handler.
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(handler->mu);
    return handler->live.size() == 4;
  }));
  EXPECT_EQ(server->sessionCount(), 4u);
  const std::weak_ptr<WsSession> one = [&] {
    std::lock_guard lock(handler->mu);
    return handler->live.front();
  }();
  server->stop();
  EXPECT_TRUE(server->waitClosed(5s)) << server->sessionCount() << " session(s) left";
  work.reset();
  EXPECT_TRUE(eventually([&] { return ran.load(); })) << "work was left on the loop after stop";
  EXPECT_TRUE([&] {
    std::lock_guard lock(handler->mu);
    return handler->live.empty();
  }()) << "the handler still holds sessions";
  EXPECT_TRUE(one.expired());
}
