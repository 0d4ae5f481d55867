// The ledger sync messages' codec (PeerLedgerMessage.h): ledger_request and ledger. The round
// trip, truncation and trailing-byte cases of every sample are PeerMessageTest's; here: the
// layout, the bounds and the rules of these two types, and garbage.
#include "sashimono/runtime/PeerLedgerMessage.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "sashimono/runtime/PeerMessage.h"

#include "PeerMessageSamples.h"

namespace sashimono::runtime {
namespace {

using namespace testing;

std::string u64hex(std::uint64_t v) {
  std::string s;
  for (int i = 7; i >= 0; --i) s += core::toHexLower(core::Bytes{static_cast<std::uint8_t>(v >> (8 * i))});
  return s;
}

// Both ways a message is refused: by the sender's check and by the decoder.
void expectRefused(const PeerMessage& m, const std::string& error) {
  auto st = checkPeerMessage(m);
  ASSERT_FALSE(st.ok()) << error;
  EXPECT_EQ(st.error().message, error);
  EXPECT_EQ(refusal(m), error);
}

TEST(PeerLedgerMessageTest, DocumentedLayout) {
  EXPECT_EQ(core::toHexLower(encodePeerMessage(LedgerRequest{0x0102, 64})),
            "010b" + u64hex(0x0102) + "00000040");

  LedgerMessage empty;
  empty.record.seqNo = 1;
  empty.record.timestamp = 2;
  empty.record.prevHash.fill(0x11);
  empty.record.stateHash.fill(0x22);
  empty.record.configHash.fill(0x33);
  empty.record.userHash.fill(0x44);
  empty.record.inputHash.fill(0x55);
  empty.record.outputHash.fill(0x66);
  empty.record.hash.fill(0x77);
  std::string want = "010c" + u64hex(1) + u64hex(2);
  for (char c : std::string("1234567")) want += std::string(64, c);
  want +=
      "00000000"
      "00000000"
      "00000000";
  EXPECT_EQ(core::toHexLower(encodePeerMessage(empty)), want);
  EXPECT_EQ(ledgerMessageBytes(empty), 2 + 8 + 8 + 7 * 32 + 3 * 4u);

  // input: user ‖ hash ‖ nonce ‖ max_ledger ‖ blob; output: user ‖ hash ‖ blobs; sig: key ‖
  // ledger_sig ‖ root_sig.
  LedgerMessage one = empty;
  one.inputs.push_back(LedgerInput{edKey(1), {}, 3, 4, core::Bytes{0xab}});
  one.outputs.push_back(LedgerOutput{edKey(2), {}, {core::Bytes{0xcd, 0xef}}});
  one.signatures.push_back(LedgerSignature{edKey(3), {}, {}});
  const core::Bytes b = encodePeerMessage(one);
  const std::string h = core::toHexLower(core::ByteView(b).subspan(2 + 240));
  EXPECT_EQ(h, "00000001" + core::toHexLower(edKey(1)) + std::string(64, '0') + u64hex(3) + u64hex(4) +
                   "00000001ab" + "00000001" + core::toHexLower(edKey(2)) + std::string(64, '0') +
                   "00000001"
                   "00000002cdef" +
                   "00000001" + core::toHexLower(edKey(3)) + std::string(256, '0'));
  EXPECT_EQ(ledgerMessageBytes(one), b.size());
  EXPECT_EQ(ledgerMessageBytes(sampleLedger()), encodePeerMessage(sampleLedger()).size());
}

TEST(PeerLedgerMessageTest, RequestCountAndFirstLedger) {
  EXPECT_EQ(refusal(LedgerRequest{1, 1}), "");
  EXPECT_EQ(refusal(LedgerRequest{~std::uint64_t{0}, 64}), "");
  expectRefused(LedgerRequest{1, 0}, "ledger_request: count 0 is not between 1 and 64");
  expectRefused(LedgerRequest{1, 65}, "ledger_request: count 65 is not between 1 and 64");
  expectRefused(LedgerRequest{0, 1}, "ledger_request: from_seq 0: the genesis ledger is never sent");
}

TEST(PeerLedgerMessageTest, CountsAndLengthsAtTheirMaximumAndOneOver) {
  LedgerMessage m = sampleLedger();
  m.inputs.assign(kMaxLedgerInputs, m.inputs[0]);
  EXPECT_EQ(refusal(m), "");
  m.inputs.push_back(m.inputs[0]);
  expectRefused(m, "ledger: inputs: count 10001 over the maximum 10000");

  m = sampleLedger();
  m.outputs.clear();
  for (std::size_t i = 0; i < kMaxLedgerOutputUsers; ++i)
    m.outputs.push_back(LedgerOutput{edKey(i), {}, {{}}});
  EXPECT_EQ(refusal(m), "");
  m.outputs.push_back(LedgerOutput{edKey(kMaxLedgerOutputUsers), {}, {{}}});
  expectRefused(m, "ledger: outputs: count 20001 over the maximum 20000");

  m = sampleLedger();
  m.signatures.assign(kMaxLedgerSignatures, m.signatures[0]);
  EXPECT_EQ(refusal(m), "");
  m.signatures.push_back(m.signatures[0]);
  expectRefused(m, "ledger: signatures: count 65 over the maximum 64");

  m = sampleLedger();
  m.inputs[1].blob.assign(kMaxLedgerInputBlobBytes, 7);
  EXPECT_EQ(refusal(m), "");
  m.inputs[1].blob.push_back(7);
  expectRefused(m, "ledger: inputs[1].blob: length 4194305 over the maximum 4194304");

  m = sampleLedger();
  m.outputs[1].blobs.assign(kMaxLedgerOutputBlobs, core::Bytes{});
  EXPECT_EQ(refusal(m), "");
  m.outputs[1].blobs.emplace_back();
  expectRefused(m, "ledger: outputs[1].blobs: count 1048577 over the maximum 1048576");
}

TEST(PeerLedgerMessageTest, TheWholeLedgerIsBoundedAt16MiB) {
  LedgerMessage m = sampleLedger();
  const std::size_t rest = ledgerMessageBytes(m) - m.outputs[0].blobs[0].size();
  m.outputs[0].blobs[0].assign(kMaxLedgerMessageBytes - rest, 'x');
  ASSERT_EQ(ledgerMessageBytes(m), kMaxLedgerMessageBytes);
  EXPECT_EQ(refusal(m), "");
  m.outputs[0].blobs[0].push_back('x');
  expectRefused(m, "ledger: 16777217 bytes, over the size limit of 16777216");
  // Fields each within bounds, too many of them together.
  m = sampleLedger();
  m.inputs.assign(5, LedgerInput{edKey(1), {}, 1, 1, core::Bytes(kMaxLedgerInputBlobBytes, 1)});
  EXPECT_TRUE(checkLedgerMessage(m).error().message.find("over the size limit of 16777216") !=
              std::string::npos);
}

TEST(PeerLedgerMessageTest, KeysOrderAndBlobs) {
  const auto notEd = [](const std::string& field) {
    return "ledger: " + field + " is not an ed25519 key (first byte 02, not ed)";
  };
  LedgerMessage m = sampleLedger();
  m.inputs[1].user[0] = 2;
  expectRefused(m, notEd("inputs[1].user"));
  m = sampleLedger();
  m.outputs[0].user[0] = 2;
  expectRefused(m, notEd("outputs[0].user"));
  m = sampleLedger();
  m.signatures[1].key[0] = 2;
  expectRefused(m, notEd("signatures[1].key"));
  m = sampleLedger();
  std::swap(m.outputs[0], m.outputs[1]);
  expectRefused(m, "ledger: outputs not sorted (by user)");
  m.outputs[0] = m.outputs[1];
  expectRefused(m, "ledger: outputs not distinct (by user)");
  m = sampleLedger();
  m.outputs[1].blobs.clear();
  expectRefused(m, "ledger: outputs[1] has no blobs");
  // Inputs are in execution order and signers are LedgerSync's concern: neither is refused here.
  m = sampleLedger();
  std::swap(m.inputs[0], m.inputs[1]);
  m.signatures.push_back(m.signatures[0]);
  EXPECT_EQ(refusal(m), "");
}

TEST(PeerLedgerMessageTest, LyingLengthsAndCountsAreRefusedWithoutAllocating) {
  core::Bytes head = encodePeerMessage(LedgerMessage{});
  head.resize(2 + 240);
  core::Bytes b = head;
  for (std::uint8_t x : {0x00, 0x00, 0x27, 0x10}) b.push_back(x);  // 10,000 inputs, none there
  EXPECT_EQ(decodePeerMessage(b).error().message, "ledger: truncated at inputs (byte 246)");
  b = head;
  for (std::uint8_t x : {0, 0, 0, 1}) b.push_back(x);
  const PubKey user = edKey(1);
  b.insert(b.end(), user.begin(), user.end());
  b.insert(b.end(), 32 + 16, 0);
  for (std::uint8_t x : {0x00, 0x40, 0x00, 0x01}) b.push_back(x);  // a blob of 4 MiB + 1
  EXPECT_EQ(decodePeerMessage(b).error().message,
            "ledger: inputs[0].blob: length 4194305 over the maximum 4194304");
  // Signatures are fixed-size: a list the rest cannot hold is refused at its count.
  core::Bytes s = encodePeerMessage(sampleLedger());
  const std::size_t sigs = s.size() - 2 * (33 + 64 + 64) - 4;
  s.resize(sigs + 4 + 161 + 10);
  EXPECT_EQ(decodePeerMessage(s).error().message,
            "ledger: truncated at signatures (byte " + std::to_string(sigs + 4) + ")");
  // Inside an output, its scope is named: outputs[1] (key, hash, one empty blob) ends where the
  // signatures start; cut in its blob's length.
  s = encodePeerMessage(sampleLedger());
  s.resize(sigs - 2);
  EXPECT_EQ(decodePeerMessage(s).error().message,
            "ledger: truncated at outputs[1].blobs (byte " + std::to_string(sigs - 4) + ")");
}

// Every one-byte change of a ledger's body: refused with the type's prefix, or a canonical
// message that decodes back to itself.
TEST(PeerLedgerMessageTest, GarbageIsRefusedOrCanonical) {
  const core::Bytes good = encodePeerMessage(sampleLedger());
  std::size_t refused = 0;
  for (std::size_t i = 2; i < good.size(); ++i) {
    for (std::uint8_t x : {0x01, 0x80, 0xff}) {
      core::Bytes b = good;
      b[i] ^= x;
      auto m = decodePeerMessage(b);
      if (!m.ok()) {
        ++refused;
        EXPECT_EQ(m.error().message.rfind("ledger: ", 0), 0u) << m.error().message;
        continue;
      }
      EXPECT_EQ(encodePeerMessage(*m), b) << "byte " << i;
    }
  }
  EXPECT_GT(refused, 0u);
  for (std::size_t n : {0, 1, 7, 100}) {
    core::Bytes b(n + 2, 0xff);
    b[0] = kPeerVersion;
    b[1] = static_cast<std::uint8_t>(PeerType::ledger);
    EXPECT_FALSE(decodePeerMessage(b).ok());
  }
}

}  // namespace
}  // namespace sashimono::runtime
