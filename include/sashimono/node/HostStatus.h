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
#include "sashimono/node/NodeStore.h"

namespace sashimono::node {

// When a state needs the owner's attention (docs/OPERATIONS.md, "Status").
struct AttentionLimits {
  std::int64_t staleStatusSeconds = 15;  // the node refreshes its row every tick (0.5 s)
  std::uint32_t boardLagLedgers = 10;
  std::int64_t oldestReplySeconds = 120;   // a reply normally validates within a few ledgers
  std::int64_t recentErrorSeconds = 600;   // errors this recent count; warnings are only listed
  std::int64_t provisioningSeconds = 300;  // a lease still provisioning after this is stuck
};

struct BoardView {
  bool connected = false;
  std::string url;
  std::uint32_t lastLedger = 0;
  std::optional<std::uint32_t> cursor;
  std::uint64_t reconnects = 0;
  std::string lastError;
};

struct InstanceHealthRow {
  std::string lease;  // hex
  std::string state;  // healthy | healing | failing
  std::int64_t forSeconds = 0;
  std::uint64_t restarts = 0;
  std::string detail;
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

// Parses the JSON the running node writes (Node::statusJson) into `view` (board, version,
// problems); a row that does not parse leaves them empty.
void readStatusRow(const std::string& json, std::int64_t updatedAt, StatusView& view);
StatusAssessment assessStatus(const StatusView& view, std::int64_t now, const AttentionLimits& limits = {});

}  // namespace sashimono::node
