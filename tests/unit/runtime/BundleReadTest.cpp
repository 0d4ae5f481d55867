// Contract bundles: the tar(.gz) reader against hand-made archives (ustar prefix, GNU long
// names, pax), and every refusal: links, special files, bad paths, damaged archives, bad gzip,
// malformed extended headers, limits and bombs.
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "BundleTestSupport.h"
#include "sashimono/runtime/Bundle.h"

namespace sashimono::runtime {
namespace {

using namespace testing;

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

}  // namespace
}  // namespace sashimono::runtime
