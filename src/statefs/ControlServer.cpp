#include "sashimono/statefs/ControlServer.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "sashimono/core/Log.h"
#include "sashimono/statefs/UniqueFd.h"

namespace sashimono::statefs {

namespace {

struct Client {
  UniqueFd fd;
  std::string pending;  // bytes of a request not yet ended by '\n'
};

core::Result<sockaddr_un> addressOf(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path)
    return core::Error("statefs: control socket path must be 1 to " + std::to_string(sizeof a.sun_path - 1) +
                       " bytes: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

// Sends a short answer without blocking; false when the client does not take it whole.
bool sendAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool peerAllowed(int fd) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == ::geteuid() || cred.uid == 0;
}

// A socket at `path` from an earlier daemon: removed when nobody answers on it.
core::Status clearStale(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};
    return core::Error::fromErrno("statefs: control socket " + path);
  }
  if (!S_ISSOCK(st.st_mode))
    return core::Error("statefs: control socket " + path + " exists and is not a socket");
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return core::Error::fromErrno("statefs: socket");
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0)
    return core::Error("statefs: control socket " + path + " is in use by a running daemon");
  if (errno != ECONNREFUSED) return core::Error::fromErrno("statefs: control socket " + path);
  if (::unlink(path.c_str()) != 0) return core::Error::fromErrno("statefs: removing stale socket " + path);
  return {};
}

}  // namespace

struct ControlServer::Impl {
  std::string path;
  UniqueFd listenFd;
  UniqueFd wakeRead, wakeWrite;
  dev_t dev = 0;
  ino_t ino = 0;
  std::thread thread;
  ControlProtocol protocol;
  std::vector<Client> clients;

  void accept() {
    UniqueFd fd(::accept4(listenFd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) return;
    if (!peerAllowed(fd.get())) {
      (void)sendAll(fd.get(), "error not allowed\n");
      return;
    }
    if (clients.size() >= kControlMaxClients) {
      (void)sendAll(fd.get(), "error busy\n");
      return;
    }
    clients.push_back(Client{std::move(fd), {}});
  }

  // Reads what the client sent and answers each complete request; false to disconnect it.
  bool serve(Client& c) {
    char buf[kControlMaxLine];
    ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return false;
    c.pending.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = c.pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(c.pending.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (nl - start + 1 > kControlMaxLine) return reject(c, "error request too long\n");
      if (!isControlText(line)) return reject(c, "error request is not printable text\n");
      if (!sendAll(c.fd.get(), protocol.answer(line))) return false;
    }
    c.pending.erase(0, start);
    if (c.pending.size() >= kControlMaxLine) return reject(c, "error request too long\n");
    return true;
  }

  static bool reject(Client& c, std::string_view why) {
    (void)sendAll(c.fd.get(), why);
    return false;
  }

  void run() {
    std::vector<pollfd> fds;
    while (true) {
      fds.clear();
      fds.push_back({wakeRead.get(), POLLIN, 0});
      fds.push_back({listenFd.get(), POLLIN, 0});
      for (const auto& c : clients) fds.push_back({c.fd.get(), POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        spdlog::error("statefs: control socket: poll: {}", std::strerror(errno));
        return;
      }
      if (fds[0].revents != 0) return;
      // Clients first (their indices match fds), then a new one.
      std::vector<Client> keep;
      for (std::size_t i = 0; i < clients.size(); ++i) {
        const short ev = fds[i + 2].revents;
        if (ev == 0 || ((ev & POLLIN) != 0 && serve(clients[i]))) keep.push_back(std::move(clients[i]));
      }
      clients = std::move(keep);
      if (fds[1].revents != 0) accept();
    }
  }
};

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ControlServer::~ControlServer() {
  stop();
  struct stat st {};
  if (!impl_->path.empty() && ::lstat(impl_->path.c_str(), &st) == 0 && st.st_dev == impl_->dev &&
      st.st_ino == impl_->ino)
    ::unlink(impl_->path.c_str());
}

core::Result<std::unique_ptr<ControlServer>> ControlServer::listen(const std::string& path) {
  SASHI_TRY_ASSIGN(addr, addressOf(path));
  SASHI_TRY(clearStale(path, addr));
  auto impl = std::make_unique<Impl>();
  impl->listenFd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!impl->listenFd.valid()) return core::Error::fromErrno("statefs: socket");
  // The file is created 0600 from the start: no moment in which another user could connect.
  const mode_t old = ::umask(0177);
  const int rc = ::bind(impl->listenFd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::umask(old);
  if (rc != 0) return core::Error::fromErrno("statefs: cannot create control socket " + path, err);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return core::Error::fromErrno("statefs: control socket " + path);
  impl->path = path;  // ours from here: removed on destruction
  impl->dev = st.st_dev;
  impl->ino = st.st_ino;
  std::unique_ptr<ControlServer> server(new ControlServer(std::move(impl)));
  Impl& i = *server->impl_;
  if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0600 || st.st_uid != ::geteuid())
    return core::Error("statefs: control socket " + path + " did not come out as a 0600 socket of ours");
  if (::listen(i.listenFd.get(), 8) != 0) return core::Error::fromErrno("statefs: listen on " + path);
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return core::Error::fromErrno("statefs: pipe");
  i.wakeRead.reset(wake[0]);
  i.wakeWrite.reset(wake[1]);
  return server;
}

core::Status ControlServer::start(ControlProtocol protocol) {
  if (impl_->thread.joinable()) return core::Error("statefs: control server already started");
  impl_->protocol = std::move(protocol);
  // The thread inherits a mask that blocks the signals meant for the FUSE loop.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  try {
    impl_->thread = std::thread([this] { impl_->run(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return core::Error(std::string("statefs: control thread: ") + e.what());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return {};
}

void ControlServer::stop() {
  if (!impl_->thread.joinable()) return;
  (void)!::write(impl_->wakeWrite.get(), "x", 1);
  impl_->thread.join();
  impl_->clients.clear();
}

}  // namespace sashimono::statefs
