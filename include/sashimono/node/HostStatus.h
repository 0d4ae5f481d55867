#pragma once
// What `sashimono host status` tells the host owner, and whether something needs their attention:
// read from the node's store (its leases, outbox, cursor) and the status row the running node
// refreshes every tick (board connection, recent problems). Pure: the command reads, this decides.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/core/Log.h"
#include "sashimono/lease/Lease.h"
#include "sashimono/node/BoardPort.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::node {

// When a state needs the owner's attention (docs/OPERATIONS.md, "Status").
struct AttentionLimits {
  std::int64_t staleStatusSeconds = 15;  // the node refreshes its row every tick (0.5 s)
  std::uint32_t boardLagLedgers = 10;
  std::int64_t boardFaultSeconds = 3600;   // a board caught lying this recently needs a look
  std::int64_t oldestReplySeconds = 120;   // a reply normally validates within a few ledgers
  std::int64_t recentErrorSeconds = 600;   // errors this recent count; warnings are only listed
  std::int64_t provisioningSeconds = 300;  // a lease still provisioning after this is stuck
  std::int64_t feeWaitSeconds = 60;        // replies waiting for fees this long (a spike is shorter)
};

struct BoardView {
  bool connected = false;
  std::string url;
  std::uint32_t lastLedger = 0;
  std::optional<std::uint32_t> cursor;
  std::uint64_t reconnects = 0;
  std::string lastError;
  // Trust mode (board.validators); false: the boards are trusted for what is validated.
  bool verifying = false;
  std::uint32_t quorumLedger = 0;
  std::uint64_t ledgersVerified = 0;
  std::uint64_t verifyMicros = 0;
  std::uint64_t conflicts = 0;  // validations of one validator for two hashes of one ledger
  struct Fault {
    std::string url;
    std::int64_t at = 0;  // Unix seconds, the latest time
    std::string evidence;
    std::uint64_t count = 1;
  };
  std::vector<Fault> faults;  // boards that served something that failed a check
  std::vector<std::string> avoided;
};

struct InstanceHealthRow {
  std::string lease;  // hex
  std::string state;  // healthy | healing | failing
  std::int64_t forSeconds = 0;
  std::uint64_t restarts = 0;
  std::string detail;
};

// The outbox's fees as the node last saw them (the status row's "fees").
struct FeesRow {
  std::optional<FeeView> fee;  // the board's fees, when read
  std::uint64_t ceiling = 0;   // fees.maxDrops
  std::uint64_t waiting = 0;   // entries that need signing and wait: the fee is above the ceiling
  std::optional<std::int64_t> waitingSince;  // unix seconds, while some wait
};

// The host account's funds as of a validated ledger (the status row's "funds").
struct FundsRow {
  std::string state = "unknown";  // unknown | ok | low | exhausted (FundsWatch.h)
  bool unfunded = false;          // the account does not exist (never funded)
  std::uint32_t ledger = 0;
  std::uint64_t balance = 0;
  std::uint32_t ownerCount = 0;
  std::uint64_t reserveBase = 0;
  std::uint64_t reserveIncrement = 0;
  std::uint64_t reserve = 0;     // reserveBase + ownerCount × reserveIncrement
  std::int64_t spendable = 0;    // balance − reserve (negative: below the reserve)
  std::uint64_t replyCost = 0;   // a 1-drop reply at the current fee (0: fee unknown)
  std::uint64_t lowReplies = 0;  // fees.lowBalanceReplies: warn below this many replies
};

struct StatusView {
  // From the status row; absent when the node never wrote one.
  std::optional<std::int64_t> reportedAt;
  bool stopped = false;  // the row of a clean stop
  std::string rowJson;   // the row as the node wrote it, when it parses
  std::string version;
  std::optional<BoardView> board;
  std::vector<core::LoggedProblem> problems;
  std::vector<InstanceHealthRow> health;  // instances not healthy or restarted
  std::optional<FeesRow> fees;
  std::optional<FundsRow> funds;
  // From the store.
  std::uint32_t instances = 0;
  std::vector<lease::Lease> leases;
  OutboxSummary outbox;
  std::optional<std::uint32_t> cursor;
};

struct StatusAssessment {
  bool running = false;
  std::uint32_t free = 0;
  std::optional<std::uint32_t> lag;  // board ledgers not finished yet
  std::optional<std::int64_t> oldestReplyAge;
  std::vector<std::string> attention;  // empty: all well
};

// The status row's arrays as JSON text, written by the node and repeated by `host status --json`.
std::string renderProblems(const std::vector<core::LoggedProblem>& problems);
std::string renderHealthRows(const std::vector<InstanceHealthRow>& rows);
std::string renderFees(const FeesRow& fees);
std::string renderBoardFaults(const std::vector<BoardView::Fault>& faults);
std::string renderFunds(const FundsRow& funds);

// Parses the JSON the running node writes (Node::statusJson) into `view` (board, version,
// problems, fees, funds); a row that does not parse leaves them empty.
void readStatusRow(const std::string& json, std::int64_t updatedAt, StatusView& view);
StatusAssessment assessStatus(const StatusView& view, std::int64_t now, const AttentionLimits& limits = {});

}  // namespace sashimono::node
