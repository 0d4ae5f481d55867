// Contract bundles: contract.json, the tar(.gz) reader against hand-made and GNU tar archives,
// every refusal, the deterministic writer, packDirectory, and installing over an existing
// (possibly hostile) state directory.
#include "sashimono/runtime/Bundle.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sashimono::runtime {
namespace {

namespace fs = std::filesystem;
using core::Bytes;

constexpr const char* kManifest = R"({"version":"1.0","bin_path":"/usr/bin/node","bin_args":"index.js"})";

// ---- helpers ----

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sashi-bundle-unit-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  [[nodiscard]] fs::path path(const std::string& rel = "") const { return rel.empty() ? root_ : root_ / rel; }
  void write(const std::string& rel, const std::string& content, fs::perms perms = fs::perms(0644)) const {
    fs::create_directories(path(rel).parent_path());
    std::ofstream(path(rel), std::ios::binary) << content;
    fs::permissions(path(rel), perms);
  }
  [[nodiscard]] std::string read(const std::string& rel) const {
    std::ifstream in(path(rel), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path root_;
};

Bytes bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

BundleFile file(std::string path, std::string_view data, bool exec = false) {
  BundleFile f;
  f.path = std::move(path);
  f.data = bytes(data);
  f.executable = exec;
  return f;
}
BundleFile dir(std::string path) {
  BundleFile f;
  f.path = std::move(path);
  f.directory = true;
  return f;
}

Bundle mustMake(std::vector<BundleFile> files) {
  auto b = makeBundle(std::move(files));
  if (!b) throw std::runtime_error(b.error().message);
  return std::move(b).value();
}

template <typename T>
::testing::AssertionResult failsWith(const core::Result<T>& r, std::string_view needle) {
  if (r.ok())
    return ::testing::AssertionFailure() << "succeeded; expected an error containing '" << needle << "'";
  if (r.error().message.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure() << "error '" << r.error().message << "' lacks '" << needle << "'";
  }
  return ::testing::AssertionSuccess();
}

// gzip, independent of the code under test.
Bytes gz(const Bytes& in) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  Bytes out(deflateBound(&z, in.size()) + 64);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Bytes gunzip(const Bytes& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  Bytes out;
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    std::uint8_t buf[65536];
    z.next_out = buf;
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

// Hand-made tar archives, written independently of the code under test.
struct Entry {
  explicit Entry(std::string n, char t = '0', std::string d = "", unsigned m = 0644)
      : name(std::move(n)), type(t), data(std::move(d)), mode(m) {}
  Entry& withLink(std::string l) { return link = std::move(l), *this; }
  Entry& withPrefix(std::string p) { return prefix = std::move(p), *this; }
  Entry& withGnuMagic() { return gnu = true, *this; }
  Entry& withBadChecksum() { return badChecksum = true, *this; }
  Entry& withSizeField(std::string f) { return sizeField = std::move(f), *this; }

  std::string name;
  char type;
  std::string data;
  unsigned mode;
  std::string link;
  std::string prefix;
  bool gnu = false;  // "ustar  \0" magic instead of "ustar\0" "00"
  bool badChecksum = false;
  std::optional<std::string> sizeField;  // raw size field (12 bytes), overriding the data size
};

class Tar {
 public:
  Tar& add(const Entry& e) {
    std::uint8_t b[512] = {};
    std::memcpy(b, e.name.data(), std::min<std::size_t>(e.name.size(), 100));
    std::snprintf(reinterpret_cast<char*>(b + 100), 8, "%07o", e.mode);
    std::snprintf(reinterpret_cast<char*>(b + 108), 8, "%07o", 1000u);
    std::snprintf(reinterpret_cast<char*>(b + 116), 8, "%07o", 1000u);
    if (e.sizeField) {
      std::memcpy(b + 124, e.sizeField->data(), std::min<std::size_t>(e.sizeField->size(), 12));
    } else {
      std::snprintf(reinterpret_cast<char*>(b + 124), 12, "%011llo",
                    static_cast<unsigned long long>(e.data.size()));
    }
    std::snprintf(reinterpret_cast<char*>(b + 136), 12, "%011o", 1700000000u);
    b[156] = static_cast<std::uint8_t>(e.type);
    std::memcpy(b + 157, e.link.data(), std::min<std::size_t>(e.link.size(), 100));
    std::memcpy(b + 257,
                e.gnu ? "ustar  \0"
                      : "ustar\0"
                        "00",
                8);
    std::memcpy(b + 265, "dev", 3);
    std::memcpy(b + 297, "dev", 3);
    std::memcpy(b + 345, e.prefix.data(), std::min<std::size_t>(e.prefix.size(), 155));
    std::memset(b + 148, ' ', 8);
    unsigned sum = 0;
    for (std::uint8_t c : b) sum += c;
    if (e.badChecksum) sum += 1;
    std::snprintf(reinterpret_cast<char*>(b + 148), 8, "%06o", sum);
    out_.insert(out_.end(), b, b + 512);
    out_.insert(out_.end(), e.data.begin(), e.data.end());
    out_.resize(out_.size() + (512 - e.data.size() % 512) % 512, 0);
    return *this;
  }
  Tar& file(const std::string& name, const std::string& data, unsigned mode = 0644) {
    return add(Entry(name, '0', data, mode));
  }
  Tar& dir(const std::string& name) { return add(Entry(name, '5', "", 0755)); }
  Tar& manifest(const std::string& json = kManifest) { return file("contract.json", json); }
  Tar& pax(const std::string& records, char type = 'x') { return add(Entry("PaxHeader", type, records)); }
  Tar& longName(const std::string& name) {
    return add(Entry("././@LongLink", 'L', name + std::string(1, '\0')).withGnuMagic());
  }
  Tar& raw(const Bytes& b) {
    out_.insert(out_.end(), b.begin(), b.end());
    return *this;
  }
  [[nodiscard]] Bytes finish() const {
    Bytes b = out_;
    b.resize(b.size() + 1024, 0);
    return b;
  }
  [[nodiscard]] Bytes unfinished() const { return out_; }

 private:
  Bytes out_;
};

std::string paxRecord(const std::string& key, const std::string& value) {
  std::size_t base = key.size() + value.size() + 3;
  std::size_t len = base + std::to_string(base).size();
  len = base + std::to_string(len).size();
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

const BundleFile* find(const Bundle& b, std::string_view path) {
  for (const auto& f : b.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

std::vector<std::string> paths(const Bundle& b) {
  std::vector<std::string> out;
  for (const auto& f : b.files) out.push_back(f.directory ? f.path + "/" : f.path);
  return out;
}

// Runs a program (no shell) and returns its exit status, or -1.
int run(const std::vector<std::string>& argv, const std::string& cwd = "") {
  pid_t pid = ::fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool haveTar() {
  static const bool have = run({"tar", "--version"}) == 0;
  return have;
}

Bytes readFileBytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), {});
}

bool isSymlink(const fs::path& p) { return fs::is_symlink(fs::symlink_status(p)); }

unsigned modeOf(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

// ---- contract.json ----

TEST(ContractManifest, ParsesAllFields) {
  auto m = parseContractManifest(
      R"({"version":"2.1","bin_path":"/usr/bin/node","bin_args":"index.js --x","environment":{"A":"1","_b2":"x y"}})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->version, "2.1");
  EXPECT_EQ(m->binPath, "/usr/bin/node");
  EXPECT_EQ(m->binArgs, "index.js --x");
  ASSERT_EQ(m->environment.size(), 2u);
  EXPECT_EQ(m->environment[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ(m->environment[1], (std::pair<std::string, std::string>{"_b2", "x y"}));

  auto minimal = parseContractManifest(R"({"bin_path":"./run","version":"v"})");
  ASSERT_TRUE(minimal.ok()) << minimal.error().message;
  EXPECT_EQ(minimal->binPath, "./run") << "kept as written";
  EXPECT_TRUE(minimal->binArgs.empty());
  EXPECT_TRUE(minimal->environment.empty());
}

TEST(ContractManifest, RendersCanonicallyAndParsesBack) {
  ContractManifest m{"1.0", "/usr/bin/node", "index.js \"q\"", {{"K", "line1\nline2"}, {"A", "é"}}};
  std::string json = renderContractManifest(m);
  auto back = parseContractManifest(json);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, m);
  EXPECT_EQ(renderContractManifest(*back), json);
}

TEST(ContractManifest, RefusesEveryBadField) {
  struct Case {
    std::string json, needle;
  };
  const std::string longVersion(65, 'v'), longArgs(4097, 'a'), longKey(129, 'K'), longValue(4097, 'v');
  std::string manyEnv = R"({"version":"1","bin_path":"/b","environment":{)";
  for (int i = 0; i < 65; ++i)
    manyEnv += (i ? "," : "") + std::string("\"K") + std::to_string(i) + "\":\"v\"";
  manyEnv += "}}";
  const std::vector<Case> cases = {
      {"", "invalid JSON at offset 0"},
      {R"({"version":"1","bin_path":"/b"} x)", "invalid JSON"},
      {"[1]", "expected an object, got an array"},
      {R"({"bin_path":"/b"})", "field 'version': missing"},
      {R"({"version":"","bin_path":"/b"})", "field 'version': empty"},
      {R"({"version":1,"bin_path":"/b"})", "field 'version': expected a string"},
      {R"({"version":")" + longVersion + R"(","bin_path":"/b"})", "field 'version': longer than 64"},
      {R"({"version":"a\nb","bin_path":"/b"})", "field 'version': holds a control character"},
      {R"({"version":"1"})", "field 'bin_path': missing"},
      {R"({"version":"1","bin_path":""})", "field 'bin_path': empty"},
      {R"({"version":"1","bin_path":"../up"})", "field 'bin_path': '..' path component"},
      {R"({"version":"1","bin_path":"a//b"})", "field 'bin_path': empty path component"},
      {R"({"version":"1","bin_path":null})", "field 'bin_path': expected a string, got null"},
      {R"({"version":"1","bin_path":"/b","bin_args":")" + longArgs + R"("})",
       "field 'bin_args': longer than 4096"},
      {R"({"version":"1","bin_path":"/b","bin_args":["a"]})", "field 'bin_args': expected a string"},
      {R"({"version":"1","bin_path":"/b","environment":[]})", "field 'environment': expected an object"},
      {R"({"version":"1","bin_path":"/b","environment":{"1A":"x"}})", "variable name '1A' must match"},
      {R"({"version":"1","bin_path":"/b","environment":{"A-B":"x"}})", "variable name 'A-B' must match"},
      {R"({"version":"1","bin_path":"/b","environment":{")" + longKey + R"(":"x"}})", "at most 128 bytes"},
      {R"({"version":"1","bin_path":"/b","environment":{"K":")" + longValue + R"("}})",
       "field 'environment.K': longer than 4096"},
      {R"({"version":"1","bin_path":"/b","environment":{"K":1}})",
       "field 'environment.K': expected a string"},
      {R"({"version":"1","bin_path":"/b","environment":{"K":"a\u0000b"}})",
       "field 'environment.K': holds a NUL"},
      {R"({"version":"1","bin_path":"/b","environment":{"K":"1","K":"2"}})",
       "field 'environment.K': duplicate key"},
      {manyEnv, "more than 64 variables"},
      {R"({"version":"1","bin_path":"/b","version":"2"})", "field 'version': duplicate key"},
      {R"({"version":"1","bin_path":"/b","bin_pth":"x"})", "unknown field 'bin_pth'"},
      {"{\"version\":\"\xff\",\"bin_path\":\"/b\"}", "invalid JSON"},
  };
  for (const auto& c : cases) {
    auto r = parseContractManifest(c.json);
    EXPECT_TRUE(failsWith(r, c.needle)) << c.json.substr(0, 120);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, kBundleErrorCode);
      EXPECT_EQ(r.error().message.rfind("contract.json: ", 0), 0u) << r.error().message;
    }
  }
  EXPECT_TRUE(failsWith(parseContractManifest(std::string(kMaxManifestBytes + 1, ' ')), "more than"));
}

TEST(ContractManifest, SplitsBinArgsLikeHotPocket) {
  EXPECT_EQ(splitBinArgs(""), std::vector<std::string>{});
  EXPECT_EQ(splitBinArgs("index.js"), std::vector<std::string>{"index.js"});
  EXPECT_EQ(splitBinArgs(" a  b c "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(splitBinArgs("\"a b\"\tc"), (std::vector<std::string>{"\"a", "b\"\tc"}))
      << "no quoting, tabs are data";
}

// ---- makeBundle ----

TEST(MakeBundle, AddsImpliedDirectoriesAndSorts) {
  auto b = makeBundle({file("z.txt", "z"), file("contract.json", kManifest), file("lib/a/b.js", "b", true),
                       file("lib-x", "x"), dir("empty"), dir("lib")});
  ASSERT_TRUE(b.ok()) << b.error().message;
  // Byte-wise order of the paths: "lib" < "lib-x" < "lib/a" ('-' is 0x2D, '/' is 0x2F).
  EXPECT_EQ(paths(*b), (std::vector<std::string>{"contract.json", "empty/", "lib/", "lib-x", "lib/a/",
                                                 "lib/a/b.js", "z.txt"}));
  EXPECT_TRUE(find(*b, "lib/a/b.js")->executable);
  EXPECT_EQ(b->contract.binArgs, "index.js");
}

TEST(MakeBundle, RefusesBadPaths) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../x", "'..' path component"},
      {"a/../../x", "'..' path component"},
      {"/abs", "absolute path"},
      {"", "empty path"},
      {"a//b", "empty path component"},
      {"a/", "empty path component"},
      {"./a", "'.' path component"},
      {"a/./b", "'.' path component"},
      {std::string(256, 'n'), "longer than 255 bytes"},
      {std::string(1025, 'p'), "longer than 1024 bytes"},
      {"a\nb", "control character"},
      {"bad\xff", "not valid UTF-8"},
      {"x/.sashimono-install.tmp", "reserved name"},
  };
  for (const auto& [path, needle] : cases) {
    auto b = makeBundle({file("contract.json", kManifest), file(path, "x")});
    EXPECT_TRUE(failsWith(b, needle)) << path.substr(0, 40);
    if (!b.ok()) {
      EXPECT_EQ(b.error().code, kBundleErrorCode);
    }
  }
  const std::string n(204, 'd');
  const std::string longest = n + "/" + n + "/" + n + "/" + n + "/" + n;
  ASSERT_EQ(longest.size(), 1024u);
  EXPECT_TRUE(makeBundle({file("contract.json", kManifest), file(longest, "x")}).ok());
}

TEST(MakeBundle, RefusesDuplicatesAndConflicts) {
  EXPECT_TRUE(failsWith(makeBundle({file("contract.json", kManifest), file("a", "1"), file("a", "2")}),
                        "entry 'a': duplicate entry"));
  EXPECT_TRUE(
      failsWith(makeBundle({file("contract.json", kManifest), dir("d"), dir("d")}), "duplicate entry"));
  EXPECT_TRUE(failsWith(makeBundle({file("contract.json", kManifest), file("a", "1"), file("a/b", "2")}),
                        "entry 'a/b': inside 'a', which is a file"));
  EXPECT_TRUE(failsWith(makeBundle({file("contract.json", kManifest), file("a/b", "2"), file("a", "1")}),
                        "entry 'a': a file, but earlier entries are inside it"));
  EXPECT_TRUE(makeBundle({file("contract.json", kManifest), file("a/b", "2"), dir("a")}).ok())
      << "an explicit directory after its implied one is fine";
}

TEST(MakeBundle, RequiresManifestAndChecksBinPath) {
  EXPECT_TRUE(failsWith(makeBundle({file("index.js", "")}), "no top-level contract.json"));
  EXPECT_TRUE(failsWith(makeBundle({file("app/contract.json", kManifest)}),
                        "found 'app/contract.json': make the archive from inside the directory"));
  EXPECT_TRUE(failsWith(makeBundle({dir("contract.json")}), "contract.json is a directory"));
  EXPECT_TRUE(failsWith(makeBundle({file("contract.json", "{")}), "bundle: contract.json: invalid JSON"));

  auto with = [](const std::string& binPath, std::vector<BundleFile> more) {
    more.push_back(file("contract.json", R"({"version":"1","bin_path":")" + binPath + R"("})"));
    return makeBundle(std::move(more));
  };
  EXPECT_TRUE(with("/usr/bin/node", {}).ok());
  EXPECT_TRUE(with("run.sh", {file("run.sh", "#!/bin/sh", true)}).ok());
  EXPECT_TRUE(with("./bin/run", {file("bin/run", "", true)}).ok());
  EXPECT_TRUE(failsWith(with("run.sh", {}), "field 'bin_path': 'run.sh' names no file in the bundle"));
  EXPECT_TRUE(failsWith(with("bin", {dir("bin")}), "names a directory"));
  EXPECT_TRUE(failsWith(with("run.sh", {file("run.sh", "")}), "without the owner-exec bit"));
}

TEST(MakeBundle, EnforcesLimits) {
  BundleLimits small{4, 10};
  EXPECT_TRUE(
      makeBundle({file("contract.json", R"({"version":"1","bin_path":"/b"})")}, BundleLimits{4, 100}).ok());
  EXPECT_TRUE(
      failsWith(makeBundle({file("contract.json", kManifest)}, small), "more than 10 bytes together"));
  EXPECT_TRUE(failsWith(makeBundle({file("contract.json", "{}"), file("a/b/c/d", "")}, BundleLimits{4, 100}),
                        "more than 4 entries"))
      << "implied directories count";
}

// ---- writeBundle / readBundle ----

Bundle sampleBundle() {
  return mustMake({file("contract.json", R"({"version":"1","bin_path":"bin/run","environment":{"K":"V"}})"),
                   file("bin/run", "#!/bin/sh\necho hi\n", true), file("index.js", std::string(1000, 'j')),
                   dir("data/empty"), file(std::string(120, 'a') + "/" + std::string(90, 'b'), "split"),
                   file(std::string(200, 'c') + "/" + std::string(200, 'd') + "/f", "pax"),
                   file("ünïcode.txt", "u")});
}

TEST(BundleRoundTrip, WriteThenReadGivesTheSameBundle) {
  Bundle b = sampleBundle();
  auto archive = writeBundle(b);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  ASSERT_GE(archive->size(), 2u);
  EXPECT_EQ((*archive)[0], 0x1f);
  EXPECT_EQ((*archive)[1], 0x8b);
  auto back = readBundle(*archive);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, b);
  // Uncompressed, too.
  auto plain = readBundle(gunzip(*archive));
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(*plain, b);
}

TEST(BundleRoundTrip, WriterIsDeterministic) {
  Bundle b = sampleBundle();
  auto one = writeBundle(b);
  Bundle shuffled = b;
  std::reverse(shuffled.files.begin(), shuffled.files.end());
  auto two = writeBundle(shuffled);
  ASSERT_TRUE(one.ok() && two.ok());
  EXPECT_EQ(*one, *two);
  // Every header: uid/gid/mtime zero, no owner names, mode 0755 or 0644, POSIX ustar magic.
  Bytes tar = gunzip(*one);
  ASSERT_EQ(tar.size() % 512, 0u);
  for (std::size_t off = 0; off + 1024 <= tar.size();) {
    const std::uint8_t* h = tar.data() + off;
    if (std::all_of(h, h + 512, [](std::uint8_t c) { return c == 0; })) break;
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(h + 108), 7), "0000000");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(h + 116), 7), "0000000");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(h + 136), 11), "00000000000");
    EXPECT_EQ(h[265], 0);
    EXPECT_EQ(h[297], 0);
    EXPECT_EQ(std::memcmp(h + 257,
                          "ustar\0"
                          "00",
                          8),
              0);
    std::string mode(reinterpret_cast<const char*>(h + 100), 7);
    EXPECT_TRUE(mode == "0000755" || mode == "0000644") << mode;
    std::uint64_t size = std::stoull(std::string(reinterpret_cast<const char*>(h + 124), 11), nullptr, 8);
    off += 512 + (size + 511) / 512 * 512;
  }
}

TEST(BundleRoundTrip, WriterRefusesInconsistentBundles) {
  Bundle b = sampleBundle();
  b.contract.version = "other";
  EXPECT_TRUE(failsWith(writeBundle(b), "does not match its contract.json"));
  Bundle bad = sampleBundle();
  bad.files.push_back(file("../escape", "x"));
  EXPECT_TRUE(failsWith(writeBundle(bad), "'..' path component"));
}

// ---- reading hand-made archives ----

TEST(ReadBundle, AcceptsUstarPrefixGnuLongNamesAndPax) {
  const std::string longName = "deep/" + std::string(200, 'x') + ".js";
  Tar t;
  t.dir("./").manifest().file("./index.js", "i", 0755);
  t.add(Entry("b.js", '0', "prefixed").withPrefix("lib/sub"));
  t.longName(longName).add(Entry("././@LongLink-truncated", '0', "gnu").withGnuMagic());
  t.pax(paxRecord("path", "pax/" + std::string(150, 'p')) + paxRecord("mtime", "1.5") +
        paxRecord("SCHILY.xattr.user.x", "v"));
  t.file("ignored-name", "pax");
  t.pax(paxRecord("comment", "git archive style"), 'g');
  t.add(Entry("dir-with-slash/", '5', "", 0700));
  t.add(Entry("old-regular", '\0', "nul typeflag"));
  auto b = readBundle(gz(t.finish()));
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_TRUE(find(*b, "index.js")->executable);
  EXPECT_EQ(core::asString(find(*b, "lib/sub/b.js")->data), "prefixed");
  ASSERT_NE(find(*b, longName), nullptr);
  EXPECT_EQ(core::asString(find(*b, longName)->data), "gnu");
  ASSERT_NE(find(*b, "pax/" + std::string(150, 'p')), nullptr);
  EXPECT_EQ(find(*b, "ignored-name"), nullptr);
  EXPECT_TRUE(find(*b, "dir-with-slash")->directory);
  EXPECT_EQ(core::asString(find(*b, "old-regular")->data), "nul typeflag");
  EXPECT_TRUE(find(*b, "lib")->directory) << "implied";
}

TEST(ReadBundle, PaxSizeOverridesTheHeader) {
  Tar t;
  t.manifest().pax(paxRecord("size", "5")).add(Entry("f", '0', "12345").withSizeField("77777777777"));
  auto b = readBundle(t.finish());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(core::asString(find(*b, "f")->data), "12345");
}

TEST(ReadBundle, RefusesLinksAndSpecialFilesNamingThePath) {
  struct Case {
    Entry e;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {Entry("lib/evil", '2', "", 0777).withLink("/etc/passwd"),
       "entry 'lib/evil': a symbolic link to '/etc/passwd'"},
      {Entry("hard", '1').withLink("contract.json"), "entry 'hard': a hard link to 'contract.json'"},
      {Entry("dev", '3'), "entry 'dev': a character device"},
      {Entry("blk", '4'), "entry 'blk': a block device"},
      {Entry("fifo", '6'), "entry 'fifo': a FIFO"},
      {Entry("sparse", 'S').withGnuMagic(), "entry 'sparse': a GNU sparse file"},
      {Entry("what", 'V').withGnuMagic(), "entry 'what': an entry of type 'V'"},
      {Entry("cont", '7'), "entry 'cont': an entry of type '7'"},
  };
  for (const auto& c : cases) {
    auto b = readBundle(Tar().manifest().add(c.e).finish());
    EXPECT_TRUE(failsWith(b, c.needle));
    EXPECT_TRUE(failsWith(b, "regular files and directories only"));
    if (!b.ok()) {
      EXPECT_EQ(b.error().code, kBundleErrorCode);
    }
  }
}

TEST(ReadBundle, RefusesBadPathsAndDuplicates) {
  EXPECT_TRUE(
      failsWith(readBundle(Tar().manifest().file("../x", "").finish()), "entry '../x': '..' path component"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().file("./../x", "").finish()), "'..' path component"));
  EXPECT_TRUE(
      failsWith(readBundle(Tar().manifest().file("/abs", "").finish()), "entry '/abs': absolute path"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().dir("/").finish()), "entry '/': absolute path"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().file("a/./b", "").finish()), "'.' path component"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().file("", "").finish()), "empty path"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().file("x/", "").finish()), "empty path component"))
      << "a trailing slash only on directories";
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().file("a", "1").file("./a", "2").finish()),
                        "entry 'a': duplicate entry"));
  EXPECT_TRUE(
      failsWith(readBundle(Tar().manifest().manifest().finish()), "entry 'contract.json': duplicate"));
  EXPECT_TRUE(
      failsWith(readBundle(Tar().dir("./").dir(".").manifest().finish()), "entry '.': duplicate entry"));
  EXPECT_TRUE(
      failsWith(readBundle(Tar().manifest().add(Entry("d", '5', "data")).finish()), "a directory with data"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().pax(paxRecord("path", "../up")).file("x", "").finish()),
                        "entry '../up': '..' path component"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().longName("/etc/cron.d/x").file("x", "").finish()),
                        "entry '/etc/cron.d/x': absolute path"));
}

TEST(ReadBundle, RefusesMissingManifestAndBadManifest) {
  EXPECT_TRUE(failsWith(readBundle(Tar().file("index.js", "").finish()), "no top-level contract.json"));
  EXPECT_TRUE(failsWith(readBundle(Tar().dir("app/").file("app/contract.json", kManifest).finish()),
                        "found 'app/contract.json'"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest(R"({"version":"1","bin_path":"/b","x":1})").finish()),
                        "bundle: contract.json: unknown field 'x'"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest(R"({"version":"1","bin_path":"run"})").finish()),
                        "'run' names no file in the bundle"));
}

TEST(ReadBundle, RefusesDamagedArchives) {
  const Bytes good = Tar().manifest().file("index.js", std::string(2000, 'i')).finish();
  ASSERT_TRUE(readBundle(good).ok());
  EXPECT_TRUE(failsWith(readBundle(Bytes{}), "the archive is empty"));
  EXPECT_TRUE(failsWith(readBundle(Bytes(good.begin(), good.begin() + 1500)), "truncated"));
  EXPECT_TRUE(
      failsWith(readBundle(Bytes(good.begin(), good.begin() + 700)), "truncated: entry data at offset 578"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().unfinished()), "without the end-of-archive marker"));
  Bytes lone = Tar().manifest().unfinished();
  lone.resize(lone.size() + 512, 0);
  EXPECT_TRUE(failsWith(readBundle(lone), "is not followed by another"));
  Bytes trailing = good;
  trailing.resize(trailing.size() + 10240, 0);
  EXPECT_TRUE(readBundle(trailing).ok()) << "zero padding to a record size is fine";
  trailing[trailing.size() - 7] = 1;
  EXPECT_TRUE(failsWith(readBundle(trailing), "non-zero bytes at offset"));
  EXPECT_TRUE(
      failsWith(readBundle(Tar().add(Entry("contract.json", '0', kManifest).withBadChecksum()).finish()),
                "header at offset 0: bad checksum"));
  Bytes v7 = good;
  std::memset(v7.data() + 257, 0, 8);
  EXPECT_TRUE(failsWith(readBundle(v7), "not a ustar or GNU tar header"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().add(Entry("f").withSizeField("12x")).finish()),
                        "bad size field"));
  Bytes badMode = Tar().add(Entry("contract.json", '0', kManifest)).finish();
  std::memcpy(badMode.data() + 100, "0abc\0\0\0", 8);
  std::memset(badMode.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; ++i) sum += badMode[i];
  std::snprintf(reinterpret_cast<char*>(badMode.data() + 148), 8, "%06o", sum);
  EXPECT_TRUE(failsWith(readBundle(badMode), "bad mode field"));
}

TEST(ReadBundle, RefusesBadGzip) {
  const Bytes tgz = gz(Tar().manifest().finish());
  ASSERT_TRUE(readBundle(tgz).ok());
  EXPECT_TRUE(failsWith(readBundle(Bytes(tgz.begin(), tgz.end() - 10)), "the gzip stream is truncated"));
  Bytes extra = tgz;
  extra.push_back(0);
  EXPECT_TRUE(failsWith(readBundle(extra), "bytes follow the gzip stream"));
  Bytes twice = tgz;
  twice.insert(twice.end(), tgz.begin(), tgz.end());
  EXPECT_TRUE(failsWith(readBundle(twice), "bytes follow the gzip stream")) << "one gzip member only";
  Bytes corrupt = tgz;
  corrupt[corrupt.size() / 2] ^= 0xFF;
  corrupt[corrupt.size() / 2 + 1] ^= 0xFF;
  EXPECT_FALSE(readBundle(corrupt).ok());
  EXPECT_TRUE(failsWith(readBundle(bytes("BZh91AY&SY")), "bzip2 compression is not supported"));
  EXPECT_TRUE(failsWith(readBundle(bytes(std::string("\xFD"
                                                     "7zXZ\0\0",
                                                     7))),
                        "xz compression"));
  EXPECT_TRUE(failsWith(readBundle(bytes("PK\x03\x04 zip")), "zip archive"));
}

TEST(ReadBundle, RefusesMalformedExtendedHeaders) {
  auto withPax = [](const std::string& records, char type = 'x') {
    return readBundle(Tar().manifest().pax(records, type).file("f", "").finish());
  };
  EXPECT_TRUE(withPax("5 a=\n").ok()) << "unknown keywords are ignored";
  EXPECT_TRUE(failsWith(withPax("99 path=x\n"), "malformed record"));
  EXPECT_TRUE(failsWith(withPax("x path=x\n"), "malformed record"));
  EXPECT_TRUE(failsWith(withPax("9 path=x!"), "lacks its newline"));
  EXPECT_TRUE(failsWith(withPax("8 =path\n"), "has no keyword"));
  EXPECT_TRUE(
      failsWith(withPax(paxRecord("path", "a") + paxRecord("path", "b")), "keyword 'path' appears twice"));
  EXPECT_TRUE(failsWith(withPax(paxRecord("GNU.sparse.major", "1")), "sparse files are not supported"));
  EXPECT_TRUE(failsWith(withPax(paxRecord("size", "-1")), "is not a decimal number"));
  EXPECT_TRUE(failsWith(withPax(paxRecord("path", "")), "path is empty or holds a NUL"));
  EXPECT_TRUE(failsWith(withPax(paxRecord("path", "x"), 'g'), "sets 'path' for every entry"));
  EXPECT_TRUE(failsWith(
      readBundle(
          Tar().manifest().pax(paxRecord("path", "a")).pax(paxRecord("path", "b")).file("f", "").finish()),
      "a second pax header for one entry"));
  EXPECT_TRUE(failsWith(
      readBundle(Tar().manifest().add(Entry("././@LongLink", 'L').withGnuMagic()).file("f", "").finish()),
      "GNU long-name record at offset 1024 is empty"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().longName("a").longName("b").file("f", "").finish()),
                        "a second GNU long-name record"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().pax(paxRecord("path", "a")).finish()),
                        "is not followed by an entry"));
  EXPECT_TRUE(failsWith(readBundle(Tar().manifest().add(Entry("big", 'x').withSizeField("777777")).finish()),
                        "more than 65536"));
  EXPECT_TRUE(failsWith(
      readBundle(Tar().manifest().add(Entry("L", 'L').withGnuMagic().withSizeField("20000")).finish()),
      "more than 4096"));
}

TEST(ReadBundle, EnforcesLimitsAndStopsBombs) {
  BundleLimits limits{10, 1 << 20};
  // Total size: one file over the limit is refused before its data is read.
  Tar big;
  big.manifest().add(Entry("huge").withSizeField("77777777777"));
  EXPECT_TRUE(failsWith(readBundle(big.unfinished(), limits),
                        "entry 'huge': the files hold more than 1048576 bytes"));
  // Total size across files.
  Tar many;
  many.manifest();
  for (int i = 0; i < 3; ++i) many.file("f" + std::to_string(i), std::string(400 << 10, 'x'));
  EXPECT_TRUE(failsWith(readBundle(gz(many.finish()), limits), "more than 1048576 bytes together"));
  // Entry count, implied directories included.
  Tar count;
  count.manifest();
  for (int i = 0; i < 10; ++i) count.file("d/f" + std::to_string(i), "");
  EXPECT_TRUE(failsWith(readBundle(count.finish(), limits), "more than 10 entries"));
  // A gzip bomb: 64 MiB of zeros after a valid archive compresses to ~64 KiB; reading stops
  // once the tar stream passes 2 × 1 MiB + 10 × 4096 + 1 MiB.
  Bytes bomb = Tar().manifest().finish();
  bomb.resize(64u << 20, 0);
  Bytes packed = gz(bomb);
  EXPECT_LT(packed.size(), 200u << 10);
  EXPECT_TRUE(failsWith(readBundle(packed, limits), "the tar stream is longer than 3186688 bytes"));
  EXPECT_TRUE(readBundle(packed).ok()) << "64 MiB of zero padding is within the default bound";
  // Endless pax global headers are bounded by the metadata budget and the stream bound.
  Tar globals;
  for (int i = 0; i < 400; ++i) globals.pax(std::string(paxRecord("comment", std::string(3000, 'c'))), 'g');
  globals.manifest();
  EXPECT_TRUE(failsWith(readBundle(gz(globals.finish()), limits), "exceed the size limit"));
}

// ---- GNU tar interoperability ----

class GnuTar : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!haveTar()) GTEST_SKIP() << "tar is not installed";
    src_.write("contract.json", kManifest);
    src_.write("index.js", "console.log('hi')\n", fs::perms(0755));
    src_.write("lib/util.js", "module.exports = {}\n");
    fs::create_directories(src_.path("empty/dir"));
    src_.write("ünï/cödé.txt", "utf8");
  }
  Bundle expected() {
    auto b = packDirectory(src_.path().string());
    if (!b) throw std::runtime_error(b.error().message);
    return std::move(b).value();
  }
  core::Result<Bundle> tarAndRead(std::vector<std::string> args) {
    const std::string out = (work_.path() / "out.tar").string();
    std::vector<std::string> argv = {"tar"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), {"-f", out, "-C", src_.path().string(), "."});
    EXPECT_EQ(run(argv), 0);
    return readBundle(readFileBytes(out));
  }
  TempDir src_, work_;
};

TEST_F(GnuTar, ReadsDefaultGzipArchives) {
  auto b = tarAndRead({"-cz"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, expected());
  EXPECT_TRUE(find(*b, "index.js")->executable);
  EXPECT_FALSE(find(*b, "lib/util.js")->executable);
}

TEST_F(GnuTar, ReadsUstarWithPrefixSplitPaths) {
  // "./<99 u>/" is the longest directory name ustar can hold with a 1-byte prefix.
  const std::string p = std::string(99, 'u') + "/" + std::string(50, 'v') + "/" + std::string(48, 'w');
  src_.write(p, "ustar");
  ASSERT_EQ(p.size(), 199u);
  auto b = tarAndRead({"-c", "--format=ustar"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, expected());
  ASSERT_NE(find(*b, p), nullptr);
}

TEST_F(GnuTar, ReadsGnuLongNames) {
  const std::string p = "long/" + std::string(200, 'g');
  src_.write(p, "gnu");
  auto b = tarAndRead({"-c", "--format=gnu"});
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, expected());
  ASSERT_NE(find(*b, p), nullptr);
}

TEST_F(GnuTar, ReadsPaxArchives) {
  const std::string p = "long/" + std::string(200, 'x');
  src_.write(p, "pax");
  for (std::vector<std::string> args :
       {std::vector<std::string>{"-c", "--format=pax"}, std::vector<std::string>{"-cz", "--format=pax"}}) {
    auto b = tarAndRead(args);
    ASSERT_TRUE(b.ok()) << b.error().message;
    EXPECT_EQ(*b, expected());
    ASSERT_NE(find(*b, p), nullptr);
  }
}

TEST_F(GnuTar, RefusesSymlinksAndHardLinksFromRealArchives) {
  fs::create_symlink("/etc/passwd", src_.path("lib/evil"));
  auto b = tarAndRead({"-cz"});
  EXPECT_TRUE(failsWith(b, "entry './lib/evil': a symbolic link to '/etc/passwd'"));
  fs::remove(src_.path("lib/evil"));
  fs::create_hard_link(src_.path("index.js"), src_.path("lib/again.js"));
  b = tarAndRead({"-c", "--format=pax"});
  EXPECT_TRUE(failsWith(b, "a hard link to"));
}

TEST_F(GnuTar, HintsWhenTheArchiveHoldsTheDirectory) {
  const std::string out = (work_.path() / "out.tgz").string();
  ASSERT_EQ(
      run({"tar", "-czf", out, "-C", src_.path().parent_path().string(), src_.path().filename().string()}),
      0);
  EXPECT_TRUE(failsWith(readBundle(readFileBytes(out)), "make the archive from inside the directory"));
}

TEST_F(GnuTar, ExtractsOurBundles) {
  src_.write(std::string(200, 'c') + "/" + std::string(200, 'd') + "/f", "pax path");
  Bundle b = expected();
  auto archive = writeBundle(b);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  {
    std::ofstream(work_.path("b.tgz"), std::ios::binary)
        .write(reinterpret_cast<const char*>(archive->data()), static_cast<std::streamsize>(archive->size()));
  }
  fs::create_directories(work_.path("x"));
  ASSERT_EQ(run({"tar", "-xzf", work_.path("b.tgz").string(), "-C", work_.path("x").string()}), 0);
  auto again = packDirectory(work_.path("x").string());
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, b);
}

// ---- packDirectory ----

TEST(PackDirectory, PacksFilesDirectoriesAndModesSkippingTopLevelGit) {
  TempDir d;
  d.write("contract.json", R"({"version":"1","bin_path":"run"})");
  d.write("run", "#!/bin/sh\n", fs::perms(0700));
  d.write("lib/a.js", "a");
  fs::create_directories(d.path("empty"));
  d.write(".git/config", "[core]");
  d.write("vendor/.git/HEAD", "ref");  // only the top-level .git is skipped
  d.write(".env", "not skipped");
  auto b = packDirectory(d.path().string());
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(paths(*b), (std::vector<std::string>{".env", "contract.json", "empty/", "lib/", "lib/a.js", "run",
                                                 "vendor/", "vendor/.git/", "vendor/.git/HEAD"}));
  EXPECT_TRUE(find(*b, "run")->executable);
  EXPECT_EQ(b->contract.binPath, "run");

  fs::remove_all(d.path(".git"));
  d.write(".git", "gitdir: ../x");  // a worktree's .git file
  auto again = packDirectory(d.path().string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(find(*again, ".git"), nullptr);
}

TEST(PackDirectory, RefusesSymlinksAndSpecialFilesNamingThePath) {
  TempDir d;
  d.write("contract.json", kManifest);
  fs::create_directories(d.path("lib"));
  fs::create_symlink("../contract.json", d.path("lib/link.json"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "entry 'lib/link.json': a symbolic link"));
  fs::remove(d.path("lib/link.json"));
  ASSERT_EQ(::mkfifo(d.path("lib/pipe").c_str(), 0644), 0);
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "entry 'lib/pipe': a FIFO"));
  fs::remove(d.path("lib/pipe"));
  fs::create_directory_symlink(d.path("lib"), d.path("linked-dir"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "entry 'linked-dir': a symbolic link"));
  fs::remove(d.path("linked-dir"));
  EXPECT_TRUE(packDirectory(d.path().string()).ok());
  EXPECT_FALSE(packDirectory(d.path("missing").string()).ok());
}

TEST(PackDirectory, EnforcesLimits) {
  TempDir d;
  d.write("contract.json", kManifest);
  d.write("big", std::string(2000, 'b'));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string(), BundleLimits{100, 1000}),
                        "entry 'big': the files hold more"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string(), BundleLimits{1, 1 << 20}), "more than 1 entries"));
  fs::remove(d.path("contract.json"));
  EXPECT_TRUE(failsWith(packDirectory(d.path().string()), "no top-level contract.json"));
}

// ---- installBundle ----

class Install : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(tmp_.path("contract/state"));
    fs::create_directories(tmp_.path("outside"));
    tmp_.write("outside/secret", "secret");
  }
  [[nodiscard]] std::string state() const { return tmp_.path("contract/state").string(); }
  [[nodiscard]] fs::path statePath(const std::string& rel) const {
    return tmp_.path("contract/state/" + rel);
  }
  static Bundle v1() {
    return mustMake({file("contract.json", R"({"version":"1","bin_path":"run"})"),
                     file("run", "#!/bin/sh\n", true), file("lib/old.js", "old"),
                     file("lib/keep.js", "keep v1"), dir("olddir/sub"), file("gone/only.js", "x")});
  }
  static Bundle v2() {
    return mustMake({file("contract.json", R"({"version":"2","bin_path":"run"})"),
                     file("run", "#!/bin/sh\nv2\n", true), file("lib/keep.js", "keep v2"),
                     file("lib/new.js", "new"), dir("empty")});
  }
  TempDir tmp_;
};

TEST_F(Install, FreshInstallWritesFilesModesAndTheRecord) {
  auto before = readInstallRecord(state());
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_FALSE(before->has_value());
  ::umask(077);  // modes are exact, whatever the umask
  auto st = installBundle(v1(), state());
  ::umask(022);
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(tmp_.read("contract/state/lib/old.js"), "old");
  EXPECT_EQ(modeOf(statePath("run")), 0755u);
  EXPECT_EQ(modeOf(statePath("lib/old.js")), 0644u);
  EXPECT_EQ(modeOf(statePath("lib")), 0755u);
  EXPECT_EQ(modeOf(statePath("olddir/sub")), 0755u);
  EXPECT_EQ(tmp_.read("contract/state/contract.json"), R"({"version":"1","bin_path":"run"})");
  EXPECT_FALSE(fs::exists(statePath(".sashimono-install.tmp")));
  auto rec = readInstallRecord(state());
  ASSERT_TRUE(rec.ok()) << rec.error().message;
  ASSERT_TRUE(rec->has_value());
  EXPECT_TRUE((*rec)->complete);
  EXPECT_EQ((*rec)->contract.version, "1");
  EXPECT_EQ((*rec)->files,
            (std::vector<std::string>{"contract.json", "gone/only.js", "lib/keep.js", "lib/old.js", "run"}));
  EXPECT_EQ((*rec)->directories, (std::vector<std::string>{"gone", "lib", "olddir", "olddir/sub"}));
  EXPECT_TRUE(fs::exists(tmp_.path("contract/bundle.json")));
  EXPECT_FALSE(fs::exists(tmp_.path("contract/bundle.json.tmp")));
}

TEST_F(Install, ReinstallKeepsStateAndRemovesWhatThePreviousBundleHadAlone) {
  ASSERT_TRUE(installBundle(v1(), state()).ok());
  tmp_.write("contract/state/db.sqlite", "state data");
  tmp_.write("contract/state/lib/cache.bin", "state in a bundle dir");
  tmp_.write("contract/state/olddir/sub/user.txt", "state in an old bundle dir");
  tmp_.write("contract/state/lib/keep.js", "modified by the contract");
  auto st = installBundle(v2(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(tmp_.read("contract/state/db.sqlite"), "state data");
  EXPECT_EQ(tmp_.read("contract/state/lib/cache.bin"), "state in a bundle dir");
  EXPECT_EQ(tmp_.read("contract/state/lib/keep.js"), "keep v2") << "bundle files are replaced";
  EXPECT_EQ(tmp_.read("contract/state/lib/new.js"), "new");
  EXPECT_EQ(tmp_.read("contract/state/run"), "#!/bin/sh\nv2\n");
  EXPECT_FALSE(fs::exists(statePath("lib/old.js")));
  EXPECT_FALSE(fs::exists(statePath("gone"))) << "an emptied directory of the old bundle is removed";
  EXPECT_EQ(tmp_.read("contract/state/olddir/sub/user.txt"), "state in an old bundle dir")
      << "a directory holding state is kept";
  EXPECT_TRUE(fs::is_directory(statePath("empty")));
  auto rec = readInstallRecord(state());
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->contract.version, "2");
  EXPECT_EQ((*rec)->files, (std::vector<std::string>{"contract.json", "lib/keep.js", "lib/new.js", "run"}));
  EXPECT_EQ((*rec)->directories, (std::vector<std::string>{"empty", "lib"}));
}

TEST_F(Install, SymlinkWhereTheBundleWantsADirectoryDoesNotLeadOutside) {
  fs::create_directory_symlink(tmp_.path("outside"), statePath("lib"));
  fs::create_symlink(tmp_.path("outside/secret"), statePath("run"));
  auto st = installBundle(v1(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_FALSE(isSymlink(statePath("lib")));
  EXPECT_TRUE(fs::is_directory(statePath("lib")));
  EXPECT_FALSE(isSymlink(statePath("run")));
  EXPECT_EQ(tmp_.read("contract/state/run"), "#!/bin/sh\n");
  EXPECT_EQ(tmp_.read("outside/secret"), "secret");
  EXPECT_FALSE(fs::exists(tmp_.path("outside/old.js")));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp_.path("outside")), fs::directory_iterator()), 1);
}

TEST_F(Install, StaleRemovalDoesNotFollowSymlinksPlantedByTheContract) {
  ASSERT_TRUE(installBundle(v1(), state()).ok());
  // The old contract replaces lib/ with a link to a directory outside that has the same names.
  fs::remove_all(statePath("lib"));
  fs::create_directory_symlink(tmp_.path("outside"), statePath("lib"));
  tmp_.write("outside/old.js", "outside file");
  tmp_.write("outside/keep.js", "outside keep");
  fs::remove_all(statePath("gone"));
  fs::create_directory_symlink(tmp_.path("outside"), statePath("gone"));
  tmp_.write("outside/only.js", "outside only");
  auto st = installBundle(v2(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(tmp_.read("outside/old.js"), "outside file");
  EXPECT_EQ(tmp_.read("outside/keep.js"), "outside keep");
  EXPECT_EQ(tmp_.read("outside/only.js"), "outside only");
  EXPECT_EQ(tmp_.read("outside/secret"), "secret");
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(statePath("lib"))))
      << "v2 has lib/: a real directory again";
  EXPECT_EQ(tmp_.read("contract/state/lib/new.js"), "new");
  EXPECT_TRUE(isSymlink(statePath("gone"))) << "not ours any more: left alone";
}

TEST_F(Install, ReplacesNonDirectoriesAndEmptyDirectoriesButNotStateDirectories) {
  tmp_.write("contract/state/olddir", "a state file where the bundle has a directory");
  fs::create_directories(statePath("run"));  // an empty directory where the bundle has a file
  auto st = installBundle(v1(), state());
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(fs::is_directory(statePath("olddir/sub")));
  EXPECT_EQ(tmp_.read("contract/state/run"), "#!/bin/sh\n");

  tmp_.write("contract/state/lib/new.js/data.bin", "state");  // v2 wants a file there
  auto again = installBundle(v2(), state());
  EXPECT_TRUE(failsWith(again, "'lib/new.js' is a directory holding other files in the state"));
  EXPECT_EQ(tmp_.read("contract/state/lib/new.js/data.bin"), "state");
  auto rec = readInstallRecord(state());
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_FALSE((*rec)->complete) << "the record says the install did not finish";
  fs::remove_all(statePath("lib/new.js"));
  ASSERT_TRUE(installBundle(v2(), state()).ok());
  EXPECT_FALSE(fs::exists(statePath("lib/old.js"))) << "the union record still had it";
}

TEST_F(Install, RecoversFromALeftoverTemporaryFile) {
  tmp_.write("contract/state/lib/.sashimono-install.tmp", "half-written");
  ASSERT_TRUE(installBundle(v1(), state()).ok());
  EXPECT_FALSE(fs::exists(statePath("lib/.sashimono-install.tmp")));
}

TEST_F(Install, RefusesABadRecordAndBadBundles) {
  tmp_.write("contract/bundle.json",
             R"({"format":1,"complete":true,"contract":{"version":"1","bin_path":"/b"},)"
             R"("files":["../../outside/secret"],"directories":[]})");
  EXPECT_TRUE(failsWith(installBundle(v1(), state()), "bundle.json: field 'files': '../../outside/secret'"));
  EXPECT_TRUE(failsWith(readInstallRecord(state()), "'..' path component"));
  tmp_.write("contract/bundle.json", "{");
  EXPECT_TRUE(failsWith(installBundle(v1(), state()), "bundle.json: invalid JSON"));
  fs::remove(tmp_.path("contract/bundle.json"));
  fs::create_symlink(tmp_.path("outside/secret"), tmp_.path("contract/bundle.json"));
  EXPECT_FALSE(installBundle(v1(), state()).ok()) << "the record is never read through a symlink";
  EXPECT_EQ(tmp_.read("outside/secret"), "secret");
  fs::remove(tmp_.path("contract/bundle.json"));

  Bundle unsorted = v1();
  std::reverse(unsorted.files.begin(), unsorted.files.end());
  EXPECT_TRUE(failsWith(installBundle(unsorted, state()), "not sorted"));
  Bundle evil = v1();
  evil.files.push_back(file("../escape", "x"));
  EXPECT_TRUE(failsWith(installBundle(evil, state()), "'..' path component"));
  Bundle lying = v1();
  lying.contract.binPath = "/bin/sh";
  EXPECT_TRUE(failsWith(installBundle(lying, state()), "does not match"));
  EXPECT_FALSE(installBundle(v1(), tmp_.path("no/such/dir").string()).ok());
  EXPECT_FALSE(fs::exists(tmp_.path("outside/escape")));
  EXPECT_FALSE(fs::exists(tmp_.path("contract/escape")));
}

TEST_F(Install, FullRoundTripFromADirectory) {
  TempDir src;
  src.write("contract.json", R"({"version":"1","bin_path":"/usr/bin/node","bin_args":"index.js"})");
  src.write("index.js", "require('./lib/x')");
  src.write("lib/x.js", "module.exports = 1", fs::perms(0755));
  fs::create_directories(src.path("data"));
  auto packed = packDirectory(src.path().string());
  ASSERT_TRUE(packed.ok()) << packed.error().message;
  auto archive = writeBundle(*packed);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  auto read = readBundle(*archive);
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_TRUE(installBundle(*read, state()).ok());
  auto installed = packDirectory(state());
  ASSERT_TRUE(installed.ok()) << installed.error().message;
  EXPECT_EQ(*installed, *packed);
}

}  // namespace
}  // namespace sashimono::runtime
