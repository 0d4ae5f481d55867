#include "sashimono/statefs/ControlServer.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
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
  std::string pending;  // bytes received and not yet answered
  std::string outbox;   // answer bytes not yet sent
  // A dialog owns the client (its thread reads and writes fd and pending) until `finished`.
  bool talking = false;
  std::thread talker;
  std::atomic<bool> finished{false};
  std::string answer;   // the dialog's answer line (set before `finished`)
  bool broken = false;  // the dialog lost the client: disconnect it (set before `finished`)
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

// A dialog's side of its client's connection, on the dialog's thread.
class SocketDialog final : public ControlDialog {
 public:
  SocketDialog(Client& c, int stopFd, std::chrono::milliseconds timeout)
      : c_(c), stopFd_(stopFd), timeout_(timeout) {}
  [[nodiscard]] bool broken() const { return broken_; }

  core::Result<std::string> exchange(std::string_view line) override {
    if (broken_) return core::Error("the control client is gone");
    std::string out = std::string(line) + "\n";
    std::string_view rest(out);
    while (!rest.empty()) {
      ssize_t n = ::send(c_.fd.get(), rest.data(), rest.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        rest.remove_prefix(static_cast<std::size_t>(n));
      } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        return lost("the control client left (" + std::string(std::strerror(errno)) + ")");
      } else if (n < 0 && errno == EAGAIN) {
        SASHI_TRY(wait(POLLOUT));
      }
    }
    std::size_t nl, scanned = 0;
    while ((nl = c_.pending.find('\n', scanned)) == std::string::npos) {
      scanned = c_.pending.size();
      if (scanned >= kControlMaxReply) return lost("the control client's reply is too long");
      SASHI_TRY(wait(POLLIN));
      char buf[65536];
      ssize_t n = ::read(c_.fd.get(), buf, sizeof buf);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return lost("the control client left");
      c_.pending.append(buf, static_cast<std::size_t>(n));
    }
    if (nl + 1 > kControlMaxReply) return lost("the control client's reply is too long");
    std::string reply = c_.pending.substr(0, nl);
    c_.pending.erase(0, nl + 1);
    if (!reply.empty() && reply.back() == '\r') reply.pop_back();
    if (!isControlText(reply)) return lost("the control client's reply is not printable text");
    return reply;
  }

 private:
  core::Error lost(const std::string& why) {
    broken_ = true;
    return core::Error(why);
  }
  // Waits for `events` on the client within the timeout; an error when it passes or the server stops.
  core::Status wait(short events) {
    pollfd fds[2] = {{c_.fd.get(), events, 0}, {stopFd_, POLLIN, 0}};
    while (true) {
      int r = ::poll(fds, 2, static_cast<int>(timeout_.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return lost(std::string("poll: ") + std::strerror(errno));
      if (r == 0)
        return lost("no reply from the control client within " + std::to_string(timeout_.count() / 1000) +
                    " s");
      if (fds[1].revents != 0) return lost("the control server is stopping");
      return {};  // ready, or an error the next call reports
    }
  }

  Client& c_;
  int stopFd_;
  std::chrono::milliseconds timeout_;
  bool broken_ = false;
};

// For a dialog that could not get a thread: every exchange fails.
class NoThread final : public ControlDialog {
 public:
  core::Result<std::string> exchange(std::string_view) override {
    return core::Error("the control server could not start a thread for the dialog");
  }
};

}  // namespace

struct ControlServer::Impl {
  std::string path;
  UniqueFd listenFd;
  UniqueFd wakeRead, wakeWrite;  // stop(): never drained, so dialogs see it too
  UniqueFd doneRead, doneWrite;  // a dialog ended
  dev_t dev = 0;
  ino_t ino = 0;
  std::thread thread;
  ControlProtocol protocol;
  std::chrono::milliseconds dialogTimeout = kControlDialogTimeout;
  std::vector<std::unique_ptr<Client>> clients;

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
    auto c = std::make_unique<Client>();
    c->fd = std::move(fd);
    clients.push_back(std::move(c));
  }

  // Reads what the client sent; false to disconnect it.
  static bool receive(Client& c) {
    char buf[16384];
    ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
    if (n < 0) return errno == EINTR || errno == EAGAIN;
    if (n == 0) return false;
    c.pending.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  // Sends what the client takes of its outbox; false when it is gone.
  static bool flush(Client& c) {
    while (!c.outbox.empty()) {
      ssize_t n = ::send(c.fd.get(), c.outbox.data(), c.outbox.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) return false;
      c.outbox.erase(0, static_cast<std::size_t>(n));
    }
    return true;
  }

  static bool reject(Client& c, std::string_view why) {
    (void)sendAll(c.fd.get(), why);
    return false;
  }

  // Answers the client's complete requests, one at a time, each once the last answer is out;
  // false to disconnect it.
  bool pump(Client& c) {
    while (!c.talking) {
      if (!flush(c)) return false;
      if (!c.outbox.empty()) return true;  // the rest when the client takes it (POLLOUT)
      const std::size_t nl = c.pending.find('\n');
      if (nl == std::string::npos) {
        if (c.pending.size() >= kControlMaxLine) return reject(c, "error request too long\n");
        return true;
      }
      if (nl + 1 > kControlMaxLine) return reject(c, "error request too long\n");
      std::string_view line(c.pending.data(), nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!isControlText(line)) return reject(c, "error request is not printable text\n");
      ControlStep step = protocol.start(line);
      c.pending.erase(0, nl + 1);
      if (step.talk) {
        talk(c, std::move(step.talk));
      } else {
        c.outbox += ControlProtocol::render(step.answer);
      }
    }
    return true;
  }

  // Runs a dialog on a thread of its own; it hands the client back through `done`.
  void talk(Client& c, ControlTalk run) {
    c.talking = true;
    c.finished.store(false);
    auto body = [this, &c, run] {
      SocketDialog dialog(c, wakeRead.get(), dialogTimeout);
      c.answer = ControlProtocol::render(run(dialog));
      c.broken = dialog.broken();
      c.finished.store(true);
      (void)!::write(doneWrite.get(), "x", 1);
    };
    try {
      c.talker = std::thread(body);
    } catch (const std::system_error& e) {
      spdlog::error("statefs: control socket: no thread for a dialog: {}", e.what());
      NoThread none;
      c.answer = ControlProtocol::render(run(none));  // the dialog ends (and releases what it holds)
      c.talking = false;
      c.outbox += c.answer;
    }
  }

  // The clients whose dialog ended: joined and answered; false for those to disconnect.
  void collect() {
    char buf[64];
    while (::read(doneRead.get(), buf, sizeof buf) > 0) {
    }
    std::vector<std::unique_ptr<Client>> keep;
    for (auto& c : clients) {
      if (c->talking && c->finished.load()) {
        c->talker.join();
        c->talking = false;
        if (c->broken) continue;
        c->outbox += c->answer;
        if (!pump(*c)) continue;
      }
      keep.push_back(std::move(c));
    }
    clients = std::move(keep);
  }

  void run() {
    std::vector<pollfd> fds;
    std::vector<Client*> polled;
    while (true) {
      fds.clear();
      polled.clear();
      fds.push_back({wakeRead.get(), POLLIN, 0});
      fds.push_back({doneRead.get(), POLLIN, 0});
      fds.push_back({listenFd.get(), POLLIN, 0});
      for (const auto& c : clients) {
        if (c->talking) continue;
        fds.push_back({c->fd.get(), static_cast<short>(c->outbox.empty() ? POLLIN : POLLOUT), 0});
        polled.push_back(c.get());
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        spdlog::error("statefs: control socket: poll: {}", std::strerror(errno));
        return;
      }
      if (fds[0].revents != 0) return;
      std::vector<Client*> gone;
      for (std::size_t i = 0; i < polled.size(); ++i) {
        const short ev = fds[i + 3].revents;
        if (ev == 0) continue;
        Client& c = *polled[i];
        const bool ok = (c.outbox.empty() && (ev & (POLLIN | POLLHUP | POLLERR)) != 0) ? receive(c) : true;
        if (!ok || !pump(c)) gone.push_back(&c);
      }
      std::erase_if(clients, [&](const std::unique_ptr<Client>& c) {
        return std::find(gone.begin(), gone.end(), c.get()) != gone.end();
      });
      if (fds[1].revents != 0) collect();
      if (fds[2].revents != 0) accept();
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
  int wake[2], done[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return core::Error::fromErrno("statefs: pipe");
  i.wakeRead.reset(wake[0]);
  i.wakeWrite.reset(wake[1]);
  if (::pipe2(done, O_CLOEXEC | O_NONBLOCK) != 0) return core::Error::fromErrno("statefs: pipe");
  i.doneRead.reset(done[0]);
  i.doneWrite.reset(done[1]);
  return server;
}

core::Status ControlServer::start(ControlProtocol protocol, std::chrono::milliseconds dialogTimeout) {
  if (impl_->thread.joinable()) return core::Error("statefs: control server already started");
  impl_->protocol = std::move(protocol);
  impl_->dialogTimeout = dialogTimeout;
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
  for (auto& c : impl_->clients)  // their exchanges fail now; the dialogs end
    if (c->talker.joinable()) c->talker.join();
  impl_->clients.clear();
}

}  // namespace sashimono::statefs
