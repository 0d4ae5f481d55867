#include "HostLogs.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <vector>

#include "Command.h"
#include "sashimono/host/LogRotation.h"
#include "sashimono/host/Provisioner.h"
#include "sashimono/host/TenantLayout.h"
#include "sashimono/node/HostConfig.h"
#include "sashimono/node/HostProvisionerPort.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::cli {

namespace {

// Prints the last `lines` lines spread over `path.1` (older) then `path`.
bool printTail(const std::string& path, std::size_t lines) {
  auto now = host::tailFile(path, lines);
  if (!now) {
    std::cerr << "sashimono: " << now.error().message << "\n";
    return false;
  }
  std::size_t have = 0;
  for (char ch : *now) have += ch == '\n';
  if (have < lines) {
    if (auto before = host::tailFile(path + ".1", lines - have); before.ok()) std::cout << *before;
  }
  std::cout << *now;
  if (!now->empty() && now->back() != '\n') std::cout << "\n";
  return true;
}

}  // namespace

int showHostLogs(const std::string& configPath, std::size_t lines, bool journal) {
  const std::string cmd = "host logs";
  if (journal) {
    const std::string n = std::to_string(lines);
    ::execlp("journalctl", "journalctl", "--unit", "sashimono.service", "--no-pager", "--lines", n.c_str(),
             static_cast<char*>(nullptr));
    return failure(cmd, "cannot run journalctl");
  }
  auto c = node::loadHostConfig(configPath);
  if (!c) return failure(cmd, c.error().message);
  const std::string path = node::nodeLogPath(*c);
  if (!std::filesystem::exists(path))
    return failure(cmd, "no log at " + path + " (the node has not run with this configuration)");
  return printTail(path, lines) ? 0 : 1;
}

int showInstanceLogs(const std::string& configPath, const std::string& lease, std::size_t lines,
                     const std::string& tenantsDir, const std::string& tenantPrefix) {
  const std::string cmd = "instance logs";
  auto c = node::loadHostConfig(configPath);
  if (!c) return failure(cmd, c.error().message);
  auto id = protocol::parseHash256(lease);
  if (!id) return usageError(cmd, "LEASE: expected a lease id (64 hex digits), got '" + lease + "'");
  const std::string base = tenantsDir.empty() ? c->dataDir + "/tenants" : tenantsDir;
  const auto layout =
      host::tenantLayout(base, tenantPrefix.empty() ? host::ProvisionerConfig{}.userPrefix : tenantPrefix,
                         node::tenantNameFor(*id));
  if (!std::filesystem::exists(layout.home))
    return failure(cmd, "no instance of lease " + lease + " on this host (" + layout.home + ")");
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(layout.logDir, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() > 4 && n.compare(n.size() - 4, 4, ".log") == 0 && e.is_regular_file()) names.push_back(n);
  }
  if (ec) return failure(cmd, "cannot read " + layout.logDir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  bool ok = true;
  for (const auto& n : names) {
    std::cout << "==> " << layout.logDir << "/" << n << " <==\n";
    ok = printTail(layout.logDir + "/" + n, lines) && ok;
  }
  if (names.empty()) std::cout << "(no logs in " << layout.logDir << ")\n";
  return ok ? 0 : 1;
}

}  // namespace sashimono::cli
