#pragma once
// The host node's metrics (Prometheus text format, served by `host run` on the configured
// metrics address; docs/OPERATIONS.md lists them with their meaning). Names are constants here so
// that code, tests and docs agree.
#include "sashimono/core/Metrics.h"

namespace sashimono::node::metric {

// Counters.
inline constexpr const char* kRequests = "sashimono_requests_total";          // {type, verdict}
inline constexpr const char* kRefusals = "sashimono_request_refusals_total";  // {reason}
inline constexpr const char* kOutboxRetries = "sashimono_outbox_retries_total";
inline constexpr const char* kRepliesConfirmed = "sashimono_replies_confirmed_total";
inline constexpr const char* kBoardReconnects = "sashimono_board_reconnects_total";
inline constexpr const char* kRestarts = "sashimono_instance_restarts_total";    // {result}
inline constexpr const char* kTenantCpu = "sashimono_tenant_cpu_seconds_total";  // {lease}
// Histograms.
inline constexpr const char* kProvisionSeconds = "sashimono_provision_duration_seconds";       // {result}
inline constexpr const char* kDestroySeconds = "sashimono_destroy_duration_seconds";           // {result}
inline constexpr const char* kRestartSeconds = "sashimono_instance_restart_duration_seconds";  // {result}
// Gauges.
inline constexpr const char* kRepliesPending = "sashimono_replies_pending";
inline constexpr const char* kOldestReply = "sashimono_replies_oldest_pending_seconds";
inline constexpr const char* kLeases = "sashimono_leases";            // {state}
inline constexpr const char* kHealth = "sashimono_instances_health";  // {state}
inline constexpr const char* kInstances = "sashimono_instances";
inline constexpr const char* kFree = "sashimono_instances_free";
inline constexpr const char* kBoardConnected = "sashimono_board_connected";
inline constexpr const char* kBoardLedger = "sashimono_board_validated_ledger";
inline constexpr const char* kBoardLag = "sashimono_board_lag_ledgers";
// Trust mode (board.validators): ledgers checked, validations by outcome, boards caught lying.
inline constexpr const char* kBoardVerifying = "sashimono_board_verifying";
inline constexpr const char* kBoardQuorumLedger = "sashimono_board_quorum_ledger";
inline constexpr const char* kBoardLedgersVerified = "sashimono_board_ledgers_verified_total";
inline constexpr const char* kBoardVerifySeconds = "sashimono_board_verify_seconds";
inline constexpr const char* kBoardValidations = "sashimono_board_validations_total";
inline constexpr const char* kBoardFaults = "sashimono_board_faults_total";
inline constexpr const char* kTenantMemory = "sashimono_tenant_memory_bytes";  // {lease}
inline constexpr const char* kTenantDisk = "sashimono_tenant_disk_bytes";      // {lease}
inline constexpr const char* kBuildInfo = "sashimono_build_info";              // {version}
// Fees and the host account's funds (FundsWatch.h).
inline constexpr const char* kFeeOpenLedger = "sashimono_fee_open_ledger_drops";
inline constexpr const char* kFeeCeiling = "sashimono_fee_ceiling_drops";
inline constexpr const char* kRepliesWaitingForFee = "sashimono_replies_waiting_for_fee";
inline constexpr const char* kHostBalance = "sashimono_host_balance_drops";
inline constexpr const char* kHostReserve = "sashimono_host_reserve_drops";
inline constexpr const char* kHostSpendable = "sashimono_host_spendable_drops";
inline constexpr const char* kHostAffordableReplies = "sashimono_host_affordable_replies";

// Declares every family above in `m` (once per registry).
void declareNodeMetrics(core::MetricsRegistry& m);

}  // namespace sashimono::node::metric
