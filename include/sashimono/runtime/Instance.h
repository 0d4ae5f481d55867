#pragma once
// One dApp instance: the composition root of the runtime. Owns the user port (WsServer +
// UserServer), the consensus (solo, or a cluster's over the peer port: docs/CLUSTER.md), the round
// engine thread, the read-request workers, the ledger and the contract's logs.
//
// Cluster (InstanceCluster.cpp): the UNL is patch.cfg's (agreed state); with more than one member
// the rounds run by ClusterConsensus over a PeerNetwork on the peer port. The membership the node
// hands the instance (cluster_file, ClusterFile.h) is watched: its endpoints are the peers to
// connect to, and while no ledger has closed yet (genesis) its keys (with this instance's) become
// the UNL — every member writes the same patch.cfg, so their states start equal.
//
// Directories:
//   contractFs/            the contract's file system (in a tenant: the state filesystem mount)
//     state/               the contract's cwd and only writable place
//     patch.cfg            the contract's settings (Hot Pocket's format, Config.h)
//     bundle.json          what the last deployed bundle installed (Bundle.h)
//   dataDir/               the runtime's private files (never visible to the contract)
//     ledger.sqlite, tls/{cert.pem,key.pem}, log/{runtime.log,contract.stdout.log,contract.stderr.log}
//
// A round (docs/RUNTIME.md): inputs re-validated and ordered; the contract runs (only when there
// are inputs, or every roundtime when the contract asks for periodic rounds); bundle uploads of
// the owner are installed; the state hash, output tree and ledger are computed; the ledger is
// stored; only then are input statuses, outputs and ledger events sent.
//
// Thread-safety: start/stop/requestInstall from any thread; the UserService members are called
// by the user port's I/O threads.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "sashimono/net/WsServer.h"
#include "sashimono/runtime/Bundle.h"
#include "sashimono/runtime/ClusterConsensus.h"
#include "sashimono/runtime/ClusterFile.h"
#include "sashimono/runtime/Config.h"
#include "sashimono/runtime/Consensus.h"
#include "sashimono/runtime/Executor.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/PeerNetwork.h"
#include "sashimono/runtime/StateRounds.h"
#include "sashimono/runtime/UserServer.h"

namespace sashimono::runtime {

// A contract input whose bytes start with this is a bundle upload (docs/BUNDLE.md): the runtime
// takes it out of the contract's inputs, and installs it when it comes from the owner.
inline constexpr std::string_view kBundleInputPrefix = "sashimono.bundle/1\n";

class NplRouter;

class Instance final : public UserService {
 public:
  static core::Result<std::unique_ptr<Instance>> create(InstanceConfig config, InstanceKey key,
                                                        std::string dataDir, std::string contractFs);
  ~Instance() override;

  // Opens the user port and starts the threads. Returns the bound port.
  core::Result<std::uint16_t> start();
  void stop();
  // Installs a bundle (as if the owner had uploaded it) before the next round (sashimono dev).
  void requestInstall(Bundle bundle);
  [[nodiscard]] std::string tlsCertificateFile() const;
  // The bound peer port (0: none).
  [[nodiscard]] std::uint16_t peerPort() const { return peerPort_; }
  // What members signed in conflict (a cluster's evidence), for logs and tests.
  [[nodiscard]] std::vector<std::string> evidence() const;
  // What this member fetched from others to catch up (InstanceSync.cpp).
  struct SyncCounts {
    std::uint64_t ledgers = 0, blocks = 0, bytes = 0;
  };
  [[nodiscard]] SyncCounts syncCounts() const;
  [[nodiscard]] bool tls() const { return config_.user.tls != "off"; }

  // UserService
  [[nodiscard]] std::string contractId() const override { return config_.contractId; }
  [[nodiscard]] std::string contractVersion() const override;
  [[nodiscard]] PubKey publicKey() const override { return key_.publicKey(); }
  [[nodiscard]] core::Bytes sign(core::ByteView message) const override { return key_.sign(message); }
  [[nodiscard]] std::vector<PubKey> unl() const override;
  std::optional<std::string> submitInput(const PubKey& user, Protocol p, const ContractInputMsg& m,
                                         const Hash& inputHash) override;
  void readRequest(std::uint64_t sessionId, const PubKey& user, Protocol p, ReadRequestMsg m) override;
  [[nodiscard]] StatInfo stat() const override;
  [[nodiscard]] std::pair<std::uint64_t, Hash> lcl() const override;
  void ledgerQuery(std::uint64_t sessionId, LedgerQueryMsg q) override;

 private:
  Instance(InstanceConfig config, InstanceKey key, std::string dataDir, std::string contractFs);
  core::Status prepareFiles();
  void engineLoop();
  void runRound(RoundPlan& plan);
  // Cluster (InstanceCluster.cpp).
  core::Status startPeers();
  void watchLoop();
  // Engine thread, between rounds: a new membership is taken (genesis UNL, peers) and the
  // consensus made to fit the UNL.
  void applyMembership();
  void chooseConsensus();
  // The peer network's admission list (the membership's members with their endpoints, every
  // other UNL key without) and probes (the contract's peers).
  void refreshPeers();
  // A contract's control message (a consensus run's): peer_changeset.
  void onContractControl(const std::string& json);
  void onPeerMessage(const PubKey& from, PeerMessage&& m);
  void onPeerLink(const PubKey& peer, bool up);
  // Sync (InstanceSync.cpp): answers a member's ledger and state requests and takes the answers
  // to this member's (true: it was one of those); the engine thread catches up when behind.
  bool servePeer(const PubKey& from, PeerMessage& m);
  void serveLoop();
  void answerPeer(const PubKey& from, const PeerMessage& m);
  void syncFromPeers();
  void settleSyncedInputs(const LedgerMessage& m, const std::vector<Signature>& rootSigs);
  void readLoop();
  struct ReadJob {
    std::uint64_t sessionId;
    PubKey user;
    Protocol protocol;
    ReadRequestMsg msg;
  };
  void serveRead(ReadJob& job);
  void queryLoop();
  [[nodiscard]] Value answerQuery(const LedgerQueryMsg& q);
  struct QueryJob {
    std::uint64_t sessionId;
    LedgerQueryMsg msg;
  };
  [[nodiscard]] ContractConfig contractConfig() const;
  // What every run of the contract shares (binary, environment, uid, limits, identity).
  [[nodiscard]] ExecRequest execRequest(const ContractConfig& c) const;
  core::Status reloadContractConfig();
  core::Status installBundle(const Bundle& b);
  std::vector<std::pair<std::string, std::string>> contractEnvironment(const ContractConfig& c) const;
  void rotateLogs();

  InstanceConfig config_;
  InstanceKey key_;
  std::string dataDir_, contractFs_, stateDir_, patchFile_;

  boost::asio::io_context ioc_;
  std::unique_ptr<net::WsServer> server_;
  std::shared_ptr<UserServer> users_;
  std::vector<std::thread> ioThreads_;
  // Replaced by the engine thread only, under clusterMu_ (exclusive) and mu_; read by the engine
  // without a lock, by others under mu_.
  std::unique_ptr<Consensus> consensus_;
  std::shared_mutex clusterMu_;           // cluster_ for the network's callbacks
  ClusterConsensus* cluster_ = nullptr;   // consensus_ when it is a cluster's
  std::vector<PubKey> consensusUnl_;      // the UNL consensus_ was made for
  std::uint64_t consensusThreshold_ = 0;  // and patch.cfg's threshold (percent) it was made with
  std::unique_ptr<PeerNetwork> network_;
  std::unique_ptr<PeerLink> link_;
  std::unique_ptr<NplRouter> npl_;
  std::uint16_t peerPort_ = 0;
  TestLie testLie_ = TestLie::kNone;  // TEST ONLY: SASHIMONO_TEST_LIE, read once by startPeers
  std::thread watcher_;               // the cluster file
  // Sync: the member the engine fetches from, and what it answered.
  std::mutex syncMu_;
  std::condition_variable syncCv_;
  std::optional<PubKey> syncPeer_;
  std::deque<LedgerMessage> ledgerInbox_;
  std::uint32_t stateId_ = 0, stateWanted_ = 0;
  std::optional<core::Bytes> stateAnswer_;
  std::size_t syncTurn_ = 0;  // engine thread
  // Members' ledger and state requests, answered by serving_ (under syncMu_).
  std::deque<std::pair<PubKey, PeerMessage>> serveQueue_;
  std::condition_variable serveCv_;
  bool serveStopping_ = false;
  std::thread serving_;
  std::condition_variable watchCv_;
  std::thread engine_;
  std::vector<std::thread> readers_;
  std::thread querier_;  // ledger_query: sqlite reads off the I/O threads

  std::optional<LedgerStore> ledger_;         // engine thread
  std::unique_ptr<StateRounds> stateRounds_;  // engine thread (and prepareFiles, before it)
  std::unique_ptr<StateViews> views_;         // read threads; null: reads on the live state
  std::atomic<bool> viewsOff_{false};         // views turned out unavailable (logged once)
  std::optional<LedgerStore> queryLedger_;    // under queryMu_ (the querier, first nonce lookups)
  std::mutex queryMu_;

  mutable std::mutex mu_;  // everything below
  LedgerRecord lcl_;
  ContractConfig contract_;
  std::map<PubKey, UserNonce> nonces_;
  std::set<Hash> pendingHashes_;
  std::map<PubKey, std::uint64_t> pendingBytes_;
  std::deque<Bundle> installs_;
  std::deque<ReadJob> reads_;
  std::condition_variable readCv_;  // also: committing_ ended
  bool committing_ = false;         // a stored round's state is being committed (reads wait)
  std::deque<QueryJob> queries_;
  std::condition_variable queryCv_;
  bool stopping_ = false;
  std::optional<ClusterMembership> membership_;  // the cluster file's last valid content
  std::vector<std::string> contractPeers_;       // peer_changeset's endpoints (contract-peers.json)
  bool membershipChanged_ = false;
  std::uint64_t syncedLedgers_ = 0, syncedBlocks_ = 0, syncedBytes_ = 0;
  int stdoutFd_ = -1, stderrFd_ = -1;
};

}  // namespace sashimono::runtime
