// A cluster member that fell behind catches up (docs/CLUSTER.md, "Sync"): the engine thread fetches
// the ledgers it lacks from a member (each verified by LedgerSync: the chain and T members'
// ledger signatures), stores them, then brings its state to the last one's state hash with the
// state filesystem's sync (every block verified against that hash). The network threads answer
// other members' requests from the ledger store's reader and the committed state.
#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/LedgerSync.h"
#include "sashimono/runtime/OutputProof.h"
#include "sashimono/runtime/UserMessages.h"

#include "NplRouter.h"

namespace sashimono::runtime {

namespace {

constexpr auto kFirstAnswer = std::chrono::seconds(3);        // a member's first ledger of an answer
constexpr auto kNextAnswer = std::chrono::milliseconds(500);  // the next ones
constexpr auto kStateAnswer = std::chrono::seconds(10);
constexpr auto kRetry = std::chrono::milliseconds(500);  // no member could help: try again after
constexpr std::size_t kMaxQueuedPeerRequests = 64;

}  // namespace

Instance::SyncCounts Instance::syncCounts() const {
  std::lock_guard lock(mu_);
  return SyncCounts{syncedLedgers_, syncedBlocks_, syncedBytes_};
}

// A member's ledger or state request, answered on the serving thread (the answers read sqlite and
// the state filesystem: never on the network's thread, which delivers every member's messages).
void Instance::answerPeer(const PubKey& from, const PeerMessage& m) {
  if (const auto* req = std::get_if<LedgerRequest>(&m)) {
    core::Result<std::vector<LedgerMessage>> answer = core::Error("no ledger store");
    {
      std::lock_guard q(queryMu_);
      if (queryLedger_) answer = answerLedgerRequest(*queryLedger_, *req);
    }
    if (!answer) {
      spdlog::warn("cluster: ledger request of {} not answered: {}", hexKey(from), answer.error().message);
      return;
    }
    for (auto& l : *answer) (void)network_->send(from, l);
  } else if (const auto* req = std::get_if<StateRequest>(&m)) {
    auto answer = stateRounds_->answerSync(req->request);
    if (!answer) {
      spdlog::warn("cluster: state request of {} not answered: {}", hexKey(from), answer.error().message);
      return;
    }
    (void)network_->send(from, StateResponse{req->id, std::move(*answer)});
  }
}

void Instance::serveLoop() {
  std::unique_lock lock(syncMu_);
  while (true) {
    serveCv_.wait(lock, [&] { return serveStopping_ || !serveQueue_.empty(); });
    if (serveStopping_) return;
    auto [from, m] = std::move(serveQueue_.front());
    serveQueue_.pop_front();
    lock.unlock();
    answerPeer(from, m);
    lock.lock();
  }
}

bool Instance::servePeer(const PubKey& from, PeerMessage& m) {
  if (std::holds_alternative<LedgerRequest>(m) || std::holds_alternative<StateRequest>(m)) {
    std::lock_guard lock(syncMu_);
    // Each member has at most one request outstanding (Sync): more are a member misbehaving.
    if (serveQueue_.size() >= kMaxQueuedPeerRequests) {
      spdlog::warn("cluster: {} sync requests waiting; one of {} dropped", serveQueue_.size(), hexKey(from));
      return true;
    }
    serveQueue_.emplace_back(from, std::move(m));
    serveCv_.notify_one();
    return true;
  }
  if (auto* l = std::get_if<LedgerMessage>(&m)) {
    std::lock_guard lock(syncMu_);
    if (syncPeer_ && *syncPeer_ == from && ledgerInbox_.size() < kMaxLedgerRequestCount)
      ledgerInbox_.push_back(std::move(*l));
    syncCv_.notify_all();
    return true;
  }
  if (auto* r = std::get_if<StateResponse>(&m)) {
    std::lock_guard lock(syncMu_);
    if (syncPeer_ && *syncPeer_ == from && r->id == stateWanted_) stateAnswer_ = std::move(r->response);
    syncCv_.notify_all();
    return true;
  }
  return false;
}

// Inputs in a ledger this member fetched instead of running: out of the consensus's pool, and a
// local user who sent one is told it was accepted (its outputs reach the users of the members that
// ran the round; here they are in the ledger: ledger_query).
void Instance::settleSyncedInputs(const LedgerMessage& m, const std::vector<Signature>& rootSigs) {
  std::vector<std::pair<Hash, std::uint64_t>> done;
  for (const auto& in : m.inputs) done.emplace_back(in.hash, in.maxLedgerSeqNo);
  if (cluster_ != nullptr) cluster_->appliedElsewhere(done);
  for (const auto& in : m.inputs) {
    {
      std::lock_guard lock(mu_);
      if (pendingHashes_.erase(in.hash) == 0) continue;
      if (auto it = pendingBytes_.find(in.user); it != pendingBytes_.end()) {
        it->second -= std::min(it->second, static_cast<std::uint64_t>(in.blob.size()));
        if (it->second == 0) pendingBytes_.erase(it);
      }
    }
    users_->sendToUser(in.user,
                       [&](Protocol) { return inputStatusAccepted(in.hash, m.record.seqNo, m.record.hash); });
  }
  // The ledger's outputs, with the proof the round's own users got (the members' root_sigs kept
  // with it): a user whose input this member relayed gets its output though the member missed the
  // round. A user connected here that the ledger has no output for gets nothing.
  if (m.outputs.empty() || rootSigs.empty()) return;
  std::vector<Hash> userHashes;
  for (const auto& o : m.outputs) userHashes.push_back(o.hash);
  const OutputTree tree(std::move(userHashes), m.record.stateHash);
  for (const auto& o : m.outputs) {
    Value treeFor = tree.collapsedFor(o.hash);
    users_->sendToUser(o.user, [&](Protocol p) {
      return contractOutputMsg(p, m.record.seqNo, m.record.hash, o.blobs, o.hash, treeFor, rootSigs);
    });
  }
}

void Instance::syncFromPeers() {
  auto retryLater = [this] {
    std::unique_lock lock(mu_);
    watchCv_.wait_for(lock, kRetry, [&] { return stopping_; });
  };
  const auto behind = cluster_ != nullptr && network_ ? cluster_->behind() : std::nullopt;
  if (!behind) return;
  const std::uint64_t target = *behind;
  auto peers = network_->connected();
  if (peers.empty()) return retryLater();
  std::rotate(peers.begin(), peers.begin() + static_cast<std::ptrdiff_t>(syncTurn_++ % peers.size()),
              peers.end());
  // Whose word a synced ledger needs: the other members' — this one's signature cannot be on a
  // ledger it missed — and the threshold computed over them. That is also what lets a member
  // added by a membership change verify the ledgers closed before it was a member (one member
  // added at a time, as `sashimono cluster add` does: the others are the UNL that closed them).
  const auto c = contractConfig();
  std::vector<PubKey> unl;
  for (const auto& k : consensusUnl_)
    if (k != key_.publicKey()) unl.push_back(k);
  if (unl.empty()) return retryLater();
  const std::size_t threshold = agreementThreshold(unl.size(), static_cast<double>(c.threshold) / 100.0);
  auto stopping = [this] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  for (const auto& peer : peers) {
    if (stopping()) return;
    LedgerRecord last;
    {
      std::lock_guard lock(mu_);
      last = lcl_;
    }
    LedgerSync ledgers(unl, threshold, last);
    std::size_t fetched = 0;
    bool complete = false, failed = false;
    {
      std::lock_guard lock(syncMu_);
      syncPeer_ = peer;
      ledgerInbox_.clear();
    }
    // 1. Ledgers, 64 at a time, until the member has no more.
    while (!failed && !complete && !stopping()) {
      const LedgerRequest req = ledgers.nextRequest(kMaxLedgerRequestCount);
      if (!network_->send(peer, req)) {
        failed = true;
        break;
      }
      std::size_t got = 0;
      auto deadline = std::chrono::steady_clock::now() + kFirstAnswer;
      while (got < req.count && !failed) {
        std::optional<LedgerMessage> m;
        {
          std::unique_lock lock(syncMu_);
          syncCv_.wait_until(lock, deadline, [&] { return !ledgerInbox_.empty(); });
          if (ledgerInbox_.empty()) break;  // the member has sent what it has
          m = std::move(ledgerInbox_.front());
          ledgerInbox_.pop_front();
        }
        auto sigs = ledgers.verify(*m);
        if (!sigs) {
          spdlog::warn("cluster: member {} served a ledger that does not verify: {}", hexKey(peer),
                       sigs.error().message);
          failed = true;
          break;
        }
        const auto rootSigs = verifiedRootSignatures(*m, *sigs);
        if (auto st = ledger_->append(m->record, m->inputs, m->outputs, *sigs, rootSigs); !st) {
          spdlog::error("cluster: storing synced ledger {}: {}", m->record.seqNo, st.error().message);
          failed = true;
          break;
        }
        {
          std::lock_guard lock(mu_);
          lcl_ = m->record;
        }
        settleSyncedInputs(*m, rootSigs);
        ++fetched;
        ++got;
        deadline = std::chrono::steady_clock::now() + kNextAnswer;
      }
      if (got < req.count) complete = !failed;
    }
    // 2. The state of the last ledger.
    LedgerRecord now;
    {
      std::lock_guard lock(mu_);
      now = lcl_;
    }
    statefs::SyncResult counts;
    bool stateOk = true, stateFetched = false;
    auto root = stateRounds_->root();
    if (now.seqNo != 0 && (!root || *root != now.stateHash)) {
      SyncFetch fetch = [&](core::ByteView request) -> core::Result<core::Bytes> {
        std::uint32_t id = 0;
        {
          std::lock_guard lock(syncMu_);
          id = ++stateId_;
          stateWanted_ = id;
          stateAnswer_.reset();
        }
        if (!network_->send(peer, StateRequest{id, core::Bytes(request.begin(), request.end())}))
          return core::Error("member " + hexKey(peer) + " is not connected");
        std::unique_lock lock(syncMu_);
        if (!syncCv_.wait_for(lock, kStateAnswer, [&] { return stateAnswer_.has_value(); }))
          return core::Error("member " + hexKey(peer) + " did not answer a state request");
        core::Bytes answer = std::move(*stateAnswer_);
        stateAnswer_.reset();
        return answer;
      };
      auto synced = stateRounds_->syncTo(now.stateHash, fetch, &counts);
      stateFetched = true;
      if (!synced) {
        spdlog::warn("cluster: state sync to ledger {} from {}: {}", now.seqNo, hexKey(peer),
                     synced.error().message);
        stateOk = false;
      }
    }
    {
      std::lock_guard lock(syncMu_);
      syncPeer_.reset();
      ledgerInbox_.clear();
    }
    if (fetched == 0 && !stateFetched && !complete) continue;  // this member did not help
    if (fetched > 0 || stateFetched) {
      if (auto st = reloadContractConfig(); !st) spdlog::error("patch.cfg: {}", st.error().message);
      {
        std::lock_guard lock(mu_);
        nonces_.clear();  // taken again from the ledger store
        syncedLedgers_ += fetched;
        if (stateFetched && stateOk) {
          syncedBlocks_ += counts.blocks;
          syncedBytes_ += counts.bytes;
        }
      }
      npl_->setLcl(now.seqNo);
      spdlog::info("cluster: synced from {}: {} ledger(s) to ledger {}{}", hexKey(peer), fetched, now.seqNo,
                   stateFetched ? (stateOk ? ", state: " + std::to_string(counts.blocks) + " block(s), " +
                                                 std::to_string(counts.bytes) + " bytes fetched"
                                           : ", state sync failed")
                                : "");
    }
    // Caught up once this member has the ledger the cluster was known to have closed (a member as
    // far behind as this one has nothing more to give, and does not count).
    if (complete && stateOk && now.seqNo >= target) {
      cluster_->caughtUp();
      return;
    }
  }
  retryLater();
}

}  // namespace sashimono::runtime
