#pragma once
// The host node's logic: board → verify → record → lease → provision → reply, exactly once.
//
//   onTransactions(txs)    per request: decode, verify, classify (protocol::classify, trusting
//                          no board) → record it (blob kept unless ignored) → Book::handle →
//                          record the decision (request decided + lease changes + replies into
//                          the outbox); a run of such decisions is committed as one sqlite
//                          transaction, then its actions execute in order (provision/destroy
//                          through the ProvisionerPort; completions are decisions of their own,
//                          committed before their actions run)
//   onLedgerFinished(L)    every transaction of ledgers ≤ L is decided: persist L as the cursor
//   tick()                 expiry (Book::tick), retries of failed destroys and cluster
//                          deliveries, announcements (capacity change, heartbeat)
//   pumpOutbox()           Outbox::pump: sign/submit/confirm replies
//   start()                restore the book from the store, resume interrupted actions,
//                          reconcile with the provisioner (orphans destroyed, drift reported),
//                          handle requests recorded but not decided; returns the cursor
//
// Crash safety: every side effect follows the commit of the decision that asked for it, and
// every action is idempotent (ProvisionerPort contract), so a restart at any point redoes at
// most an action, never a reply (the outbox holds those). docs/NODE.md has the argument.
//
// Errors: a failed call may leave the in-memory book ahead of the store; the owner must then
// discard the node and start a new one on the store (NodeService stops; `host run` exits 1).
//
// Thread-safety: none; one thread (the node's) calls everything. Blocking provisioner calls run
// on that thread, never on the board's I/O thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sashimono/board/Responses.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Book.h"
#include "sashimono/node/BoardPort.h"
#include "sashimono/node/NodeStore.h"
#include "sashimono/node/Outbox.h"
#include "sashimono/node/ProvisionerPort.h"
#include "sashimono/protocol/Verdict.h"

namespace sashimono::node {

inline constexpr const char* kNodeVersion = "0.1.0";

struct NodeOptions {
  lease::Offer offer;
  protocol::HostPolicy policy;
  std::string hostAddress;                    // announced to tenants
  std::optional<crypto::AccountId> registry;  // none: no announcements
  std::uint64_t heartbeatSeconds = 600;
  // Threads that verify a large batch of deliveries at once (at most the machine's cores).
  unsigned verifyThreads = 8;
  OutboxOptions outbox;
  // Test hook: called at each step boundary ("seen", "verified", "decided", "provisioned",
  // "destroyed", "cursor"); a test throws from it to simulate a crash there.
  std::function<void(std::string_view step)> onStep;
};

class Node {
 public:
  // References must outlive the node. hostKey must be ed25519 (requests are sealed to it).
  Node(NodeOptions options, NodeStore& store, BoardPort& board, ProvisionerPort& provisioner,
       const crypto::KeyPair& hostKey, const lease::Clock& clock);

  // Start-up (see above). Returns the ledger cursor to start the board from.
  [[nodiscard]] core::Result<std::optional<std::uint32_t>> start();
  [[nodiscard]] core::Status onTransaction(const board::BoardTx& tx);
  // Transactions in delivery order. Runs of decisions are recorded in one store transaction
  // (one fsync) before any of them is acted on; a run ends after a request that provisions or
  // destroys, so each request still sees the book as if the requests came one at a time.
  [[nodiscard]] core::Status onTransactions(std::span<const board::BoardTx> txs);
  [[nodiscard]] core::Status onLedgerFinished(std::uint32_t ledger);
  [[nodiscard]] core::Status tick();
  [[nodiscard]] core::Result<PumpReport> pumpOutbox();
  // Replies were added to the outbox since the last pumpOutbox() (the owner pumps at once
  // rather than at its next tick).
  [[nodiscard]] bool hasNewReplies() const { return newReplies_; }

  [[nodiscard]] const lease::Book& book() const { return book_; }
  [[nodiscard]] const lease::DriftReport& drift() const { return drift_; }
  // The node's state as JSON (for the status row), with the board part given by the caller.
  [[nodiscard]] std::string statusJson(const std::string& boardJson) const;

 private:
  [[nodiscard]] protocol::Verdict classifyTx(const crypto::Hash256& hash, core::ByteView blob,
                                             const std::string& result, core::ByteView meta) const;
  [[nodiscard]] std::vector<protocol::Verdict> classifyAll(std::span<const board::BoardTx> txs) const;
  core::Status decide(const board::BoardTx& tx, protocol::Verdict verdict,
                      std::vector<lease::Action>& actions);
  core::Status process(RequestRow& row, bool fresh, protocol::Verdict verdict,
                       std::vector<lease::Action>& actions);
  core::Status record(const lease::Decision& decision, std::optional<crypto::Hash256> request,
                      const std::string& verdict);
  core::Status apply(lease::Decision decision, std::optional<crypto::Hash256> request,
                     const std::string& verdict);
  core::Status execute(const std::vector<lease::Action>& actions);
  core::Status announce();
  core::Status maybeAnnounce();
  void step(std::string_view name) const;

  NodeOptions options_;
  NodeStore& store_;
  BoardPort& board_;
  ProvisionerPort& provisioner_;
  const crypto::KeyPair& hostKey_;
  const lease::Clock& clock_;
  lease::Book book_;
  Outbox outbox_;
  lease::DriftReport drift_;
  std::optional<std::uint32_t> announcedFree_;
  lease::UnixSeconds announcedAt_ = 0;
  bool newReplies_ = false;
};

// The transaction's outcome from its delivery: result and delivered_amount (from metadata).
protocol::TxOutcome outcomeOf(const std::string& result, core::ByteView meta);
// One-line summary of a verdict for the store and logs.
std::string verdictSummary(const protocol::Verdict& v);

}  // namespace sashimono::node
