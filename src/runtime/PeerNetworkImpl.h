#pragma once
// PeerNetwork's insides (PeerNetwork.h has the contract): its state and the handling of
// connections, shared by PeerNetwork.cpp (start, stop and the public members).
#include "sashimono/runtime/PeerNetwork.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include "sashimono/crypto/Random.h"
#include "sashimono/net/TlsCert.h"
#include "sashimono/net/WsClient.h"
#include "sashimono/net/WsServer.h"

namespace sashimono::runtime {

namespace peernet {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline constexpr auto kTick = milliseconds(25);
inline constexpr auto kIdleTimeout = std::chrono::seconds(30);
inline constexpr const char* kPath = "/sashimono-peer/1";

inline std::size_t maxPeerMessageBytes() {
  std::size_t m = 0;
  for (std::size_t t = 1; t <= kPeerTypeCount; ++t) m = std::max(m, peerSizeLimit(static_cast<PeerType>(t)));
  return m;
}

inline std::string keyText(const PubKey& k) { return core::toHexLower(k); }

// Tokens refill at `rate` per second up to `rate` (one second of burst); full at the start.
struct Bucket {
  double tokens = -1;
  Clock::time_point last{};
  bool take(double n, double rate, Clock::time_point now) {
    if (tokens < 0) {
      tokens = rate;
    } else {
      tokens = std::min(rate, tokens + rate * std::chrono::duration<double>(now - last).count());
    }
    last = now;
    if (tokens < n) return false;
    tokens -= n;
    return true;
  }
};

}  // namespace peernet

using peernet::Bucket;
using peernet::Clock;
using peernet::keyText;
using peernet::kPath;
using peernet::kTick;
using peernet::maxPeerMessageBytes;
using peernet::milliseconds;

struct PeerNetwork::Impl {
  struct Link {
    bool outbound = false;
    PubKey target{};    // outbound: the key dialled (zero for a probe)
    std::string probe;  // outbound to an endpoint of unknown key (setProbes): that endpoint
    std::string address;
    std::shared_ptr<net::WsSession> session;  // inbound
    std::unique_ptr<net::WsClient> client;    // outbound, once connected
    std::deque<std::string> pending;          // outbound, queued before the client is set
    Challenge challenge{};
    std::optional<PubKey> peer;  // from the other's hello
    bool admitted = false;
    bool closed = false;
    Clock::time_point deadline = Clock::time_point::max();
    Bucket messages, bytes;
  };
  using LinkPtr = std::shared_ptr<Link>;
  struct Event {
    PubKey key;
    bool up;
  };
  struct PeerState {
    std::string host;
    std::uint16_t port = 0;
    milliseconds backoff{};
    Clock::time_point nextDial{};
  };
  struct Probe {
    std::optional<PubKey> key;  // learned from its hello
    milliseconds backoff{};
    Clock::time_point nextDial{};
    std::optional<Clock::time_point> missingSince;  // since when its key has had no connection
  };
  struct Dial {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  class Handler : public net::WsHandler {
   public:
    explicit Handler(Impl& impl) : impl_(impl) {}
    void onOpen(const std::shared_ptr<net::WsSession>& s) override { impl_.onOpen(s); }
    void onMessage(const std::shared_ptr<net::WsSession>& s, std::string&& m) override {
      LinkPtr link;
      {
        std::lock_guard lock(impl_.mu);
        auto it = impl_.inbound.find(s->id());
        if (it != impl_.inbound.end()) link = it->second;
      }
      if (link) impl_.process(link, std::move(m));
    }
    void onClose(const std::shared_ptr<net::WsSession>& s) override { impl_.onClose(s); }

   private:
    Impl& impl_;
  };

  Impl(PeerNetworkOptions o, const InstanceKey& k, MessageFn m, LinkFn l)
      : options(std::move(o)), key(k), onMessageFn(std::move(m)), onLinkFn(std::move(l)) {}

  PeerNetworkOptions options;
  InstanceKey key;
  MessageFn onMessageFn;
  LinkFn onLinkFn;
  const std::size_t maxBytes = maxPeerMessageBytes();

  // Lock order: cbMu (held while state changes that make callbacks happen, and while they run),
  // then mu (the state). Neither is held while a WsClient is destroyed or a thread joined. An
  // admitted link's message is delivered under cbMu shared: messages of different connections
  // are checked (signatures) side by side, never beside a link event, and none after stop().
  std::shared_mutex cbMu;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool stopping = false;
  bool stopped = false;
  std::map<PubKey, PeerState> peers;                   // the UNL without us
  std::unordered_map<std::uint64_t, LinkPtr> inbound;  // by session id
  std::map<PubKey, LinkPtr> outbound;                  // live dials, by the key dialled
  std::map<PubKey, LinkPtr> admitted;
  std::map<std::string, Probe> probes;                    // endpoints of unknown key, by "host:port"
  std::map<std::string, LinkPtr> probing;                 // live probe dials, by endpoint
  std::vector<std::unique_ptr<net::WsClient>> graveyard;  // closed clients, destroyed by the manager
  std::vector<Dial> dials;

  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::unique_ptr<net::WsServer> server;
  std::vector<std::thread> ioThreads;
  std::unique_ptr<net::ClientContext> clientCtx;
  std::thread manager;

  // --- helpers under mu ---

  std::string describe(const Link& l) const {
    std::string who = l.peer ? keyText(*l.peer) : l.outbound ? keyText(l.target) + "?" : "unknown key";
    return "peer " + who + " (" + l.address + (l.outbound ? ", dialled" : ", accepted") + ")";
  }

  void sendLocked(Link& l, std::string bytes) {
    if (l.session) {
      l.session->send(std::move(bytes));
    } else if (l.client) {
      (void)l.client->send(std::move(bytes));
    } else {
      l.pending.push_back(std::move(bytes));
    }
  }

  std::string helloBytes(const Link& l) const {
    return core::asString(encodePeerMessage(Hello{options.contractId, key.publicKey(), l.challenge}));
  }

  void closeLocked(const LinkPtr& l, const std::string& why, std::vector<Event>& events,
                   spdlog::level::level_enum level = spdlog::level::warn) {
    if (l->closed) return;
    l->closed = true;
    spdlog::log(level, "{}: {}, connection closed", describe(*l), why);
    if (l->admitted && l->peer) {
      auto it = admitted.find(*l->peer);
      if (it != admitted.end() && it->second == l) {
        admitted.erase(it);
        events.push_back({*l->peer, false});
      }
    }
    if (!l->probe.empty()) {
      auto it = probing.find(l->probe);
      if (it != probing.end() && it->second == l) probing.erase(it);
      auto p = probes.find(l->probe);
      if (p != probes.end()) {
        p->second.nextDial = Clock::now() + p->second.backoff;
        p->second.backoff = std::min(p->second.backoff * 2, options.maxBackoff);
      }
    } else if (l->outbound) {
      auto it = outbound.find(l->target);
      if (it != outbound.end() && it->second == l) outbound.erase(it);
      auto p = peers.find(l->target);
      if (p != peers.end()) {
        p->second.nextDial = Clock::now() + p->second.backoff;
        p->second.backoff = std::min(p->second.backoff * 2, options.maxBackoff);
      }
    }
    if (l->session) l->session->abort();
    if (l->client) graveyard.push_back(std::move(l->client));
    l->pending.clear();
    cv.notify_all();
  }

  // --- callbacks, under cbMu ---

  void fire(const std::vector<Event>& events) {
    if (!onLinkFn) return;
    for (const auto& e : events) {
      try {
        onLinkFn(e.key, e.up);
      } catch (const std::exception& ex) {
        spdlog::error("peer network: onLink threw: {}", ex.what());
      }
    }
  }

  // --- transport events ---

  void onOpen(const std::shared_ptr<net::WsSession>& s) {
    std::lock_guard lock(mu);
    if (stopping) {
      s->abort();
      return;
    }
    auto l = std::make_shared<Link>();
    l->address = s->remoteAddress();
    l->session = s;
    crypto::randomBytes(l->challenge);
    l->deadline = Clock::now() + options.handshakeTimeout;
    inbound[s->id()] = l;
    sendLocked(*l, helloBytes(*l));
  }

  void onClose(const std::shared_ptr<net::WsSession>& s) {
    std::lock_guard cb(cbMu);
    std::vector<Event> events;
    {
      std::lock_guard lock(mu);
      auto it = inbound.find(s->id());
      if (it == inbound.end()) return;
      LinkPtr l = it->second;
      inbound.erase(it);
      closeLocked(l, "closed by the peer", events, spdlog::level::info);
      l->session.reset();
      if (stopping) return;
    }
    fire(events);
  }

  // One whole message from a connection (its transport calls for one connection never overlap).
  void process(const LinkPtr& l, std::string&& data) {
    auto decoded = decodePeerMessage(core::asBytes(data));
    {  // The usual case, an admitted link's message within its rates: delivered under cbMu shared.
      std::shared_lock cb(cbMu);
      std::optional<PubKey> from;
      {
        std::lock_guard lock(mu);
        if (l->closed || stopping) return;
        if (decoded.ok() && l->admitted && !handshakeType(*decoded) && withinRates(*l, data.size()))
          from = *l->peer;
      }
      if (from) return deliver(*from, std::move(*decoded));
    }
    std::lock_guard cb(cbMu);
    std::vector<Event> events;
    std::optional<PubKey> from;
    {
      std::lock_guard lock(mu);
      if (l->closed || stopping) return;
      // An admitted link's message is here only when the rates refused it above (taken once).
      const bool refused = decoded.ok() && l->admitted && !handshakeType(*decoded);
      if (refused || !withinRates(*l, data.size())) {
        closeLocked(l,
                    "rate limit exceeded (" + std::to_string(options.maxMessagesPerSecond) + " messages, " +
                        std::to_string(options.maxBytesPerSecond) + " bytes per second)",
                    events);
      } else if (!decoded.ok()) {
        closeLocked(l, "bad message: " + decoded.error().message, events);
      } else {
        handshakeOrDeliver(l, *decoded, events, from);
      }
    }
    fire(events);
    if (from && decoded.ok()) deliver(*from, std::move(*decoded));
  }

  static bool handshakeType(const PeerMessage& m) {
    const PeerType t = peerTypeOf(m);
    return t == PeerType::hello || t == PeerType::helloAck;
  }

  // Takes one message of `bytes` from the link's buckets (mu held).
  bool withinRates(Link& l, std::size_t bytes) {
    const auto now = Clock::now();
    return l.messages.take(1, static_cast<double>(options.maxMessagesPerSecond), now) &&
           l.bytes.take(static_cast<double>(bytes), static_cast<double>(options.maxBytesPerSecond), now);
  }

  void deliver(const PubKey& from, PeerMessage&& m) {
    try {
      onMessageFn(from, std::move(m));
    } catch (const std::exception& ex) {
      spdlog::error("peer network: onMessage threw: {}", ex.what());
    }
  }

  void handshakeOrDeliver(const LinkPtr& l, const PeerMessage& m, std::vector<Event>& events,
                          std::optional<PubKey>& from) {
    const PeerType type = peerTypeOf(m);
    if (type == PeerType::hello) {
      const auto& h = std::get<Hello>(m);
      if (l->peer) return closeLocked(l, "second hello", events);
      if (h.contractId != options.contractId)
        return closeLocked(
            l, "hello for contract '" + h.contractId + "', ours is '" + options.contractId + "'", events);
      if (!l->probe.empty())  // what answers there is known from now on (ourselves, too)
        if (auto p = probes.find(l->probe); p != probes.end()) p->second.key = h.key;
      if (h.key == key.publicKey())
        return closeLocked(l, "hello with our own key", events,
                           l->probe.empty() ? spdlog::level::warn : spdlog::level::debug);
      if (!peers.count(h.key))
        return closeLocked(l, "hello from " + keyText(h.key) + ", not in the UNL", events);
      if (l->outbound && l->probe.empty() && h.key != l->target)
        return closeLocked(l, "answered with key " + keyText(h.key) + ", not the one dialled", events);
      if (!l->probe.empty() && admitted.count(h.key))
        return closeLocked(l, "probe: already connected", events, spdlog::level::debug);
      l->peer = h.key;
      sendLocked(
          *l, core::asString(encodePeerMessage(signHelloAck(key, options.contractId, h.challenge, h.key))));
      return;
    }
    if (type == PeerType::helloAck) {
      if (l->admitted) return closeLocked(l, "hello_ack after the handshake", events);
      if (!l->peer) return closeLocked(l, "hello_ack before hello", events);
      if (!verifyHelloAck(std::get<HelloAck>(m), options.contractId, l->challenge, *l->peer, key.publicKey()))
        return closeLocked(l, "hello_ack does not verify", events);
      admit(l, events);
      return;
    }
    if (!l->admitted)
      return closeLocked(l, std::string(peerTypeName(type)) + " before the handshake", events);
    from = *l->peer;
  }

  void admit(const LinkPtr& l, std::vector<Event>& events) {
    l->admitted = true;
    l->deadline = Clock::time_point::max();
    const PubKey k = *l->peer;
    auto p = peers.find(k);
    if (p != peers.end()) p->second.backoff = options.minBackoff;
    if (auto pr = probes.find(l->probe); !l->probe.empty() && pr != probes.end())
      pr->second.backoff = options.minBackoff;
    LinkPtr old;
    if (auto it = admitted.find(k); it != admitted.end()) old = it->second;
    admitted[k] = l;
    spdlog::info("{}: admitted", describe(*l));
    events.push_back({k, true});
    if (old) closeLocked(old, "replaced by a newer connection", events, spdlog::level::info);
  }

  // --- dialling (a thread per dial; blocks in WsClient::connect) ---

  void dial(const LinkPtr& l, const std::string& url) {
    net::ClientOptions o;
    o.verifyPeer = false;  // self-signed: the handshake authenticates
    o.binaryFrames = true;
    o.connectTimeout = options.handshakeTimeout;
    o.maxMessageBytes = maxBytes;
    o.context = clientCtx.get();
    o.onMessage = [this, l](std::string&& m) { process(l, std::move(m)); };
    auto c = net::WsClient::connect(url, std::move(o));
    std::unique_ptr<net::WsClient> drop;
    {
      std::lock_guard lock(mu);
      if (!c.ok()) {
        std::vector<Event> events;  // never admitted: no events
        closeLocked(l, "dial failed: " + c.error().message, events, spdlog::level::debug);
      } else if (l->closed || stopping) {
        drop = std::move(*c);
      } else {
        l->client = std::move(*c);
        for (auto& m : l->pending) (void)l->client->send(std::move(m));
        l->pending.clear();
        l->deadline = Clock::now() + options.handshakeTimeout;
      }
    }
    drop.reset();
  }

  // --- the manager thread ---

  void managerLoop() {
    for (;;) {
      std::vector<std::unique_ptr<net::WsClient>> dead;
      std::vector<std::thread> finished;
      {
        std::unique_lock lock(mu);
        cv.wait_for(lock, kTick);
        if (stopping) return;
      }
      {
        std::lock_guard cb(cbMu);
        std::vector<Event> events;
        {
          std::lock_guard lock(mu);
          if (stopping) return;
          tickLocked(events);
          dead.swap(graveyard);
          for (auto it = dials.begin(); it != dials.end();) {
            if (it->done->load()) {
              finished.push_back(std::move(it->thread));
              it = dials.erase(it);
            } else {
              ++it;
            }
          }
        }
        fire(events);
      }
      dead.clear();
      for (auto& t : finished) t.join();
    }
  }

  void tickLocked(std::vector<Event>& events) {
    const auto now = Clock::now();
    std::vector<std::pair<LinkPtr, std::string>> toClose;
    auto check = [&](const LinkPtr& l) {
      if (l->closed) return;
      const PubKey* k = l->peer ? &*l->peer : l->outbound && l->probe.empty() ? &l->target : nullptr;
      if (k && !peers.count(*k)) {
        toClose.emplace_back(l, "no longer in the UNL");
      } else if (l->client && !l->client->isOpen()) {
        toClose.emplace_back(l, "connection lost");
      } else if (!l->admitted && now >= l->deadline) {
        toClose.emplace_back(
            l, "no handshake within " + std::to_string(options.handshakeTimeout.count()) + " ms");
      }
    };
    for (auto& [id, l] : inbound) check(l);
    for (auto& [k, l] : outbound) check(l);
    for (auto& [e, l] : probing) check(l);
    for (auto& [k, l] : admitted) check(l);
    for (auto& [l, why] : toClose)
      closeLocked(l, why, events, why == "connection lost" ? spdlog::level::info : spdlog::level::warn);

    for (auto& [k, p] : peers) {
      if (!(key.publicKey() < k) || p.host.empty() || admitted.count(k) || outbound.count(k) ||
          now < p.nextDial)
        continue;
      auto l = std::make_shared<Link>();
      l->target = k;
      const bool v6 = p.host.find(':') != std::string::npos;
      l->address = (v6 ? "[" + p.host + "]" : p.host) + ":" + std::to_string(p.port);
      outbound[k] = l;
      p.nextDial = Clock::time_point::max();  // set again when this dial's link closes
      startDial(l);
    }
    // Probes: dialled while the key they answered with (if any) has no connection; when that key
    // is one that dials us (smaller than ours), only after it has had none for 2 s, so that two
    // members do not keep replacing each other's connections.
    for (auto& [e, p] : probes) {
      if (p.key && *p.key == key.publicKey()) continue;  // our own endpoint
      if (p.key && (admitted.count(*p.key) || outbound.count(*p.key))) {
        p.missingSince.reset();
        continue;
      }
      if (p.key && !p.missingSince) p.missingSince = now;
      if (probing.count(e) || now < p.nextDial ||
          (p.key && *p.key < key.publicKey() && now - *p.missingSince < std::chrono::seconds(2)))
        continue;
      auto l = std::make_shared<Link>();
      l->probe = e;
      l->address = e;
      probing[e] = l;
      p.nextDial = Clock::time_point::max();
      startDial(l);
    }
  }

  void startDial(const LinkPtr& l) {
    l->outbound = true;
    crypto::randomBytes(l->challenge);
    l->pending.push_back(helloBytes(*l));
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::string url = "wss://" + l->address + kPath;
    dials.push_back({std::thread([this, l, url, done] {
                       dial(l, url);
                       done->store(true);
                       cv.notify_all();
                     }),
                     done});
  }

  // --- start/stop (PeerNetwork.cpp) ---

  core::Result<std::uint16_t> start();
  void stop();
};

}  // namespace sashimono::runtime
