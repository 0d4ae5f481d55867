#include "sashimono/crypto/Blake3.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

extern char** environ;

using namespace sashimono;
using crypto::Blake3;

namespace {

// The official vectors' input: bytes 0, 1, ..., 250, 0, 1, ... (i % 251).
core::Bytes patternInput(std::size_t len) {
  core::Bytes b(len);
  for (std::size_t i = 0; i < len; ++i) b[i] = static_cast<std::uint8_t>(i % 251);
  return b;
}

core::Bytes randomBytes(std::mt19937_64& rng, std::size_t len) {
  core::Bytes b(len);
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  return b;
}

std::string xofHex(const Blake3& h, std::size_t len) {
  core::Bytes out(len);
  h.finalizeXof(out);
  return core::toHexLower(out);
}

std::string hex(const crypto::Hash256& h) { return core::toHexLower(h); }

// Hash-mode cases of test_vectors/test_vectors.json in the BLAKE3 repository
// (github.com/BLAKE3-team/BLAKE3): input length, 131 bytes of extended output.
struct Vector {
  std::size_t len;
  const char* xof;
};
const Vector kVectors[] = {
    {0,
     "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262e00f03e7b69af26b"
     "7faaf09fcd333050338ddfe085b8cc869ca98b206c08243a26f5487789e8f660afe6c99ef9e0c52b"
     "92e7393024a80459cf91f476f9ffdbda7001c22e159b402631f277ca96f2defdf1078282314e7636"
     "99a31c5363165421cce14d"},
    {1,
     "2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213c3a6cb8bf623e20c"
     "db535f8d1a5ffb86342d9c0b64aca3bce1d31f60adfa137b358ad4d79f97b47c3d5e79f179df87a3"
     "b9776ef8325f8329886ba42f07fb138bb502f4081cbcec3195c5871e6c23e2cc97d3c69a613eba13"
     "1e5f1351f3f1da786545e5"},
    {1023,
     "10108970eeda3eb932baac1428c7a2163b0e924c9a9e25b35bba72b28f70bd11a182d27a591b0559"
     "2b15607500e1e8dd56bc6c7fc063715b7a1d737df5bad3339c56778957d870eb9717b57ea3d9fb68"
     "d1b55127bba6a906a4a24bbd5acb2d123a37b28f9e9a81bbaae360d58f85e5fc9d75f7c370a0cc09"
     "b6522d9c8d822f2f28f485"},
    {1024,
     "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af71cf8107265ecdaf8"
     "505b95d8fcec83a98a6a96ea5109d2c179c47a387ffbb404756f6eeae7883b446b70ebb144527c20"
     "75ab8ab204c0086bb22b7c93d465efc57f8d917f0b385c6df265e77003b85102967486ed57db5c5c"
     "a170ba441427ed9afa684e"},
    {1025,
     "d00278ae47eb27b34faecf67b4fe263f82d5412916c1ffd97c8cb7fb814b8444f4c4a22b4b399155"
     "358a994e52bf255de60035742ec71bd08ac275a1b51cc6bfe332b0ef84b409108cda080e6269ed4b"
     "3e2c3f7d722aa4cdc98d16deb554e5627be8f955c98e1d5f9565a9194cad0c4285f93700062d9595"
     "adb992ae68ff12800ab67a"},
    {2048,
     "e776b6028c7cd22a4d0ba182a8bf62205d2ef576467e838ed6f2529b85fba24a9a60bf80001410ec"
     "9eea6698cd537939fad4749edd484cb541aced55cd9bf54764d063f23f6f1e32e12958ba5cfeb1bf"
     "618ad094266d4fc3c968c2088f677454c288c67ba0dba337b9d91c7e1ba586dc9a5bc2d5e90c14f5"
     "3a8863ac75655461cea8f9"},
    {2049,
     "5f4d72f40d7a5f82b15ca2b2e44b1de3c2ef86c426c95c1af0b687952256303096de31d71d741034"
     "03822a2e0bc1eb193e7aecc9643a76b7bbc0c9f9c52e8783aae98764ca468962b5c2ec92f0c74eb5"
     "448d519713e09413719431c802f948dd5d90425a4ecdadece9eb178d80f26efccae630734dff6334"
     "0285adec2aed3b51073ad3"},
    {3072,
     "b98cb0ff3623be03326b373de6b9095218513e64f1ee2edd2525c7ad1e5cffd29a3f6b0b978d6608"
     "335c09dc94ccf682f9951cdfc501bfe47b9c9189a6fc7b404d120258506341a6d802857322fbd20d"
     "3e5dae05b95c88793fa83db1cb08e7d8008d1599b6209d78336e24839724c191b2a52a80448306e0"
     "daa84a3fdb566661a37e11"},
    {3073,
     "7124b49501012f81cc7f11ca069ec9226cecb8a2c850cfe644e327d22d3e1cd39a27ae3b79d68d89"
     "da9bf25bc27139ae65a324918a5f9b7828181e52cf373c84f35b639b7fccbb985b6f2fa56aea0c18"
     "f531203497b8bbd3a07ceb5926f1cab74d14bd66486d9a91eba99059a98bd1cd25876b2af5a76c3e"
     "9eed554ed72ea952b603bf"},
    {4096,
     "015094013f57a5277b59d8475c0501042c0b642e531b0a1c8f58d2163229e9690289e9409ddb1b99"
     "768eafe1623da896faf7e1114bebeadc1be30829b6f8af707d85c298f4f0ff4d9438aef948335612"
     "ae921e76d411c3a9111df62d27eaf871959ae0062b5492a0feb98ef3ed4af277f5395172dbe5c311"
     "918ea0074ce0036454f620"},
    {4097,
     "9b4052b38f1c5fc8b1f9ff7ac7b27cd242487b3d890d15c96a1c25b8aa0fb99505f91b0b5600a112"
     "51652eacfa9497b31cd3c409ce2e45cfe6c0a016967316c426bd26f619eab5d70af9a418b845c608"
     "840390f361630bd497b1ab44019316357c61dbe091ce72fc16dc340ac3d6e009e050b3adac4b5b2c"
     "92e722cffdc46501531956"},
    {5120,
     "9cadc15fed8b5d854562b26a9536d9707cadeda9b143978f319ab34230535833acc61c8fdc114a20"
     "10ce8038c853e121e1544985133fccdd0a2d507e8e615e611e9a0ba4f47915f49e53d721816a9198"
     "e8b30f12d20ec3689989175f1bf7a300eee0d9321fad8da232ece6efb8e9fd81b42ad161f6b9550a"
     "069e66b11b40487a5f5059"},
    {5121,
     "628bd2cb2004694adaab7bbd778a25df25c47b9d4155a55f8fbd79f2fe154cff96adaab0613a6146"
     "cdaabe498c3a94e529d3fc1da2bd08edf54ed64d40dcd6777647eac51d8277d70219a9694334a68b"
     "c8f0f23e20b0ff70ada6f844542dfa32cd4204ca1846ef76d811cdb296f65e260227f477aa7aa008"
     "bac878f72257484f2b6c95"},
    {6144,
     "3e2e5b74e048f3add6d21faab3f83aa44d3b2278afb83b80b3c35164ebeca2054d742022da6fdda4"
     "44ebc384b04a54c3ac5839b49da7d39f6d8a9db03deab32aade156c1c0311e9b3435cde0ddba0dce"
     "7b26a376cad121294b689193508dd63151603c6ddb866ad16c2ee41585d1633a2cea093bea714f4c"
     "5d6b903522045b20395c83"},
    {6145,
     "f1323a8631446cc50536a9f705ee5cb619424d46887f3c376c695b70e0f0507f18a2cfdd73c6e39d"
     "d75ce7c1c6e3ef238fd54465f053b25d21044ccb2093beb015015532b108313b5829c3621ce324b8"
     "e14229091b7c93f32db2e4e63126a377d2a63a3597997d4f1cba59309cb4af240ba70cebff9a23d5"
     "e3ff0cdae2cfd54e070022"},
    {7168,
     "61da957ec2499a95d6b8023e2b0e604ec7f6b50e80a9678b89d2628e99ada77a5707c321c8336179"
     "3b9af62a40f43b523df1c8633cecb4cd14d00bdc79c78fca5165b863893f6d38b02ff7236c5a9a8a"
     "d2dba87d24c547cab046c29fc5bc1ed142e1de4763613bb162a5a538e6ef05ed05199d751f9eb58d"
     "332791b8d73fb74e4fce95"},
    {7169,
     "a003fc7a51754a9b3c7fae0367ab3d782dccf28855a03d435f8cfe74605e781798a8b20534be1ca9"
     "eb2ae2df3fae2ea60e48c6fb0b850b1385b5de0fe460dbe9d9f9b0d8db4435da75c601156df9d047"
     "f4ede008732eb17adc05d96180f8a73548522840779e6062d643b79478a6e8dbce68927f36ebf676"
     "ffa7d72d5f68f050b119c8"},
    {8192,
     "aae792484c8efe4f19e2ca7d371d8c467ffb10748d8a5a1ae579948f718a2a635fe51a27db045a56"
     "7c1ad51be5aa34c01c6651c4d9b5b5ac5d0fd58cf18dd61a47778566b797a8c67df7b1d60b97b192"
     "88d2d877bb2df417ace009dcb0241ca1257d62712b6a4043b4ff33f690d849da91ea3bf711ed583c"
     "b7b7a7da2839ba71309bbf"},
    {8193,
     "bab6c09cb8ce8cf459261398d2e7aef35700bf488116ceb94a36d0f5f1b7bc3bb2282aa69be08935"
     "9ea1154b9a9286c4a56af4de975a9aa4a5c497654914d279bea60bb6d2cf7225a2fa0ff5ef56bbe4"
     "b149f3ed15860f78b4e2ad04e158e375c1e0c0b551cd7dfc82f1b155c11b6b3ed51ec9edb30d1336"
     "53bb5709d1dbd55f4e1ff6"},
    {16384,
     "f875d6646de28985646f34ee13be9a576fd515f76b5b0a26bb324735041ddde49d764c270176e53e"
     "97bdffa58d549073f2c660be0e81293767ed4e4929f9ad34bbb39a529334c57c4a381ffd2a6d4bfd"
     "bf1482651b172aa883cc13408fa67758a3e47503f93f87720a3177325f7823251b85275f64636a8f"
     "1d599c2e49722f42e93893"},
    {31744,
     "62b6960e1a44bcc1eb1a611a8d6235b6b4b78f32e7abc4fb4c6cdcce94895c47860cc51f2b0c28a7"
     "b77304bd55fe73af663c02d3f52ea053ba43431ca5bab7bfea2f5e9d7121770d88f70ae9649ea713"
     "087d1914f7f312147e247f87eb2d4ffef0ac978bf7b6579d57d533355aa20b8b77b13fd09748728a"
     "5cc327a8ec470f4013226f"},
    {102400,
     "bc3e3d41a1146b069abffad3c0d44860cf664390afce4d9661f7902e7943e085e01c59dab908c04c"
     "3342b816941a26d69c2605ebee5ec5291cc55e15b76146e6745f0601156c3596cb75065a9c57f355"
     "85a52e1ac70f69131c23d611ce11ee4ab1ec2c009012d236648e77be9295dd0426f29b764d65de58"
     "eb7d01dd42248204f45f8e"},
};

}  // namespace

TEST(Blake3Test, OfficialVectors) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE("input_len " + std::to_string(v.len));
    const std::string expected = v.xof;
    ASSERT_EQ(expected.size(), 2u * 131);
    const core::Bytes in = patternInput(v.len);
    EXPECT_EQ(hex(crypto::blake3(in)), expected.substr(0, 64));
    Blake3 h;
    h.update(in);
    EXPECT_EQ(hex(h.finalize()), expected.substr(0, 64));
    EXPECT_EQ(xofHex(h, 131), expected);
  }
}

TEST(Blake3Test, ShorterXofIsAPrefix) {
  for (std::size_t len : {0u, 1024u, 1025u, 8193u}) {
    Blake3 h;
    h.update(patternInput(len));
    const std::string full = xofHex(h, 131);
    for (std::size_t n : {0u, 1u, 31u, 32u, 33u, 63u, 64u, 65u, 127u, 128u, 130u}) {
      EXPECT_EQ(xofHex(h, n), full.substr(0, 2 * n)) << "input " << len << ", output " << n;
    }
  }
}

TEST(Blake3Test, OneByteAtATimeEqualsOneShot) {
  // Every boundary class: empty, inside and around a block, a chunk, two chunks, the four-chunk
  // batch and the tree levels above it.
  for (std::size_t len : {0u,    1u,    63u,   64u,   65u,   127u,  128u,  129u,  1023u, 1024u, 1025u, 2047u,
                          2048u, 2049u, 3072u, 4095u, 4096u, 4097u, 5120u, 5121u, 8192u, 8193u, 16385u}) {
    const core::Bytes in = patternInput(len);
    Blake3 h;
    for (std::size_t i = 0; i < len; ++i) h.update(core::ByteView(in).subspan(i, 1));
    EXPECT_EQ(h.finalize(), crypto::blake3(in)) << "length " << len;
    Blake3 oneShot;
    oneShot.update(in);
    EXPECT_EQ(xofHex(h, 131), xofHex(oneShot, 131)) << "length " << len;
  }
}

TEST(Blake3Test, EveryTwoWaySplitEqualsOneShot) {
  // Past four chunks either side of the split may take the four-chunk path.
  const core::Bytes in = patternInput(5 * 1024 + 1);
  const crypto::Hash256 expected = crypto::blake3(in);
  const core::ByteView all(in);
  for (std::size_t k = 0; k <= in.size(); ++k) {
    Blake3 h;
    h.update(all.first(k)).update(all.subspan(k));
    ASSERT_EQ(h.finalize(), expected) << "split at " << k;
  }
}

TEST(Blake3Test, RandomSplitsEqualOneShot) {
  std::mt19937_64 rng(20240601);
  for (std::size_t len : {64u * 1024, 300u * 1024 + 7, 1024u * 1024 + 1}) {
    const core::Bytes in = randomBytes(rng, len);
    const crypto::Hash256 expected = crypto::blake3(in);
    for (int trial = 0; trial < 8; ++trial) {
      Blake3 h;
      core::ByteView rest(in);
      while (!rest.empty()) {
        // Piece sizes around every boundary class, plus arbitrary ones.
        static constexpr std::size_t kAround[] = {0,    1,    2,    63,   64,   65,         1023,
                                                  1024, 1025, 4095, 4096, 4097, 4097 + 1024};
        std::size_t n = rng() % 2 == 0 ? kAround[rng() % std::size(kAround)] : rng() % 20000;
        n = std::min(n, rest.size());
        h.update(rest.first(n));
        rest = rest.subspan(n);
      }
      ASSERT_EQ(h.finalize(), expected) << "length " << len << ", trial " << trial;
    }
  }
}

TEST(Blake3Test, FinalizeLeavesStateAndCopiesAreIndependent) {
  const core::Bytes in = patternInput(10000);
  const core::ByteView all(in);
  Blake3 h;
  h.update(all.first(3000));
  EXPECT_EQ(h.finalize(), crypto::blake3(all.first(3000)));
  EXPECT_EQ(h.finalize(), crypto::blake3(all.first(3000)));
  Blake3 copy = h;
  h.update(all.subspan(3000));
  EXPECT_EQ(h.finalize(), crypto::blake3(in));
  EXPECT_EQ(copy.finalize(), crypto::blake3(all.first(3000)));
  copy.update(all.subspan(3000, 5000));
  EXPECT_EQ(copy.finalize(), crypto::blake3(all.first(8000)));
  copy = h;
  EXPECT_EQ(copy.finalize(), crypto::blake3(in));
}

// The tree as the specification defines it, from subtree chaining values: the left subtree
// holds the largest power-of-two number of chunks (here: of `unit`-chunk leaves) that is
// strictly less than the total. `unit` chunks per leaf, all leaves full but the last.
crypto::Hash256 treeCv(core::ByteView data, std::uint64_t firstChunk, std::size_t unitBytes, bool root) {
  const std::size_t leaves = (data.size() + unitBytes - 1) / unitBytes;
  if (leaves <= 1) return root ? crypto::blake3(data) : crypto::blake3SubtreeCv(data, firstChunk);
  std::size_t left = 1;
  while (left * 2 < leaves) left *= 2;
  const std::size_t split = left * unitBytes;
  auto l = treeCv(data.subspan(0, split), firstChunk, unitBytes, false);
  auto r = treeCv(data.subspan(split), firstChunk + split / Blake3::kChunkLen, unitBytes, false);
  return root ? crypto::blake3ParentRoot(l, r) : crypto::blake3ParentCv(l, r);
}

TEST(Blake3Test, SubtreesRecombineIntoTheHash) {
  std::mt19937_64 rng(7);
  const std::size_t kBlock = 64 * 1024;
  for (std::size_t len : {std::size_t{1}, std::size_t{1023}, std::size_t{1024}, std::size_t{1025},
                          2 * std::size_t{1024}, kBlock - 1, kBlock, kBlock + 1, 2 * kBlock, 3 * kBlock + 5,
                          4 * kBlock, 7 * kBlock + 1024, 9 * kBlock + 999}) {
    auto data = randomBytes(rng, len);
    const auto expected = crypto::blake3(data);
    // Leaves of one chunk (the specification's own tree) and of 64 KiB blocks (the state
    // filesystem's): both give blake3() of the whole input.
    EXPECT_EQ(hex(treeCv(data, 0, Blake3::kChunkLen, true)), hex(expected)) << len;
    EXPECT_EQ(hex(treeCv(data, 0, kBlock, true)), hex(expected)) << len;
  }
}

TEST(Blake3Test, PartsEqualConcatenation) {
  const core::Bytes in = patternInput(7000);
  const core::ByteView all(in);
  EXPECT_EQ(crypto::blake3({all.first(1), all.subspan(1, 1023), all.subspan(1024, 4097), all.subspan(5121)}),
            crypto::blake3(in));
  EXPECT_EQ(crypto::blake3({core::ByteView{}, all, core::ByteView{}}), crypto::blake3(in));
  EXPECT_EQ(crypto::blake3({core::asBytes("hello "), core::asBytes("world")}),
            crypto::blake3(core::asBytes("hello world")));
  EXPECT_EQ(crypto::blake3({}), crypto::blake3(core::ByteView{}));
}

// Facts from /work/shared/HOTPOCKET-PROTOCOL.md section 2.6 (Hot Pocket's H is BLAKE3-256).
TEST(Blake3Test, HotPocketVectors) {
  auto sig = core::fromHex(
      "e9284bfd25081307c3cc27630c606f410177713b304a259e7bbdb33f3d1ea614"
      "696b3249d00be79bb3f319a89c5f0001a3eab35eb2f7e79062ad35ad69164b09");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(hex(crypto::blake3(*sig)), "cf1ef87c65b335daba5dbecc3f557ef6158d58f7db734939f44a2231d0486dc7");

  // Output hash H(pk33 of the user ‖ outputs), and the root H(output hash ‖ 32×09).
  auto userPk = core::fromHex("ed8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c");
  ASSERT_TRUE(userPk.ok());
  const crypto::Hash256 outputHash = crypto::blake3({*userPk, core::asBytes("Echo: hello")});
  EXPECT_EQ(hex(outputHash), "308b1a5bfc17a74eb51460e3cd470066b29aa5c6ecc38b3cd9d5a97733e334bc");
  const core::Bytes nines(32, 0x09);
  EXPECT_EQ(hex(crypto::blake3({outputHash, nines})),
            "e65adcbe742440caf406b293b1b5b2675f573abf76fc37a690fbb5b690cf2af1");
}

namespace {

std::optional<std::string> findInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + name;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

// Runs exe with args (no shell) and returns its standard output; nullopt unless it exits 0.
std::optional<std::string> runCapture(const std::string& exe, const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(exe.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  std::string out;
  if (rc == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (rc != 0) return std::nullopt;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return std::nullopt;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string t = (std::filesystem::temp_directory_path() / "sashi-blake3-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path = t;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST(Blake3Test, MatchesB3sumOnRandomFiles) {
  const auto b3sum = findInPath("b3sum");
  if (!b3sum) GTEST_SKIP() << "b3sum is not installed (Debian package b3sum); skipping the comparison";

  std::mt19937_64 rng(7);
  std::vector<std::size_t> lengths = {0,    1,    64,   1023, 1024, 1025, 2047, 2048,  2049,   3072,
                                      4095, 4096, 4097, 5120, 8191, 8192, 8193, 16385, 102400, 300 * 1024};
  while (lengths.size() < 40) lengths.push_back(rng() % (300 * 1024 + 1));

  TempDir dir;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    const core::Bytes data = randomBytes(rng, lengths[i]);
    const std::string file = (dir.path / ("in" + std::to_string(i))).string();
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    SCOPED_TRACE("length " + std::to_string(data.size()));

    const auto expected = runCapture(*b3sum, {"--no-names", file});
    ASSERT_TRUE(expected.has_value()) << *b3sum << " failed on " << file;
    EXPECT_EQ(hex(crypto::blake3(data)), *expected);

    if (i % 5 == 0) {  // and a long extended output now and then
      const auto expectedXof = runCapture(*b3sum, {"--no-names", "--length", "1000", file});
      ASSERT_TRUE(expectedXof.has_value());
      Blake3 h;
      h.update(data);
      EXPECT_EQ(xofHex(h, 1000), *expectedXof);
    }
  }
}
