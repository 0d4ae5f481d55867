#include "Options.h"

#include <iostream>

#include "Command.h"

namespace sashimono::cli {

std::optional<std::uint64_t> parseUnsigned(std::string_view s, std::uint64_t min, std::uint64_t max) {
  if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<std::uint64_t>(c - '0');
  if (v < min || v > max) return std::nullopt;
  return v;
}

std::string parseOptionTable(const std::vector<std::string>& args, const std::vector<OptionSpec>& table,
                             const std::string& unknownHint) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    const OptionSpec* spec = nullptr;
    for (const auto& o : table)
      if (a == o.name) spec = &o;
    if (spec == nullptr) return "unknown option " + a + unknownHint;
    std::string value;
    if (spec->takesValue) {
      if (i + 1 >= args.size()) return a + " needs a value";
      value = args[++i];
    }
    if (auto e = spec->apply(value); !e.empty()) return e;
  }
  return {};
}

std::function<std::string(const std::string&)> setString(std::string& out) {
  return [&out](const std::string& v) {
    out = v;
    return std::string();
  };
}

std::function<std::string(const std::string&)> setFlag(bool& out) {
  return [&out](const std::string&) {
    out = true;
    return std::string();
  };
}

std::function<std::string(const std::string&)> setSeconds(std::optional<std::uint64_t>& out,
                                                          const char* name) {
  return [&out, name](const std::string& v) {
    auto n = parseUnsigned(v, 1, 31'536'000);
    if (!n) return std::string(name) + " needs a positive number of seconds, got '" + v + "'";
    out = *n;
    return std::string();
  };
}

int dispatchVerb(const std::string& cmd, const std::vector<Verb>& verbs, const std::vector<std::string>& args,
                 const std::string& usage) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  for (const auto& v : verbs)
    if (args[0] == v.name) return v.run(rest);
  return usageError(cmd, "unknown subcommand " + args[0]);
}

}  // namespace sashimono::cli
