#include "sashimono/node/NodeMetrics.h"

namespace sashimono::node::metric {

void declareNodeMetrics(core::MetricsRegistry& m) {
  using core::MetricType;
  m.declare({kRequests, MetricType::counter,
             "Requests to this host decided since the node started, by type (acquire, extend, terminate, "
             "cluster, other) and verdict (accepted, refused, ignored)",
             true});
  m.declare({kRefusals, MetricType::counter, "Refused requests by the reason sent back", true});
  m.declare({kOutboxRetries, MetricType::counter,
             "Replies submitted again (same blob, once per validated ledger) or signed again after their "
             "LastLedgerSequence passed"});
  m.declare({kRepliesConfirmed, MetricType::counter, "Replies found validated on the ledger"});
  m.declare({kBoardReconnects, MetricType::counter, "Board sessions that ended (disconnect, quiet, error)"});
  m.declare(
      {kRestarts, MetricType::counter, "Instances restarted by the heal loop, by result (ok, failed)", true});
  m.declare({kRestartSeconds, MetricType::histogram, "Time to restart an instance, by result (ok, failed)",
             true, core::durationBuckets()});
  m.declare(
      {kHealth, MetricType::gauge,
       "Watched instances by health: healthy, healing (restarting), failing (not serving for longer than "
       "heal.reportAfterSeconds)",
       true});
  m.declare(
      {kTenantCpu, MetricType::counter, "CPU time an instance's tenant used since it (re)started", true});
  m.declare({kProvisionSeconds, MetricType::histogram,
             "Time to provision an instance, by result (ok, failed)", true, core::durationBuckets()});
  m.declare({kDestroySeconds, MetricType::histogram, "Time to destroy an instance, by result (ok, failed)",
             true, core::durationBuckets()});
  m.declare({kRepliesPending, MetricType::gauge,
             "Payments owed (replies, refunds, announcements) not yet validated"});
  m.declare({kOldestReply, MetricType::gauge, "Age of the oldest payment owed, 0 when none"});
  m.declare({kLeases, MetricType::gauge, "Leases by state (provisioning, active, ending)", true});
  m.declare({kInstances, MetricType::gauge, "Instances this host offers"});
  m.declare({kFree, MetricType::gauge, "Instances this host can still lease"});
  m.declare({kBoardConnected, MetricType::gauge, "1 when the board client is subscribed and caught up"});
  m.declare({kBoardLedger, MetricType::gauge, "The newest validated ledger the board announced"});
  m.declare({kBoardLag, MetricType::gauge,
             "Validated ledgers the node has not finished yet (the newest announced minus the cursor)"});
  m.declare({kBoardVerifying, MetricType::gauge,
             "1 when ledgers count only once the trusted validators sign them (board.validators)"});
  m.declare(
      {kBoardQuorumLedger, MetricType::gauge, "The newest ledger a quorum of trusted validators signed"});
  m.declare({kBoardLedgersVerified, MetricType::counter,
             "Ledgers whose header and transaction tree were checked against the signed hash"});
  m.declare({kBoardVerifySeconds, MetricType::gauge, "Time the last ledger check took (header and tree)"});
  m.declare({kBoardValidations, MetricType::counter,
             "Validations read from the board, by outcome (counted, refused, conflict)", true});
  m.declare({kBoardFaults, MetricType::counter,
             "Times a board served something that failed a check (it is then avoided)"});
  m.declare({kTenantMemory, MetricType::gauge, "Memory an instance's tenant uses now", true});
  m.declare({kTenantDisk, MetricType::gauge, "Bytes used on an instance's tenant disk", true});
  m.declare({kFeeOpenLedger, MetricType::gauge,
             "The open-ledger fee the board last reported, in drops (what gets a transaction in now)"});
  m.declare({kFeeCeiling, MetricType::gauge,
             "The most the node signs a payment for, in drops (fees.maxDrops); above it payments wait"});
  m.declare({kRepliesWaitingForFee, MetricType::gauge,
             "Payments owed that wait unsigned because the open-ledger fee is above the ceiling"});
  m.declare(
      {kHostBalance, MetricType::gauge, "The host account's balance in the latest validated ledger, drops"});
  m.declare({kHostReserve, MetricType::gauge,
             "The host account's reserve (reserve base + owner count x increment), drops"});
  m.declare({kHostSpendable, MetricType::gauge,
             "The host account's balance above its reserve, drops (negative: below the reserve)"});
  m.declare({kHostAffordableReplies, MetricType::gauge,
             "1-drop replies the spendable balance pays for at the current fee"});
  m.declare({kBuildInfo, MetricType::gauge, "Always 1; the version label says which node runs", true});
}

}  // namespace sashimono::node::metric
