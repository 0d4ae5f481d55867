#pragma once
// `sashimono host upgrade-tenants`: moves every ready tenant of an image, one at a time, to the
// image's current version, checking each and rolling it back on failure (docs/OPERATIONS.md, "Upgrade").
#include <cstdint>
#include <string>

namespace sashimono::cli {

struct UpgradeTenantsOptions {
  std::string config;  // the host configuration (images, ports, data directory)
  std::string image;
  bool dryRun = false;
  std::uint64_t timeoutSeconds = 30;  // per tenant, for it to serve on the new version
  bool json = false;
  // As for `host run`: confine to test names (root tests).
  std::string tenantsDir;
  std::string tenantPrefix;
  std::string cgroupParent;
};

// The process exit code: 0 done (or nothing to do), 1 a tenant failed (it was rolled back and
// the others were left as they were), 2 usage.
int upgradeTenants(const UpgradeTenantsOptions& o);

}  // namespace sashimono::cli
