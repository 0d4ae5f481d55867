#pragma once
// The host node's logic: every request from the board to its reply, exactly once. One request
// passes six stages, named the same in the code, the logs and docs/NODE.md:
//
//   admit     once by hash: a transaction already decided is dropped        (Node.cpp)
//   classify  decode, verify, unseal, check: a Verdict, trusting no board   (NodeClassify.cpp,
//             protocol::classify)
//   decide    the lease book answers with a Decision: lease changes and     (lease::Book)
//             actions (provision, destroy, deliver cluster, reply)
//   commit    the request, its verdict, the lease changes, its replies      (Node.cpp,
//             (outbox rows) and pending deliveries: one sqlite transaction   NodeStore)
//             for a run of requests, before anything is acted on
//   act       actions in order through the ProvisionerPort; a completion    (NodeAct.cpp)
//             (provisioned, failed, destroyed) is decided by the book and
//             committed before its own actions run: one loop drains them
//   reply     the outbox signs, submits and confirms the replies            (Outbox)
//
//   onTransactions(txs)    admit → classify → decide → commit → act, for a batch
//   onLedgerFinished(L)    every transaction of ledgers ≤ L is decided: persist L as the cursor
//   tick()                 expiry (Book::tick), then what is still owed (Book::unfinished:
//                          failed destroys, pending cluster deliveries), announcements; once
//                          per finished ledger the fee, reserves and host account (FundsWatch)
//   pumpOutbox()           reply: Outbox::pump
//   start()                restore the book from the store, act on what is still owed,
//                          reconcile with the provisioner (orphans destroyed, missing
//                          instances provisioned again), requests an older version admitted
//                          but did not decide; returns the cursor
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
#include <vector>

#include "sashimono/board/Responses.h"
#include "sashimono/core/Metrics.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Book.h"
#include "sashimono/node/BoardPort.h"
#include "sashimono/node/FundsWatch.h"
#include "sashimono/node/HealPolicy.h"
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
  OutboxOptions outbox;  // its maxFee is fees.maxDrops
  // The fee ceiling and the low-balance warning (FundsWatch.h).
  FeeLimits fees;
  // The heal loop: how often instances are checked (0: never) and when they are restarted.
  std::int64_t healCheckMs = 1000;
  HealOptions heal;
  // Where the node counts what it does (NodeMetrics.h); null: a registry of its own.
  std::shared_ptr<core::MetricsRegistry> metrics;
  // Test hook: called at each step boundary ("admitted", "classified", "decided" (one decision
  // written), "committed" (a run's transaction), "provisioned", "destroyed", "cursor"); a test
  // throws from it to simulate a crash there.
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
  // Transactions in delivery order. Runs of decisions are committed in one store transaction
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
  // The node's state as JSON (for the status row), with the board part and the recent problems
  // (a JSON array) given by the caller; `stopped`: the last row of a clean stop.
  [[nodiscard]] std::string statusJson(const std::string& boardJson, const std::string& problemsJson = "[]",
                                       bool stopped = false) const;
  [[nodiscard]] core::MetricsRegistry& metrics() const { return *metrics_; }
  // Sets the gauges that describe the node now (leases, capacity, outbox, instances' usage);
  // tick() calls it. Instance usage is read at most every usageInterval.
  void refreshGauges();
  // Takes a new offer (price, capacity, moments) and log level from a reloaded configuration;
  // leases already made keep their terms.
  // Checks the active leases' instances when a check is due and restarts those the heal policy
  // says to (HealPolicy.h); tick() calls it.
  void checkHealth();
  [[nodiscard]] std::vector<InstanceHealthView> health() const;
  // Announces the new terms at once when the host announces itself.
  [[nodiscard]] core::Status reconfigure(const lease::Offer& offer);
  // A new fee ceiling and low-balance threshold (a reloaded configuration), from the next pass.
  void setFeeLimits(const FeeLimits& limits);
  // The fees and the host account's funds as last seen.
  [[nodiscard]] const FundsWatch& funds() const { return funds_; }

 private:
  // The stages, in order (see above).
  [[nodiscard]] core::Result<std::vector<const board::BoardTx*>> admit(std::span<const board::BoardTx> txs);
  [[nodiscard]] std::vector<protocol::Verdict> classify(std::span<const board::BoardTx* const> txs) const;
  [[nodiscard]] protocol::Verdict classifyOne(const board::BoardTx& tx) const;
  [[nodiscard]] lease::Decision decide(const protocol::Verdict& verdict);
  // Writes the decision (with the request it answers, if any) into the store; inside a run's
  // transaction when one is open.
  core::Status commit(const lease::Decision& decision, std::optional<RequestRow> request);
  // Acts on the actions in order; each completion is decided, committed and its actions acted
  // on before the next action (depth first, as if the provisioner answered at once).
  core::Status act(std::vector<lease::Action> actions);
  // One action; a completion's decision, if the action has one.
  [[nodiscard]] core::Result<std::optional<lease::Decision>> actOne(const lease::Action& action);
  core::Status actOnUnfinished();
  core::Status announce();
  core::Status maybeAnnounce();
  void step(std::string_view name) const;
  void countRequest(const protocol::Verdict& verdict, const lease::Decision& decision);
  // Once per finished ledger: the board's fee, the reserves (every kReserveEveryLedgers) and the
  // host account (one account_info).
  void watchFunds();
  // Logs what changed in the fees and funds (once per change) and sets their gauges.
  void reportFunds();

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
  std::shared_ptr<core::MetricsRegistry> metrics_;
  std::int64_t usageReadAt_ = 0;
  std::optional<OutboxSummary> outboxSummary_;  // as of the last refreshGauges
  HealPolicy heal_;
  std::int64_t healCheckedAt_ = -1;  // steady ms
  FundsWatch funds_;
  std::uint32_t finishedLedger_ = 0;  // the newest ledger onLedgerFinished was given
  std::uint32_t fundsLedger_ = 0;     // ... when watchFunds last read the board
  std::uint32_t reservesLedger_ = 0;  // ... when it last read the reserves
};

// The transaction's outcome from its delivery: result and delivered_amount (from metadata).
protocol::TxOutcome outcomeOf(const std::string& result, core::ByteView meta);
// One-line summary of a verdict for the store and logs.
std::string verdictSummary(const protocol::Verdict& v);
// The row a classified request is committed as: its verdict; its blob and metadata unless it
// was ignored (what no account paid for — forged, misdirected, garbage — is kept by hash only).
RequestRow requestRow(const board::BoardTx& tx, const protocol::Verdict& v);

}  // namespace sashimono::node
