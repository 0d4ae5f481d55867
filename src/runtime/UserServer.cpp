#include "sashimono/runtime/UserServer.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/crypto/Random.h"

namespace sashimono::runtime {

namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(5);
constexpr auto kWindow = std::chrono::seconds(60);

std::string randomChallenge() {
  std::array<std::uint8_t, 16> b{};
  crypto::randomBytes(b);
  return core::toHexLower(b);
}

}  // namespace

UserServer::UserServer(boost::asio::io_context& ioc, UserPortConfig config, UserService& service)
    : ioc_(ioc), config_(std::move(config)), service_(service) {}

UserServer::~UserServer() = default;

void UserServer::start() {}

void UserServer::stop() {
  // Sessions hold the server's state, which holds this handler: drop them here, or a session
  // whose close never ran (the I/O threads stop next) would keep both alive.
  std::unordered_map<std::uint64_t, Session> dropped;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    dropped.swap(sessions_);
  }
  for (auto& [id, s] : dropped) s.ws->abort();
}

void UserServer::expireHandshake(std::uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.authed || stopped_) return;
  spdlog::debug("user session {} ({}): no handshake within 5 s, dropped", id, it->second.ws->remoteAddress());
  it->second.ws->abort();
}

void UserServer::sendTo(const Session& s, const Value& msg) { s.ws->send(render(s.protocol, msg)); }

void UserServer::onOpen(const std::shared_ptr<net::WsSession>& ws) {
  Session s;
  s.ws = ws;
  s.challenge = randomChallenge();
  s.opened = std::chrono::steady_clock::now();
  s.windowStart = s.opened;
  ws->send(renderUserChallenge(service_.contractId(), service_.contractVersion(), s.challenge));
  // One timer per session for the handshake (no periodic sweep: an idle instance sleeps).
  auto timer = std::make_shared<boost::asio::steady_timer>(ioc_, kHandshakeTimeout);
  timer->async_wait([weak = weak_from_this(), id = ws->id(), timer](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->expireHandshake(id);
  });
  std::lock_guard lock(mu_);
  if (stopped_) {
    ws->abort();
    return;
  }
  sessions_.emplace(ws->id(), std::move(s));
}

void UserServer::onClose(const std::shared_ptr<net::WsSession>& ws) {
  std::lock_guard lock(mu_);
  sessions_.erase(ws->id());
}

bool UserServer::countBad(Session& s) {
  ++s.windowBad;
  if (config_.maxBadMsgsPerMin != 0 && s.windowBad > config_.maxBadMsgsPerMin) {
    spdlog::info("user session {} ({}): more than {} bad messages a minute, disconnected", s.ws->id(),
                 s.ws->remoteAddress(), config_.maxBadMsgsPerMin);
    s.ws->abort();
    return true;
  }
  return false;
}

void UserServer::onMessage(const std::shared_ptr<net::WsSession>& ws, std::string&& data) {
  std::unique_lock lock(mu_);
  auto it = sessions_.find(ws->id());
  if (it == sessions_.end()) return;
  Session& s = it->second;
  auto now = std::chrono::steady_clock::now();
  if (now - s.windowStart >= kWindow) {
    s.windowStart = now;
    s.windowBytes = 0;
    s.windowBad = 0;
  }
  s.windowBytes += data.size();
  if (config_.maxBytesPerMin != 0 && s.windowBytes > config_.maxBytesPerMin) {
    spdlog::info("user session {} ({}): more than {} bytes a minute, disconnected", ws->id(),
                 ws->remoteAddress(), config_.maxBytesPerMin);
    ws->abort();
    return;
  }
  if (!s.authed) {
    handshake(s, data);
    return;
  }
  // Copy what the handlers need, then leave the lock: the service may call back into us.
  Session snapshot = s;
  lock.unlock();
  handle(snapshot, data);
}

void UserServer::handshake(Session& s, const std::string& data) {
  auto r = parseChallengeResponse(data);
  if (!r) {
    spdlog::debug("user session {} ({}): bad handshake: {}", s.ws->id(), s.ws->remoteAddress(),
                  r.error().message);
    s.ws->abort();
    return;
  }
  if (!crypto::verify(r->pubkey, core::asBytes(s.challenge), r->sig).ok()) {
    spdlog::debug("user session {} ({}): handshake signature does not verify", s.ws->id(),
                  s.ws->remoteAddress());
    s.ws->abort();
    return;
  }
  s.authed = true;
  s.user = r->pubkey;
  s.protocol = r->protocol;
  if (r->serverChallenge) {
    std::string signedText = *r->serverChallenge + service_.contractId() + service_.contractVersion();
    auto sig = service_.sign(core::asBytes(signedText));
    s.ws->send(renderServerChallengeResponse(sig, service_.publicKey(), service_.unl()));
  }
  spdlog::debug("user session {} ({}): user {} connected ({})", s.ws->id(), s.ws->remoteAddress(),
                hexKey(s.user), protocolName(s.protocol));
}

void UserServer::handle(Session& s, const std::string& data) {
  auto bad = [&] {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(s.ws->id());
    if (it != sessions_.end()) countBad(it->second);
  };
  auto msg = parseClientMessage(s.protocol, data);
  if (!msg) {
    const auto why = clientErrorOf(msg.error());
    if (why == ClientError::badMsgFormat || why == ClientError::invalidMsgType ||
        why == ClientError::badRead) {
      // Hot Pocket answers a malformed read request like an unparseable message (sheet 2.9);
      // malformed subscriptions and ledger queries get no answer.
      core::Bytes hash;
      sendTo(s, inputStatusRejected(
                    hash, clientErrorName(why == ClientError::badRead ? ClientError::badMsgFormat : *why)));
    }
    spdlog::debug("user session {}: {}", s.ws->id(), msg.error().message);
    bad();
    return;
  }
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, ContractInputMsg>) {
          auto hash = crypto::blake3(m.sig);
          auto reason = service_.submitInput(s.user, s.protocol, m, hash);
          if (reason) {
            sendTo(s, inputStatusRejected(hash, *reason));
            if (*reason == "bad_msg_format" || *reason == "bad_sig") bad();
          }
        } else if constexpr (std::is_same_v<T, ReadRequestMsg>) {
          service_.readRequest(s.ws->id(), s.user, s.protocol, std::move(m));
        } else if constexpr (std::is_same_v<T, StatMsg>) {
          sendTo(s, statResponseMsg(service_.stat()));
        } else if constexpr (std::is_same_v<T, LclMsg>) {
          auto [seq, hash] = service_.lcl();
          sendTo(s, lclResponseMsg(seq, hash));
        } else if constexpr (std::is_same_v<T, SubscriptionMsg>) {
          std::lock_guard lock(mu_);
          auto it = sessions_.find(s.ws->id());
          if (it == sessions_.end()) return;
          if (m.channel == "unl_change") it->second.subUnl = m.enabled;
          if (m.channel == "ledger_event") it->second.subLedger = m.enabled;
          if (m.channel == "health_event") it->second.subHealth = m.enabled;
        } else if constexpr (std::is_same_v<T, LedgerQueryMsg>) {
          service_.ledgerQuery(s.ws->id(), std::move(m));
        }
      },
      *msg);
}

void UserServer::sendToUser(const PubKey& user, const std::function<Value(Protocol)>& make) {
  std::lock_guard lock(mu_);
  std::optional<Value> json, bson;
  for (auto& [id, s] : sessions_) {
    if (!s.authed || s.user != user) continue;
    auto& cached = s.protocol == Protocol::Json ? json : bson;
    if (!cached) cached = make(s.protocol);
    sendTo(s, *cached);
  }
}

void UserServer::sendToSession(std::uint64_t sessionId, const std::function<Value(Protocol)>& make) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(sessionId);
  if (it == sessions_.end() || !it->second.authed) return;
  sendTo(it->second, make(it->second.protocol));
}

void UserServer::publish(const std::string& channel, const Value& msg) {
  std::lock_guard lock(mu_);
  std::shared_ptr<const std::string> json, bson;
  for (auto& [id, s] : sessions_) {
    bool on = channel == "unl_change" ? s.subUnl : channel == "ledger_event" ? s.subLedger : s.subHealth;
    if (!s.authed || !on) continue;
    auto& cached = s.protocol == Protocol::Json ? json : bson;
    if (!cached) cached = std::make_shared<const std::string>(render(s.protocol, msg));
    s.ws->send(cached);
  }
}

std::vector<PubKey> UserServer::connectedUsers() const {
  std::lock_guard lock(mu_);
  std::vector<PubKey> out;
  for (const auto& [id, s] : sessions_)
    if (s.authed) out.push_back(s.user);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::size_t UserServer::sessionCount() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

}  // namespace sashimono::runtime
