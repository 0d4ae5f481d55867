#pragma once
// The cluster's peer transport (docs/CLUSTER.md, "Transport" and "Handshake"): one authenticated
// WebSocket connection to every other UNL member, carrying PeerMessage values.
//
// Connections. The member listens on its peer port (wss://, a self-signed certificate: TLS only
// encrypts). Between two members the one with the bytewise smaller key dials the other at
// wss://host:port/sashimono-peer/1: a member dials only keys bigger than its own, but accepts a
// connection from any UNL member. Every message is one
// binary frame. (net::WsServer does not expose the request target, so the acceptor does not check
// the path.) A dialled address must answer with the key it was dialled for.
//
// Handshake. Right after the WebSocket opens each side sends hello (its contract id, key and a
// fresh random 32-byte challenge) and answers the other's hello with hello_ack (signHelloAck over
// the other's challenge). A connection is admitted when the other's hello names our contract id
// and a UNL key other than ours, and its hello_ack verifies against that key. Anything else first,
// a second hello or hello_ack, a message that does not decode (over its type's size limit
// included), exceeding the rate limit (per connection: token buckets of maxMessagesPerSecond
// messages and maxBytesPerSecond bytes, one second of burst, counted from the first message), or
// no admission within handshakeTimeout of the WebSocket opening closes the connection, logged
// (spdlog, warn) with the peer's key when known, its address and the reason. A second admitted
// connection for a key replaces the first (closed; no "down" in between).
//
// Re-dialling. A key this member dials that has no admitted connection and no dial under way is
// dialled again: at once the first time, then after minBackoff, doubling per attempt up to
// maxBackoff; admission resets it to minBackoff. An address change in setPeers takes effect at the
// next dial. Loss of an outgoing connection is noticed within ~25 ms (WsClient has no close
// callback: it is polled); the client side has no idle timeout of its own (the acceptor pings and
// drops a silent peer after 30 s).
//
// Probes. An endpoint given to setProbes is dialled (with the same backoff) as long as the key
// that answered there, once known, has no admitted connection; an answer from a key outside the
// UNL is refused as any other, an answer from a key already connected is closed quietly (the
// endpoint is then known to be that key's). When the learned key is one that dials us (smaller
// than ours), its endpoint is dialled only after the key has been without a connection for 2 s;
// an endpoint that turned out to be this member's own is not dialled again.
//
// Callbacks. onMessage(from, message) for every message on an admitted connection except
// hello/hello_ack, `from` being the authenticated key, in order per connection. onLink(key, true)
// on every admission (again on a replacing connection), onLink(key, false) when a key loses its
// admitted connection. onLink calls never overlap anything (one at a time, in the order of the
// events); onMessage calls for different connections may run at once (their signatures are checked
// side by side), never beside an onLink. They run on the network's internal threads, and may call
// send, broadcast, connected and setPeers — but not stop or the destructor. None starts once stop() has
// begun, and none is running when it returns.
//
// Threading. Internal: one thread runs the server's io_context, one the ClientContext of outgoing
// connections, one (the manager) dials, re-dials, polls outgoing connections and enforces the
// handshake timeout and UNL removals; each dial blocks its own short-lived thread. All public
// members are thread-safe. stop() joins every thread and closes every connection; it is
// idempotent and called by the destructor. A stopped network cannot be started again: make a new
// one (with the same key and port to come back).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {

struct PeerAddress {
  PubKey key{};
  std::string host;  // a name or an IP literal (IPv6 without brackets)
  std::uint16_t port = 0;
};

struct PeerNetworkOptions {
  std::string contractId;  // 1..kMaxContractIdBytes bytes
  std::string listenHost = "127.0.0.1";
  std::uint16_t listenPort = 0;  // 0: any free port
  // TLS certificate chain and key (PEM). Both empty: start() makes a self-signed pair in a
  // temporary directory, loads it and removes the directory.
  std::string certFile;
  std::string keyFile;
  std::chrono::milliseconds handshakeTimeout{5000};  // also bounds each dial's connect
  std::chrono::milliseconds minBackoff{250};
  std::chrono::milliseconds maxBackoff{10000};
  std::size_t maxMessagesPerSecond = 2000;
  std::size_t maxBytesPerSecond = std::size_t{64} << 20;
};

class PeerNetwork {
 public:
  using MessageFn = std::function<void(const PubKey& from, PeerMessage&& message)>;
  using LinkFn = std::function<void(const PubKey& peer, bool up)>;

  // `key` is copied. Nothing happens before start().
  PeerNetwork(PeerNetworkOptions options, const InstanceKey& key, MessageFn onMessage, LinkFn onLink = {});
  ~PeerNetwork();
  PeerNetwork(const PeerNetwork&) = delete;
  PeerNetwork& operator=(const PeerNetwork&) = delete;

  // Listens and starts the threads; returns the bound port. Errors: bad options, the
  // certificate, the listen address. Call once.
  [[nodiscard]] core::Result<std::uint16_t> start();
  // The UNL with endpoints (our own key may be listed: it is skipped). May be called before or
  // after start(), again at any time: connections of keys no longer listed are closed, new keys
  // that this member dials are dialled.
  // An entry with an empty host is admitted when it connects but not dialled.
  void setPeers(std::vector<PeerAddress> unl);
  // Endpoints ("host:port", IPv6 in brackets) whose key is not known (a contract's
  // peer_changeset): each is dialled like a key, and the member that answers is admitted if its
  // key is in the UNL given to setPeers; see "Probes" above. Replaces the previous list.
  void setProbes(const std::vector<std::string>& endpoints);
  // Queues the message on the peer's admitted connection; false when there is none, or for a
  // hello/hello_ack or a message failing checkPeerMessage (logged).
  bool send(const PubKey& to, const PeerMessage& message);
  // To every admitted peer; returns how many it was queued for.
  std::size_t broadcast(const PeerMessage& message);
  // Waits (at most `max`) until what was queued on admitted connections is written to their
  // sockets; false on timeout. For a caller about to take the CPU (a contract run) that wants its
  // messages on the wire first.
  bool drain(std::chrono::microseconds max);
  // The keys with an admitted connection, sorted.
  [[nodiscard]] std::vector<PubKey> connected() const;
  // Idempotent; see the threading notes above.
  void stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sashimono::runtime
