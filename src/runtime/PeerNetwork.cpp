#include "PeerNetworkImpl.h"

#include <stdlib.h>

#include <filesystem>
#include <thread>

#include <spdlog/spdlog.h>

#include "sashimono/net/TlsCert.h"

namespace sashimono::runtime {

using namespace peernet;

core::Result<std::uint16_t> PeerNetwork::Impl::start() {
  if (options.contractId.empty() || options.contractId.size() > kMaxContractIdBytes)
    return core::Error("peer network: the contract id must have 1 to 128 bytes");
  if (options.minBackoff.count() <= 0 || options.maxBackoff < options.minBackoff)
    return core::Error("peer network: backoffs must satisfy 0 < minBackoff <= maxBackoff");
  {
    std::lock_guard lock(mu);
    if (started || stopping) return core::Error("peer network: start() called twice or after stop()");
    started = true;
  }
  net::ServerOptions so;
  so.binaryFrames = true;
  so.maxMessageBytes = maxBytes;
  so.handshakeTimeout = options.handshakeTimeout;
  so.idleTimeout = kIdleTimeout;
  std::optional<std::filesystem::path> tempDir;
  if (options.certFile.empty() && options.keyFile.empty()) {
    std::string t = (std::filesystem::temp_directory_path() / "sashimono-peer-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) return core::Error::fromErrno("peer network: mkdtemp " + t);
    tempDir = t;
    so.tls = net::TlsServerOptions{(*tempDir / "peer.crt").string(), (*tempDir / "peer.key").string()};
    auto st = net::makeSelfSignedCertificate(so.tls->privateKeyFile, so.tls->certificateChainFile,
                                             "sashimono-peer");
    if (!st.ok()) {
      std::error_code ec;
      std::filesystem::remove_all(*tempDir, ec);
      return st.error().context("peer network");
    }
  } else {
    so.tls = net::TlsServerOptions{options.certFile, options.keyFile};
  }
  server = std::make_unique<net::WsServer>(ioc, so, std::make_shared<Handler>(*this));
  auto port = server->listen(options.listenHost, options.listenPort);
  if (tempDir) {
    std::error_code ec;
    std::filesystem::remove_all(*tempDir, ec);
  }
  if (!port.ok()) {
    server.reset();
    return port.error().context("peer network");
  }
  work.emplace(ioc.get_executor());
  ioThreads.emplace_back([this] { ioc.run(); });
  clientCtx = std::make_unique<net::ClientContext>(1);
  manager = std::thread([this] { managerLoop(); });
  spdlog::info("peer network: {} listening on {}:{} for contract '{}'", keyText(key.publicKey()),
               options.listenHost, *port, options.contractId);
  return *port;
}

void PeerNetwork::Impl::stop() {
  {
    std::lock_guard lock(mu);
    if (stopping) return;
    stopping = true;
    cv.notify_all();
  }
  if (manager.joinable()) manager.join();
  if (server) server->stop();
  std::vector<std::unique_ptr<net::WsClient>> dead;
  std::vector<Dial> pendingDials;
  {
    // No callback is running once this is held, and none starts after (stopping is set).
    std::lock_guard cb(cbMu);
    std::lock_guard lock(mu);
    std::vector<Event> ignored;
    std::vector<LinkPtr> all;
    for (auto& [id, l] : inbound) all.push_back(l);
    for (auto& [k, l] : outbound) all.push_back(l);
    for (auto& [e, l] : probing) all.push_back(l);
    for (auto& [k, l] : admitted) all.push_back(l);
    for (auto& l : all) closeLocked(l, "stopping", ignored, spdlog::level::debug);
    admitted.clear();
    outbound.clear();
    probing.clear();
    dead.swap(graveyard);
    pendingDials.swap(dials);
  }
  for (auto& d : pendingDials) d.thread.join();
  dead.clear();
  if (server && !server->waitClosed(std::chrono::seconds(5)))
    spdlog::warn("peer network: {} session(s) still open after 5 s", server->sessionCount());
  {
    std::lock_guard lock(mu);
    inbound.clear();  // sessions whose close never ran (the I/O thread stops next)
  }
  work.reset();
  ioc.stop();
  for (auto& t : ioThreads) t.join();
  ioThreads.clear();
  // WsServer::stop posts the acceptor's close: run what is ready (that close, the aborted
  // accept) so that the port is free when stop() returns.
  ioc.restart();
  ioc.poll();
  server.reset();
  clientCtx.reset();
}

PeerNetwork::PeerNetwork(PeerNetworkOptions options, const InstanceKey& key, MessageFn onMessage,
                         LinkFn onLink)
    : impl_(std::make_unique<Impl>(std::move(options), key, std::move(onMessage), std::move(onLink))) {}

PeerNetwork::~PeerNetwork() { stop(); }

core::Result<std::uint16_t> PeerNetwork::start() { return impl_->start(); }

void PeerNetwork::stop() { impl_->stop(); }

void PeerNetwork::setPeers(std::vector<PeerAddress> unl) {
  std::lock_guard lock(impl_->mu);
  std::map<PubKey, Impl::PeerState> next;
  const auto now = Clock::now();
  for (auto& a : unl) {
    if (a.key == impl_->key.publicKey()) continue;
    Impl::PeerState p;
    if (auto it = impl_->peers.find(a.key); it != impl_->peers.end()) {
      p = it->second;
    } else {
      p.backoff = impl_->options.minBackoff;
      p.nextDial = now;
    }
    p.host = std::move(a.host);
    p.port = a.port;
    next[a.key] = std::move(p);
  }
  impl_->peers.swap(next);
  impl_->cv.notify_all();
}

void PeerNetwork::setProbes(const std::vector<std::string>& endpoints) {
  std::lock_guard lock(impl_->mu);
  std::map<std::string, Impl::Probe> next;
  for (const auto& e : endpoints) {
    if (auto it = impl_->probes.find(e); it != impl_->probes.end()) {
      next[e] = it->second;
    } else {
      next[e].backoff = impl_->options.minBackoff;
    }
  }
  impl_->probes.swap(next);
  impl_->cv.notify_all();
}

bool PeerNetwork::send(const PubKey& to, const PeerMessage& message) {
  const PeerType t = peerTypeOf(message);
  if (t == PeerType::hello || t == PeerType::helloAck) return false;
  if (auto st = checkPeerMessage(message); !st.ok()) {
    spdlog::error("peer network: not sending a bad {}: {}", peerTypeName(t), st.error().message);
    return false;
  }
  std::string bytes = core::asString(encodePeerMessage(message));
  std::lock_guard lock(impl_->mu);
  auto it = impl_->admitted.find(to);
  if (it == impl_->admitted.end() || impl_->stopping) return false;
  impl_->sendLocked(*it->second, std::move(bytes));
  return true;
}

std::size_t PeerNetwork::broadcast(const PeerMessage& message) {
  const PeerType t = peerTypeOf(message);
  if (t == PeerType::hello || t == PeerType::helloAck) return 0;
  if (auto st = checkPeerMessage(message); !st.ok()) {
    spdlog::error("peer network: not broadcasting a bad {}: {}", peerTypeName(t), st.error().message);
    return 0;
  }
  const std::string bytes = core::asString(encodePeerMessage(message));
  std::lock_guard lock(impl_->mu);
  if (impl_->stopping) return 0;
  for (auto& [k, l] : impl_->admitted) impl_->sendLocked(*l, bytes);
  return impl_->admitted.size();
}

bool PeerNetwork::drain(std::chrono::microseconds max) {
  const auto until = std::chrono::steady_clock::now() + max;
  for (;;) {
    std::size_t unsent = 0;
    {
      std::lock_guard lock(impl_->mu);
      for (auto& [k, l] : impl_->admitted)
        unsent += l->session ? l->session->unsent() : l->client ? l->client->unsent() : 0;
    }
    if (unsent == 0) return true;
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

std::vector<PubKey> PeerNetwork::connected() const {
  std::lock_guard lock(impl_->mu);
  std::vector<PubKey> keys;
  for (auto& [k, l] : impl_->admitted) keys.push_back(k);
  return keys;
}

}  // namespace sashimono::runtime
