#include "sashimono/runtime/StateHashSource.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Log.h"
#include "sashimono/statefs/StateTree.h"

namespace sashimono::runtime {
namespace {

class LocalStateHash final : public StateHashSource {
 public:
  explicit LocalStateHash(std::string dir) : dir_(std::move(dir)) {}

  core::Result<Hash> commit() override {
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

 private:
  std::string dir_;
  std::optional<statefs::StateTree> tree_;
};

class StatefsStateHash final : public StateHashSource {
 public:
  StatefsStateHash(std::string path, std::chrono::milliseconds timeout)
      : path_(std::move(path)), timeout_(timeout) {}
  ~StatefsStateHash() override { disconnect(); }

  core::Result<Hash> commit() override {
    auto first = ask("commit");
    if (first.ok() || fd_ >= 0) return first;  // an answer, even an error answer, is final
    spdlog::warn("state hash: {}; connecting again", first.error().message);
    return ask("commit");
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

  // Sends one request; the hash of its answer. The connection is dropped on a transport error.
  core::Result<Hash> ask(const std::string& verb) {
    if (fd_ < 0) SASHI_TRY(connect());
    const std::string line = verb + "\n";
    if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
      const int e = errno;
      disconnect();
      return core::Error::fromErrno("statefs control socket: sending " + verb, e);
    }
    while (buffer_.find('\n') == std::string::npos) {
      char buf[512];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || buffer_.size() > 4096) {
        const int e = n < 0 ? errno : ECONNRESET;
        disconnect();
        return core::Error::fromErrno("statefs control socket: no answer to " + verb, e);
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
    const auto nl = buffer_.find('\n');
    std::string answer = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!answer.empty() && answer.back() == '\r') answer.pop_back();
    return parseCommitAnswer(answer);
  }

  std::string path_;
  std::chrono::milliseconds timeout_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<StateHashSource> makeLocalStateHash(std::string dir) {
  return std::make_unique<LocalStateHash>(std::move(dir));
}

std::unique_ptr<StateHashSource> makeStatefsStateHash(std::string socketPath,
                                                      std::chrono::milliseconds timeout) {
  return std::make_unique<StatefsStateHash>(std::move(socketPath), timeout);
}

core::Result<Hash> parseCommitAnswer(std::string_view line) {
  if (line.rfind("error ", 0) == 0) return core::Error("statefs: " + std::string(line.substr(6)));
  if (line.size() != 3 + 64 || line.rfind("ok ", 0) != 0)
    return core::Error("statefs: unexpected answer to commit: '" + std::string(line.substr(0, 80)) + "'");
  const auto hex = line.substr(3);
  if (!std::all_of(hex.begin(), hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return core::Error("statefs: the answer to commit is not 64 lowercase hex digits");
  auto bytes = core::fromHex(hex);
  if (!bytes.ok() || bytes->size() != 32) return core::Error("statefs: the answer to commit is not a hash");
  Hash h{};
  std::copy(bytes->begin(), bytes->end(), h.begin());
  return h;
}

}  // namespace sashimono::runtime
