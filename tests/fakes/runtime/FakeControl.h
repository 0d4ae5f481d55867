#pragma once
// A stand-in for the state filesystem's control socket (docs/STATEFS.md, "Control socket"): each
// request line is recorded and answered by `answer` (one connection at a time, until the end of
// the test). For the runtime's tests of rounds against the state (StateRounds).
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace sashimono::runtime::fakes {

class FakeControl {
 public:
  FakeControl(std::string path, std::function<std::string(const std::string&)> answer)
      : path_(std::move(path)), answer_(std::move(answer)) {
    ls_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    if (::bind(ls_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(ls_, 4) != 0) {
      ::close(ls_);
      throw std::runtime_error("fake control socket at " + path_);
    }
    thread_ = std::thread([this] {
      for (int c; (c = ::accept(ls_, nullptr, nullptr)) >= 0; ::close(c)) {
        conn_ = c;
        serve(c);
        conn_ = -1;
      }
    });
  }
  ~FakeControl() {  // a client may still be connected: its connection is ended too
    ::shutdown(ls_, SHUT_RDWR);
    if (const int c = conn_; c >= 0) ::shutdown(c, SHUT_RDWR);
    thread_.join();
    ::close(ls_);
    ::unlink(path_.c_str());
  }
  FakeControl(const FakeControl&) = delete;
  FakeControl& operator=(const FakeControl&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  // The requests so far.
  [[nodiscard]] std::vector<std::string> requests() {
    std::lock_guard l(mu_);
    return requests_;
  }
  // The requests since the last take().
  [[nodiscard]] std::vector<std::string> take() {
    std::lock_guard l(mu_);
    return std::exchange(requests_, {});
  }
  // The requests since the last take(), once there are at least `n` (or after 10 s): a request
  // the runtime makes after it answered its user (the round's commit) may still be on its way.
  [[nodiscard]] std::vector<std::string> take(std::size_t n) {
    for (int i = 0; i < 10000; ++i) {
      {
        std::lock_guard l(mu_);
        if (requests_.size() >= n) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return take();
  }

 private:
  void serve(int c) {
    std::string buf;
    for (;;) {
      const auto nl = buf.find('\n');
      if (nl == std::string::npos) {
        char b[128];
        const ssize_t n = ::read(c, b, sizeof b);
        if (n <= 0) return;
        buf.append(b, static_cast<std::size_t>(n));
        continue;
      }
      const std::string req = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      std::string ans;
      {
        std::lock_guard l(mu_);
        requests_.push_back(req);
        ans = answer_(req) + "\n";
      }
      (void)!::write(c, ans.data(), ans.size());
    }
  }

  std::string path_;
  std::function<std::string(const std::string&)> answer_;
  int ls_ = -1;
  std::atomic<int> conn_{-1};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> requests_;
};

}  // namespace sashimono::runtime::fakes
