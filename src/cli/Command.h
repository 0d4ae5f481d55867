#pragma once
// The `sashimono` command table. Each subcommand lives in its own file and registers itself:
//   static const CommandRegistrar reg{{"devnet", "run the embedded devnet ledger", &runDevnet}};
// run() receives the arguments after the subcommand name and returns the process exit code.
#include <string>
#include <vector>

#include "sashimono/client/LeaseClient.h"
#include "sashimono/core/Result.h"

namespace sashimono::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
  bool hidden = false;  // test services: callable, but not listed in --help
};

void registerCommand(const Command& c);
const std::vector<Command>& commands();

struct CommandRegistrar {
  explicit CommandRegistrar(const Command& c) { registerCommand(c); }
};

// Prints "sashimono <cmd>: <message>" to stderr and returns 2 (usage) or 1 (failure).
int usageError(const std::string& cmd, const std::string& message);
int failure(const std::string& cmd, const std::string& message);

// Where a lease's instance listens and the owner key to talk to it as (client::LeaseClient):
// boardArgs are the lease command's options (--board, --wallet, --reply-seed-file, --ca-file,
// --timeout).
using LeaseTarget = client::LeaseTarget;
core::Result<LeaseTarget> resolveLease(const std::vector<std::string>& boardArgs, const std::string& leaseId);

}  // namespace sashimono::cli
