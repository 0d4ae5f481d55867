#pragma once
// The `sashimono` command table. Each subcommand lives in its own file and registers itself:
//   static const CommandRegistrar reg{{"devnet", "run the embedded devnet ledger", &runDevnet}};
// run() receives the arguments after the subcommand name and returns the process exit code; a
// command with verbs or options describes them in a CommandSpec and hands it to dispatchVerb
// (Options.h).
#include <string>
#include <vector>

#include "Options.h"

namespace sashimono::cli {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
  bool hidden = false;  // test services: callable, but not listed in --help
  bool quiet = false;   // a developer's one-shot command: logs only warnings unless --log-level
};

void registerCommand(const Command& c);
const std::vector<Command>& commands();

struct CommandRegistrar {
  explicit CommandRegistrar(const Command& c) { registerCommand(c); }
};

}  // namespace sashimono::cli
