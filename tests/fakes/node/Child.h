#pragma once
// A child process for tests that drive the real `sashimono` binary: it dies with the test
// process (PR_SET_PDEATHSIG) and is killed by the destructor, so a failing test leaves none.
// runCli() runs one command to completion and parses its stdout as JSON.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <rapidjson/document.h>

namespace sashimono::node::fakes {

class Child {
 public:
  Child() = default;
  ~Child() { stop(SIGKILL); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // Starts `args` with `env` added; stdout to a pipe (read by wait) or, with logPath, stdout
  // and stderr appended to that file.
  void start(std::vector<std::string> args, const std::vector<std::string>& env,
             const std::string& logPath = {}) {
    int fds[2] = {-1, -1};
    if (logPath.empty() && ::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envCopy = env;
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      for (auto& e : envCopy) ::putenv(e.data());
      if (logPath.empty()) {
        ::dup2(fds[1], 1);
      } else {
        const int fd = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
        }
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    pid_ = pid;
    if (logPath.empty()) {
      ::close(fds[1]);
      out_ = fds[0];
    }
  }

  // Reads stdout until EOF or `limit`, then reaps: the exit code (-1 on timeout or signal).
  int wait(std::string& output, std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    char buf[4096];
    while (out_ >= 0 && std::chrono::steady_clock::now() < end) {
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) continue;
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n <= 0) break;
      output.append(buf, static_cast<std::size_t>(n));
    }
    if (std::chrono::steady_clock::now() >= end) {
      stop(SIGKILL);
      return -1;
    }
    return reap();
  }

  // Sends `sig` and reaps: the exit code, or -1 if it died of a signal (or was not running).
  int stop(int sig) {
    closeOut();
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    return reap();
  }

  [[nodiscard]] bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

  // Sends `sig` without waiting (running() tells when it has exited).
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  // Sends `sig` and reaps: the raw wait status (for WIFEXITED / WIFSIGNALED), or -1 if it was not
  // running.
  int stopStatus(int sig) {
    closeOut();
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  // False once the child has exited, which it then reaps (alive() is still true for an exited
  // child nobody has reaped yet).
  [[nodiscard]] bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == 0) return true;
    pid_ = -1;
    closeOut();
    return false;
  }

 private:
  int reap() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    closeOut();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void closeOut() {
    if (out_ >= 0) ::close(out_);
    out_ = -1;
  }
  pid_t pid_ = -1;
  int out_ = -1;
};

struct CliRun {
  int code = -1;
  std::string out;
  rapidjson::Document json;
};

// `sashimono <args…>` with `env` added, to completion (at most `limit`).
inline CliRun runCli(std::vector<std::string> args, const std::vector<std::string>& env,
                     std::chrono::seconds limit = std::chrono::seconds(120)) {
  args.insert(args.begin(), SASHIMONO_BINARY);
  Child c;
  c.start(std::move(args), env);
  CliRun r;
  r.code = c.wait(r.out, limit);
  r.json.Parse(r.out.c_str());
  return r;
}

}  // namespace sashimono::node::fakes
