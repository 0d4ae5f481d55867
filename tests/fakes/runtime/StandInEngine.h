#pragma once
// A stand-in round engine for cluster tests: a thread that asks its Consensus for the next round,
// "runs" the plan (the state hash: the previous one and the plan's input hashes, in order; the
// output root: that, marked) and stores the ledger when agree() returns at least the threshold's
// signatures. The ledgers it stored can be read while it runs.
#include <chrono>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/Consensus.h"

namespace sashimono::runtime::fakes {

class StandInEngine {
 public:
  using Ledger = std::tuple<std::uint64_t, Hash, std::vector<Hash>>;  // seq, hash, inputs

  // Runs until the consensus is stopped (nextRound returns nothing); join() waits for that.
  StandInEngine(Consensus& c, std::size_t threshold) : c_(c), threshold_(threshold) {
    thread_ = std::thread([this] { run(); });
  }
  ~StandInEngine() { join(); }
  StandInEngine(const StandInEngine&) = delete;
  StandInEngine& operator=(const StandInEngine&) = delete;

  void join() {
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::vector<Ledger> ledgers() const {
    std::lock_guard l(mu_);
    return ledgers_;
  }
  // When each stored ledger closed here (steady clock), in order.
  [[nodiscard]] std::vector<std::chrono::steady_clock::time_point> closedAt() const {
    std::lock_guard l(mu_);
    return closedAt_;
  }
  // Inputs in the ledgers stored so far.
  [[nodiscard]] std::size_t applied() const {
    std::lock_guard l(mu_);
    std::size_t n = 0;
    for (const auto& [seq, hash, ins] : ledgers_) n += ins.size();
    return n;
  }

 private:
  void run() {
    LedgerRecord lcl;
    for (;;) {
      auto plan = c_.nextRound(lcl, {});
      if (!plan) return;
      core::Bytes b(lcl.stateHash.begin(), lcl.stateHash.end());
      std::vector<Hash> ins;
      for (const auto& in : plan->inputs) {
        b.insert(b.end(), in.hash.begin(), in.hash.end());
        ins.push_back(in.hash);
      }
      const Hash state = crypto::blake3(b);
      b.push_back(1);
      const Hash root = crypto::blake3(b);
      LedgerRecord next;
      next.seqNo = plan->seqNo;
      next.timestamp = plan->timestamp;
      next.stateHash = state;
      core::Bytes h(lcl.hash.begin(), lcl.hash.end());
      h.insert(h.end(), state.begin(), state.end());
      next.hash = crypto::blake3(h);
      const auto agreed = c_.agree(*plan, root, state, next.hash);
      if (agreed.rootSignatures.size() < threshold_ || agreed.ledgerSignatures.size() < threshold_)
        continue;  // replaced or stopped
      lcl = next;
      std::lock_guard l(mu_);
      ledgers_.emplace_back(lcl.seqNo, lcl.hash, ins);
      closedAt_.push_back(std::chrono::steady_clock::now());
    }
  }

  Consensus& c_;
  std::size_t threshold_;
  mutable std::mutex mu_;
  std::vector<Ledger> ledgers_;
  std::vector<std::chrono::steady_clock::time_point> closedAt_;
  std::thread thread_;
};

// A user's signed input (JSON container) with the given nonce.
inline RoundInput signedUserInput(const InstanceKey& user, std::uint64_t nonce) {
  RoundInput in;
  in.user = user.publicKey();
  const std::string c = R"({"input":"in )" + std::to_string(nonce) + R"(","nonce":)" + std::to_string(nonce) +
                        R"(,"max_ledger_seq_no":100000})";
  in.container = core::Bytes(c.begin(), c.end());
  in.sig = user.sign(in.container);
  in.hash = crypto::blake3(in.sig);
  in.blob = core::Bytes(c.begin(), c.end());
  in.nonce = nonce;
  in.maxLedgerSeqNo = 100000;
  return in;
}

}  // namespace sashimono::runtime::fakes
