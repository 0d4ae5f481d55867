#pragma once
// The CLI's option and verb tables (after systemd's verb table, dispatch_verb and strict number
// parsers): a command lists its options once, with what each does to its settings, and its verbs
// once, with how many arguments each takes and one line of help; parsing, usage text and usage
// errors come from the tables. Only the standard library: tests/unit/cli links it alone.
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sashimono::cli {

// Prints "sashimono <cmd>: <message>" to stderr and returns 2 (usage) or 1 (failure).
int usageError(const std::string& cmd, const std::string& message);
int failure(const std::string& cmd, const std::string& message);

// Digits only (no sign, space or suffix), within [min, max]; nullopt otherwise.
[[nodiscard]] std::optional<std::uint64_t> parseUnsigned(std::string_view text, std::uint64_t min,
                                                         std::uint64_t max);

// Applies an option's value (empty for a flag); returns what is wrong with it, or empty. The
// parser prefixes "option --name: ", so a message reads "expected 1..64, got 'x'".
using OptionApply = std::function<std::string(const std::string& value)>;

struct OptionSpec {
  const char* name;  // "--board"
  bool takesValue;
  OptionApply apply;
};

// Helpers for OptionSpec::apply; each keeps a reference to `out`, which must outlive the table.
OptionApply setString(std::string& out);
OptionApply appendString(std::vector<std::string>& out);  // a repeatable option
OptionApply setFlag(bool& out);
// Calls `set` with a number within [min, max]; the error says "expected <what>" (default
// "MIN..MAX"). setNumber stores it.
OptionApply onNumber(std::uint64_t min, std::uint64_t max, std::string what,
                     std::function<void(std::uint64_t)> set);
OptionApply setNumber(std::uint64_t& out, std::uint64_t min, std::uint64_t max, std::string what = {});
OptionApply setNumber(std::optional<std::uint64_t>& out, std::uint64_t min, std::uint64_t max,
                      std::string what = {});
// A number of seconds, 1 s to a year (the developer commands' --timeout).
OptionApply setSeconds(std::optional<std::uint64_t>& out);

// What parseArguments found besides the options.
struct CommandLine {
  std::vector<std::string> positional;     // arguments that are not options, in order
  std::vector<std::string> afterDashDash;  // everything after "--" (when allowed)
  bool help = false;                       // --help or -h (parsing stopped there)
};

// Applies `args` in order. An argument starting with "--" is an option of `table`; "--help" and
// "-h" set `help` and stop; "--" ends the options when `allowDashDash` (else it is an error);
// anything else is positional. Returns an error naming the option (an unknown one with
// `unknownHint` appended, "option --x needs a value", or the option's own message), or empty.
[[nodiscard]] std::string parseArguments(const std::vector<std::string>& args,
                                         const std::vector<OptionSpec>& table, CommandLine& out,
                                         bool allowDashDash = false, const std::string& unknownHint = {});

inline constexpr std::size_t kAnyNumber = std::numeric_limits<std::size_t>::max();

// How many positional arguments a verb takes (after the options are taken out), and their name
// for errors ("missing NAME").
struct Arity {
  const char* name = "";
  std::size_t min = 0;
  std::size_t max = 0;  // kAnyNumber: no limit
};
constexpr Arity exactlyOne(const char* name) { return Arity{name, 1, 1}; }

struct Verb {
  const char* name;           // "create"; "" for a command without verbs (its only entry)
  Arity args = {};            // none by default
  const char* synopsis = "";  // what follows "sashimono <cmd> <verb>" in the usage
  const char* help = "";      // one line; empty: none
  std::function<int(const std::vector<std::string>& args)> run;  // gets the positional arguments
  const std::vector<OptionSpec>* options = nullptr;              // its own table; null: the command's
};

// A Verb::run for a verb without arguments: calls f(settings), settings being what the option
// table filled in.
template <class F, class T>
std::function<int(const std::vector<std::string>&)> calling(F f, T& settings) {
  return [f, &settings](const std::vector<std::string>&) { return f(settings); };
}

struct CommandSpec {
  const char* name;  // "tenant"
  std::vector<Verb> verbs;
  std::vector<OptionSpec> options;                    // shared by the verbs that have no table of their own
  std::string notes;                                  // printed after the synopses and verbs
  std::vector<std::string>* afterDashDash = nullptr;  // set: "--" ends the options, the rest goes here
  std::string unknownHint;                            // appended to "unknown option --x"
};

// The usage text: one synopsis line a verb, the verbs' help, then the notes.
[[nodiscard]] std::string usageText(const CommandSpec& spec);

// Runs the verb named by args[0] (or the command's only, nameless verb) with the options applied
// and its positional arguments counted. No verb: usage on stdout, exit 2; --help or -h: usage,
// exit 0; an unknown verb or option, a missing value, a bad number or a wrong number of
// arguments: one line "sashimono <cmd> [<verb>]: <error> (see 'sashimono <cmd> --help')", exit 2.
[[nodiscard]] int dispatchVerb(const CommandSpec& spec, const std::vector<std::string>& args);

}  // namespace sashimono::cli
