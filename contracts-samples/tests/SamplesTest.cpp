// Runs the sample contracts as the runtime would (see FakeRuntime.h): bundle installed into a
// temporary state directory, ../patch.cfg beside it, argv from the bundle's contract.json.
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include "FakeRuntime.h"

using namespace sashimono::contract::testing;
namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

namespace {

enum class Kind { kCpp, kJs };

struct Manifest {
  std::string bin_path, bin_args;
};

Manifest read_manifest(const std::string& path) {
  rapidjson::Document d;
  d.Parse(read_file(path).c_str());
  if (d.HasParseError() || !d.IsObject()) throw std::runtime_error(path + ": not a JSON object");
  Manifest m;
  m.bin_path = d["bin_path"].GetString();
  if (d.HasMember("bin_args")) m.bin_args = d["bin_args"].GetString();
  return m;
}

// argv = bin_path, then bin_args split on spaces (the runtime does no quoting).
Strings argv_of(const Manifest& m) {
  Strings argv = {m.bin_path};
  std::size_t pos = 0;
  while (pos <= m.bin_args.size()) {
    const std::size_t sp = m.bin_args.find(' ', pos);
    const std::string part = m.bin_args.substr(pos, sp == std::string::npos ? std::string::npos : sp - pos);
    if (!part.empty()) argv.push_back(part);
    if (sp == std::string::npos) break;
    pos = sp + 1;
  }
  return argv;
}

std::string bundle_dir(const char* binary) { return fs::path(binary).parent_path().string(); }

bool js_available(std::string& why) {
  const std::string dir = SAMPLE_JS_COUNTER_DIR;
  if (!fs::exists(dir + "/node_modules/hotpocket-nodejs-contract")) {
    why = "js-counter: run `npm install` in " + dir + " to test the JavaScript sample";
    return false;
  }
  const auto m = read_manifest(dir + "/contract.json");
  if (::access(m.bin_path.c_str(), X_OK) != 0) {
    why = "js-counter: " + m.bin_path + " (bin_path of its contract.json) is not installed";
    return false;
  }
  return true;
}

// Installs a sample's bundle into the state directory (as a deployment would) and returns its argv.
Strings install(Kind kind, const std::string& bundle_src, const std::string& state) {
  if (kind == Kind::kCpp) {
    for (const auto& e : fs::directory_iterator(bundle_src))
      fs::copy(e.path(), state / e.path().filename(), fs::copy_options::overwrite_existing);
  } else {
    for (const char* f : {"index.js", "package.json", "contract.json"})
      fs::copy(fs::path(bundle_src) / f, fs::path(state) / f, fs::copy_options::overwrite_existing);
    if (!fs::exists(fs::path(state) / "node_modules"))
      fs::create_directory_symlink(fs::path(bundle_src) / "node_modules", fs::path(state) / "node_modules");
  }
  return argv_of(read_manifest(state + "/contract.json"));
}

// Outputs as the user sees them: the Node library in JSON mode writes strings as JSON strings.
Strings texts(Kind kind, const Strings& raw) {
  if (kind == Kind::kCpp) return raw;
  Strings out;
  for (const auto& r : raw) {
    rapidjson::Document d;
    d.Parse(r.c_str(), r.size());
    if (d.HasParseError() || !d.IsString()) {
      ADD_FAILURE() << "not a JSON string: " << r;
      out.push_back(r);
    } else {
      out.emplace_back(d.GetString(), d.GetStringLength());
    }
  }
  return out;
}

struct FileId {
  ino_t ino = 0;
  timespec mtime{};
  std::string content;
};

FileId file_id(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return FileId{st.st_ino, st.st_mtim, read_file(path)};
}

Strings listing(const std::string& dir) {
  Strings names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

void expect_clean_exit(const RunResult& r) {
  EXPECT_FALSE(r.timed_out) << "the contract did not exit by itself";
  EXPECT_TRUE(r.exited) << "killed by signal " << r.term_signal;
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_TRUE(r.framing_errors.empty()) << r.framing_errors.begin()->second;
  EXPECT_TRUE(r.npl_out.empty());
  EXPECT_TRUE(r.control_out.empty());
}

}  // namespace

// ---- bundles --------------------------------------------------------------------------------------

TEST(SampleBundles, LaidOutWithManifestAndStaticBinary) {
  struct B {
    const char* binary;
    const char* source_dir;
    const char* name;
  };
  for (const B& b : {B{SAMPLE_ECHO_BINARY, SAMPLE_ECHO_SOURCE_DIR, "echo"},
                     B{SAMPLE_COUNTER_BINARY, SAMPLE_COUNTER_SOURCE_DIR, "counter-contract"}}) {
    const fs::path dir = bundle_dir(b.binary);
    EXPECT_EQ(dir.filename(), "bundle");
    EXPECT_EQ(listing(dir.string()), (Strings{"contract.json", b.name}));
    EXPECT_EQ(read_file((dir / "contract.json").string()),
              read_file(std::string(b.source_dir) + "/contract.json"));
    const auto m = read_manifest((dir / "contract.json").string());
    EXPECT_EQ(m.bin_path, b.name);  // relative to the bundle = the state directory once installed
    EXPECT_EQ(m.bin_args, "");
    EXPECT_EQ(::access(b.binary, X_OK), 0);

    // A static executable has no program interpreter (PT_INTERP).
    const std::string elf = read_file(b.binary);
    ASSERT_GE(elf.size(), sizeof(Elf64_Ehdr));
    const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(elf.data());
    ASSERT_EQ(std::string(reinterpret_cast<const char*>(eh->e_ident), 4), std::string(ELFMAG));
    bool interp = false;
    for (int i = 0; i < eh->e_phnum; ++i) {
      const auto* ph = reinterpret_cast<const Elf64_Phdr*>(elf.data() + eh->e_phoff + i * eh->e_phentsize);
      if (ph->p_type == PT_INTERP) interp = true;
    }
    if (SAMPLE_STATIC) {
      EXPECT_FALSE(interp) << b.binary << " is dynamically linked";
    }
  }
  const auto js = read_manifest(std::string(SAMPLE_JS_COUNTER_DIR) + "/contract.json");
  EXPECT_EQ(js.bin_path, "/usr/bin/node");
  EXPECT_EQ(js.bin_args, "index.js");
}

// ---- echo -----------------------------------------------------------------------------------------

class EchoSample : public ::testing::Test {
 protected:
  RunResult run(const RunSpec& spec) {
    const auto argv = install(Kind::kCpp, bundle_dir(SAMPLE_ECHO_BINARY), inst.state());
    return run_contract(inst.state(), argv, spec);
  }
  TempInstance inst;
};

TEST_F(EchoSample, EchoesEveryInputOfEveryUserInOrder) {
  const std::string binary("a\0b\xff", 4);
  RunSpec spec;
  spec.users = {{kUserA, {"hello", "world", binary, ""}}, {kUserB, {}}, {kUserC, {"x y"}}};
  const auto r = run(spec);
  expect_clean_exit(r);
  EXPECT_EQ(r.outputs.at(kUserA), (Strings{"Echo: hello", "Echo: world", "Echo: " + binary, "Echo: "}));
  EXPECT_EQ(r.outputs.at(kUserB), Strings{});
  EXPECT_EQ(r.outputs.at(kUserC), Strings{"Echo: x y"});
}

TEST_F(EchoSample, LargeInputsArriveWhole) {
  std::string big(700 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  RunSpec spec;
  spec.users = {{kUserA, {big, "small", big.substr(1)}}};
  const auto r = run(spec);
  expect_clean_exit(r);
  const auto& out = r.outputs.at(kUserA);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(out[0] == "Echo: " + big);
  EXPECT_EQ(out[1], "Echo: small");
  EXPECT_TRUE(out[2] == "Echo: " + big.substr(1));
}

TEST_F(EchoSample, AnswersReadRequests) {
  RunSpec spec;
  spec.readonly = true;
  spec.users = {{kUserB, {"ping"}}};
  const auto r = run(spec);
  expect_clean_exit(r);
  EXPECT_EQ(r.outputs.at(kUserB), Strings{"Echo: ping"});
}

TEST_F(EchoSample, RoundWithoutUsers) {
  const auto r = run(RunSpec{});
  expect_clean_exit(r);
  EXPECT_TRUE(r.outputs.empty());
}

TEST_F(EchoSample, ExitsNonZeroWithoutRuntimeArguments) {
  // Empty stdin (here /dev/null) is not the runtime's JSON: error on stderr, exit status 1.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    char* args[] = {const_cast<char*>(SAMPLE_ECHO_BINARY), nullptr};
    char* envp[] = {nullptr};
    ::execve(args[0], args, envp);
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

// ---- counter (C++ and JavaScript, same behaviour) --------------------------------------------------

class CounterSample : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    if (GetParam() == Kind::kJs) {
      std::string why;
      if (!js_available(why)) GTEST_SKIP() << why;
    }
  }
  std::string bundle_src(Kind kind) const {
    return kind == Kind::kCpp ? bundle_dir(SAMPLE_COUNTER_BINARY) : std::string(SAMPLE_JS_COUNTER_DIR);
  }
  RunResult run(const RunSpec& spec, Kind kind) {
    const auto argv = install(kind, bundle_src(kind), inst.state());
    return run_contract(inst.state(), argv, spec);
  }
  RunResult run(const RunSpec& spec) { return run(spec, GetParam()); }
  RunResult consensus(std::vector<std::pair<std::string, Strings>> users) {
    RunSpec spec;
    spec.users = std::move(users);
    return run(spec);
  }
  RunResult read_request(const std::string& content) {
    RunSpec spec;
    spec.readonly = true;
    spec.users = {{kUserA, {content}}};
    return run(spec);
  }
  Strings out(const RunResult& r, const std::string& user) const {
    return texts(GetParam(), r.outputs.at(user));
  }
  std::string counter_file() const { return inst.state() + "/counter"; }

  TempInstance inst;
};

TEST_P(CounterSample, CountsAnswersAndPersistsAcrossRuns) {
  auto r = consensus({{kUserA, {"inc", "add 5", "bogus"}}, {kUserB, {"add -2"}}, {kUserC, {}}});
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA), (Strings{"error: unknown command", "counter: 4"}));
  EXPECT_EQ(out(r, kUserB), Strings{"counter: 4"});
  EXPECT_EQ(out(r, kUserC), Strings{});  // connected, sent nothing: no output
  EXPECT_EQ(read_file(counter_file()), "4\n");
  const FileId first = file_id(counter_file());

  r = consensus({{kUserB, {}}, {kUserC, {"inc"}}});  // a new process: the value comes from the state
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserB), Strings{});
  EXPECT_EQ(out(r, kUserC), Strings{"counter: 5"});
  EXPECT_EQ(read_file(counter_file()), "5\n");
  // Atomic replacement: a new file renamed over the old one, no temp file left behind.
  EXPECT_NE(file_id(counter_file()).ino, first.ino);
  EXPECT_FALSE(fs::exists(inst.state() + "/counter.tmp"));
}

TEST_P(CounterSample, ReadRequestAnswersWithoutChangingState) {
  expect_clean_exit(consensus({{kUserA, {"add 7"}}}));
  const FileId before = file_id(counter_file());
  const Strings files = listing(inst.state());

  for (const char* content : {"get", "inc", "add 100"}) {
    const auto r = read_request(content);
    expect_clean_exit(r);
    EXPECT_EQ(out(r, kUserA), Strings{"counter: 7"}) << content;
  }
  const FileId after = file_id(counter_file());
  EXPECT_EQ(after.content, "7\n");
  EXPECT_EQ(after.ino, before.ino);
  EXPECT_EQ(after.mtime.tv_sec, before.mtime.tv_sec);
  EXPECT_EQ(after.mtime.tv_nsec, before.mtime.tv_nsec);
  EXPECT_EQ(listing(inst.state()), files);
}

TEST_P(CounterSample, FreshStateIsZeroAndReadsCreateNothing) {
  const auto r = read_request("get");
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA), Strings{"counter: 0"});
  EXPECT_FALSE(fs::exists(counter_file()));
}

TEST_P(CounterSample, CommandSyntaxAndOverflow) {
  const auto r = consensus({{kUserA,
                             {"  inc \n", "add\t3", "add +2", "add", "add +-1", "add 1.5", "INC", "add 0x10",
                              "add 9223372036854775807", "add 99999999999999999999", "add -6"}}});
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA),
            (Strings{"error: unknown command", "error: unknown command", "error: unknown command",
                     "error: unknown command", "error: unknown command", "error: overflow", "error: overflow",
                     "counter: 0"}));
  // Back to where it started: nothing to write.
  EXPECT_FALSE(fs::exists(counter_file()));
}

TEST_P(CounterSample, SixtyFourBitBounds) {
  auto r = consensus({{kUserA, {"add -9223372036854775808", "add -1", "inc"}}});
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA), (Strings{"error: overflow", "counter: -9223372036854775807"}));
  r = consensus({{kUserA, {"add -1"}}});
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA), Strings{"counter: -9223372036854775808"});
  EXPECT_EQ(read_file(counter_file()), "-9223372036854775808\n");
}

TEST_P(CounterSample, OnlyErrorsLeaveTheFileUntouched) {
  expect_clean_exit(consensus({{kUserA, {"add 3"}}}));
  const FileId before = file_id(counter_file());
  const auto r = consensus({{kUserA, {"nope"}}, {kUserB, {"add 9223372036854775807"}}});
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA), (Strings{"error: unknown command", "counter: 3"}));
  EXPECT_EQ(out(r, kUserB), (Strings{"error: overflow", "counter: 3"}));
  EXPECT_EQ(file_id(counter_file()).ino, before.ino);
}

TEST_P(CounterSample, StaleTempFileIsReplaced) {
  write_file(inst.state() + "/counter.tmp", "junk from a crash");
  const auto r = consensus({{kUserA, {"inc"}}});
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA), Strings{"counter: 1"});
  EXPECT_EQ(read_file(counter_file()), "1\n");
  EXPECT_FALSE(fs::exists(inst.state() + "/counter.tmp"));
}

TEST_P(CounterSample, CorruptStateIsNotOverwritten) {
  write_file(counter_file(), "not a number\n");
  RunSpec spec;
  spec.users = {{kUserA, {"inc"}}};
  const auto r = run(spec);
  EXPECT_FALSE(r.timed_out);
  if (GetParam() == Kind::kCpp) {
    EXPECT_EQ(r.exit_status, 1);
  }  // (the Node library logs a contract's exception and exits normally)
  EXPECT_EQ(r.outputs.at(kUserA), Strings{});
  EXPECT_EQ(read_file(counter_file()), "not a number\n");
}

TEST_P(CounterSample, StateIsSharedWithTheOtherImplementation) {
  std::string why;
  if (!js_available(why)) GTEST_SKIP() << why;
  const Kind other = GetParam() == Kind::kCpp ? Kind::kJs : Kind::kCpp;
  RunSpec spec;
  spec.users = {{kUserA, {"add 40"}}};
  expect_clean_exit(run(spec, other));
  spec.users = {{kUserA, {"add 2"}}};
  const auto r = run(spec);
  expect_clean_exit(r);
  EXPECT_EQ(out(r, kUserA), Strings{"counter: 42"});
}

INSTANTIATE_TEST_SUITE_P(Impl, CounterSample, ::testing::Values(Kind::kCpp, Kind::kJs),
                         [](const auto& info) { return info.param == Kind::kCpp ? "Cpp" : "Js"; });

// ---- js-counter's echo command ----------------------------------------------------------------------

class JsCounterEcho : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!js_available(why)) GTEST_SKIP() << why;
  }
  RunResult run(const RunSpec& spec) {
    const auto argv = install(Kind::kJs, SAMPLE_JS_COUNTER_DIR, inst.state());
    return run_contract(inst.state(), argv, spec);
  }
  TempInstance inst;
};

TEST_F(JsCounterEcho, EchoRepliesAsJsonStringsInOrder) {
  RunSpec spec;
  spec.users = {{kUserA, {"echo hi", "inc", "echo  two \"quoted\""}}, {kUserB, {"echo only"}}};
  const auto r = run(spec);
  expect_clean_exit(r);
  // Raw bytes on the wire: JSON strings (the library's JSON mode), which the runtime embeds as-is.
  EXPECT_EQ(r.outputs.at(kUserA),
            (Strings{"\"Echo: hi\"", "\"Echo:  two \\\"quoted\\\"\"", "\"counter: 1\""}));
  EXPECT_EQ(r.outputs.at(kUserB), Strings{"\"Echo: only\""});  // only echo: no counter line
}

TEST_F(JsCounterEcho, ReadRequestEcho) {
  RunSpec spec;
  spec.readonly = true;
  spec.users = {{kUserC, {"echo ping"}}};
  const auto r = run(spec);
  expect_clean_exit(r);
  EXPECT_EQ(r.outputs.at(kUserC), Strings{"\"Echo: ping\""});
}

TEST_F(JsCounterEcho, ExitsByItselfWithNplTraffic) {
  // NPL messages waiting on the channel must not keep the process alive (it never listens).
  RunSpec spec;
  spec.users = {{kUserA, {"echo x"}}};
  spec.npl_in = {{kPeerKey, "hello from a peer"}};
  spec.timeout_ms = 20000;
  const auto r = run(spec);
  expect_clean_exit(r);
  EXPECT_EQ(r.outputs.at(kUserA), Strings{"\"Echo: x\""});
}
