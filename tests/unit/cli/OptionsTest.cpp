// The CLI's option and verb tables (src/cli/Options.h): strict numbers, option errors that name
// the option, verbs with counted arguments, and the usage text made from the table.
#include "Options.h"

#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

namespace sashimono::cli {
namespace {

using Args = std::vector<std::string>;

// Captures what a call prints on stdout and stderr.
struct Captured {
  int code = 0;
  std::string out;
  std::string err;
};

template <class F>
Captured capture(F&& f) {
  std::ostringstream out, err;
  auto* oldOut = std::cout.rdbuf(out.rdbuf());
  auto* oldErr = std::cerr.rdbuf(err.rdbuf());
  Captured c;
  c.code = f();
  std::cout.rdbuf(oldOut);
  std::cerr.rdbuf(oldErr);
  c.out = out.str();
  c.err = err.str();
  return c;
}

TEST(ParseUnsigned, DigitsOnlyWithinBounds) {
  EXPECT_EQ(parseUnsigned("0", 0, 10), 0u);
  EXPECT_EQ(parseUnsigned("10", 0, 10), 10u);
  EXPECT_EQ(parseUnsigned("18446744073709551615", 0, UINT64_MAX), UINT64_MAX);
  EXPECT_FALSE(parseUnsigned("18446744073709551616", 0, UINT64_MAX));  // overflows
  EXPECT_FALSE(parseUnsigned("99999999999999999999", 0, UINT64_MAX));
  EXPECT_FALSE(parseUnsigned("11", 0, 10));
  EXPECT_FALSE(parseUnsigned("0", 1, 10));
  for (const char* bad : {"", "-1", "+1", " 1", "1 ", "1s", "0x10", "1e3", "1.0"})
    EXPECT_FALSE(parseUnsigned(bad, 0, UINT64_MAX)) << bad;
}

struct Settings {
  std::string name;
  std::vector<std::string> tags;
  bool verbose = false;
  std::uint64_t count = 7;
  std::optional<std::uint64_t> timeout;
};

std::vector<OptionSpec> table(Settings& s) {
  return {
      {"--name", true, setString(s.name)},        {"--tag", true, appendString(s.tags)},
      {"--verbose", false, setFlag(s.verbose)},   {"--count", true, setNumber(s.count, 1, 64)},
      {"--timeout", true, setSeconds(s.timeout)},
  };
}

TEST(ParseArguments, AppliesOptionsInOrderAndKeepsPositionals) {
  Settings s;
  CommandLine line;
  auto e = parseArguments({"a", "--name", "x", "--tag", "1", "b", "--verbose", "--tag", "2", "--count", "64",
                           "--timeout", "30", "-5"},
                          table(s), line);
  EXPECT_EQ(e, "");
  EXPECT_EQ(s.name, "x");
  EXPECT_EQ(s.tags, (Args{"1", "2"}));
  EXPECT_TRUE(s.verbose);
  EXPECT_EQ(s.count, 64u);
  EXPECT_EQ(s.timeout, 30u);
  EXPECT_EQ(line.positional, (Args{"a", "b", "-5"}));
  EXPECT_FALSE(line.help);
}

TEST(ParseArguments, ErrorsNameTheOption) {
  Settings s;
  CommandLine line;
  EXPECT_EQ(parseArguments({"--nope"}, table(s), line), "unknown option --nope");
  EXPECT_EQ(parseArguments({"--nope"}, table(s), line, false, " (hint)"), "unknown option --nope (hint)");
  EXPECT_EQ(parseArguments({"--name"}, table(s), line), "option --name needs a value");
  EXPECT_EQ(parseArguments({"--count", "0"}, table(s), line), "option --count: expected 1..64, got '0'");
  EXPECT_EQ(parseArguments({"--count", "65"}, table(s), line), "option --count: expected 1..64, got '65'");
  EXPECT_EQ(parseArguments({"--count", "-1"}, table(s), line), "option --count: expected 1..64, got '-1'");
  EXPECT_EQ(parseArguments({"--timeout", "0"}, table(s), line),
            "option --timeout: expected a positive number of seconds (at most a year), got '0'");
  EXPECT_EQ(s.count, 7u);  // a bad value changes nothing
}

TEST(ParseArguments, HelpStopsAndDashDashEndsOptions) {
  Settings s;
  CommandLine help;
  EXPECT_EQ(parseArguments({"--name", "x", "--help", "--nope"}, table(s), help), "");
  EXPECT_TRUE(help.help);
  CommandLine h;
  EXPECT_EQ(parseArguments({"-h"}, table(s), h), "");
  EXPECT_TRUE(h.help);

  CommandLine line;
  EXPECT_EQ(parseArguments({"n", "--", "--name", "y"}, table(s), line), "unexpected argument --");
  CommandLine dd;
  EXPECT_EQ(parseArguments({"n", "--verbose", "--", "--name", "y"}, table(s), dd, true), "");
  EXPECT_EQ(dd.positional, (Args{"n"}));
  EXPECT_EQ(dd.afterDashDash, (Args{"--name", "y"}));
  EXPECT_EQ(s.name, "x");  // "--name y" after "--" is no option
}

TEST(OnNumber, CallsTheSetterWithTheValue) {
  std::uint64_t bytes = 0;
  CommandLine line;
  const std::vector<OptionSpec> t{
      {"--mib", true, onNumber(0, 1024, "a number of MiB", [&](std::uint64_t n) { bytes = n << 20; })}};
  EXPECT_EQ(parseArguments({"--mib", "2"}, t, line), "");
  EXPECT_EQ(bytes, 2u << 20);
  EXPECT_EQ(parseArguments({"--mib", "lots"}, t, line), "option --mib: expected a number of MiB, got 'lots'");
}

// A command with verbs, as `tenant` has.
struct Tool {
  Settings s;
  std::vector<std::string> ran;  // "verb:arg,arg"
  std::vector<std::string> afterDashDash;
  std::vector<OptionSpec> onlyShow{{"--all", false, setFlag(s.verbose)}};

  CommandSpec spec() {
    auto record = [this](const char* verb) {
      return [this, verb](const Args& pos) {
        std::string r = std::string(verb) + ":";
        for (const auto& p : pos) r += p + ",";
        ran.push_back(r);
        return 0;
      };
    };
    return CommandSpec{
        .name = "tool",
        .verbs =
            {
                {.name = "make",
                 .args = exactlyOne("NAME"),
                 .synopsis = "NAME [--count N] [-- ARG...]",
                 .help = "makes one",
                 .run = record("make")},
                {.name = "list", .help = "lists them", .run = record("list")},
                {.name = "show",
                 .args = {"NAME", 0, kAnyNumber},
                 .synopsis = "[NAME...] [--all]",
                 .run = record("show"),
                 .options = &onlyShow},
            },
        .options = table(s),
        .notes = "notes\n",
        .afterDashDash = &afterDashDash,
    };
  }
  Captured run(const Args& args) {
    return capture([&] { return dispatchVerb(spec(), args); });
  }
};

TEST(DispatchVerb, RunsTheVerbWithItsOptionsAndArguments) {
  Tool t;
  auto c = t.run({"make", "--count", "3", "one", "--", "x", "--y"});
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(t.ran, (Args{"make:one,"}));
  EXPECT_EQ(t.s.count, 3u);
  EXPECT_EQ(t.afterDashDash, (Args{"x", "--y"}));

  auto show = t.run({"show", "a", "b", "--all"});
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_EQ(t.ran.back(), "show:a,b,");
  EXPECT_TRUE(t.s.verbose);
}

TEST(DispatchVerb, UsageErrorsAreOneLineNamingWhatIsWrong) {
  Tool t;
  const std::string hint = " (see 'sashimono tool --help')\n";
  struct Case {
    Args args;
    std::string err;
  };
  for (const auto& [args, err] : std::vector<Case>{
           {{"frob"}, "sashimono tool: unknown verb 'frob'" + hint},
           {{"make"}, "sashimono tool make: missing NAME" + hint},
           {{"make", "a", "b"}, "sashimono tool make: unexpected argument 'b'" + hint},
           {{"list", "a"}, "sashimono tool list: unexpected argument 'a'" + hint},
           {{"make", "a", "--count", "x"},
            "sashimono tool make: option --count: expected 1..64, got 'x'" + hint},
           {{"make", "a", "--name"}, "sashimono tool make: option --name needs a value" + hint},
           {{"list", "--bogus"}, "sashimono tool list: unknown option --bogus" + hint},
           {{"show", "--count", "3"}, "sashimono tool show: unknown option --count" + hint},  // its own table
       }) {
    auto c = t.run(args);
    EXPECT_EQ(c.code, 2) << args[0];
    EXPECT_EQ(c.err, err);
    EXPECT_EQ(c.out, "");
  }
  EXPECT_TRUE(t.ran.empty());
}

TEST(DispatchVerb, HelpAndNoVerbPrintTheUsage) {
  Tool t;
  const std::string usage =
      "usage: sashimono tool make NAME [--count N] [-- ARG...]\n"
      "       sashimono tool list\n"
      "       sashimono tool show [NAME...] [--all]\n"
      "  make  makes one\n"
      "  list  lists them\n"
      "notes\n";
  EXPECT_EQ(usageText(t.spec()), usage);
  for (const Args& args :
       {Args{"--help"}, Args{"-h"}, Args{"make", "--help"}, Args{"list", "--count", "3", "-h"}}) {
    auto c = t.run(args);
    EXPECT_EQ(c.code, 0);
    EXPECT_EQ(c.out, usage);
    EXPECT_EQ(c.err, "");
  }
  auto none = t.run({});
  EXPECT_EQ(none.code, 2);
  EXPECT_EQ(none.out, usage);
  EXPECT_TRUE(t.ran.empty());
}

TEST(DispatchVerb, ACommandWithoutVerbs) {
  Settings s;
  std::vector<std::string> got;
  auto spec = [&] {
    return CommandSpec{
        .name = "dev",
        .verbs = {{.name = "",
                   .args = exactlyOne("DIR"),
                   .synopsis = "DIR [--count N]",
                   .help = "runs DIR",
                   .run =
                       [&](const Args& pos) {
                         got = pos;
                         return 5;
                       }}},
        .options = table(s),
    };
  };
  EXPECT_EQ(usageText(spec()), "usage: sashimono dev DIR [--count N]\nruns DIR\n");
  auto ok = capture([&] { return dispatchVerb(spec(), {"--count", "2", "here"}); });
  EXPECT_EQ(ok.code, 5);
  EXPECT_EQ(got, (Args{"here"}));
  EXPECT_EQ(s.count, 2u);
  auto missing = capture([&] { return dispatchVerb(spec(), {}); });
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "sashimono dev: missing DIR (see 'sashimono dev --help')\n");
  auto help = capture([&] { return dispatchVerb(spec(), {"--help"}); });
  EXPECT_EQ(help.code, 0);
  EXPECT_EQ(help.out, usageText(spec()));
}

}  // namespace
}  // namespace sashimono::cli
