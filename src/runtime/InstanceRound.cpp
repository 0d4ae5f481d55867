// The round engine of an Instance (Instance.h): engineLoop asks the consensus for each round and
// runRound carries it out — re-validate and order the inputs, run the contract, install bundles,
// hash, agree, store the ledger, and only then tell the users (docs/RUNTIME.md, Rounds).
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <map>
#include <mutex>
#include <set>

#include <spdlog/spdlog.h>

#include "sashimono/core/File.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/Instance.h"
#include "sashimono/runtime/OutputProof.h"

#include "InstanceUtil.h"
#include "NplRouter.h"

namespace sashimono::runtime {

using detail::kNoContractAnswer;
using detail::readFile;
using detail::text;

void Instance::engineLoop() {
  {
    std::lock_guard lock(mu_);
    npl_->setLcl(lcl_.seqNo);
  }
  while (true) {
    applyMembership();
    chooseConsensus();
    LedgerRecord last;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      last = lcl_;
    }
    auto plan = consensus_->nextRound(last, users_->connectedUsers());
    if (!plan) {  // interrupted (a membership to take), behind the cluster, or stopping
      syncFromPeers();
      continue;
    }
    runRound(*plan);
  }
}

void Instance::runRound(RoundPlan& plan) {
  const auto started = std::chrono::steady_clock::now();
  // Phase times for the debug line (µs): validate, run, hash, store, send.
  std::array<std::int64_t, 5> phase{};
  auto mark = started;
  auto lap = [&](std::size_t i) {
    const auto now = std::chrono::steady_clock::now();
    phase[i] = std::chrono::duration_cast<std::chrono::microseconds>(now - mark).count();
    mark = now;
  };
  // 1. Installs asked for locally (sashimono dev) happen first, outside any ledger's inputs.
  std::deque<Bundle> installs;
  // The inputs of this member's users that the plan takes: no longer pending here, unless the round
  // is replaced (below): then they are pending again, and their senders are answered by the round or
  // the fetched ledger (settleSyncedInputs) that applies them.
  struct Taken {
    Hash hash{};
    PubKey user{};
    std::uint64_t bytes = 0;
  };
  std::vector<Taken> taken;
  {
    std::lock_guard lock(mu_);
    installs.swap(installs_);
    for (const auto& in : plan.inputs) {
      if (pendingHashes_.erase(in.hash) == 0) continue;  // relayed by a member
      taken.push_back(Taken{in.hash, in.user, static_cast<std::uint64_t>(in.blob.size())});
      auto it = pendingBytes_.find(in.user);
      if (it != pendingBytes_.end()) {
        it->second -= std::min(it->second, static_cast<std::uint64_t>(in.blob.size()));
        // Not clear(): inputs submitted since this plan was taken wait for the next round.
        if (it->second == 0) pendingBytes_.erase(it);
      }
    }
  }
  for (const auto& b : installs) {
    auto st = installBundle(b);
    if (st)
      spdlog::info("installed contract version {}", b.contract.version);
    else
      spdlog::error("installing a bundle: {}", st.error().message);
  }
  // 2. Re-validate and order the inputs (sheet 2.7): users ascending, then nonce, then hash.
  std::sort(plan.inputs.begin(), plan.inputs.end(), [](const RoundInput& a, const RoundInput& b) {
    return std::tie(a.user, a.nonce, a.hash) < std::tie(b.user, b.nonce, b.hash);
  });
  std::map<PubKey, UserNonce> nonces;
  {
    std::lock_guard lock(mu_);
    nonces = nonces_;
  }
  std::vector<RoundInput> accepted;
  std::vector<std::pair<RoundInput, std::string>> rejected;
  std::set<Hash> seen;
  for (auto& in : plan.inputs) {
    const char* reason = nullptr;
    auto dup = ledger_->hasInput(in.hash);
    if (!seen.insert(in.hash).second || (dup.ok() && *dup)) {
      reason = "already_submitted";
    } else if (in.maxLedgerSeqNo < plan.seqNo) {
      reason = "max_ledger_expired";
    } else {
      auto it = nonces.find(in.user);
      std::optional<UserNonce> last;
      if (it != nonces.end())
        last = it->second;
      else if (auto n = ledger_->userNonce(in.user); n.ok() && *n)
        last = **n;
      if (last && in.nonce <= last->nonce && last->maxLedgerSeqNo >= plan.seqNo) reason = "nonce_expired";
    }
    if (reason != nullptr) {
      rejected.emplace_back(std::move(in), reason);
      continue;
    }
    nonces[in.user] = UserNonce{in.nonce, in.maxLedgerSeqNo};
    accepted.push_back(std::move(in));
  }
  // 3. The user set: connected users plus anyone with an accepted input.
  std::vector<PubKey> users = plan.users;
  for (const auto& in : accepted) users.push_back(in.user);
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  // 4. Bundle uploads are the runtime's, not the contract's.
  std::map<PubKey, std::vector<core::Bytes>> outputs;
  std::vector<const RoundInput*> bundles, unlChanges;
  std::map<PubKey, std::vector<core::Bytes>> contractInputs;
  for (const auto& in : accepted) {
    if (core::asString(in.blob).substr(0, kBundleInputPrefix.size()) == kBundleInputPrefix)
      bundles.push_back(&in);
    else if (core::asString(in.blob).substr(0, kUnlInputPrefix.size()) == kUnlInputPrefix)
      unlChanges.push_back(&in);
    else
      contractInputs[in.user].push_back(in.blob);
  }
  lap(0);
  LedgerRecord last;
  {
    std::lock_guard lock(mu_);
    last = lcl_;
  }
  // The round's writes (the contract's, the bundles') start here. In a tenant they are undone by
  // a rollback unless the round closes its ledger (docs/RUNTIME.md, "Rounds against the state
  // filesystem").
  if (auto st = stateRounds_->begin(last); !st)
    spdlog::error("round {}: opening the round on the state: {} (its writes cannot be undone)", plan.seqNo,
                  st.error().message);
  const bool undoable = stateRounds_->inRound();
  // A failed round: its writes undone, its inputs answered round_failed, no ledger.
  auto fail = [&](const std::string& why) {
    spdlog::error("round {}: {}; the round fails{}", plan.seqNo, why,
                  undoable ? " and its state is rolled back" : " (its state writes stay: no undo log)");
    if (undoable) {
      auto back = stateRounds_->rollback();
      if (back)
        spdlog::info("round {}: rolled back to {}", plan.seqNo, core::toHexLower(*back));
      else
        spdlog::error("round {}: rolling back: {}", plan.seqNo, back.error().message);
      if (auto st = reloadContractConfig(); !st) spdlog::error("patch.cfg: {}", st.error().message);
    }
    for (const auto& in : accepted)
      users_->sendToUser(in.user, [&](Protocol) { return inputStatusRejected(in.hash, "round_failed"); });
  };
  // The cluster certified another plan for this round: this one is undone, its inputs stay pending.
  auto replaced = [&] {
    spdlog::info("round {}: the cluster agreed on another plan; this one is {}", plan.seqNo,
                 undoable ? "rolled back" : "left in the state (no undo log: this member must sync)");
    if (undoable) {
      if (auto back = stateRounds_->rollback(); !back)
        spdlog::error("round {}: rolling back: {}", plan.seqNo, back.error().message);
      if (auto st = reloadContractConfig(); !st) spdlog::error("patch.cfg: {}", st.error().message);
    }
    std::lock_guard lock(mu_);
    for (const auto& t : taken) {
      pendingHashes_.insert(t.hash);
      pendingBytes_[t.user] += t.bytes;
    }
  };
  // 5. Run the contract (or the bootstrap's answer when none is deployed).
  auto c = contractConfig();
  if (c.binPath.empty()) {
    for (const auto& [u, ins] : contractInputs)
      for (std::size_t i = 0; i < ins.size(); ++i) outputs[u].push_back(text(kNoContractAnswer));
  } else if (!contractInputs.empty() || c.periodicRounds) {
    rotateLogs();
    ExecRequest r = execRequest(c);
    const auto limits = capLimits(c.roundLimits, config_.roundLimits);
    r.timestamp = plan.timestamp;
    r.readonly = false;
    r.lclSeqNo = last.seqNo;
    r.lclHashHex = core::toHexLower(last.hash);
    for (const auto& u : users) {
      ExecUser eu{hexKey(u), {}};
      if (auto it = contractInputs.find(u); it != contractInputs.end()) eu.inputs = it->second;
      r.users.push_back(std::move(eu));
    }
    // Every member of the round's UNL was active at the round's time: the same input on every
    // member (what a contract reads must not differ between members).
    for (const auto& k : c.unl.empty() ? std::vector<PubKey>{key_.publicKey()} : c.unl)
      r.unl.emplace_back(hexKey(k), plan.timestamp);
    r.stdoutFd = stdoutFd_;
    r.stderrFd = stderrFd_;
    r.logHeader = "Execution lcl " + std::to_string(last.seqNo) + "-" + r.lclHashHex + "\n";
    // NPL: what the contract sends reaches itself (as in Hot Pocket) and, signed with this
    // round's last ledger, every member; the members' messages of this round reach it (NplRouter).
    ExecCallbacks cb;
    const std::uint64_t nplSeq = last.seqNo;
    cb.onNpl = [&, nplSeq](core::Bytes data) {
      if (network_) (void)network_->broadcast(npl_->sign(nplSeq, data));
      npl_->deliverOwn(key_.publicKey(), std::move(data));
    };
    cb.onControl = [this](std::string json) { onContractControl(json); };
    npl_->begin(last.seqNo);
    auto exec = Execution::start(r, cb);
    if (!r.privateKeyHex.empty()) sodium_memzero(r.privateKeyHex.data(), r.privateKeyHex.size());
    if (!exec) {
      spdlog::error("round {}: the contract did not start: {}", plan.seqNo, exec.error().message);
    } else {
      npl_->attach(exec->get());
      auto result = (*exec)->wait();
      npl_->end();
      if (result.timedOut)
        spdlog::warn("round {}: the contract ran over {} ms and was killed", plan.seqNo,
                     limits.execTimeoutMs);
      else if (result.signal != 0 && result.signal != SIGINT)  // SIGINT: the Node library's forceTerminate
        spdlog::warn("round {}: the contract ended by signal {}", plan.seqNo, result.signal);
      for (auto& [u, outs] : result.outputs) {
        auto k = parseHexKey(u);
        if (!k || outs.empty()) continue;
        auto& dst = outputs[*k];
        for (auto& o : outs) dst.push_back(std::move(o));
      }
    }
  }
  // 6. Bundles: installed after this round's run, so the next round runs the new contract.
  for (const auto* in : bundles) {
    if (!config_.owner || in->user != *config_.owner) {
      outputs[in->user].push_back(text("sashimono: refused: only the lease owner may deploy a contract"));
      continue;
    }
    auto b = readBundle(core::ByteView(in->blob).subspan(kBundleInputPrefix.size()));
    if (!b) {
      outputs[in->user].push_back(text("sashimono: refused: " + b.error().message));
      continue;
    }
    auto st = installBundle(*b);
    if (!st) {
      outputs[in->user].push_back(text("sashimono: refused: " + st.error().message));
      continue;
    }
    spdlog::info("round {}: contract version {} deployed by the owner", plan.seqNo, b->contract.version);
    outputs[in->user].push_back(text("sashimono: deployed version " + b->contract.version));
  }
  lap(1);
  // The owner's membership changes: the UNL from the next round on (docs/CLUSTER.md).
  for (const auto* in : unlChanges) {
    if (!config_.owner || in->user != *config_.owner) {
      outputs[in->user].push_back(text("sashimono: refused: only the lease owner may change the UNL"));
      continue;
    }
    auto change = parseUnlChange(core::asString(in->blob).substr(kUnlInputPrefix.size()));
    auto cfg = contractConfig();
    core::Status st = change ? core::Status{} : core::Status(change.error());
    if (st) {
      if (change->unl) cfg.unl = *change->unl;
      if (change->threshold) cfg.threshold = *change->threshold;
      st = core::writeFileAtomic(patchFile_, renderContractConfig(cfg), 0644, true);
    }
    if (st) st = reloadContractConfig();
    if (!st) {
      outputs[in->user].push_back(text("sashimono: refused: " + st.error().message));
      continue;
    }
    std::string what;
    if (change->unl) what = "unl changed to " + std::to_string(change->unl->size()) + " members";
    if (change->threshold)
      what +=
          (what.empty() ? "" : ", ") + std::string("threshold ") + std::to_string(*change->threshold) + " %";
    spdlog::info("round {}: the owner changed the consensus: {}", plan.seqNo, what);
    outputs[in->user].push_back(text("sashimono: " + what));
  }
  // 7. The contract may have changed patch.cfg.
  if (auto st = reloadContractConfig(); !st) spdlog::error("patch.cfg: {}", st.error().message);
  auto c2 = contractConfig();
  if (c2.roundTimeMs != c.roundTimeMs || c2.periodicRounds != c.periodicRounds ||
      c2.busyRoundMs != c.busyRoundMs)
    consensus_->setPacing(c2.roundTimeMs, c2.periodicRounds, c2.busyRoundMs);
  // 8. Hashes, output tree, agreement, ledger.
  // The state hash: the round's writes included, committed only once the ledger is stored.
  auto stateHash = stateRounds_->root();
  if (!stateHash && undoable) return fail("hashing the state: " + stateHash.error().message);
  if (!stateHash) {
    spdlog::error("round {}: hashing the state: {}", plan.seqNo, stateHash.error().message);
    stateHash = Hash{};
  }
  auto patchText = readFile(patchFile_);
  Hash configHash = patchText ? crypto::blake3(core::asBytes(*patchText)) : Hash{};
  std::vector<LedgerOutput> ledgerOutputs;
  std::vector<Hash> userHashes;
  for (auto& [u, outs] : outputs) {
    LedgerOutput lo;
    lo.user = u;
    lo.hash = userOutputHash(u, outs);
    lo.blobs = outs;
    userHashes.push_back(lo.hash);
    ledgerOutputs.push_back(std::move(lo));
  }
  OutputTree tree(userHashes, *stateHash);
  // The ledger this round closes: members agree on its hash, not only on the outputs.
  LedgerRecord rec;
  {
    std::lock_guard lock(mu_);
    rec.prevHash = lcl_.hash;
  }
  rec.seqNo = plan.seqNo;
  rec.timestamp = plan.timestamp;
  rec.stateHash = *stateHash;
  rec.configHash = configHash;
  rec.userHash = userSetHash(users);
  std::vector<Hash> inputHashes;
  std::vector<LedgerInput> ledgerInputs;
  for (const auto& in : accepted) {
    inputHashes.push_back(in.hash);
    ledgerInputs.push_back(LedgerInput{in.user, in.hash, in.nonce, in.maxLedgerSeqNo, in.blob});
  }
  rec.inputHash = hashList(inputHashes);
  rec.outputHash = tree.empty() ? Hash{} : tree.root();
  sealLedger(rec);
  lap(2);
  // While the other members' results travel, the ledger's rows are written (not committed): only
  // the signatures and the commit are left for the close.
  auto agreed = consensus_->agree(plan, tree.root(), *stateHash, rec.hash, [&] {
    if (auto st = ledger_->stage(rec, ledgerInputs, ledgerOutputs); !st)
      spdlog::warn("round {}: staging the ledger: {} (written at the close)", plan.seqNo, st.error().message);
  });
  if (!agreed.closed()) ledger_->unstage();
  if (!agreed.closed() && consensus_->replaced()) return replaced();
  if (!agreed.closed()) return fail("no agreement on the round's outputs");
  const auto& sigs = agreed.rootSignatures;
  auto stored = ledger_->staged()
                    ? ledger_->commitStaged(agreed.ledgerSignatures, sigs)
                    : ledger_->append(rec, ledgerInputs, ledgerOutputs, agreed.ledgerSignatures, sigs);
  if (!stored) return fail("storing the ledger failed, its outputs are not sent: " + stored.error().message);
  // The ledger is stored (with the agreeing members' signatures): the round is final. Its users
  // are told at once; the round's state is committed right after (a crash in between is resolved
  // at the next start, StateRounds::recover, as one between the append and the commit always
  // was). Read requests wait for that commit (committing_), so that one a user sends after its
  // output sees the round's state.
  {
    std::lock_guard lock(mu_);
    lcl_ = rec;
    for (const auto& [u, n] : nonces) nonces_[u] = n;
    committing_ = undoable;
  }
  npl_->setLcl(rec.seqNo);
  lap(3);
  // 9. Tell the users.
  for (const auto& [in, reason] : rejected)
    users_->sendToUser(in.user, [&h = in.hash, &r = reason](Protocol) { return inputStatusRejected(h, r); });
  for (const auto& in : accepted)
    users_->sendToUser(in.user, [&](Protocol) { return inputStatusAccepted(in.hash, rec.seqNo, rec.hash); });
  for (const auto& lo : ledgerOutputs) {
    Value treeFor = tree.collapsedFor(lo.hash);
    users_->sendToUser(lo.user, [&](Protocol p) {
      return contractOutputMsg(p, rec.seqNo, rec.hash, lo.blobs, lo.hash, treeFor, sigs);
    });
  }
  users_->publish("ledger_event", ledgerCreatedEvent(rec));
  if (c2.unl != c.unl) users_->publish("unl_change", unlChangeMsg(c2.unl.empty() ? unl() : c2.unl));
  if (undoable) {
    auto committed = stateRounds_->commit();
    if (!committed) committed = stateRounds_->commit();  // once more: the connection may have dropped
    if (!committed)
      spdlog::error("round {}: committing the state: {}", plan.seqNo, committed.error().message);
    else if (*committed != *stateHash)
      spdlog::error("round {}: the committed state {} is not the ledger's {}", plan.seqNo,
                    core::toHexLower(*committed), core::toHexLower(*stateHash));
    {
      std::lock_guard lock(mu_);
      committing_ = false;
    }
    readCv_.notify_all();
  }
  lap(4);
  spdlog::debug(
      "round {}: {} inputs ({} rejected), {} users with outputs, phases validate {} run {} hash {} store {} "
      "send {} us, {} us",
      rec.seqNo, accepted.size(), rejected.size(), ledgerOutputs.size(), phase[0], phase[1], phase[2],
      phase[3], phase[4],
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
          .count());
}

}  // namespace sashimono::runtime
