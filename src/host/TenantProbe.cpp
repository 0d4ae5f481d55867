#include "sashimono/host/TenantProbe.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "sashimono/core/File.h"

namespace sashimono::host {

namespace {

constexpr long kFuseSuperMagic = 0x65735546;

}  // namespace

core::Status unixSocketAnswers(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) return core::Error("socket path too long: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return core::Error::fromErrno("socket");
  const int r = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  const int err = errno;
  ::close(fd);
  // A unix stream connect completes at once or not at all (EAGAIN: the backlog is full, yet it
  // listens).
  if (r == 0 || err == EAGAIN) return {};
  errno = err;
  return core::Error::fromErrno(path);
}

core::Status fuseMountAlive(const std::string& path) {
  struct statfs s {};
  if (::statfs(path.c_str(), &s) != 0) return core::Error::fromErrno(path);
  if (s.f_type != kFuseSuperMagic) return core::Error(path + " is not mounted");
  return {};
}

core::Status pidFileAlive(const std::string& pidFile) {
  auto text = core::readFile(pidFile);
  if (!text) return text.error();
  const long pid = std::atol(text->c_str());
  if (pid <= 1) return core::Error(pidFile + " holds no pid");
  auto stat = core::readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return core::Error("process " + std::to_string(pid) + " is gone");
  const auto close = stat->rfind(')');
  if (close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] == 'Z')
    return core::Error("process " + std::to_string(pid) + " has exited");
  return {};
}

std::vector<core::Status> probeTcp(const std::vector<TcpProbe>& probes, std::chrono::milliseconds wait) {
  std::vector<core::Status> out(probes.size());
  std::vector<int> fds(probes.size(), -1);
  std::vector<pollfd> polls;
  std::vector<std::size_t> which;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& p = probes[i];
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(p.port);
    const std::string what = p.ip + ":" + std::to_string(p.port);
    if (::inet_pton(AF_INET, p.ip.c_str(), &a.sin_addr) != 1) {
      out[i] = core::Error(what + ": not an IPv4 address");
      continue;
    }
    fds[i] = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fds[i] < 0) {
      out[i] = core::Error::fromErrno("socket");
      continue;
    }
    if (::connect(fds[i], reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
      out[i] = core::Error::fromErrno(what);
      continue;
    }
    polls.push_back({fds[i], POLLIN | POLLOUT | POLLRDHUP, 0});
    which.push_back(i);
  }
  // Connected and not closed: keep watching for a close until `wait` has passed.
  std::vector<bool> connected(probes.size(), false);
  const auto end = std::chrono::steady_clock::now() + wait;
  while (!polls.empty()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const int n = ::poll(polls.data(), polls.size(), static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (std::size_t k = 0; k < polls.size();) {
      const std::size_t i = which[k];
      const short ev = polls[k].revents;
      const std::string what = probes[i].ip + ":" + std::to_string(probes[i].port);
      bool done = false;
      if (ev & (POLLERR | POLLHUP | POLLRDHUP | POLLIN)) {
        int soErr = 0;
        socklen_t len = sizeof soErr;
        ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &soErr, &len);
        if (soErr != 0) {
          errno = soErr;
          out[i] = core::Error::fromErrno(what);
        } else {
          char c;
          const ssize_t r = ::recv(fds[i], &c, 1, MSG_PEEK | MSG_DONTWAIT);
          // Data first is fine (a server that greets); a close or reset is not.
          out[i] = r > 0 ? core::Status{} : core::Error(what + ": closed by the far side");
        }
        done = true;
      } else if ((ev & POLLOUT) && !connected[i]) {
        connected[i] = true;
        polls[k].events = POLLIN | POLLRDHUP;
      }
      if (done) {
        polls.erase(polls.begin() + static_cast<std::ptrdiff_t>(k));
        which.erase(which.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        polls[k].revents = 0;
        ++k;
      }
    }
  }
  for (std::size_t k = 0; k < which.size(); ++k) {
    const std::size_t i = which[k];
    if (!connected[i])
      out[i] = core::Error(probes[i].ip + ":" + std::to_string(probes[i].port) + ": no answer");
  }
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  return out;
}

}  // namespace sashimono::host
