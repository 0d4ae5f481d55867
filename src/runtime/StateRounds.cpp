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
#include <functional>
#include <mutex>
#include <optional>

#include "sashimono/core/Base64.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/core/Log.h"
#include "sashimono/statefs/ControlProtocol.h"
#include "sashimono/statefs/StateTree.h"
#include "sashimono/statefs/SyncMessage.h"
#include "sashimono/statefs/SyncSource.h"

namespace sashimono::runtime {
namespace {

// An encoded error response to `request` (what a peer is told when the state cannot answer).
core::Result<core::Bytes> refusal(const statefs::SyncRequest& request, const std::string& why) {
  statefs::SyncResponse r;
  r.op = request.op;
  r.error = why.empty() ? std::string("refused") : why.substr(0, statefs::kMaxSyncError);
  return statefs::encodeSyncResponse(r);
}

void logSync(const Hash& root, const statefs::SyncResult& r) {
  spdlog::info(
      "state sync: now at {}: fetched {} block(s) ({} bytes), {} listing page(s), {} block-hash page(s), "
      "{} symlink(s); {} entr(ies) copied locally; {} commit step(s)",
      core::toHexLower(root), r.blocks, r.bytes, r.listings, r.blockHashPages, r.symlinks, r.reused, r.steps);
}

class LocalStateRounds final : public StateRounds {
 public:
  LocalStateRounds(std::string dir, std::string staging)
      : dir_(std::move(dir)), staging_(std::move(staging)) {}

  core::Result<Hash> root() override {
    std::lock_guard lock(mu_);
    return rootLocked();
  }
  core::Result<Hash> commit() override { return root(); }

  core::Result<core::Bytes> answerSync(core::ByteView request) override {
    auto req = statefs::decodeSyncRequest(request);
    if (!req.ok()) return req.error();
    std::lock_guard lock(mu_);
    if (!tree_) {
      auto built = rootLocked();
      if (!built.ok()) return refusal(*req, built.error().message);
    }
    auto source = statefs::LocalSyncSource::open(dir_, *tree_);
    if (!source.ok()) return refusal(*req, source.error().message);
    return statefs::encodeSyncResponse(statefs::answerSyncRequest(*source, *req));
  }

  core::Result<Hash> syncTo(const Hash& target, const SyncFetch& fetch,
                            statefs::SyncResult* counts) override {
    std::lock_guard lock(mu_);
    auto before = rootLocked();  // the state now: the tree syncTo starts from
    if (!before.ok()) return before.error();
    statefs::MessageSyncSource peer([&fetch](const core::Bytes& r) { return fetch(r); });
    statefs::SyncOptions options;
    options.stagingDir = staging_;
    auto r = statefs::syncTo(dir_, *tree_, target, peer, options);
    if (!r.ok()) {
      if (tree_->root() != *before || tree_->dirty()) tree_.reset();  // hashed anew next time
      return r.error();
    }
    logSync(tree_->root(), *r);
    if (counts != nullptr) *counts = *r;
    return tree_->root();
  }

 private:
  core::Result<Hash> rootLocked() {
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

  std::string dir_;
  std::string staging_;
  std::mutex mu_;  // the tree: answerSync may come from another thread
  std::optional<statefs::StateTree> tree_;
};

// One connection to a statefs control socket: a request line, its answer line (and, for a
// dialog, the lines between: "need …" from the daemon, each answered by the client).
class ControlClient {
 public:
  // Answers a "need <data>" line of a dialog with the line to send back.
  using Reply = std::function<std::string(std::string_view data)>;

  ControlClient(std::string path, std::chrono::milliseconds timeout)
      : path_(std::move(path)), timeout_(timeout) {}
  ~ControlClient() { disconnect(); }
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // The answer's data ("ok DATA"); "error M" is the error M. A transport error before any
  // answer line drops the connection and is retried once on a new one (a daemon restarted
  // meanwhile). With `reply`, each "need" line before the answer is answered with reply(data).
  core::Result<std::string> ask(const std::string& request, const Reply& reply = {}) {
    bool heard = false;
    auto first = once(request, reply, heard);
    if (first.ok() || fd_ >= 0 || heard) return first;  // an answer, even an error answer, is final
    spdlog::warn("statefs control: {}; connecting again", first.error().message);
    return once(request, reply, heard);
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

  core::Status sendLine(const std::string& text, const std::string& what) {
    const std::string line = text + "\n";
    std::size_t off = 0;
    while (off < line.size()) {
      const ssize_t n = ::send(fd_, line.data() + off, line.size() - off, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int e = n < 0 ? errno : EPIPE;
        disconnect();
        return core::Error::fromErrno("statefs control socket: sending " + what, e);
      }
      off += static_cast<std::size_t>(n);
    }
    return {};
  }

  core::Result<std::string> readLine(const std::string& what) {
    std::size_t nl;
    while ((nl = buffer_.find('\n')) == std::string::npos) {
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0 || buffer_.size() > statefs::kControlMaxAnswer) {
        const int e = n < 0 ? errno : ECONNRESET;
        disconnect();
        return core::Error::fromErrno("statefs control socket: no answer to " + what, e);
      }
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

  core::Result<std::string> once(const std::string& request, const Reply& reply, bool& heard) {
    if (fd_ < 0) SASHI_TRY(connect());
    const std::string what = request.substr(0, request.find(' ', request.find(' ') + 1));  // "sync answer"
    SASHI_TRY(sendLine(request, what));
    while (true) {
      SASHI_TRY_ASSIGN(answer, readLine(what));
      heard = true;
      if (reply && answer.rfind("need ", 0) == 0) {
        SASHI_TRY(sendLine(reply(std::string_view(answer).substr(5)), "a reply to the state filesystem"));
        continue;
      }
      if (answer.rfind("error ", 0) == 0) return core::Error("statefs: " + answer.substr(6));
      if (answer == "ok") return std::string();
      if (answer.rfind("ok ", 0) != 0)
        return core::Error("statefs: unexpected answer to " + what + ": '" + answer.substr(0, 80) + "'");
      return answer.substr(3);
    }
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

// Text for a "fail" line: printable ASCII, bounded.
std::string printable(std::string_view s) {
  std::string out(s.substr(0, 1024));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return out.empty() ? std::string("failed") : out;
}

// "<64 hex> listings=N hashpages=N blocks=N bytes=N symlinks=N reused=N steps=N" (the answer to
// `sync to`; counts it does not have stay 0).
core::Result<Hash> parseSyncAnswer(std::string_view data, statefs::SyncResult& counts) {
  const auto sp = data.find(' ');
  auto root = parseCommitAnswer("ok " + std::string(data.substr(0, sp)));
  if (!root.ok() || sp == std::string_view::npos) return root;
  std::string_view rest = data.substr(sp + 1);
  while (!rest.empty()) {
    const auto end = rest.find(' ');
    const std::string_view kv = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    std::uint64_t v = 0;
    const std::string_view num = kv.substr(eq + 1);
    if (std::from_chars(num.data(), num.data() + num.size(), v).ec != std::errc()) continue;
    const std::string_view key = kv.substr(0, eq);
    if (key == "listings") counts.listings = v;
    if (key == "hashpages") counts.blockHashPages = v;
    if (key == "blocks") counts.blocks = v;
    if (key == "bytes") counts.bytes = v;
    if (key == "symlinks") counts.symlinks = v;
    if (key == "reused") counts.reused = v;
    if (key == "steps") counts.steps = v;
  }
  return root;
}

class StatefsStateRounds final : public StateRounds {
 public:
  StatefsStateRounds(std::string path, std::chrono::milliseconds timeout)
      : client_(path, timeout), answers_(path, timeout) {}

  core::Result<core::Bytes> answerSync(core::ByteView request) override {
    auto req = statefs::decodeSyncRequest(request);
    if (!req.ok()) return req.error();
    std::lock_guard lock(answersMu_);  // its own connection: any thread, beside the round engine
    auto a = answers_.ask("sync answer " + core::encodeBase64(request));
    if (!a.ok()) return refusal(*req, a.error().message);
    auto bytes = core::decodeBase64(*a);
    if (!bytes.ok()) return refusal(*req, "the state filesystem's answer is not base64");
    return bytes;
  }

  core::Result<Hash> syncTo(const Hash& target, const SyncFetch& fetch,
                            statefs::SyncResult* counts) override {
    if (open_) return core::Error("state sync: a round is open (sync runs between rounds)");
    auto a = client_.ask("sync to " + core::toHexLower(target), [&fetch](std::string_view need) {
      auto request = core::decodeBase64(need);
      if (!request.ok()) return std::string("fail the state filesystem's request is not base64");
      auto response = fetch(*request);
      if (!response.ok()) return "fail " + printable(response.error().message);
      if (response->size() > statefs::kMaxSyncResponseBytes)
        return std::string("fail the peer's response is larger than any sync message");
      return "have " + core::encodeBase64(*response);
    });
    if (!a.ok()) return a.error();
    statefs::SyncResult r;
    auto root = parseSyncAnswer(*a, r);
    if (!root.ok()) return root.error();
    if (*root != target)
      return core::Error("state sync: the state filesystem answered the root " + core::toHexLower(*root) +
                         ", not the target " + core::toHexLower(target));
    logSync(*root, r);
    if (counts != nullptr) *counts = r;
    return root;
  }

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
  bool canUndo() const override { return !noRounds_; }
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
  std::mutex answersMu_;
  ControlClient answers_;  // answerSync's connection (made at its first use)
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

std::unique_ptr<StateRounds> makeLocalStateRounds(std::string dir, std::string stagingDir) {
  return std::make_unique<LocalStateRounds>(std::move(dir), std::move(stagingDir));
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
