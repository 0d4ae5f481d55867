// The cluster side of an Instance (Instance.h): the peer port, the cluster file, and the choice
// of consensus for the UNL (docs/CLUSTER.md, "The instance in a cluster").
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "sashimono/core/File.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/NetworkLink.h"

#include "InstanceUtil.h"
#include "NplRouter.h"

namespace sashimono::runtime {

using detail::readFile;

namespace {

constexpr auto kWatchInterval = std::chrono::milliseconds(250);
// The endpoints of the contract's last peer_changeset, in the data directory (a changeset that
// adds them all), so that a restarted member dials them again.
constexpr const char* kContractPeersFile = "contract-peers.json";

// What identifies a version of the cluster file (a replacement is a rename: a new inode).
struct FileStamp {
  bool exists = false;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtimeNs = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return FileStamp{true, st.st_ino, st.st_size,
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

}  // namespace

core::Status Instance::startPeers() {
  // TEST ONLY (docs/CLUSTER.md, "A lying member, for tests"): read once, from the environment of
  // whoever started the runtime (a host node starts it with an environment of its own making, and
  // refuses tenant variables named SASHIMONO_*; a contract gets an environment of its own).
  const char* lie = std::getenv("SASHIMONO_TEST_LIE");
  auto parsed = parseTestLie(lie != nullptr ? lie : "");
  if (!parsed) return parsed.error().context("SASHIMONO_TEST_LIE");
  testLie_ = *parsed;
  if (testLie_ != TestLie::kNone)
    spdlog::warn(
        "SASHIMONO_TEST_LIE={}: TEST ONLY: this member lies to the other members of its cluster; "
        "never set it outside tests",
        testLieName(testLie_));
  npl_ = std::make_unique<NplRouter>(config_.contractId, key_);
  if (!config_.peer.enabled) return {};
  PeerNetworkOptions o;
  o.contractId = config_.contractId;
  o.listenHost = config_.peer.listen;
  o.listenPort = config_.peer.port;
  if (config_.user.tls == "self-signed") {  // the instance's own pair (else start() makes one)
    o.certFile = dataDir_ + "/tls/cert.pem";
    o.keyFile = dataDir_ + "/tls/key.pem";
  }
  network_ = std::make_unique<PeerNetwork>(
      o, key_, [this](const PubKey& from, PeerMessage&& m) { onPeerMessage(from, std::move(m)); },
      [this](const PubKey& peer, bool up) { onPeerLink(peer, up); });
  if (auto text = readFile(dataDir_ + "/" + kContractPeersFile)) {
    auto peers = applyPeerChangeset({}, *text);
    if (peers) {
      std::lock_guard lock(mu_);
      contractPeers_ = std::move(*peers);
    } else {
      spdlog::error("cluster: {}/{}: {} (the contract's peers are forgotten)", dataDir_, kContractPeersFile,
                    peers.error().message);
    }
  }
  refreshPeers();
  auto port = network_->start();
  if (!port) return port.error().context("opening the peer port");
  peerPort_ = *port;
  link_ = std::make_unique<NetworkLink>(*network_);
  serving_ = std::thread([this] { serveLoop(); });
  return {};
}

void Instance::refreshPeers() {
  if (!network_) return;
  std::vector<PeerAddress> peers;
  std::vector<std::string> probes;
  {
    std::lock_guard lock(mu_);
    if (membership_) peers = membership_->members;
    for (const auto& k : contract_.unl)
      if (std::none_of(peers.begin(), peers.end(), [&](const PeerAddress& a) { return a.key == k; }))
        peers.push_back(PeerAddress{k, "", 0});
    probes = contractPeers_;
  }
  network_->setPeers(std::move(peers));
  network_->setProbes(probes);
}

void Instance::onContractControl(const std::string& json) {
  std::vector<std::string> current;
  {
    std::lock_guard lock(mu_);
    current = contractPeers_;
  }
  auto next = applyPeerChangeset(current, json);
  if (!next) {
    spdlog::warn("contract control message refused: {}", next.error().message);
    return;
  }
  if (*next == current) return;
  std::string text = "{\"type\":\"peer_changeset\",\"add\":[";
  for (std::size_t i = 0; i < next->size(); ++i) text += (i ? ",\"" : "\"") + (*next)[i] + "\"";
  text += "]}\n";
  if (auto st = core::writeFileAtomic(dataDir_ + "/" + kContractPeersFile, text, 0600, true); !st)
    spdlog::error("cluster: keeping the contract's peers: {}", st.error().message);
  spdlog::info("cluster: the contract's peers are now {} endpoint(s)", next->size());
  {
    std::lock_guard lock(mu_);
    contractPeers_ = std::move(*next);
  }
  refreshPeers();
}

void Instance::onPeerMessage(const PubKey& from, PeerMessage&& m) {
  if (const auto* n = std::get_if<Npl>(&m)) {
    npl_->received(from, *n);
    return;
  }
  if (servePeer(from, m)) return;
  std::shared_lock lock(clusterMu_);
  if (cluster_ != nullptr) cluster_->received(from, m);
}

void Instance::onPeerLink(const PubKey& peer, bool up) {
  if (!up) return;
  std::shared_lock lock(clusterMu_);
  if (cluster_ != nullptr) cluster_->linkUp(peer);
}

std::vector<std::string> Instance::evidence() const {
  std::lock_guard lock(mu_);
  if (auto* c = dynamic_cast<ClusterConsensus*>(consensus_.get())) return c->evidence();
  return {};
}

void Instance::watchLoop() {
  FileStamp last;
  bool first = true;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const FileStamp now = stampOf(config_.clusterFile);
    std::optional<ClusterMembership> taken;
    if (now.exists && (first || !(now == last))) {
      auto text = readFile(config_.clusterFile);
      auto m =
          text ? parseClusterFile(*text, config_.clusterFile) : core::Result<ClusterMembership>(text.error());
      if (!m) {
        spdlog::error("cluster: {} (the last valid membership stays)", m.error().message);
      } else {
        taken = std::move(*m);
        spdlog::info("cluster: membership of {} member(s) from {}", taken->members.size(),
                     config_.clusterFile);
      }
      last = now;
      first = false;
    }
    lock.lock();
    if (taken) {
      membership_ = std::move(taken);
      membershipChanged_ = true;
      if (consensus_) consensus_->interrupt();  // the engine takes it between rounds
      lock.unlock();
      refreshPeers();
      lock.lock();
    }
    watchCv_.wait_for(lock, kWatchInterval, [&] { return stopping_; });
  }
}

void Instance::applyMembership() {
  std::optional<ClusterMembership> m;
  LedgerRecord lcl;
  {
    std::lock_guard lock(mu_);
    if (!membershipChanged_) return;
    membershipChanged_ = false;
    m = membership_;
    lcl = lcl_;
  }
  if (!m || m->members.empty() || lcl.seqNo != 0) return;
  // Genesis: no ledger closed yet, so the membership is the UNL. Every member computes the same
  // list from the same file, and patch.cfg (part of the state) is the same everywhere.
  std::vector<PubKey> unl{key_.publicKey()};
  for (const auto& a : m->members) unl.push_back(a.key);
  std::sort(unl.begin(), unl.end());
  unl.erase(std::unique(unl.begin(), unl.end()), unl.end());
  auto c = contractConfig();
  if (c.unl == unl) return;
  c.unl = unl;
  if (auto st = core::writeFileAtomic(patchFile_, renderContractConfig(c), 0644, true); !st) {
    spdlog::error("cluster: writing the UNL into patch.cfg: {}", st.error().message);
    return;
  }
  if (auto st = reloadContractConfig(); !st) spdlog::error("patch.cfg: {}", st.error().message);
  spdlog::info("cluster: no ledger yet, the UNL is the membership ({} members)", unl.size());
  users_->publish("unl_change", unlChangeMsg(unl));
}

void Instance::chooseConsensus() {
  const auto c = contractConfig();
  const std::vector<PubKey> unl = c.unl.empty() ? std::vector<PubKey>{key_.publicKey()} : c.unl;
  if (consensus_ && unl == consensusUnl_ && c.threshold == consensusThreshold_) return;
  std::unique_ptr<Consensus> next;
  ClusterConsensus* cluster = nullptr;
  if (unl.size() == 1 && unl[0] == key_.publicKey()) {
    next = std::make_unique<SoloConsensus>(key_, c.roundTimeMs, c.periodicRounds, c.busyRoundMs);
  } else if (std::find(unl.begin(), unl.end(), key_.publicKey()) == unl.end()) {
    spdlog::error("cluster: this instance ({}) is not in its UNL; it keeps its consensus", key_.publicHex());
    consensusUnl_ = unl;
    consensusThreshold_ = c.threshold;
    return;
  } else if (!network_) {
    spdlog::error("cluster: the UNL has {} members but this instance has no peer port; it runs alone",
                  unl.size());
    consensusUnl_ = unl;
    consensusThreshold_ = c.threshold;
    if (consensus_) return;
    next = std::make_unique<SoloConsensus>(key_, c.roundTimeMs, c.periodicRounds, c.busyRoundMs);
  } else {
    ClusterConfig cc;
    cc.agreement.unl = unl;
    cc.agreement.threshold = agreementThreshold(unl.size(), static_cast<double>(c.threshold) / 100.0);
    // A view without progress ends after a round time (at least 250 ms: a leader's proposal has
    // to reach everyone and their votes come back).
    cc.agreement.viewTimeout = std::chrono::milliseconds(std::max<std::uint64_t>(250, c.roundTimeMs));
    cc.agreement.maxViewTimeout = std::max(cc.agreement.maxViewTimeout, cc.agreement.viewTimeout * 4);
    cc.lie = testLie_;
    // Rounds are undone by the state filesystem's undo log: without one (a local state directory)
    // a plan runs only once certified, as a replaced run could not be taken back.
    cc.canUndo = [this] { return stateRounds_->canUndo(); };
    auto cl = std::make_unique<ClusterConsensus>(cc, key_, *link_);
    cl->setPacing(c.roundTimeMs, c.periodicRounds, c.busyRoundMs);
    cluster = cl.get();
    next = std::move(cl);
    spdlog::info("cluster: {} members, {} must agree", unl.size(), cc.agreement.threshold);
    if (testLie_ != TestLie::kNone)
      spdlog::warn("cluster: TEST ONLY: this member lies ({})", testLieName(testLie_));
  }
  std::unique_ptr<Consensus> old;
  {
    std::unique_lock clusterLock(clusterMu_);
    std::lock_guard lock(mu_);
    if (stopping_) {
      next->stop();
      return;
    }
    old = std::move(consensus_);
    consensus_ = std::move(next);
    cluster_ = cluster;
    consensusUnl_ = unl;
    consensusThreshold_ = c.threshold;
    if (old) {
      for (auto& in : old->takePending()) consensus_->submit(std::move(in));
      old->stop();
    }
  }
  refreshPeers();  // UNL keys outside the membership are admitted too
  if (cluster != nullptr && network_)
    for (const auto& k : network_->connected()) cluster->linkUp(k);
}

}  // namespace sashimono::runtime
