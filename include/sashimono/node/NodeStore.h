#pragma once
// The node's persistent state in one sqlite file (WAL, synchronous=FULL, migrations):
//
//   requests  by transaction hash: decided → replied (the request path's stages, docs/NODE.md);
//             with its verdict, blob and metadata (not for an ignored one: its hash only).
//             `admitted` is a request an older version recorded before deciding it (handled
//             from the store at start-up)
//   leases    the lease book's leases (LeaseCodec)
//   outbox    every payment the host owes (replies, refunds, notices, announcements), with its
//             deterministic content; then its Sequence, LastLedgerSequence, signed blob and hash
//   meta      the ledger cursor and the host account's next sequence
//   cluster   leases whose cluster membership still has to reach the instance
//   status    one row the running node refreshes, for `sashimono host status`
//
// Commit before acting: commitDecision() writes a request, the lease changes and the replies
// of one lease::Decision in ONE sqlite transaction; the node acts on nothing of a decision
// before it returns ok.
//
// Thread-safety: one owner thread per NodeStore (open another one for readers).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Lease.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/store/Database.h"

namespace sashimono::node {

enum class RequestState { admitted, decided, replied };
const char* requestStateName(RequestState s);  // "admitted" | "decided" | "replied"

struct RequestRow {
  crypto::Hash256 hash{};
  RequestState state = RequestState::decided;
  std::uint32_t ledger = 0;
  core::Bytes blob;
  core::Bytes meta;
  std::string result;   // engine result as delivered
  std::string verdict;  // "ignored: …" | "refused: reason" | "accepted: type" once classified
};

enum class OutboxState { pending, signed_, done };
const char* outboxStateName(OutboxState s);

struct OutboxEntry {
  std::int64_t id = 0;
  crypto::Hash256 answers{};  // request (or lease id for expired); zero for announcements
  crypto::AccountId to{};
  protocol::MessageType type = protocol::MessageType::error;
  std::string payload;  // protocol::renderPayload of the message: the deterministic content
  std::optional<protocol::Ed25519Key> sealTo;
  ledger::Amount amount;
  // Set when signed (before the first submit).
  std::optional<std::uint32_t> sequence;
  std::optional<std::uint32_t> lastLedger;
  std::uint64_t fee = 0;
  core::Bytes blob;
  std::optional<crypto::Hash256> hash;
  std::uint32_t attempts = 0;  // times signed
  OutboxState state = OutboxState::pending;
  std::string result;          // final engine result
  std::uint32_t ledger = 0;    // validated in
  std::int64_t createdAt = 0;  // unix seconds when recorded (set by the store)
};

// Everything one decision changes, committed together.
struct DecisionRecord {
  std::optional<RequestRow> request;  // written as decided (state ignored), with its verdict
  std::vector<lease::Lease> upserts;
  std::vector<crypto::Hash256> removed;
  std::vector<OutboxEntry> outbox;  // new entries (id, state ignored)
  std::vector<crypto::Hash256> clusterPending;
};

struct OutboxSummary {
  std::size_t open = 0;                  // entries not yet validated
  std::optional<std::int64_t> oldestAt;  // created_at of the oldest of them
  std::size_t signedOpen = 0;            // of which signed (submitted at least once)
};

struct NodeStatus {
  std::string json;  // what the node wrote
  std::int64_t updatedAt = 0;
};

class NodeStore {
 public:
  static core::Result<NodeStore> open(const std::string& path, bool readOnly = false);

  // ---- requests ----
  [[nodiscard]] core::Result<std::optional<RequestState>> requestState(const crypto::Hash256& hash);
  // Requests admitted but not decided (by an older version), in ledger order.
  [[nodiscard]] core::Result<std::vector<RequestRow>> unfinishedRequests();
  // Requests decided or replied (the book's handled set).
  [[nodiscard]] core::Result<std::vector<crypto::Hash256>> handledRequests();
  [[nodiscard]] core::Result<std::vector<RequestRow>> requests();

  // ---- decisions, leases ----
  [[nodiscard]] core::Status commitDecision(const DecisionRecord& record);
  [[nodiscard]] core::Result<std::vector<lease::Lease>> leases();
  [[nodiscard]] core::Result<std::vector<crypto::Hash256>> clusterPending();
  [[nodiscard]] core::Status clusterDelivered(const crypto::Hash256& leaseId);

  // ---- cursor and sequence ----
  [[nodiscard]] core::Result<std::optional<std::uint32_t>> cursor();
  [[nodiscard]] core::Status setCursor(std::uint32_t ledger);
  [[nodiscard]] core::Result<std::optional<std::uint32_t>> nextSequence();
  [[nodiscard]] core::Status setNextSequence(std::optional<std::uint32_t> next);

  // ---- outbox ----
  [[nodiscard]] core::Result<std::vector<OutboxEntry>> outbox(bool includeDone = false);
  // Stores the signature of an entry and the account's next sequence in one transaction.
  [[nodiscard]] core::Status storeSigned(const OutboxEntry& entry, std::uint32_t nextSequence);
  // Final: validated in `ledger` with `result`; the request it answers becomes replied when it
  // has no other open entry.
  [[nodiscard]] core::Status markSent(std::int64_t id, const std::string& result, std::uint32_t ledger);
  [[nodiscard]] core::Status addOutbox(const OutboxEntry& entry);
  [[nodiscard]] core::Result<OutboxSummary> outboxSummary();

  // ---- status ----
  [[nodiscard]] core::Status writeStatus(const std::string& json, std::int64_t now);
  [[nodiscard]] core::Result<std::optional<NodeStatus>> status();

  // Moves the write-ahead log into the database file (a clean stop leaves one self-contained file).
  [[nodiscard]] core::Status checkpoint() { return db_.exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

  store::Database& database() { return db_; }
  // Groups the store's commits until the returned transaction commits (one fsync for all of
  // them): the node records a run of decisions this way before it acts on any of them.
  [[nodiscard]] core::Result<store::Transaction> beginBatch() { return store::Transaction::begin(db_); }

 private:
  explicit NodeStore(store::Database db) : db_(std::move(db)) {}
  core::Status insertOutbox(const OutboxEntry& e);
  core::Result<std::optional<std::string>> metaGet(const char* key);
  core::Status metaSet(const char* key, const std::optional<std::string>& value);
  store::Database db_;
};

}  // namespace sashimono::node
