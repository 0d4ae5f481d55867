// net::HttpServer on loopback, with a plain socket client: routes, methods, limits, keep-alive.
#include "sashimono/net/HttpServer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace sashimono::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(
        std::map<std::string, HttpServer::Handler>{{"/metrics",
                                                    [this] {
                                                      return HttpResponse{
                                                          200, "text/plain; version=0.0.4",
                                                          "x_total " + std::to_string(++calls_) + "\n"};
                                                    }}},
        HttpServerOptions{std::chrono::milliseconds(1000), 3});
    auto port = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error().message;
    port_ = *port;
  }

  tcp::socket connect() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    return s;
  }

  // Sends `request` and reads until the server closes or `until` appears `times` times.
  static std::string exchange(tcp::socket& s, const std::string& request, const std::string& until = {},
                              int times = 1) {
    asio::write(s, asio::buffer(request));
    std::string got;
    char buf[4096];
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = s.read_some(asio::buffer(buf), ec);
      got.append(buf, n);
      if (ec) break;
      if (!until.empty()) {
        int seen = 0;
        for (auto p = got.find(until); p != std::string::npos; p = got.find(until, p + 1)) ++seen;
        if (seen >= times) break;
      }
    }
    return got;
  }

  asio::io_context ioc_;
  std::atomic<int> calls_{0};
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(HttpServerTest, ServesARouteAndKeepsTheConnectionAlive) {
  auto s = connect();
  // Two requests pipelined on one connection: two answers, the connection stays open.
  const std::string two = exchange(s,
                                   "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                                   "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n",
                                   "x_total 2\n");
  EXPECT_NE(two.find("HTTP/1.1 200 OK"), std::string::npos) << two;
  EXPECT_NE(two.find("Content-Type: text/plain; version=0.0.4"), std::string::npos) << two;
  EXPECT_NE(two.find("x_total 1\n"), std::string::npos) << two;
  EXPECT_NE(two.find("x_total 2\n"), std::string::npos) << two;
}

TEST_F(HttpServerTest, RefusesWhatItDoesNotServe) {
  {
    auto s = connect();
    EXPECT_NE(
        exchange(s, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("404 Not Found"),
        std::string::npos);
  }
  {
    auto s = connect();
    EXPECT_NE(exchange(s, "DELETE /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").find("405"),
              std::string::npos);
  }
  {
    auto s = connect();
    std::string r = exchange(s, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_NE(r.find("413"), std::string::npos) << r;
  }
  {
    auto s = connect();
    std::string r = exchange(s, "GET /metrics HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n");
    EXPECT_NE(r.find("431"), std::string::npos) << r;
  }
  {
    auto s = connect();
    std::string r = exchange(s, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(r.find("200 OK"), std::string::npos) << r;
    EXPECT_EQ(r.find("x_total"), std::string::npos) << r;
  }
  EXPECT_EQ(calls_.load(), 1);  // HEAD renders; nothing else reached the handler
}

TEST_F(HttpServerTest, ClosesIdleConnectionsAndHoldsAtMostItsLimit) {
  std::vector<tcp::socket> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto extra = connect();
  // Over the limit: closed at once, nothing answered.
  EXPECT_EQ(exchange(extra, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"), "");
  // The held ones are closed after the idle timeout (1 s): read returns EOF.
  const auto start = std::chrono::steady_clock::now();
  char c;
  boost::system::error_code ec;
  held[0].read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HttpListenAddressTest, ParsesHostAndPort) {
  auto a = parseListenAddress("127.0.0.1:9100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 9100);
  auto b = parseListenAddress("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first, "::1");
  for (const char* bad : {"127.0.0.1", "localhost:9100", "1.2.3.4:70000", "::1:80", "[::1]80", "1.2.3.4:x"})
    EXPECT_FALSE(parseListenAddress(bad).ok()) << bad;
}

}  // namespace
}  // namespace sashimono::net
