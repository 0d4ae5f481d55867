// WsServer and WsClient over real sockets on 127.0.0.1.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

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

  explicit Fixture(ServerOptions o = {}) {
    server = std::make_unique<WsServer>(ioc, o, handler);
    auto p = server->listen("127.0.0.1", 0);
    EXPECT_TRUE(p.ok()) << p.error().message;
    port = *p;
    for (int i = 0; i < 2; ++i) threads.emplace_back([this] { ioc.run(); });
  }
  ~Fixture() {
    server->stop();
    server.reset();
    // Aborted sessions may leave Beast's close-handshake timer armed; don't wait for it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ioc.stop();
    for (auto& t : threads) t.join();
  }
  std::string url() const { return "ws://127.0.0.1:" + std::to_string(port) + "/"; }
};

template <typename F>
bool waitFor(F f, std::chrono::milliseconds limit = 5000ms) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

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
  EXPECT_TRUE(waitFor([&] { return f.handler->closed == 1 && f.server->sessionCount() == 0; }));
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
  ASSERT_TRUE(f.handler->opened == 1 || waitFor([&] { return f.handler->opened == 1; }));
  for (int i = 0; i < 8; ++i) (void)(*slow)->send("flood");
  // Socket buffers absorb a few MiB; beyond that the queue limit must drop the connection.
  EXPECT_TRUE(waitFor([&] { return f.handler->closed == 1; }, 10000ms));
  EXPECT_TRUE(waitFor([&] { return f.server->sessionCount() == 0; }));
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
