#include "sashimono/statefs/SyncMessage.h"

#include <gtest/gtest.h>

#include "sashimono/crypto/Blake3.h"

namespace sashimono::statefs {
namespace {

core::Bytes enc(const SyncRequest& r) {
  auto b = encodeSyncRequest(r);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}

core::Bytes enc(const SyncResponse& r) {
  auto b = encodeSyncResponse(r);
  if (!b) throw std::runtime_error(b.error().message);
  return *b;
}

SyncRequest req(SyncOp op, std::string path, std::uint64_t index = 0, std::string after = {}) {
  SyncRequest r;
  r.op = op;
  r.path = std::move(path);
  r.index = index;
  r.after = std::move(after);
  return r;
}

TreeEntry entry(std::string name, EntryKind kind, std::uint16_t perm, std::uint64_t size) {
  TreeEntry e;
  e.name = std::move(name);
  e.kind = kind;
  e.perm = perm;
  e.size = size;
  e.hash = crypto::blake3(core::asBytes(e.name));
  return e;
}

std::vector<SyncResponse> sampleResponses() {
  std::vector<SyncResponse> out(7);
  out[0].op = SyncOp::listing;
  out[0].entries = {entry("a", EntryKind::file, 0644, 70000), entry("b", EntryKind::directory, 0755, 0),
                    entry("l", EntryKind::symlink, 0777, 0), entry("p", EntryKind::fifo, 0600, 0)};
  out[1].op = SyncOp::blockHashes;
  out[1].cvs = {crypto::blake3(core::asBytes("x")), crypto::blake3(core::asBytes("y"))};
  out[2].op = SyncOp::block;
  out[2].data = core::Bytes(kBlockSize, 7);
  out[3].op = SyncOp::symlink;
  out[3].target = "../target";
  out[4].op = SyncOp::block;
  out[4].error = "no such block";
  out[5].op = SyncOp::listing;  // an empty directory
  out[6].op = SyncOp::block;    // an empty file's content (found by the fuzz target: memcpy to null)
  return out;
}

TEST(SyncMessageTest, RequestsRoundTripInTheDocumentedLayout) {
  EXPECT_EQ(core::toHexLower(enc(req(SyncOp::listing, "/a", 0, "n"))),
            "0101"
            "0002"
            "2f61"
            "01"
            "6e");
  EXPECT_EQ(core::toHexLower(enc(req(SyncOp::block, "/", 258))),
            "0103"
            "0001"
            "2f"
            "0000000000000102");
  for (const auto& r : {req(SyncOp::listing, "/"), req(SyncOp::listing, "/d/e", 0, "after"),
                        req(SyncOp::blockHashes, "/big", 16384),
                        req(SyncOp::block, "/big", kMaxBlockIndex - 1), req(SyncOp::symlink, "/l")}) {
    auto back = decodeSyncRequest(enc(r));
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, r);
  }
}

TEST(SyncMessageTest, ResponsesRoundTripAndEveryPrefixIsRefused) {
  for (const auto& r : sampleResponses()) {
    const core::Bytes bytes = enc(r);
    auto back = decodeSyncResponse(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, r);
    for (std::size_t n = 0; n < bytes.size(); n += (n < 200 ? 1 : 997)) {
      auto cut = decodeSyncResponse(core::ByteView(bytes.data(), n));
      ASSERT_FALSE(cut.ok()) << n;
      EXPECT_NE(cut.error().message.find("sync message"), std::string::npos);
    }
    core::Bytes longer = bytes;
    longer.push_back(0);
    auto trailing = decodeSyncResponse(longer);
    ASSERT_FALSE(trailing.ok());
    EXPECT_NE(trailing.error().message.find("trailing bytes"), std::string::npos) << trailing.error().message;
  }
}

TEST(SyncMessageTest, BadRequestsAreRefused) {
  const auto bad = [](std::string hex) {
    auto b = core::fromHex(hex);
    return !decodeSyncRequest(*b).ok();
  };
  EXPECT_TRUE(bad(""));
  EXPECT_TRUE(
      bad("0201"
          "0001"
          "2f"
          "00"));  // version 2
  EXPECT_TRUE(
      bad("0105"
          "0001"
          "2f"));  // op 5
  EXPECT_TRUE(
      bad("0104"
          "0000"));  // empty path
  EXPECT_TRUE(
      bad("0104"
          "0001"
          "61"));  // "a": not absolute
  EXPECT_TRUE(
      bad("0104"
          "0004"
          "2f2e2e2f"));  // "/../"
  EXPECT_TRUE(
      bad("0104"
          "0003"
          "2f2e2e"));  // "/.."
  EXPECT_TRUE(
      bad("0104"
          "0003"
          "2f6100"));  // NUL in a name
  EXPECT_TRUE(
      bad("0101"
          "0001"
          "2f"
          "01"
          "2f"));  // "/" as a name to list after
  EXPECT_TRUE(
      bad("0103"
          "0001"
          "2f"
          "0001000000000000"));  // block index 2^48
  EXPECT_TRUE(
      bad("0104"
          "1000" +
          std::string(2 * 4096, 'a')));  // path of 4096 bytes
  EXPECT_FALSE(
      bad("0104"
          "0002"
          "2f61"));
  // Encoding refuses what decoding would.
  EXPECT_FALSE(encodeSyncRequest(req(SyncOp::listing, "a")).ok());
  EXPECT_FALSE(encodeSyncRequest(req(SyncOp::listing, "/", 0, "x/y")).ok());
  EXPECT_FALSE(encodeSyncRequest(req(SyncOp::block, "/a", kMaxBlockIndex)).ok());
}

TEST(SyncMessageTest, BadResponsesAreRefused) {
  const auto listing = [](std::vector<TreeEntry> entries) {
    SyncResponse r;
    r.op = SyncOp::listing;
    r.entries = std::move(entries);
    return r;
  };
  // Refused by both sides: names out of order, repeated, not plain; bad kind, perm, size.
  for (const auto& r : {listing({entry("b", EntryKind::file, 0644, 1), entry("a", EntryKind::file, 0644, 1)}),
                        listing({entry("a", EntryKind::file, 0644, 1), entry("a", EntryKind::file, 0644, 1)}),
                        listing({entry("..", EntryKind::directory, 0755, 0)}),
                        listing({entry("a/b", EntryKind::file, 0644, 0)}),
                        listing({entry(std::string(256, 'n'), EntryKind::file, 0644, 0)}),
                        listing({entry("a", static_cast<EntryKind>(5), 0644, 0)}),
                        listing({entry("a", EntryKind::file, 010000, 0)}),
                        listing({entry("d", EntryKind::directory, 0755, 3)})}) {
    EXPECT_FALSE(encodeSyncResponse(r).ok());
  }
  core::Bytes bytes = enc(listing({entry("a", EntryKind::file, 0644, 1)}));
  bytes[7] = 5;  // kind 5, in the bytes of a valid one-entry listing
  EXPECT_FALSE(decodeSyncResponse(bytes).ok());
  SyncResponse big;
  big.op = SyncOp::block;
  big.data = core::Bytes(kBlockSize + 1);
  EXPECT_FALSE(encodeSyncResponse(big).ok());
  SyncResponse many;
  many.op = SyncOp::blockHashes;
  many.cvs.resize(kMaxCvsPerPage + 1);
  EXPECT_FALSE(encodeSyncResponse(many).ok());
  SyncResponse mixed;
  mixed.op = SyncOp::symlink;
  mixed.target = "t";
  mixed.error = "and an error";
  EXPECT_FALSE(encodeSyncResponse(mixed).ok());
  const auto bad = [](std::string hex) { return !decodeSyncResponse(*core::fromHex(hex)).ok(); };
  EXPECT_TRUE(bad("010102"));          // status 2
  EXPECT_TRUE(bad("0101010000"));      // empty error message
  EXPECT_TRUE(bad("0101001001"));      // 4097 entries
  EXPECT_TRUE(bad("01020000004001"));  // 16385 block hashes
  EXPECT_TRUE(bad("01030000010001"));  // a block of 65537 bytes
  EXPECT_TRUE(bad("0104000000"));      // empty symlink target
  EXPECT_TRUE(
      bad("010400000002"
          "6100"));  // NUL in a target
  EXPECT_TRUE(
      bad("0101000002"
          "0161"
          "010000"
          "0000000000000000" +
          std::string(64, '0') +
          "0161"
          "010000"
          "0000000000000000" +
          std::string(64, '0')));  // "a" twice
  EXPECT_FALSE(
      bad("0101000001"
          "0161"
          "010000"
          "0000000000000000" +
          std::string(64, '0')));
}

// A peer over the wire: requests and answers go through the encoding; errors come back as text.
class FixedSource : public SyncSource {
 public:
  core::Result<std::vector<TreeEntry>> listing(std::string_view, std::string_view after) override {
    if (after.empty()) return std::vector<TreeEntry>{entry("a", EntryKind::file, 0644, 5)};
    return std::vector<TreeEntry>{};
  }
  core::Result<std::vector<crypto::Hash256>> blockHashes(std::string_view, std::uint64_t) override {
    return std::vector<crypto::Hash256>(kMaxCvsPerPage + 1);  // too many: refused when answering
  }
  core::Result<core::Bytes> block(std::string_view path, std::uint64_t) override {
    return core::Error(std::string(path) + ": " + std::string(5000, 'x'));
  }
  core::Result<std::string> symlinkTarget(std::string_view) override { return std::string("t"); }
};

TEST(SyncMessageTest, MessageSourceCarriesAnswersAndErrors) {
  FixedSource fixed;
  int exchanges = 0;
  MessageSyncSource wire([&](const core::Bytes& request) -> core::Result<core::Bytes> {
    ++exchanges;
    auto q = decodeSyncRequest(request);
    if (!q) return q.error();
    return encodeSyncResponse(answerSyncRequest(fixed, *q));
  });
  auto l = wire.listing("/", "");
  ASSERT_TRUE(l.ok()) << l.error().message;
  ASSERT_EQ(l->size(), 1u);
  EXPECT_EQ((*l)[0], entry("a", EntryKind::file, 0644, 5));
  auto t = wire.symlinkTarget("/l");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "t");
  auto b = wire.block("/f", 0);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().message.substr(0, 9), "peer: /f:");
  EXPECT_LE(b.error().message.size(), 6 + kMaxSyncError);
  auto c = wire.blockHashes("/f", 0);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("too many block hashes"), std::string::npos) << c.error().message;
  auto bad = wire.listing("relative", "");  // refused before it is sent
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(exchanges, 4);
  // An answer to another request is refused.
  MessageSyncSource confused([&](const core::Bytes&) { return encodeSyncResponse(sampleResponses()[3]); });
  auto other = confused.listing("/", "");
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("another request"), std::string::npos);
}

}  // namespace
}  // namespace sashimono::statefs
