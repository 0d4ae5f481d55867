#pragma once
// The CLI's option and verb tables (after systemd's verb table and strict number parsers): a
// command lists its options once, with what each does to its settings, and its verbs once.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sashimono::cli {

// Digits only (no sign, space or suffix), within [min, max]; nullopt otherwise.
[[nodiscard]] std::optional<std::uint64_t> parseUnsigned(std::string_view text, std::uint64_t min,
                                                         std::uint64_t max);

struct OptionSpec {
  const char* name;  // "--board"
  bool takesValue;
  // Applies the option (value empty for flags); returns an error message or empty.
  std::function<std::string(const std::string& value)> apply;
};

// Applies `args` in order. Errors: an unknown option (with `unknownHint` appended), a missing
// value ("--x needs a value"), or the option's own message.
[[nodiscard]] std::string parseOptionTable(const std::vector<std::string>& args,
                                           const std::vector<OptionSpec>& table,
                                           const std::string& unknownHint = {});

// Helpers for OptionSpec::apply.
std::function<std::string(const std::string&)> setString(std::string& out);
std::function<std::string(const std::string&)> setFlag(bool& out);
std::function<std::string(const std::string&)> setSeconds(std::optional<std::uint64_t>& out,
                                                          const char* name);

struct Verb {
  const char* name;
  std::function<int(const std::vector<std::string>& args)> run;
};

// Runs the verb named by args[0] with the rest; prints `usage` for none or --help (exit 2 / 0),
// and a usage error for an unknown verb.
[[nodiscard]] int dispatchVerb(const std::string& cmd, const std::vector<Verb>& verbs,
                               const std::vector<std::string>& args, const std::string& usage);

}  // namespace sashimono::cli
