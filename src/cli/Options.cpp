#include "Options.h"

#include <algorithm>
#include <iostream>

namespace sashimono::cli {

int usageError(const std::string& cmd, const std::string& message) {
  std::cerr << "sashimono " << cmd << ": " << message << "\n";
  return 2;
}

int failure(const std::string& cmd, const std::string& message) {
  std::cerr << "sashimono " << cmd << ": " << message << "\n";
  return 1;
}

std::optional<std::uint64_t> parseUnsigned(std::string_view s, std::uint64_t min, std::uint64_t max) {
  if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t v = 0;
  for (char c : s) {
    const auto d = static_cast<std::uint64_t>(c - '0');
    if (v > (kMax - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  if (v < min || v > max) return std::nullopt;
  return v;
}

OptionApply setString(std::string& out) {
  return [&out](const std::string& v) {
    out = v;
    return std::string();
  };
}

OptionApply appendString(std::vector<std::string>& out) {
  return [&out](const std::string& v) {
    out.push_back(v);
    return std::string();
  };
}

OptionApply setFlag(bool& out) {
  return [&out](const std::string&) {
    out = true;
    return std::string();
  };
}

OptionApply onNumber(std::uint64_t min, std::uint64_t max, std::string what,
                     std::function<void(std::uint64_t)> set) {
  if (what.empty()) what = std::to_string(min) + ".." + std::to_string(max);
  return [min, max, what = std::move(what), set = std::move(set)](const std::string& v) {
    auto n = parseUnsigned(v, min, max);
    if (!n) return "expected " + what + ", got '" + v + "'";
    set(*n);
    return std::string();
  };
}

OptionApply setNumber(std::uint64_t& out, std::uint64_t min, std::uint64_t max, std::string what) {
  return onNumber(min, max, std::move(what), [&out](std::uint64_t n) { out = n; });
}

OptionApply setNumber(std::optional<std::uint64_t>& out, std::uint64_t min, std::uint64_t max,
                      std::string what) {
  return onNumber(min, max, std::move(what), [&out](std::uint64_t n) { out = n; });
}

OptionApply setSeconds(std::optional<std::uint64_t>& out) {
  return setNumber(out, 1, 31'536'000, "a positive number of seconds (at most a year)");
}

std::string parseArguments(const std::vector<std::string>& args, const std::vector<OptionSpec>& table,
                           CommandLine& out, bool allowDashDash, const std::string& unknownHint) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      out.help = true;
      return {};
    }
    if (a == "--") {
      if (!allowDashDash) return "unexpected argument --";
      out.afterDashDash.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return {};
    }
    if (a.rfind("--", 0) != 0) {
      out.positional.push_back(a);
      continue;
    }
    auto spec = std::find_if(table.begin(), table.end(), [&](const OptionSpec& o) { return a == o.name; });
    if (spec == table.end()) return "unknown option " + a + unknownHint;
    std::string value;
    if (spec->takesValue) {
      if (i + 1 >= args.size()) return "option " + a + " needs a value";
      value = args[++i];
    }
    if (auto e = spec->apply(value); !e.empty()) return "option " + a + ": " + e;
  }
  return {};
}

namespace {

bool verbless(const CommandSpec& spec) { return spec.verbs.size() == 1 && *spec.verbs[0].name == '\0'; }

std::string argumentCountError(const Verb& v, const std::vector<std::string>& given) {
  if (given.size() > v.args.max) return "unexpected argument '" + given[v.args.max] + "'";
  return std::string("missing ") + (*v.args.name != '\0' ? v.args.name : "argument");
}

}  // namespace

std::string usageText(const CommandSpec& spec) {
  std::string text;
  const std::string lead = std::string("sashimono ") + spec.name;
  std::size_t width = 0;
  for (const auto& v : spec.verbs) {
    text += text.empty() ? "usage: " : "       ";
    text += lead;
    if (*v.name != '\0') text += std::string(" ") + v.name;
    if (*v.synopsis != '\0') text += std::string(" ") + v.synopsis;
    text += "\n";
    width = std::max(width, std::string_view(v.name).size());
  }
  for (const auto& v : spec.verbs) {
    if (*v.help == '\0') continue;
    if (*v.name == '\0') {
      text += std::string(v.help) + "\n";
      continue;
    }
    text += "  " + std::string(v.name) + std::string(width + 2 - std::string_view(v.name).size(), ' ') +
            v.help + "\n";
  }
  return text + spec.notes;
}

int dispatchVerb(const CommandSpec& spec, const std::vector<std::string>& args) {
  const std::string hint = std::string(" (see 'sashimono ") + spec.name + " --help')";
  std::string who = spec.name;
  const Verb* verb = verbless(spec) ? &spec.verbs[0] : nullptr;
  std::vector<std::string> rest = args;
  if (verb == nullptr) {
    if (args.empty() || args[0] == "--help" || args[0] == "-h") {
      std::cout << usageText(spec);
      return args.empty() ? 2 : 0;
    }
    auto it =
        std::find_if(spec.verbs.begin(), spec.verbs.end(), [&](const Verb& v) { return args[0] == v.name; });
    if (it == spec.verbs.end()) return usageError(who, "unknown verb '" + args[0] + "'" + hint);
    verb = &*it;
    who += " " + args[0];
    rest.erase(rest.begin());
  }
  CommandLine line;
  const auto& table = verb->options != nullptr ? *verb->options : spec.options;
  auto e = parseArguments(rest, table, line, spec.afterDashDash != nullptr, spec.unknownHint);
  if (line.help) {
    std::cout << usageText(spec);
    return 0;
  }
  if (!e.empty()) return usageError(who, e + hint);
  const std::size_t n = line.positional.size();
  if (n < verb->args.min || n > verb->args.max)
    return usageError(who, argumentCountError(*verb, line.positional) + hint);
  if (spec.afterDashDash != nullptr) *spec.afterDashDash = std::move(line.afterDashDash);
  return verb->run(line.positional);
}

}  // namespace sashimono::cli
