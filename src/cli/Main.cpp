#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "Command.h"
#include "sashimono/core/Log.h"

namespace sashimono::cli {

namespace {
std::vector<Command>& table() {
  static std::vector<Command> t;
  return t;
}
}  // namespace

void registerCommand(const Command& c) { table().push_back(c); }
const std::vector<Command>& commands() { return table(); }

}  // namespace sashimono::cli

namespace {
void printUsage() {
  std::cout << "usage: sashimono [--log-level LEVEL] <command> [args...]\n\ncommands:\n";
  for (const auto& c : sashimono::cli::commands()) {
    if (c.hidden) continue;
    std::printf("  %-10s %s\n", c.name, c.summary);
  }
  std::cout << "\nRun 'sashimono <command> --help' for the options of a command.\n";
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::optional<std::string> level;
  if (const char* env = std::getenv("SASHIMONO_LOG")) level = env;
  while (!args.empty() && args[0].rfind("--", 0) == 0) {
    if (args[0] == "--log-level" && args.size() > 1) {
      level = args[1];
      args.erase(args.begin(), args.begin() + 2);
    } else if (args[0] == "--help" || args[0] == "-h") {
      printUsage();
      return 0;
    } else if (args[0] == "--log-level") {
      std::cerr << "sashimono: option --log-level needs a value\n";
      return 2;
    } else if (args[0] == "--version") {
      std::cout << "sashimono 0.1.0\n";
      return 0;
    } else {
      std::cerr << "sashimono: unknown option " << args[0] << "\n";
      return 2;
    }
  }
  if (args.empty()) {
    printUsage();
    return 2;
  }
  const sashimono::cli::Command* command = nullptr;
  for (const auto& c : sashimono::cli::commands())
    if (args[0] == c.name) command = &c;
  if (command == nullptr) {
    std::cerr << "sashimono: unknown command '" << args[0] << "'\n";
    printUsage();
    return 2;
  }
  // Services log what they do; a developer's one-shot commands print their answer and only
  // warnings (--log-level or SASHIMONO_LOG overrides).
  if (!level) level = command->quiet ? "warn" : "info";
  sashimono::core::initLogging(*level);
  try {
    return command->run(std::vector<std::string>(args.begin() + 1, args.end()));
  } catch (const std::exception& e) {
    std::cerr << "sashimono " << command->name << ": fatal: " << e.what() << "\n";
    return 1;
  }
}
