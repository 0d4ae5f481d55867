// The heal loop's probes against real sockets on loopback and real directories.
#include "sashimono/host/TenantProbe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace sashimono::host {
namespace {

int listenTcp(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::listen(fd, 8);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

TEST(TenantProbeTest, TcpServesRefusedAndClosedAreToldApart) {
  std::uint16_t silent = 0, closing = 0, closed = 0;
  const int a = listenTcp(silent);  // accepts (backlog) and stays silent: serving
  const int b = listenTcp(closing);
  const int c = listenTcp(closed);
  ::close(c);  // refuses
  std::thread closer([b] {
    const int s = ::accept(b, nullptr, nullptr);  // a forward whose backend is gone: accept, close
    ::close(s);
  });
  const auto began = std::chrono::steady_clock::now();
  auto r = probeTcp({{"127.0.0.1", silent}, {"127.0.0.1", closing}, {"127.0.0.1", closed}, {"x", 1}},
                    std::chrono::milliseconds(150));
  const auto took = std::chrono::steady_clock::now() - began;
  closer.join();
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].ok()) << r[0].error().message;
  ASSERT_FALSE(r[1].ok());
  EXPECT_NE(r[1].error().message.find("closed by the far side"), std::string::npos) << r[1].error().message;
  EXPECT_FALSE(r[2].ok());
  EXPECT_FALSE(r[3].ok());
  EXPECT_LT(took, std::chrono::milliseconds(1000));  // all at once, not one after the other
  ::close(a);
  ::close(b);
}

TEST(TenantProbeTest, UnixSocketAndFuseMount) {
  const auto dir = std::filesystem::temp_directory_path() / ("probe-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "s.sock").string();
  EXPECT_FALSE(unixSocketAnswers(path).ok());  // missing
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_FALSE(unixSocketAnswers(path).ok());  // bound, not listening: a dead daemon's socket
  ASSERT_EQ(::listen(fd, 4), 0);
  EXPECT_TRUE(unixSocketAnswers(path).ok());
  ::close(fd);
  std::ofstream(dir / "self.pid") << ::getpid() << "\n";
  EXPECT_TRUE(pidFileAlive((dir / "self.pid").string()).ok());
  std::ofstream(dir / "gone.pid") << 999999999 << "\n";
  EXPECT_FALSE(pidFileAlive((dir / "gone.pid").string()).ok());
  EXPECT_FALSE(pidFileAlive((dir / "missing.pid").string()).ok());
  auto notFuse = fuseMountAlive(dir.string());
  ASSERT_FALSE(notFuse.ok());
  EXPECT_NE(notFuse.error().message.find("not mounted"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace sashimono::host
