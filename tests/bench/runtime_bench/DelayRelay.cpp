// bench_runtime_bench, cluster part: the delaying TCP relay (DelayRelay.h).
#include "DelayRelay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "RuntimeBench.h"

namespace sashimono::runtime_bench {

namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void noDelay(int fd) {
  int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// One direction of a connection: what the reader took from `from`, each chunk with the time it
// may be written to `to`. An empty chunk is the end of the stream.
struct Pipe {
  int from = -1, to = -1;
  std::chrono::microseconds delay{0};
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<Clock::time_point, std::string>> q;
  bool dead = false;
  std::thread reader, writer;

  void start() {
    reader = std::thread([this] {
      wire();
      readLoop();
    });
    writer = std::thread([this] {
      wire();
      writeLoop();
    });
  }
  // The relay stands in for the wire between hosts, which takes no CPU from them: its threads
  // run before the members' (SCHED_FIFO when allowed, i.e. as root; they only ever block or copy),
  // so that a member busy running its contract does not delay a chunk's timing on the way.
  static void wire() {
    sched_param sp{};
    sp.sched_priority = 1;
    (void)::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &sp);
  }
  void kill() {
    {
      std::lock_guard lock(mu);
      dead = true;
    }
    cv.notify_all();
  }
  void join() {
    if (reader.joinable()) reader.join();
    if (writer.joinable()) writer.join();
  }

  void push(std::string chunk) {
    {
      std::lock_guard lock(mu);
      q.emplace_back(Clock::now() + delay, std::move(chunk));
    }
    cv.notify_all();
  }
  void readLoop() {
    std::string buf(64 * 1024, '\0');
    for (;;) {
      const ssize_t n = ::read(from, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      push(buf.substr(0, static_cast<std::size_t>(n)));
    }
    push(std::string());
  }
  void writeLoop() {
    for (;;) {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return dead || !q.empty(); });
      if (dead) return;
      const auto due = q.front().first;
      if (cv.wait_until(lock, due, [&] { return dead; })) return;
      std::string chunk = std::move(q.front().second);
      q.pop_front();
      lock.unlock();
      if (chunk.empty()) {  // the other side closed: so does this one, as late
        ::shutdown(to, SHUT_WR);
        return;
      }
      for (std::size_t at = 0; at < chunk.size();) {
        const ssize_t w = ::send(to, chunk.data() + at, chunk.size() - at, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {  // the receiver is gone: end both directions
          ::shutdown(to, SHUT_RDWR);
          ::shutdown(from, SHUT_RDWR);
          return;
        }
        at += static_cast<std::size_t>(w);
      }
    }
  }
};

}  // namespace

struct DelayRelay::Conn {
  int a = -1, b = -1;  // accepted, and dialled to the target
  Pipe up, down;       // a → b, b → a

  Conn(int accepted, int dialled, std::chrono::microseconds delay) : a(accepted), b(dialled) {
    up.from = a;
    up.to = b;
    down.from = b;
    down.to = a;
    up.delay = down.delay = delay;
    up.start();
    down.start();
  }
  ~Conn() {
    up.kill();
    down.kill();
    ::shutdown(a, SHUT_RDWR);
    ::shutdown(b, SHUT_RDWR);
    up.join();
    down.join();
    ::close(a);
    ::close(b);
  }
};

DelayRelay::DelayRelay(std::uint16_t targetPort, std::chrono::microseconds delay)
    : targetPort_(targetPort), delay_(delay) {
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (listenFd_ < 0 || ::bind(listenFd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listenFd_, 64) != 0 || ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    die("relay: listening on 127.0.0.1: " + std::string(std::strerror(errno)));
  port_ = ntohs(a.sin_port);
  acceptor_ = std::thread([this] { acceptLoop(); });
}

DelayRelay::~DelayRelay() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  ::shutdown(listenFd_, SHUT_RDWR);  // wakes accept()
  if (acceptor_.joinable()) acceptor_.join();
  conns_.clear();
  ::close(listenFd_);
}

void DelayRelay::acceptLoop() {
  for (;;) {
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // shut down (or a real error: the members then cannot reach this one)
    }
    const int out = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in t = loopback(targetPort_);
    if (out < 0 || ::connect(out, reinterpret_cast<sockaddr*>(&t), sizeof t) != 0) {
      if (out >= 0) ::close(out);
      ::close(fd);
      continue;
    }
    noDelay(fd);
    noDelay(out);
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      ::close(out);
      return;
    }
    conns_.push_back(std::make_unique<Conn>(fd, out, delay_));
  }
}

namespace {

// 64-byte messages from `client` to `server`, 1 ms apart; the p50 of write → read (ms).
double oneWayP50(int client, int server) {
  constexpr int kCount = 200;
  std::vector<Clock::time_point> sent(kCount), got(kCount);
  std::thread reader([&] {
    char buf[64];
    for (int i = 0; i < kCount; ++i) {
      std::size_t have = 0;
      while (have < sizeof buf) {
        const ssize_t n = ::read(server, buf + have, sizeof buf - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("relay calibration: the connection ended");
        have += static_cast<std::size_t>(n);
      }
      got[static_cast<std::size_t>(i)] = Clock::now();
    }
  });
  char msg[64] = {};
  for (int i = 0; i < kCount; ++i) {
    sent[static_cast<std::size_t>(i)] = Clock::now();
    if (::send(client, msg, sizeof msg, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof msg))
      die("relay calibration: send failed");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  reader.join();
  std::vector<double> d;
  for (int i = 0; i < kCount; ++i)
    d.push_back(ms(got[static_cast<std::size_t>(i)] - sent[static_cast<std::size_t>(i)]));
  std::sort(d.begin(), d.end());
  return d[d.size() / 2];
}

// A connection from a new client socket to `port`, and the server's side of it from `listenFd`.
std::pair<int, int> connectPair(int listenFd, std::uint16_t port) {
  const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(port);
  if (c < 0 || ::connect(c, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    die("relay calibration: connect: " + std::string(std::strerror(errno)));
  const int s = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
  if (s < 0) die("relay calibration: accept: " + std::string(std::strerror(errno)));
  noDelay(c);
  noDelay(s);
  return {c, s};
}

}  // namespace

RelayLatency measureRelay(std::chrono::microseconds hold) {
  const int listenFd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (listenFd < 0 || ::bind(listenFd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listenFd, 4) != 0 || ::getsockname(listenFd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    die("relay calibration: listening on 127.0.0.1: " + std::string(std::strerror(errno)));
  const std::uint16_t port = ntohs(a.sin_port);
  RelayLatency r;
  {
    auto [c, s] = connectPair(listenFd, port);
    r.directMs = oneWayP50(c, s);
    ::close(c);
    ::close(s);
  }
  {
    DelayRelay relay(port, hold);
    auto [c, s] = connectPair(listenFd, relay.port());
    r.relayedMs = oneWayP50(c, s);
    ::close(c);
    ::close(s);
  }
  ::close(listenFd);
  return r;
}

}  // namespace sashimono::runtime_bench
