// Contract bundles: contract.json, makeBundle's checks, and the deterministic writer read back.
// Reading hand-made archives: BundleReadTest; GNU tar and packDirectory: BundlePackTest;
// installing: BundleInstallTest.
#include "sashimono/runtime/Bundle.h"

#include <zlib.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "BundleTestSupport.h"

namespace sashimono::runtime {
namespace {

using namespace testing;

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

}  // namespace
}  // namespace sashimono::runtime
