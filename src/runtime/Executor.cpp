#include "sashimono/runtime/Executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "ExecDocument.h"
#include "ExecOutput.h"
#include "ExecSpawn.h"

namespace sashimono::runtime {

using core::Error;
using core::Result;
using statefs::UniqueFd;
using namespace detail;

namespace {

constexpr int kReadsPerWake = 16;  // per socket and poll round: one chatty user cannot starve others
constexpr std::size_t kReadBuffer = 64 * 1024;
constexpr int kSocketBuffer = 512 * 1024;  // SO_SNDBUF/SO_RCVBUF asked for (the kernel caps it)

struct UserOut {
  std::string pk;
  UniqueFd fd;
  FrameReader reader;
  std::vector<core::Bytes> msgs;
};

struct NplMessage {
  std::string sender;
  core::Bytes data;
};

Result<std::pair<UniqueFd, UniqueFd>> socketPair(int type) {
  int sv[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) != 0) return Error::fromErrno("socketpair");
  for (int fd : sv) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kSocketBuffer, sizeof kSocketBuffer);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &kSocketBuffer, sizeof kSocketBuffer);
  }
  return std::make_pair(UniqueFd(sv[0]), UniqueFd(sv[1]));
}

Result<UniqueFd> dupAbove(int fd, int min) {
  const int n = ::fcntl(fd, F_DUPFD_CLOEXEC, min);
  if (n < 0) return Error::fromErrno("fcntl(F_DUPFD_CLOEXEC)");
  return UniqueFd(n);
}

void writeAll(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a log write failing does not stop the execution
    off += static_cast<std::size_t>(n);
  }
}

template <typename F, typename A>
void invoke(const F& f, A&& arg, const char* what) {
  if (!f) return;
  try {
    f(std::forward<A>(arg));
  } catch (const std::exception& e) {
    spdlog::error("contract executor: {} callback threw: {}", what, e.what());
  } catch (...) {
    spdlog::error("contract executor: {} callback threw", what);
  }
}

}  // namespace

struct Execution::State {
  ExecCallbacks cb;
  ExecLimits limits;
  std::string binPath;
  SpawnPlan plan;  // consumed by the thread's spawnInit

  Spawned init;
  std::atomic<int> pidfd{-1};
  UniqueFd ctl, npl, wake;
  std::vector<UserOut> users;
  std::uint64_t nplUsed = 0;

  std::mutex mu;  // guards queue, queued, nplOpen
  std::deque<NplMessage> queue;
  std::size_t queued = 0;
  bool nplOpen = false;
  std::optional<NplMessage> sending;  // executor thread only
  bool headerSent = false;

  std::promise<core::Status> started;
  bool startedSet = false;
  bool exited = false;
  int waitStatus = 0;
  bool timedOut = false;
  bool killSent = false;
  ExecResult result;
  std::vector<std::uint8_t> buf;
  std::thread thread;

  void run();
  void loop(std::chrono::steady_clock::time_point t0);
  void finish(std::chrono::steady_clock::time_point t0);
  void setStarted(core::Status s) {
    if (startedSet) return;
    startedSet = true;
    started.set_value(std::move(s));
  }
  void sendKill() { killByPidfd(pidfd.load()); }
  void readReports();
  void readUser(UserOut& u, bool drain);
  void readNpl(bool drain);
  void readControl(bool drain);
  void flushNpl();
  void closeNpl();
  bool nplPending() {
    if (sending) return true;
    std::lock_guard lk(mu);
    return !queue.empty();
  }
};

void Execution::State::run() {
  const auto t0 = std::chrono::steady_clock::now();
  auto sp = spawnInit(plan);
  plan.src.clear();
  if (!sp) {
    setStarted(sp.error());
    return;
  }
  init = std::move(*sp);
  pidfd.store(init.pidfd.get());
  loop(t0);
  finish(t0);
}

void Execution::State::readReports() {
  while (init.report.valid()) {
    InitReport r;
    const ssize_t n = ::read(init.report.get(), &r, sizeof r);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n != static_cast<ssize_t>(sizeof r)) {
      init.report.reset();  // EOF: the init is gone
      return;
    }
    switch (r.kind) {
      case InitReport::kStarted:
        setStarted({});
        break;
      case InitReport::kFailed:
        setStarted(Error::fromErrno("contract " + binPath + ": " + stageName(r.a) + " failed", r.b));
        break;
      case InitReport::kExited:
        exited = true;
        waitStatus = r.a;
        break;
      default:
        break;
    }
  }
}

void Execution::State::readUser(UserOut& u, bool drain) {
  buf.resize(kReadBuffer);
  for (int i = 0; u.fd.valid() && (drain || i < kReadsPerWake); ++i) {
    const ssize_t n = ::recv(u.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) {
      if (!u.reader.feed(buf.data(), static_cast<std::size_t>(n), u.msgs)) u.fd.reset();  // over budget
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    u.fd.reset();  // EOF or error
  }
}

void Execution::State::closeNpl() {
  {
    std::lock_guard lk(mu);
    nplOpen = false;
    queue.clear();
    queued = 0;
  }
  sending.reset();
  npl.reset();
}

void Execution::State::readNpl(bool drain) {
  if (!npl.valid()) return;
  const auto st = readPackets(npl.get(), kMaxSeqPacket, drain ? 1 << 30 : kReadsPerWake, buf,
                              [this](const std::uint8_t* p, std::size_t n) {
                                if (limits.nplOutputBytes && nplUsed + n > limits.nplOutputBytes)
                                  return false;
                                nplUsed += n;
                                invoke(cb.onNpl, core::Bytes(p, p + n), "onNpl");
                                return true;
                              });
  if (st == ReadState::kClosed) closeNpl();
}

void Execution::State::readControl(bool drain) {
  if (!ctl.valid()) return;
  const auto st =
      readPackets(ctl.get(), kMaxSeqPacket, drain ? 1 << 30 : kReadsPerWake, buf,
                  [this](const std::uint8_t* p, std::size_t n) {
                    invoke(cb.onControl, std::string(reinterpret_cast<const char*>(p), n), "onControl");
                    return true;
                  });
  if (st == ReadState::kClosed) ctl.reset();
}

void Execution::State::flushNpl() {
  while (npl.valid()) {
    if (!sending) {
      std::lock_guard lk(mu);
      if (queue.empty()) return;
      sending = std::move(queue.front());
      queue.pop_front();
      queued -= sending->data.size();
      headerSent = false;
    }
    const void* p = headerSent ? static_cast<const void*>(sending->data.data()) : sending->sender.data();
    const std::size_t n = headerSent ? sending->data.size() : sending->sender.size();
    const ssize_t w = ::send(npl.get(), p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // POLLOUT next round
    if (w < 0) {
      closeNpl();  // the contract closed its end
      return;
    }
    if (headerSent)
      sending.reset();
    else
      headerSent = true;
  }
}

void Execution::State::loop(std::chrono::steady_clock::time_point t0) {
  enum Tag { kPid, kWake, kReport, kNpl, kCtl, kUser };
  const bool hasDeadline = limits.timeout.count() > 0;
  const auto deadline = t0 + limits.timeout;
  std::vector<pollfd> pfds;
  std::vector<std::pair<Tag, std::size_t>> tags;
  for (;;) {
    pfds.clear();
    tags.clear();
    auto add = [&](int fd, short events, Tag t, std::size_t i = 0) {
      pfds.push_back({fd, events, 0});
      tags.emplace_back(t, i);
    };
    add(init.pidfd.get(), POLLIN, kPid);
    add(wake.get(), POLLIN, kWake);
    if (init.report.valid()) add(init.report.get(), POLLIN, kReport);
    if (npl.valid())
      add(npl.get(), static_cast<short>(POLLIN | POLLRDHUP | (nplPending() ? POLLOUT : 0)), kNpl);
    if (ctl.valid()) add(ctl.get(), POLLIN | POLLRDHUP, kCtl);
    for (std::size_t i = 0; i < users.size(); ++i)
      if (users[i].fd.valid()) add(users[i].fd.get(), POLLIN, kUser, i);

    int waitMs = -1;
    if (hasDeadline && !killSent) {
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= std::chrono::steady_clock::duration::zero()) {
        timedOut = true;
        killSent = true;
        sendKill();
      } else {
        waitMs = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
      }
    }
    const int r = ::poll(pfds.data(), pfds.size(), waitMs);
    if (r < 0 && errno != EINTR) {
      spdlog::error("contract executor: poll: {}", std::strerror(errno));
      killSent = true;
      sendKill();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (r <= 0) continue;
    bool initGone = false;
    for (std::size_t k = 0; k < pfds.size(); ++k) {
      const short re = pfds[k].revents;
      if (re == 0) continue;
      const auto [tag, i] = tags[k];
      switch (tag) {
        case kPid:
          initGone = true;
          break;
        case kWake: {
          std::uint64_t v;
          while (::read(wake.get(), &v, sizeof v) > 0) {
          }
          break;
        }
        case kReport:
          readReports();
          break;
        case kNpl:
          if (re & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) readNpl(false);
          break;
        case kCtl:
          readControl(false);
          break;
        case kUser:
          readUser(users[i], false);
          break;
      }
    }
    flushNpl();
    if (initGone) return;
  }
}

void Execution::State::finish(std::chrono::steady_clock::time_point t0) {
  int st = 0;
  while (::waitpid(init.pid, &st, __WALL) < 0 && errno == EINTR) {
  }
  result.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  // Every process of the namespace is gone: what they wrote is all queued. Drain it.
  readReports();
  for (auto& u : users) readUser(u, true);
  readNpl(true);
  readControl(true);
  closeNpl();
  ctl.reset();
  init.report.reset();
  if (!startedSet)
    setStarted(Error(std::string("contract ") + binPath +
                     ": the execution ended before the contract started" + (timedOut ? " (timed out)" : "")));
  if (exited) {
    timedOut = false;  // it ended by itself, whatever the clock said
    if (WIFEXITED(waitStatus)) result.exitCode = WEXITSTATUS(waitStatus);
    if (WIFSIGNALED(waitStatus)) result.signal = WTERMSIG(waitStatus);
  } else {
    result.signal = SIGKILL;
  }
  result.timedOut = timedOut;
  for (auto& u : users) {
    u.fd.reset();
    result.outputs.emplace_back(std::move(u.pk), std::move(u.msgs));
  }
}

Execution::Execution(std::unique_ptr<State> s) : s_(std::move(s)) {}

Execution::~Execution() {
  kill();
  if (s_->thread.joinable()) s_->thread.join();
}

Result<std::unique_ptr<Execution>> Execution::start(const ExecRequest& req, ExecCallbacks cb) {
  SASHI_TRY(validate(req));
  const FdLayout layout = layoutFor(req);
  const InputRanges ranges = inputRanges(req);
  auto s = std::make_unique<State>();
  s->cb = std::move(cb);
  s->limits = req.limits;
  s->binPath = req.binPath;
  SpawnPlan& plan = s->plan;
  plan.path = req.binPath;
  plan.argvStore.push_back(req.binPath);
  plan.argvStore.insert(plan.argvStore.end(), req.binArgs.begin(), req.binArgs.end());
  for (const auto& [k, v] : req.env) plan.envStore.push_back(k + "=" + v);
  finishPlan(plan);
  plan.cwd = req.cwd;
  plan.readOnlyDir = req.readOnlyDir;
  if (!req.readOnlyDir.empty()) {
    std::ifstream in("/proc/self/mountinfo");
    const std::string mountinfo((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    plan.readOnlyFallback = remountPlan(mountinfo, req.readOnlyDir);
    if (!req.readOnlySource.empty()) {
      // Bound over readOnlyDir: the source's mount (flags) is what the remount meets there.
      plan.readOnlySource = req.readOnlySource;
      auto view = remountPlan(mountinfo, req.readOnlySource);
      view.resize(1);
      view[0].path = req.readOnlyDir;
      plan.readOnlyFallback = std::move(view);
    }
  }
  plan.uid = req.uid;
  plan.gid = req.gid;
  plan.limits = req.limits;

  // The contract's ends, by fd number.
  std::vector<UniqueFd> ends(static_cast<std::size_t>(layout.count));
  {
    const std::string doc = renderStdin(req, layout, ranges);
    auto in = sealedMemfd("hp-stdin", {core::asBytes(doc)});
    if (!in) return in.error().context("contract stdin");
    ends[FdLayout::kStdin] = std::move(*in);
  }
  {
    std::vector<core::ByteView> parts;
    for (const auto& u : req.users)
      for (const auto& i : u.inputs) parts.emplace_back(i);
    auto in = sealedMemfd("hp-user-in", parts);
    if (!in) return in.error().context("contract user inputs");
    ends[FdLayout::kUserIn] = std::move(*in);
  }
  UniqueFd devNull;
  if (req.stdoutFd < 0 || req.stderrFd < 0) {
    devNull = UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!devNull.valid()) return Error::fromErrno("open /dev/null");
  }
  for (auto [target, fd] :
       {std::pair{FdLayout::kStdout, req.stdoutFd}, std::pair{FdLayout::kStderr, req.stderrFd}}) {
    auto d = dupAbove(fd >= 0 ? fd : devNull.get(), 0);
    if (!d) return d.error().context("contract stdout/stderr");
    ends[static_cast<std::size_t>(target)] = std::move(*d);
  }
  {
    auto p = socketPair(SOCK_SEQPACKET);
    if (!p) return p.error().context("contract control socket");
    s->ctl = std::move(p->first);
    ends[FdLayout::kControl] = std::move(p->second);
  }
  if (layout.npl >= 0) {
    auto p = socketPair(SOCK_SEQPACKET);
    if (!p) return p.error().context("contract NPL socket");
    s->npl = std::move(p->first);
    ends[static_cast<std::size_t>(layout.npl)] = std::move(p->second);
    s->nplOpen = true;
  }
  for (std::size_t i = 0; i < req.users.size(); ++i) {
    auto p = socketPair(SOCK_STREAM);
    if (!p) return p.error().context("contract output socket");
    s->users.push_back(UserOut{req.users[i].pubkeyHex,
                               std::move(p->first),
                               FrameReader(req.limits.userOutputBytes, kMaxOutputFrame),
                               {}});
    ends[static_cast<std::size_t>(layout.userOut[i])] = std::move(p->second);
  }
  for (auto& e : ends) {
    auto d = dupAbove(e.get(), layout.count);  // so that placing fd i never overwrites a source
    if (!d) return d.error();
    plan.src.push_back(std::move(*d));
    e.reset();
  }
  s->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!s->wake.valid()) return Error::fromErrno("eventfd");
  if (!req.logHeader.empty()) {
    if (req.stdoutFd >= 0) writeAll(req.stdoutFd, req.logHeader);
    if (req.stderrFd >= 0 && req.stderrFd != req.stdoutFd) writeAll(req.stderrFd, req.logHeader);
  }

  auto fut = s->started.get_future();
  State* raw = s.get();
  s->thread = std::thread([raw] { raw->run(); });
  auto st = fut.get();
  if (!st) {
    raw->sendKill();
    raw->thread.join();
    return st.error();
  }
  return std::unique_ptr<Execution>(new Execution(std::move(s)));
}

void Execution::deliverNpl(const std::string& senderHex, core::Bytes data) {
  if (!isHexPk(senderHex) || data.empty() || data.size() > kMaxSeqPacket) return;
  std::lock_guard lk(s_->mu);
  if (!s_->nplOpen || s_->queued + data.size() > kMaxQueuedNplBytes) return;
  s_->queued += data.size();
  s_->queue.push_back({senderHex, std::move(data)});
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(s_->wake.get(), &one, sizeof one);
}

ExecResult Execution::wait() {
  if (s_->thread.joinable()) s_->thread.join();
  return std::move(s_->result);
}

void Execution::kill() { s_->sendKill(); }

Isolation Execution::isolation() const { return s_->init.isolation; }

Result<ExecResult> execute(const ExecRequest& req, ExecCallbacks cb) {
  auto e = Execution::start(req, std::move(cb));
  if (!e) return e.error();
  return (*e)->wait();
}

}  // namespace sashimono::runtime
