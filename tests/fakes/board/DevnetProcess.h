#pragma once
// The real devnet (`sashimono devnet`) as a child process on 127.0.0.1 (or another address of this
// machine), for integration tests.
// The child dies with the test process (PR_SET_PDEATHSIG), and the destructor kills it and removes
// its data directory, so a failing test leaves nothing behind.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sashimono/crypto/Keys.h"
#include "sashimono/net/WsClient.h"

namespace sashimono::board::fakes {

// A port that was free a moment ago.
inline std::uint16_t freePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// A fresh temporary directory, removed by the destructor.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sashimono-board-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class DevnetProcess {
 public:
  // `extraArgs` go after the devnet's own (e.g. {"--max-queued-bytes", "2097152"}); `host` is the
  // address it listens on (a test's bridge, for nodes in network namespaces).
  DevnetProcess(std::string binary, std::string genesisSeed, int ledgerIntervalMs,
                std::vector<std::string> extraArgs = {}, std::string host = "127.0.0.1")
      : binary_(std::move(binary)),
        seed_(std::move(genesisSeed)),
        intervalMs_(ledgerIntervalMs),
        extraArgs_(std::move(extraArgs)),
        host_(std::move(host)),
        port_(freePort()) {
    start();
  }
  ~DevnetProcess() { kill(SIGTERM); }
  DevnetProcess(const DevnetProcess&) = delete;
  DevnetProcess& operator=(const DevnetProcess&) = delete;

  // Starts the child (again, on the same port and data) and waits until it accepts WebSockets.
  void start() {
    if (pid_ > 0) return;
    std::string dataDir = data_.path() + "/data";
    std::vector<std::string> args{binary_,
                                  "devnet",
                                  "--listen",
                                  host_ + ":" + std::to_string(port_),
                                  "--data",
                                  dataDir,
                                  "--genesis-seed",
                                  seed_,
                                  "--ledger-interval-ms",
                                  std::to_string(intervalMs_)};
    args.insert(args.end(), extraArgs_.begin(), extraArgs_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) {
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      net::ClientOptions o;
      o.connectTimeout = std::chrono::milliseconds(500);
      if (auto c = net::WsClient::connect(url(), o); c.ok()) return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("devnet exited at start-up");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(SIGKILL);
    throw std::runtime_error("devnet did not start listening");
  }

  // Stops the child with `sig` (SIGKILL: a crash) and reaps it: its wait status (-1 if it was not
  // running).
  int kill(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    for (int i = 0; i < 100; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  [[nodiscard]] std::string url() const { return "ws://" + host_ + ":" + std::to_string(port_) + "/"; }
  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  TempDir data_;
  std::string binary_;
  std::string seed_;
  int intervalMs_;
  std::vector<std::string> extraArgs_;
  std::string host_;
  std::uint16_t port_;
  pid_t pid_ = -1;
};

}  // namespace sashimono::board::fakes
