#pragma once
// The board client: the host node's view of the ledger through rippled's WebSocket API.
//
// Configured with one or more server URLs (ws:// or wss://, certificate checking, optional CA
// file). After start() a worker thread keeps one connection open (round-robin failover with
// backoff), subscribed to the account's transactions and the ledger stream, and delivers each
// VALIDATED transaction affecting the account exactly once (by hash) as its raw blob, whatever
// its source: the live stream, the catch-up after (re)connecting, the per-ledger audit, or
// another server after failover.
//
// Delivery and the cursor
//  - start(cursor): `cursor` is the last ledger the consumer finished (persisted by it); nullopt
//    starts at the server's current validated ledger (no history).
//  - On every (re)connection: subscribe first, then account_tx from cursor+1 up to the validated
//    ledger V (forward, binary, paged by marker), delivered in ledger order; then stream events.
//  - Live transactions are delivered as they stream (their blob fetched with `tx` binary and
//    checked against the streamed hash).
//  - Audit: on each ledgerClosed M, account_tx(cursor+1 .. M-1) delivers anything the stream did
//    not carry, then onLedgerFinished(M-1). So every transaction of ledgers ≤ L has been passed to
//    onTransaction before onLedgerFinished(L): persisting L as the cursor is always safe.
//  - Order: ledger order, except a transaction only the audit found (the stream lost it), which
//    comes before its ledger is finished but after stream deliveries of later ledgers.
//  - A subscription with no ledgerClosed for `quietTimeout` is dead: the client reconnects to the
//    next URL. So are disconnects, request timeouts, failed catch-ups and a server that floods
//    the stream faster than it can be handled (maxQueuedEvents).
//
// Threads and callbacks: all callbacks run on the client's worker thread, one at a time, in the
// order described. They may call the request helpers below, but must not call stop() or destroy
// the client. The request helpers (serverInfo … accountTx) may be called from any thread; they use
// the current connection and fail with code "notConnected" when there is none. status() is
// thread-safe. The node trusts no board: it must decode and verify every blob itself.
//
// Trusting keys, not servers (options.trust.validators non-empty; docs/NETWORKS.md)
//  - The client subscribes to the `ledger`, `validations` and `manifests` streams (no account
//    stream), asks each board for the trusted validators' manifests, and counts a ledger as
//    validated only when a quorum of trusted validators signed its hash (ledger::ValidatorSet).
//  - For every ledger from the cursor up to the newest quorum-validated one it fetches the whole
//    ledger (`ledger`, transactions expanded, binary), checks that the header hashes to the signed
//    hash (or to the parent hash of the verified ledger after it: the chain is walked back from
//    the signed ledger, so no sequence is ever skipped) and that the transactions hash to the
//    header's transaction tree. Only then are the ledger's transactions that mention the account
//    delivered, in ledger and TransactionIndex order, and the ledger finished.
//  - A board that served something that fails a check is reported (status().faults, a warning
//    with the evidence) and avoided for trust.avoidFor; a board that makes no quorum-validated
//    progress for quietTimeout is left for the next. With no honest board, nothing is delivered.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <rapidjson/document.h>

#include "sashimono/board/Connection.h"
#include "sashimono/board/DeliveryTracker.h"
#include "sashimono/board/Requests.h"
#include "sashimono/board/Responses.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::ledger {
class ValidatorSet;
}

namespace sashimono::board {

struct TrustOptions {
  std::vector<crypto::PublicKey> validators;   // master keys; empty: the board is trusted
  std::size_t quorum = 0;                      // 0: 80 % of the validators, rounded up
  std::optional<std::uint32_t> networkId;      // validations of another network do not count
  std::uint32_t fetchWindow = 8;               // `ledger` requests in flight while catching up
  std::chrono::milliseconds avoidFor{600000};  // a board that failed a check is avoided this long
};

// A board caught serving something that failed a check.
struct BoardFault {
  std::string url;
  std::chrono::system_clock::time_point at;  // the latest time
  std::string evidence;
  std::uint64_t count = 1;  // the same evidence again (the board tried again) counts here
};

struct BoardOptions {
  std::vector<std::string> urls;  // tried in order, round-robin on failure
  std::string caFile;             // extra trusted CAs (PEM) for wss://
  bool verifyPeer = true;         // wss:// certificate and host name checks
  std::string account;            // r-address to follow; empty: ledger stream only
  std::chrono::milliseconds requestTimeout{10000};
  std::chrono::milliseconds connectTimeout{10000};
  std::chrono::milliseconds quietTimeout{20000};  // no ledgerClosed for this long: dead
  std::chrono::milliseconds backoffMin{200};      // after a failed round of every URL
  std::chrono::milliseconds backoffMax{10000};
  std::uint32_t pageLimit = 200;    // account_tx page size
  std::uint32_t maxPages = 100000;  // a catch-up longer than this is treated as a server fault
  std::size_t dedupeWindow = DeliveryTracker::kDefaultMaxEntries;
  std::size_t maxQueuedEvents = 100000;  // stream messages waiting for the worker; beyond: drop the server
  // Each failed connection or ended session is logged as a warning (a long-running node); false
  // logs them at debug level (one-shot commands report one error of their own).
  bool warnOnRetry = true;
  TransportFactory transport;  // empty: WebSocket (tests inject fakes)
  TrustOptions trust;
};

struct BoardEvents {
  std::function<void(const BoardTx&)> onTransaction;
  // Every transaction of ledgers ≤ ledger has been delivered: the consumer may persist it.
  std::function<void(std::uint32_t ledger)> onLedgerFinished;
  // Connected to url (connected = true) or lost it (reason in `detail`).
  std::function<void(const std::string& url, bool connected, const std::string& detail)> onConnection;
};

struct BoardStatus {
  bool connected = false;                 // subscribed and caught up
  std::string url;                        // the current or last server
  std::uint32_t lastLedger = 0;           // last ledgerClosed seen (trust mode: quorum-signed)
  std::optional<std::uint32_t> finished;  // the cursor
  std::uint64_t delivered = 0;            // transactions delivered since start
  std::uint64_t duplicates = 0;           // sightings refused by the dedupe window/cursor
  std::uint64_t reconnects = 0;           // sessions ended (disconnect, quiet, error)
  std::string lastError;
  // Trust mode (options.trust.validators non-empty).
  bool verifying = false;
  std::uint32_t quorumLedger = 0;         // newest ledger a quorum of trusted validators signed
  std::uint64_t ledgersVerified = 0;      // ledgers whose header and transactions were checked
  std::uint64_t validationsCounted = 0;   // from trusted validators, signatures checked
  std::uint64_t validationsRefused = 0;   // untrusted, bad signature, malformed, other network
  std::uint64_t validationConflicts = 0;  // a validator signed two hashes for one sequence
  std::uint64_t verifyMicros = 0;         // time spent verifying the last ledger
  std::vector<BoardFault> faults;         // newest last, at most 20
  std::vector<std::string> avoided;       // boards avoided now
};

class BoardClient {
 public:
  explicit BoardClient(BoardOptions options, BoardEvents events = {});
  ~BoardClient();  // stop()
  BoardClient(const BoardClient&) = delete;
  BoardClient& operator=(const BoardClient&) = delete;

  // Starts the worker. Errors: no URL, a URL that does not parse, already started.
  [[nodiscard]] core::Status start(std::optional<std::uint32_t> cursor);
  // Stops the worker and closes the connection; no callback runs after it returns.
  void stop();

  [[nodiscard]] BoardStatus status() const;
  // Trust mode (options.trust.validators): fixed at construction; cheap, any thread.
  [[nodiscard]] bool verifying() const { return validators_ != nullptr; }
  // Waits until the client is connected and caught up (tests, start-up).
  [[nodiscard]] bool waitConnected(std::chrono::milliseconds timeout) const;

  // Request helpers on the current connection (timeout 0: options.requestTimeout).
  using Ms = std::chrono::milliseconds;
  [[nodiscard]] core::Result<ServerInfo> serverInfo(Ms timeout = Ms{0});
  [[nodiscard]] core::Result<FeeInfo> fee(Ms timeout = Ms{0});
  [[nodiscard]] core::Result<AccountInfo> accountInfo(const std::string& account, bool validated,
                                                      Ms timeout = Ms{0});
  [[nodiscard]] core::Result<std::uint32_t> ledgerCurrent(Ms timeout = Ms{0});
  [[nodiscard]] core::Result<LedgerClosedInfo> ledgerClosed(Ms timeout = Ms{0});
  [[nodiscard]] core::Result<SubmitResult> submit(core::ByteView txBlob, Ms timeout = Ms{0});
  [[nodiscard]] core::Result<TxResult> tx(const TxQuery& query, Ms timeout = Ms{0});
  [[nodiscard]] core::Result<AccountTxPage> accountTx(const AccountTxQuery& query, Ms timeout = Ms{0});
  // Any other request (object text without id), answered with the raw envelope.
  [[nodiscard]] core::Result<rapidjson::Document> request(const std::string& request, Ms timeout = Ms{0});

 private:
  struct Session;
  void run();
  core::Status runSession(Connection& conn, Session& s);
  core::Status catchUp(Connection& conn, std::uint32_t from, std::uint32_t to);
  core::Status handleEvents(Connection& conn, Session& s, std::deque<rapidjson::Document>& batch);
  // The stream messages of a live session, in batches, until it ends: stopped (ok), disconnected,
  // flooded, or quiet (no progress, `quietWhat`, for options.quietTimeout).
  core::Status streamLoop(Connection& conn, Session& s, const char* quietWhat,
                          const std::function<core::Status(std::deque<rapidjson::Document>&)>& onBatch);
  void deliver(BoardTx&& tx);
  void finish(std::uint32_t ledger);
  std::shared_ptr<Connection> current() const;
  core::Result<rapidjson::Document> callCurrent(const std::string& request, Ms timeout);
  bool sleepInterruptible(Ms d);
  // Trust mode (TrustedLedgers.cpp).
  core::Status runVerifiedSession(Connection& conn, Session& s);
  core::Status loadManifests(Connection& conn, const Session& s);
  core::Status handleTrustEvents(Session& s, std::deque<rapidjson::Document>& batch);
  core::Status advanceVerified(Connection& conn, Session& s);
  core::Status verifyRange(Connection& conn, Session& s, std::uint32_t from, std::uint32_t to);
  core::Error fault(const Session& s, const std::string& evidence);
  std::size_t nextUrl(std::size_t idx) const;

  BoardOptions options_;
  BoardEvents events_;
  std::thread worker_;
  std::atomic<bool> stopping_{false};

  // Stream events from the I/O thread to the worker.
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<rapidjson::Document> eventQueue_;
  std::uint64_t sessionGen_ = 0;  // events of an older connection are discarded
  bool overflow_ = false;         // the current connection flooded the queue
  std::shared_ptr<Connection> conn_;
  BoardStatus status_;
  bool started_ = false;

  std::vector<std::chrono::steady_clock::time_point> avoidUntil_;  // per URL, under mu_

  // Worker-only.
  std::optional<DeliveryTracker> tracker_;
  std::unique_ptr<ledger::ValidatorSet> validators_;
};

}  // namespace sashimono::board
