#pragma once
// `sashimono host logs` and `sashimono instance logs LEASE`: what a host owner reads when
// something went wrong. Both read files (as root for tenants' logs), never a running process.
#include <cstddef>
#include <string>

namespace sashimono::cli {

// The last `lines` lines of the node's log file (<dataDir>/logs/node.log and its predecessor);
// `journal`: journalctl's view of the sashimono unit instead.
int showHostLogs(const std::string& configPath, std::size_t lines, bool journal);
// The last `lines` lines of each log of lease `lease`'s tenant (its runtime and contract output,
// rootlesskit and containerd), under tenantsDir (default <dataDir>/tenants) with the tenant user
// prefix (default the provisioner's).
int showInstanceLogs(const std::string& configPath, const std::string& lease, std::size_t lines,
                     const std::string& tenantsDir, const std::string& tenantPrefix);

}  // namespace sashimono::cli
