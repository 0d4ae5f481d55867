#pragma once
// bench_runtime_bench, cluster part: a TCP relay on 127.0.0.1 that forwards every connection it
// accepts to one target port, holding each chunk it reads for a fixed delay before writing it on,
// in each direction: a link between two hosts `delay` apart (one way), for a kernel without netem.
// Order is kept (a chunk is written only after the ones read before it); throughput is not
// limited by the delay (reading goes on while earlier chunks wait). When one side closes, the
// other is shut down after the delay too.
//
// Threads: one accepting, and per connection two per direction (a reader and a writer that waits
// out each chunk's delay). The destructor shuts every socket down and joins every thread.
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace sashimono::runtime_bench {

// What a hop through a relay costs on this machine (the relay's own two loopback hops and thread
// wake-ups, beyond the one loopback hop a direct connection takes), and what one measures.
// Measured with 200 messages of 64 bytes sent 1 ms apart from a client socket to a server socket
// on 127.0.0.1, each timed from its write to the server's read of it (one clock): p50s in ms.
struct RelayLatency {
  double directMs = 0;   // client → server
  double relayedMs = 0;  // client → relay(hold) → server
};
RelayLatency measureRelay(std::chrono::microseconds hold);

class DelayRelay {
 public:
  // Listens on 127.0.0.1 (a free port); dies on failure.
  DelayRelay(std::uint16_t targetPort, std::chrono::microseconds delay);
  ~DelayRelay();
  DelayRelay(const DelayRelay&) = delete;
  DelayRelay& operator=(const DelayRelay&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  struct Conn;
  void acceptLoop();

  std::uint16_t targetPort_;
  std::chrono::microseconds delay_;
  int listenFd_ = -1;
  std::uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  bool stopping_ = false;
  std::list<std::unique_ptr<Conn>> conns_;
};

}  // namespace sashimono::runtime_bench
