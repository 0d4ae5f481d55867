#include "sashimono/runtime/StateRounds.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <optional>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Log.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::runtime {
namespace {

class LocalStateRounds final : public StateRounds {
 public:
  explicit LocalStateRounds(std::string dir) : dir_(std::move(dir)) {}

  core::Result<Hash> root() override {
    if (tree_) {
      auto st = tree_->rescan();
      if (st.ok()) {
        auto root = tree_->refresh();
        if (root.ok()) return *root;
        st = root.error();
      }
      spdlog::warn("state hash: the tree of {} could not be updated ({}); hashing it anew", dir_,
                   st.error().message);
      tree_.reset();
    }
    auto built = statefs::StateTree::build(dir_);
    if (!built.ok()) return built.error().context("hashing " + dir_);
    tree_.emplace(std::move(built).value());
    return tree_->root();
  }
  core::Result<Hash> commit() override { return root(); }

 private:
  std::string dir_;
  std::optional<statefs::StateTree> tree_;
};

// One connection to a statefs control socket: a request line, its answer line.
class ControlClient {
 public:
  ControlClient(std::string path, std::chrono::milliseconds timeout)
      : path_(std::move(path)), timeout_(timeout) {}
  ~ControlClient() { disconnect(); }
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // The answer's data ("ok DATA"); "error M" is the error M. A transport error drops the
  // connection and is retried once on a new one (a daemon restarted meanwhile).
  core::Result<std::string> ask(const std::string& request) {
    auto first = once(request);
    if (first.ok() || fd_ >= 0) return first;  // an answer, even an error answer, is final
    spdlog::warn("statefs control: {}; connecting again", first.error().message);
    return once(request);
  }

 private:
  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  core::Status connect() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path)
      return core::Error("statefs control socket path too long: " + path_);
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return core::Error::fromErrno("statefs control socket");
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout_.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout_.count() % 1000) * 1000);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      const int e = errno;
      ::close(fd);
      return core::Error::fromErrno("connecting to the statefs control socket " + path_, e);
    }
    fd_ = fd;
    buffer_.clear();
    return {};
  }

  core::Result<std::string> once(const std::string& request) {
    if (fd_ < 0) SASHI_TRY(connect());
    const std::string line = request + "\n";
    if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
      const int e = errno;
      disconnect();
      return core::Error::fromErrno("statefs control socket: sending " + request, e);
    }
    while (buffer_.find('\n') == std::string::npos) {
      char buf[512];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || buffer_.size() > 4096) {
        const int e = n < 0 ? errno : ECONNRESET;
        disconnect();
        return core::Error::fromErrno("statefs control socket: no answer to " + request, e);
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
    const auto nl = buffer_.find('\n');
    std::string answer = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!answer.empty() && answer.back() == '\r') answer.pop_back();
    if (answer.rfind("error ", 0) == 0) return core::Error("statefs: " + answer.substr(6));
    if (answer == "ok") return std::string();
    if (answer.rfind("ok ", 0) != 0)
      return core::Error("statefs: unexpected answer to " + request + ": '" + answer.substr(0, 80) + "'");
    return answer.substr(3);
  }

  std::string path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
};

core::Result<Hash> hashOf(const core::Result<std::string>& data) {
  if (!data.ok()) return data.error();
  return parseCommitAnswer("ok " + *data);
}

class StatefsStateRounds final : public StateRounds {
 public:
  StatefsStateRounds(std::string path, std::chrono::milliseconds timeout)
      : client_(std::move(path), timeout) {}

  core::Status begin(const LedgerRecord& lcl) override {
    if (noRounds_) return {};
    auto h = hashOf(client_.ask("begin"));
    if (!h.ok() && h.error().message.find("a round is already open") != std::string::npos) {
      // A round an earlier error left open: ended as at start, then the new round.
      SASHI_TRY(recover(lcl));
      h = hashOf(client_.ask("begin"));
    }
    if (!h.ok() && h.error().message.find("undo directory") != std::string::npos) {
      noRounds_ = true;  // an older host: no undo log, so nothing to roll back
      spdlog::warn("state: the state filesystem keeps no undo log; rounds cannot be rolled back");
      return {};
    }
    if (!h.ok()) return h.error();
    open_ = true;
    return {};
  }
  bool inRound() const override { return open_; }
  core::Result<Hash> root() override { return hashOf(client_.ask("root")); }
  core::Result<Hash> commit() override {
    auto h = hashOf(client_.ask("commit"));
    if (h.ok()) open_ = false;
    return h;
  }
  core::Result<Hash> rollback() override {
    auto h = hashOf(client_.ask("rollback"));
    if (h.ok() || h.error().message.find("no round is open") != std::string::npos) open_ = false;
    return h;
  }
  core::Status recover(const LedgerRecord& lcl) override {
    auto status = client_.ask("status");
    if (!status.ok()) {
      if (status.error().message.find("unknown request") != std::string::npos) return {};  // no rounds
      return status.error().context("asking the state filesystem whether a round is open");
    }
    if (status->rfind("round", 0) != 0) return {};
    open_ = true;
    auto now = root();
    if (now.ok() && lcl.seqNo > 0 && *now == lcl.stateHash) {
      // The ledger was stored, the commit never came: the round is the ledger's.
      spdlog::warn("state: a round was left open; its state is ledger {}'s: committing it", lcl.seqNo);
      auto h = commit();
      return h.ok() ? core::Status() : core::Status(h.error().context("committing the open round"));
    }
    spdlog::warn("state: a round was left open (no ledger closed it): rolling it back");
    auto h = rollback();
    if (!h.ok()) return h.error().context("rolling back the open round");
    if (lcl.seqNo > 0 && *h != lcl.stateHash)
      spdlog::error("state: the committed state {} is not ledger {}'s state {}", core::toHexLower(*h),
                    lcl.seqNo, core::toHexLower(lcl.stateHash));
    return {};
  }

 private:
  ControlClient client_;
  bool open_ = false;
  bool noRounds_ = false;
};

class StatefsViews final : public StateViews {
 public:
  StatefsViews(std::string path, std::string dir, std::chrono::milliseconds timeout)
      : client_(std::move(path), timeout), dir_(std::move(dir)) {}

  core::Result<View> open() override {
    std::lock_guard lock(mu_);
    auto a = client_.ask("view open");
    if (!a.ok()) return a.error();
    View v;
    const auto sp = a->find(' ');
    const std::string id = a->substr(0, sp);
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), v.id);
    if (id.empty() || ec != std::errc() || end != id.data() + id.size())
      return core::Error("statefs: unexpected answer to view open: '" + a->substr(0, 80) + "'");
    v.dir = dir_ + "/" + id;
    struct stat st {};
    if (::stat(v.dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      const int e = errno;
      (void)client_.ask("view close " + id);
      return core::Error::fromErrno("the view " + v.dir + " is not there (no views mount?)", e);
    }
    return v;
  }
  void close(const View& v) override {
    std::lock_guard lock(mu_);
    auto a = client_.ask("view close " + std::to_string(v.id));
    if (!a.ok() && a.error().message.find("no open view") == std::string::npos)
      spdlog::warn("closing the view {}: {}", v.id, a.error().message);
  }

 private:
  std::mutex mu_;
  ControlClient client_;
  std::string dir_;
};

}  // namespace

std::unique_ptr<StateRounds> makeLocalStateRounds(std::string dir) {
  return std::make_unique<LocalStateRounds>(std::move(dir));
}

std::unique_ptr<StateRounds> makeStatefsStateRounds(std::string socketPath,
                                                    std::chrono::milliseconds timeout) {
  return std::make_unique<StatefsStateRounds>(std::move(socketPath), timeout);
}

std::unique_ptr<StateViews> makeStatefsViews(std::string socketPath, std::string viewsDir,
                                             std::chrono::milliseconds timeout) {
  return std::make_unique<StatefsViews>(std::move(socketPath), std::move(viewsDir), timeout);
}

core::Result<Hash> parseCommitAnswer(std::string_view line) {
  if (line.rfind("error ", 0) == 0) return core::Error("statefs: " + std::string(line.substr(6)));
  if (line.size() != 3 + 64 || line.rfind("ok ", 0) != 0)
    return core::Error("statefs: unexpected answer: '" + std::string(line.substr(0, 80)) + "'");
  const auto hex = line.substr(3);
  if (!std::all_of(hex.begin(), hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return core::Error("statefs: the answer is not 64 lowercase hex digits");
  auto bytes = core::fromHex(hex);
  if (!bytes.ok() || bytes->size() != 32) return core::Error("statefs: the answer is not a hash");
  Hash h{};
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

}  // namespace sashimono::runtime
