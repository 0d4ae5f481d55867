// PeerNetwork over real sockets on 127.0.0.1 with ephemeral ports: the handshake, delivery, the
// rules that close a connection, re-dialling and UNL updates. Short timeouts and backoffs keep
// every test well under a few seconds.
#include "sashimono/runtime/PeerNetwork.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "fakes/Eventually.h"

#include "sashimono/crypto/Random.h"
#include "sashimono/net/WsClient.h"

using namespace sashimono;
using namespace sashimono::runtime;
using namespace std::chrono_literals;

namespace {

constexpr const char* kContract = "contract-1";

using sashimono::fakes::eventually;

// n fresh keys, sorted by public key (the first dials all the others).
std::vector<InstanceKey> sortedKeys(std::size_t n) {
  std::vector<InstanceKey> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back(InstanceKey::generate());
  std::sort(keys.begin(), keys.end(),
            [](const InstanceKey& a, const InstanceKey& b) { return a.publicKey() < b.publicKey(); });
  return keys;
}

PeerMessage status(std::uint64_t n) {
  runtime::Status s;
  s.lclSeq = n;
  s.pending = 7;
  return s;
}

// Everything logged while it lives (the networks log through spdlog's default logger). Declare
// it before the networks so that it outlives their threads.
struct LogCapture {
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink =
      std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  LogCapture() { spdlog::default_logger()->sinks().push_back(sink); }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }
  std::string text() {
    sink->flush();
    return out.str();
  }
};

struct Node {
  InstanceKey key;
  std::mutex mu;
  std::vector<std::pair<PubKey, PeerMessage>> got;
  std::atomic<int> ups{0};
  std::atomic<int> downs{0};
  std::unique_ptr<PeerNetwork> net;
  std::uint16_t port = 0;

  explicit Node(const InstanceKey& k, const std::string& contract = kContract,
                const std::function<void(PeerNetworkOptions&)>& tweak = {}, std::uint16_t listenPort = 0)
      : key(k) {
    PeerNetworkOptions o;
    o.contractId = contract;
    o.listenPort = listenPort;
    o.handshakeTimeout = 1000ms;
    o.minBackoff = 50ms;
    o.maxBackoff = 200ms;
    if (tweak) tweak(o);
    net = std::make_unique<PeerNetwork>(
        o, key,
        [this](const PubKey& from, PeerMessage&& m) {
          std::lock_guard lock(mu);
          got.emplace_back(from, std::move(m));
        },
        [this](const PubKey&, bool up) { ++(up ? ups : downs); });
    auto p = net->start();
    EXPECT_TRUE(p.ok()) << p.error().message;
    if (p.ok()) port = *p;
  }
  PeerAddress address() const { return {key.publicKey(), "127.0.0.1", port}; }
  std::size_t count() {
    std::lock_guard lock(mu);
    return got.size();
  }
  // lclSeq of each status received from `from`, in order.
  std::vector<std::uint64_t> from(const PubKey& sender) {
    std::lock_guard lock(mu);
    std::vector<std::uint64_t> seqs;
    for (auto& [k, m] : got)
      if (k == sender) seqs.push_back(std::get<runtime::Status>(m).lclSeq);
    return seqs;
  }
  bool connectedTo(std::vector<PubKey> keys) {
    std::sort(keys.begin(), keys.end());
    return net->connected() == keys;
  }
};

std::vector<PeerAddress> unlOf(const std::vector<Node*>& nodes) {
  std::vector<PeerAddress> unl;
  for (auto* n : nodes) unl.push_back(n->address());
  return unl;
}

std::unique_ptr<net::WsClient> rawClient(std::uint16_t port) {
  net::ClientOptions o;
  o.verifyPeer = false;
  o.binaryFrames = true;
  auto c = net::WsClient::connect("wss://127.0.0.1:" + std::to_string(port) + "/sashimono-peer/1", o);
  EXPECT_TRUE(c.ok()) << c.error().message;
  return c.ok() ? std::move(*c) : nullptr;
}

// Threads and open file descriptors of this process (to see that stopped networks leave none).
std::size_t threadCount() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}
std::size_t fdCount() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

std::string bytesOf(const PeerMessage& m) { return core::asString(encodePeerMessage(m)); }

// True once the server has closed the client's connection (messages before that are skipped).
bool closedByServer(net::WsClient& c) {
  auto end = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < end) {
    auto m = c.receive(100ms);
    if (!m.ok() && m.error().code == "closed") return true;
  }
  return false;
}

}  // namespace

// Three members connect to each other; send and broadcast deliver once, with the right sender.
void threeMembers() {
  auto keys = sortedKeys(3);
  Node a(keys[0]), b(keys[1]), c(keys[2]);
  std::vector<Node*> all{&a, &b, &c};
  for (auto* n : all) n->net->setPeers(unlOf(all));  // self included: skipped
  for (auto* n : all) {
    std::vector<PubKey> others;
    for (auto* o : all)
      if (o != n) others.push_back(o->key.publicKey());
    EXPECT_TRUE(eventually([&] { return n->connectedTo(others); }));
  }
  EXPECT_FALSE(a.net->send(a.key.publicKey(), status(1)));  // not a peer of itself
  EXPECT_FALSE(a.net->send(b.key.publicKey(), Hello{kContract, a.key.publicKey(), {}}));
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t j = 0; j < 3; ++j)
      if (i != j) {
        EXPECT_TRUE(all[i]->net->send(all[j]->key.publicKey(), status(10 * i + j)));
      }
    EXPECT_EQ(all[i]->net->broadcast(status(100 + i)), 2u);
  }
  // Everything queued is written (on links this member dialled and on links it accepted), and
  // drain says so: a sent message that never counted as written would make it wait out `max`.
  for (auto* n : all) EXPECT_TRUE(n->net->drain(2s));
  for (auto* n : all) EXPECT_TRUE(eventually([&] { return n->count() == 4; })) << n->count();
  std::this_thread::sleep_for(100ms);  // nothing more arrives
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(all[j]->count(), 4u);
    for (std::size_t i = 0; i < 3; ++i)
      if (i != j) {
        EXPECT_EQ(all[j]->from(all[i]->key.publicKey()), (std::vector<std::uint64_t>{10 * i + j, 100 + i}));
      }
    EXPECT_EQ(all[j]->ups.load(), 2);
    EXPECT_EQ(all[j]->downs.load(), 0);
  }
}

TEST(PeerNetworkTest, ThreeMembersConnectAndDeliverEachMessageOnce) {
  const std::size_t threads = threadCount(), fds = fdCount();
  threeMembers();  // all stopped on return: no thread or socket is left
  EXPECT_EQ(threadCount(), threads);
  EXPECT_EQ(fdCount(), fds);
}

TEST(PeerNetworkTest, AnotherContractIsNeverAdmitted) {
  LogCapture log;
  auto keys = sortedKeys(3);
  // The other contract's member sits in the middle: the first dials it, it dials the last.
  Node a(keys[0]), x(keys[1], "contract-2"), b(keys[2]);
  std::vector<Node*> all{&a, &x, &b};
  for (auto* n : all) n->net->setPeers(unlOf(all));
  EXPECT_TRUE(
      eventually([&] { return a.connectedTo({b.key.publicKey()}) && b.connectedTo({a.key.publicKey()}); }));
  EXPECT_TRUE(eventually([&] {
    auto t = log.text();
    return t.find("hello for contract 'contract-2', ours is 'contract-1'") != std::string::npos &&
           t.find("hello for contract 'contract-1', ours is 'contract-2'") != std::string::npos;
  }));
  std::this_thread::sleep_for(300ms);  // several re-dials
  EXPECT_TRUE(x.net->connected().empty());
  EXPECT_TRUE(a.connectedTo({b.key.publicKey()}));
  EXPECT_EQ(x.ups.load(), 0);
}

TEST(PeerNetworkTest, KeyOutsideTheUnlIsNotAdmitted) {
  LogCapture log;
  auto keys = sortedKeys(2);
  Node outsider(keys[0]), a(keys[1]);
  outsider.net->setPeers(unlOf({&outsider, &a}));  // it dials a
  a.net->setPeers(unlOf({&a}));                    // a knows only itself
  EXPECT_TRUE(eventually([&] { return log.text().find("not in the UNL") != std::string::npos; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(a.net->connected().empty());
  EXPECT_TRUE(outsider.net->connected().empty());
  EXPECT_EQ(a.ups.load() + outsider.ups.load(), 0);
}

TEST(PeerNetworkTest, HandshakeViolationsCloseTheConnection) {
  LogCapture log;
  auto keys = sortedKeys(3);
  // a is the biggest key (never dials); keys[0] is a member that is not running.
  Node a(keys[2], kContract, [](PeerNetworkOptions& o) { o.handshakeTimeout = 300ms; });
  a.net->setPeers({{keys[0].publicKey(), "127.0.0.1", 1}, a.address()});
  Challenge mine{};
  crypto::randomBytes(mine);
  const Hello impostor{kContract, keys[0].publicKey(), mine};

  struct Case {
    const char* name;
    std::vector<std::string> send;
  };
  // An ack signed by another key: the impostor cannot sign for keys[0].
  const auto forged = [&](const Challenge& theirs) {
    return bytesOf(signHelloAck(keys[1], kContract, theirs, a.key.publicKey()));
  };
  std::vector<Case> cases{
      {"garbage", {"\x01\xff junk"}},
      {"over its type's size limit", {std::string("\x01\x02") + std::string(200, 'x')}},  // hello_ack: 128 B
      {"message before hello", {bytesOf(status(1))}},
      {"hello_ack before hello", {bytesOf(HelloAck{})}},
      {"hello then a message", {bytesOf(impostor), bytesOf(status(1))}},
      {"second hello", {bytesOf(impostor), bytesOf(impostor)}},
      {"silent", {}},  // the handshake timeout
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto client = rawClient(a.port);
    ASSERT_TRUE(client);
    for (auto& m : c.send) ASSERT_TRUE(client->send(m).ok());
    EXPECT_TRUE(closedByServer(*client));
  }
  {
    SCOPED_TRACE("forged hello_ack");
    auto client = rawClient(a.port);
    ASSERT_TRUE(client);
    auto first = client->receive(2000ms);
    ASSERT_TRUE(first.ok()) << first.error().message;
    auto hello = decodePeerMessage(core::asBytes(*first));
    ASSERT_TRUE(hello.ok());
    ASSERT_TRUE(std::holds_alternative<Hello>(*hello));
    EXPECT_EQ(std::get<Hello>(*hello).key, a.key.publicKey());
    EXPECT_EQ(std::get<Hello>(*hello).contractId, kContract);
    ASSERT_TRUE(client->send(bytesOf(impostor)).ok());
    ASSERT_TRUE(client->send(forged(std::get<Hello>(*hello).challenge)).ok());
    ASSERT_TRUE(client->send(bytesOf(status(2))).ok());
    EXPECT_TRUE(closedByServer(*client));
  }
  EXPECT_EQ(a.count(), 0u);
  EXPECT_TRUE(a.net->connected().empty());
  EXPECT_EQ(a.ups.load(), 0);
  auto t = log.text();
  for (const char* why :
       {"over the size limit", "unknown type", "status before the handshake", "hello_ack before hello",
        "second hello", "no handshake within 300 ms", "hello_ack does not verify"})
    EXPECT_NE(t.find(why), std::string::npos) << why;
}

TEST(PeerNetworkTest, RateLimitClosesAndTheLinkComesBack) {
  LogCapture log;
  auto keys = sortedKeys(2);
  Node a(keys[0]);  // dials b
  Node b(keys[1], kContract, [](PeerNetworkOptions& o) { o.maxMessagesPerSecond = 20; });
  a.net->setPeers(unlOf({&a, &b}));
  b.net->setPeers(unlOf({&a, &b}));
  ASSERT_TRUE(
      eventually([&] { return a.connectedTo({b.key.publicKey()}) && b.connectedTo({a.key.publicKey()}); }));
  for (int i = 0; i < 60; ++i) a.net->send(b.key.publicKey(), status(i));
  EXPECT_TRUE(eventually([&] { return a.downs.load() >= 1 && b.downs.load() >= 1; }));
  EXPECT_NE(log.text().find("rate limit exceeded"), std::string::npos);
  EXPECT_LT(b.count(), 60u);
  ASSERT_TRUE(
      eventually([&] { return a.connectedTo({b.key.publicKey()}) && b.connectedTo({a.key.publicKey()}); }));
  const std::size_t before = b.count();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(a.net->send(b.key.publicKey(), status(1000 + i)));
  EXPECT_TRUE(eventually([&] { return b.count() == before + 5; }));
  auto seqs = b.from(a.key.publicKey());
  EXPECT_EQ(std::vector<std::uint64_t>(seqs.end() - 5, seqs.end()),
            (std::vector<std::uint64_t>{1000, 1001, 1002, 1003, 1004}));
}

// A ledger (docs/CLUSTER.md, "Sync: ledgers") larger than any other type's limit crosses both
// ways (the dialler's client and the acceptor's server limits); one over 16 MiB is not sent.
TEST(PeerNetworkTest, LargeLedgersCrossAndOversizeOnesAreNotSent) {
  auto keys = sortedKeys(2);
  Node a(keys[0]), b(keys[1]);  // a dials b
  a.net->setPeers(unlOf({&a, &b}));
  b.net->setPeers(unlOf({&a, &b}));
  ASSERT_TRUE(
      eventually([&] { return a.connectedTo({b.key.publicKey()}) && b.connectedTo({a.key.publicKey()}); }));
  LedgerMessage m;
  m.record.seqNo = 9;
  m.outputs.push_back(LedgerOutput{a.key.publicKey(), {}, {core::Bytes(std::size_t{10} << 20, 'x')}});
  EXPECT_TRUE(a.net->send(b.key.publicKey(), m));
  EXPECT_TRUE(b.net->send(a.key.publicKey(), m));
  for (Node* n : {&a, &b}) {
    ASSERT_TRUE(eventually([&] { return n->count() == 1; }));
    std::lock_guard lock(n->mu);
    EXPECT_TRUE(std::get<LedgerMessage>(n->got[0].second) == m);
  }
  m.outputs[0].blobs[0].resize(std::size_t{16} << 20);
  EXPECT_FALSE(a.net->send(b.key.publicKey(), m));
  EXPECT_TRUE(a.net->send(b.key.publicKey(), LedgerRequest{9, 64}));
  ASSERT_TRUE(eventually([&] { return b.count() == 2; }));
  EXPECT_EQ(a.downs.load(), 0);
}

TEST(PeerNetworkTest, RestartedPeersAreReconnected) {
  auto keys = sortedKeys(2);
  Node a(keys[0]);
  auto b = std::make_unique<Node>(keys[1]);
  const std::uint16_t bPort = b->port;
  a.net->setPeers(unlOf({&a, b.get()}));
  b->net->setPeers(unlOf({&a, b.get()}));
  ASSERT_TRUE(eventually([&] { return a.connectedTo({keys[1].publicKey()}); }));

  // The accepting side goes away and comes back on its port: the dialler re-dials.
  b.reset();
  EXPECT_TRUE(eventually([&] { return a.net->connected().empty(); }));
  EXPECT_EQ(a.downs.load(), 1);
  b = std::make_unique<Node>(keys[1], kContract, nullptr, bPort);
  ASSERT_EQ(b->port, bPort);
  b->net->setPeers(unlOf({&a, b.get()}));
  ASSERT_TRUE(eventually(
      [&] { return a.connectedTo({keys[1].publicKey()}) && b->connectedTo({keys[0].publicKey()}); }));
  EXPECT_TRUE(a.net->send(keys[1].publicKey(), status(1)));
  EXPECT_TRUE(b->net->send(keys[0].publicKey(), status(2)));
  EXPECT_TRUE(eventually([&] { return b->count() == 1 && a.count() == 1; }));

  // The dialling side restarts: it dials again.
  const std::uint16_t aPort = a.port;
  a.net->stop();
  EXPECT_TRUE(eventually([&] { return b->net->connected().empty(); }));
  Node a2(keys[0], kContract, nullptr, aPort);
  a2.net->setPeers(unlOf({&a2, b.get()}));
  ASSERT_TRUE(eventually(
      [&] { return a2.connectedTo({keys[1].publicKey()}) && b->connectedTo({keys[0].publicKey()}); }));
  EXPECT_TRUE(b->net->send(keys[0].publicKey(), status(3)));
  EXPECT_TRUE(eventually([&] { return a2.from(keys[1].publicKey()) == std::vector<std::uint64_t>{3}; }));
}

TEST(PeerNetworkTest, SetPeersDisconnectsRemovedMembersAndDialsAddedOnes) {
  auto keys = sortedKeys(3);
  Node a(keys[0]), b(keys[1]), c(keys[2]);
  std::vector<Node*> all{&a, &b, &c};
  for (auto* n : all) n->net->setPeers(unlOf(all));
  for (auto* n : all) ASSERT_TRUE(eventually([&] { return n->net->connected().size() == 2; }));

  // b drops c: b (the smaller key, the dialler) closes the link and does not dial again.
  b.net->setPeers(unlOf({&a, &b}));
  EXPECT_TRUE(eventually([&] { return b.connectedTo({a.key.publicKey()}); }));
  EXPECT_TRUE(eventually([&] { return c.connectedTo({a.key.publicKey()}); }));
  // a drops b: the link goes down on both sides and stays down.
  a.net->setPeers(unlOf({&a, &c}));
  EXPECT_TRUE(eventually([&] { return a.connectedTo({c.key.publicKey()}) && b.net->connected().empty(); }));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(a.connectedTo({c.key.publicKey()}));
  EXPECT_TRUE(b.net->connected().empty());
  EXPECT_FALSE(a.net->send(b.key.publicKey(), status(1)));

  // Adding them back reconnects.
  a.net->setPeers(unlOf(all));
  b.net->setPeers(unlOf(all));
  for (auto* n : all) EXPECT_TRUE(eventually([&] { return n->net->connected().size() == 2; }));
  EXPECT_TRUE(b.net->send(c.key.publicKey(), status(5)));
  EXPECT_TRUE(eventually([&] { return c.from(b.key.publicKey()) == std::vector<std::uint64_t>{5}; }));
}

// A contract's peer_changeset: members that know each other's keys (the UNL) but no endpoints
// find each other through probed endpoints; an endpoint answering with a key outside the UNL is
// not admitted; a probe to a member already connected adds no second connection; a probed member
// that restarts is found again.
TEST(PeerNetworkTest, ProbedEndpointsConnectUnlMembersWithoutKnownAddresses) {
  auto keys = sortedKeys(4);
  Node a(keys[0]), b(keys[1]), c(keys[2]), stranger(keys[3]);
  auto keyOnly = [](const Node& n) { return PeerAddress{n.key.publicKey(), "", 0}; };
  auto ep = [](const Node& n) { return "127.0.0.1:" + std::to_string(n.port); };
  for (auto* n : {&a, &b, &c}) n->net->setPeers({keyOnly(a), keyOnly(b), keyOnly(c)});
  stranger.net->setPeers({keyOnly(a), keyOnly(b), keyOnly(c)});
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(a.net->connected().empty()) << "no endpoints: nobody dials";

  // c (the biggest key, which dials nobody by key) probes a and b; b probes the stranger too.
  c.net->setProbes({ep(a), ep(b), ep(c)});  // its own endpoint too, as contracts send it
  b.net->setProbes({ep(stranger)});
  EXPECT_TRUE(eventually([&] { return c.connectedTo({a.key.publicKey(), b.key.publicKey()}); }));
  EXPECT_TRUE(a.connectedTo({c.key.publicKey()}));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(b.connectedTo({c.key.publicKey()})) << "the stranger is not in b's UNL";
  EXPECT_TRUE(stranger.net->connected().empty());
  EXPECT_TRUE(c.net->send(a.key.publicKey(), status(7)));
  EXPECT_TRUE(eventually([&] { return a.from(c.key.publicKey()) == std::vector<std::uint64_t>{7}; }));

  // a probes c, which it is already connected to: no second connection replaces the first.
  const int upsBefore = c.ups.load();
  a.net->setProbes({ep(c)});
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(c.ups.load(), upsBefore);
  EXPECT_TRUE(c.connectedTo({a.key.publicKey(), b.key.publicKey()}));

  // a restarts on its port: c's probe finds it again.
  const std::uint16_t port = a.port;
  a.net->stop();
  EXPECT_TRUE(eventually([&] { return c.connectedTo({b.key.publicKey()}); }));
  Node again(keys[0], kContract, {}, port);
  again.net->setPeers({keyOnly(a), keyOnly(b), keyOnly(c)});
  EXPECT_TRUE(eventually([&] { return c.connectedTo({a.key.publicKey(), b.key.publicKey()}); }, 5s));
}
