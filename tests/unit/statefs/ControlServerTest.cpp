// The control channel: the protocol table without a socket, then the server on a unix socket
// in a temporary directory (no root needed), driven by a real HashingBackend.
#include "sashimono/statefs/ControlServer.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <optional>
#include <string>

#include "TempTree.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/statefs/HashingBackend.h"
#include "sashimono/statefs/PassthroughBackend.h"

namespace sashimono::statefs {
namespace {

using testing::TempTree;

TEST(ControlProtocolTest, AnswersOneLinePerRequest) {
  ControlProtocol p;
  p.add("echo", [](std::string_view args) -> core::Result<std::string> { return std::string(args); });
  p.add("fail", [](std::string_view) -> core::Result<std::string> { return core::Error("bad\nthing"); });
  EXPECT_EQ(p.answer("echo"), "ok\n");
  EXPECT_EQ(p.answer("echo a b"), "ok a b\n");
  EXPECT_EQ(p.answer("fail"), "error bad?thing\n");  // a message cannot break the framing
  EXPECT_EQ(p.answer("nope"), "error unknown request: nope\n");
  EXPECT_EQ(p.answer(""), "error unknown request: \n");
  EXPECT_EQ(p.answer(std::string("ec\0ho", 5)), "error request is not printable text\n");
  EXPECT_EQ(p.answer(std::string(kControlMaxLine, 'e')), "error request too long\n");
}

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::mkdir(t_.path("state").c_str(), 0755);
    t_.write("state/f", "hello");
    auto dir = SourceDir::open(t_.path("state").string());
    ASSERT_TRUE(dir.ok());
    inner_.emplace(std::move(dir).value());
    auto tree = StateTree::build(t_.path("state").string());
    ASSERT_TRUE(tree.ok());
    be_.emplace(*inner_, std::move(tree).value());
    sock_ = t_.path("ctl.sock").string();
  }

  void startServer() { startWith(stateControl(*be_)); }
  void startWith(ControlProtocol p, std::chrono::milliseconds dialogTimeout = kControlDialogTimeout) {
    auto s = ControlServer::listen(sock_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(s).value();
    ASSERT_TRUE(server_->start(std::move(p), dialogTimeout).ok());
  }

  int connectTo() {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, sock_.c_str(), sizeof a.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }

  // Sends `req` and reads until `lines` answer lines (or the end of the stream).
  static std::string ask(int fd, const std::string& req, int lines = 1) {
    if (!req.empty() && ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size()))
      return "<send failed>";
    std::string out;
    char c;
    while (lines > 0 && ::read(fd, &c, 1) == 1) {
      out += c;
      if (c == '\n') --lines;
    }
    return out;
  }

  TempTree t_;
  std::optional<PassthroughBackend> inner_;
  std::optional<HashingBackend> be_;
  std::string sock_;
  std::unique_ptr<ControlServer> server_;
};

TEST_F(ControlServerTest, AnswersRootAndPingOnAPrivateSocket) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  struct stat st {};
  ASSERT_EQ(::lstat(sock_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());

  int fd = connectTo();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ask(fd, "ping\n"), "ok\n");
  auto tree = StateTree::build(t_.path("state").string());
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(ask(fd, "root\n"), "ok " + core::toHexLower(tree->root()) + "\n");

  Handle h = 0;  // a change through the backend shows in the next root
  ASSERT_EQ(be_->open("/f", O_WRONLY, h), 0);
  ASSERT_EQ(be_->write(h, "J", 1, 0), 1);
  ASSERT_EQ(be_->release(h), 0);
  tree = StateTree::build(t_.path("state").string());
  ASSERT_TRUE(tree.ok());
  const std::string want = "ok " + core::toHexLower(tree->root()) + "\n";
  EXPECT_EQ(ask(fd, "commit\r\n"), want);  // CRLF is accepted
  EXPECT_EQ(ask(fd, "ping\nroot\nbogus\n", 3), "ok\n" + want + "error unknown request: bogus\n");
  EXPECT_EQ(ask(fd, "rollback\n").rfind("error rollback: ", 0), 0u);
  EXPECT_EQ(ask(fd, "root now\n"), "error root takes no arguments\n");
  ::close(fd);

  server_.reset();  // stops and removes the socket
  EXPECT_NE(::lstat(sock_.c_str(), &st), 0);
}

TEST_F(ControlServerTest, GarbageDisconnectsTheClientAndNotTheServer) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  int fd = connectTo();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ask(fd, std::string(3 * kControlMaxLine, 'x'), 2), "error request too long\n");
  ::close(fd);
  fd = connectTo();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ask(fd, std::string("pi\0ng\n", 6), 2), "error request is not printable text\n");
  ::close(fd);
  fd = connectTo();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ask(fd, "\xff\xfe\n", 2), "error request is not printable text\n");
  ::close(fd);
  fd = connectTo();  // a client that leaves mid-request
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::send(fd, "roo", 3, MSG_NOSIGNAL), 3);
  ::close(fd);

  int fds[kControlMaxClients + 1];  // more clients than served at once
  for (auto& f : fds) f = connectTo();
  EXPECT_EQ(ask(fds[0], "ping\n"), "ok\n");  // accepted in order: the last one is turned away
  EXPECT_EQ(ask(fds[kControlMaxClients], "", 1), "error busy\n");
  for (auto& f : fds) ::close(f);

  fd = connectTo();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(ask(fd, "ping\n"), "ok\n");
  ::close(fd);
}

// A dialog talks with its client on a thread of its own: other clients are served meanwhile; a
// silent client, an over-long reply and a stopping server each end the dialog and its client.
TEST_F(ControlServerTest, ADialogTalksOnItsOwnThreadWhileOthersAreServed) {
  ControlProtocol p;
  p.add("ping", [](std::string_view) -> core::Result<std::string> { return std::string(); });
  p.add("big",
        [](std::string_view) -> core::Result<std::string> { return std::string(kControlMaxAnswer, 'b'); });
  p.addDialog("talk", [](std::string_view args) {
    ControlStep step;
    if (args == "no") {
      step.answer = core::Error("talk: refused");
      return step;
    }
    step.talk = [](ControlDialog& d) -> core::Result<std::string> {
      SASHI_TRY_ASSIGN(one, d.exchange("need 1"));
      SASHI_TRY_ASSIGN(two, d.exchange("need 2"));
      return one + "+" + two;
    };
    return step;
  });
  ASSERT_NO_FATAL_FAILURE(startWith(std::move(p), std::chrono::milliseconds(300)));
  int talker = connectTo(), other = connectTo();
  ASSERT_GE(talker, 0);
  ASSERT_GE(other, 0);
  EXPECT_EQ(ask(talker, "talk no\n"), "error talk: refused\n");
  EXPECT_EQ(ask(talker, "talk\n"), "need 1\n");
  EXPECT_EQ(ask(other, "ping\n"), "ok\n");  // while the dialog waits
  EXPECT_EQ(ask(talker, "have a\r\n"), "need 2\n");
  EXPECT_EQ(ask(talker, "have b\nping\n", 2), "ok have a+have b\nok\n");  // the next request after it
  // A large answer goes out whole, as the client takes it.
  const std::string big = ask(other, "big\n");
  EXPECT_EQ(big.size(), kControlMaxAnswer);  // "ok ", the data cut to fit, "\n"
  EXPECT_EQ(big.substr(0, 4), "ok b");
  ::close(talker);

  int silent = connectTo();
  EXPECT_EQ(ask(silent, "talk\n"), "need 1\n");
  EXPECT_EQ(ask(silent, "", 1), "");  // closed after the timeout, without an answer
  ::close(silent);
  int longer = connectTo();
  EXPECT_EQ(ask(longer, "talk\n"), "need 1\n");
  EXPECT_EQ(ask(longer, std::string(kControlMaxReply + 10, 'h'), 1), "");
  ::close(longer);
  EXPECT_EQ(ask(other, "ping\n"), "ok\n");

  int waiting = connectTo();
  EXPECT_EQ(ask(waiting, "talk\n"), "need 1\n");
  const auto before = std::chrono::steady_clock::now();
  server_.reset();  // the dialog's exchange fails; the server stops without waiting for the client
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(250));
  ::close(waiting);
  ::close(other);
}

TEST_F(ControlServerTest, ReplacesAStaleSocketAndRefusesALiveOneOrAnotherFile) {
  ASSERT_NO_FATAL_FAILURE(startServer());
  auto second = ControlServer::listen(sock_);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;

  // A socket nobody listens on (a killed daemon's): replaced.
  server_.reset();
  int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, sock_.c_str(), sizeof a.sun_path - 1);
  ASSERT_EQ(::bind(stale, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::close(stale);
  ASSERT_NO_FATAL_FAILURE(startServer());
  server_.reset();

  t_.write("ctl.sock", "not a socket");
  auto file = ControlServer::listen(sock_);
  ASSERT_FALSE(file.ok());
  EXPECT_NE(file.error().message.find("not a socket"), std::string::npos) << file.error().message;
  EXPECT_EQ(t_.read("ctl.sock"), "not a socket");
  EXPECT_FALSE(ControlServer::listen(std::string(200, 'a')).ok());  // longer than sun_path
}

}  // namespace
}  // namespace sashimono::statefs
