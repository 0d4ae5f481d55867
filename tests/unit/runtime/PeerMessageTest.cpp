#include "sashimono/runtime/PeerMessage.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/crypto/Keys.h"

#include "PeerMessageSamples.h"

namespace sashimono::runtime {
namespace {

using namespace testing;

TEST(PeerMessageTest, EveryTypeRoundTrips) {
  for (const auto& [name, m] : samples()) {
    const core::Bytes bytes = encodePeerMessage(m);
    ASSERT_GE(bytes.size(), 2u);
    EXPECT_EQ(bytes[0], kPeerVersion);
    EXPECT_EQ(bytes[1], static_cast<std::uint8_t>(peerTypeOf(m)));
    EXPECT_EQ(bytes[1], m.index() + 1);
    EXPECT_TRUE(startsWith(name, peerTypeName(peerTypeOf(m)))) << name;
    EXPECT_LE(bytes.size(), peerSizeLimit(peerTypeOf(m)));
    EXPECT_TRUE(checkPeerMessage(m).ok()) << name;
    auto back = decodePeerMessage(bytes);
    ASSERT_TRUE(back.ok()) << name << ": " << back.error().message;
    EXPECT_EQ(*back, m) << name;
    EXPECT_EQ(encodePeerMessage(*back), bytes) << name;
  }
}

TEST(PeerMessageTest, DocumentedLayout) {
  Status s{258, {}, {}, 5};
  s.lclHash.fill(0x11);
  s.stateHash.fill(0x22);
  EXPECT_EQ(
      core::toHexLower(encodePeerMessage(s)),
      "010a" + std::string("0000000000000102") + std::string(64, '1') + std::string(64, '2') + "00000005");
  Hello h{"ab", edKey(1), {}};
  h.challenge.fill(0x33);
  EXPECT_EQ(core::toHexLower(encodePeerMessage(h)), "0101" + std::string("00000002") + "6162" + "ed" +
                                                        std::string(56, '0') + "00000001" +
                                                        std::string(64, '3'));
  const core::Bytes v = encodePeerMessage(viewChange(seedKey(1), false));
  EXPECT_EQ(core::toHexLower(core::ByteView(v).first(15)),
            "0108000000000000000700000003"
            "00");
  EXPECT_EQ(v.size(), 2 + 8 + 4 + 1 + 33 + 64u);
}

TEST(PeerMessageTest, EveryTruncationAndATrailingByteAreRefused) {
  for (const auto& [name, m] : samples()) {
    const core::Bytes bytes = encodePeerMessage(m);
    const std::string prefix = std::string(peerTypeName(peerTypeOf(m))) + ": ";
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      auto cut = decodePeerMessage(core::ByteView(bytes.data(), n));
      ASSERT_FALSE(cut.ok()) << name << " cut at " << n;
      const std::string& e = cut.error().message;
      EXPECT_TRUE(startsWith(e, n < 2 ? "peer message: truncated" : prefix + "truncated at ")) << e;
    }
    core::Bytes longer = bytes;
    longer.push_back(0);
    auto trailing = decodePeerMessage(longer);
    ASSERT_FALSE(trailing.ok()) << name;
    EXPECT_EQ(trailing.error().message, prefix + "trailing bytes at byte " + std::to_string(bytes.size()));
  }
  core::Bytes vote = encodePeerMessage(samples()[5].second);
  vote.resize(vote.size() - 1);
  auto r = decodePeerMessage(vote);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "vote: truncated at sig (byte 79)");
}

TEST(PeerMessageTest, UnknownVersionAndTypeAreRefused) {
  core::Bytes b = encodePeerMessage(Status{});
  b[0] = 2;
  EXPECT_EQ(decodePeerMessage(b).error().message, "peer message: unknown version 2");
  b[0] = 0;
  EXPECT_FALSE(decodePeerMessage(b).ok());
  b[0] = 1;
  for (std::uint8_t t : {0, 15, 255}) {
    b[1] = t;
    EXPECT_EQ(decodePeerMessage(b).error().message, "peer message: unknown type " + std::to_string(t));
  }
}

TEST(PeerMessageTest, WholeMessageLimitsAreRefusedBeforeParsing) {
  for (std::uint8_t t = 1; t <= kPeerTypeCount; ++t) {
    const auto type = static_cast<PeerType>(t);
    const std::size_t limit = peerSizeLimit(type);
    core::Bytes b(limit + 1, 0);
    b[0] = kPeerVersion;
    b[1] = t;
    auto over = decodePeerMessage(b);
    ASSERT_FALSE(over.ok());
    EXPECT_EQ(over.error().message, std::string(peerTypeName(type)) + ": " + std::to_string(limit + 1) +
                                        " bytes, over the size limit of " + std::to_string(limit));
    b.pop_back();  // at the limit: refused for what the bytes say, not for their size
    auto at = decodePeerMessage(b);
    ASSERT_FALSE(at.ok());
    EXPECT_EQ(at.error().message.find("size limit"), std::string::npos) << at.error().message;
  }
  EXPECT_EQ(peerSizeLimit(PeerType::input), 4u * 1024 * 1024 + 1024);
  EXPECT_EQ(peerSizeLimit(PeerType::viewChange), 1536u * 1024);
  EXPECT_EQ(peerSizeLimit(PeerType::npl), 129u * 1024);
  EXPECT_EQ(peerSizeLimit(PeerType::ledgerRequest), 64u);
  EXPECT_EQ(peerSizeLimit(PeerType::ledger), 16u * 1024 * 1024);
}

// A message at its maximum decodes (and fits its type's limit); one more item or byte is refused
// with an error naming the field, the same for checkPeerMessage.
void expectMaxAndOneOver(const PeerMessage& atMax, const PeerMessage& over, const std::string& error) {
  const core::Bytes bytes = encodePeerMessage(atMax);
  EXPECT_LE(bytes.size(), peerSizeLimit(peerTypeOf(atMax)));
  auto ok = decodePeerMessage(bytes);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_TRUE(*ok == atMax);
  EXPECT_EQ(refusal(over), error);
  EXPECT_EQ(checkPeerMessage(over).error().message, error);
}

TEST(PeerMessageTest, EveryLengthAndCountLimitIsEnforced) {
  Hello h{std::string(kMaxContractIdBytes, 'c'), edKey(1), {}};
  Hello h2 = h;
  h2.contractId += 'c';
  expectMaxAndOneOver(h, h2, "hello: contract_id: length 129 over the maximum 128");

  PeerInput in{Protocol::Json, edKey(1), core::Bytes(64, 1), core::Bytes(kMaxInputContainerBytes, 2)};
  PeerInput in2 = in;
  in2.sig.push_back(1);
  expectMaxAndOneOver(in, in2, "input: sig: length 65 over the maximum 64");
  in2 = in;
  in2.container.push_back(2);
  expectMaxAndOneOver(in, in2, "input: container: length 4194305 over the maximum 4194304");

  InputRequest rq;
  for (std::size_t i = 0; i < kMaxRequestedInputs; ++i) rq.inputs.push_back(hashOf(std::to_string(i)));
  InputRequest rq2 = rq;
  rq2.inputs.push_back(hashOf("one more"));
  expectMaxAndOneOver(rq, rq2, "input_request: inputs: count 1025 over the maximum 1024");

  Proposal p = proposal(seedKey(1));
  p.users.clear();
  p.inputs.clear();
  for (std::size_t i = 0; i < kMaxProposalUsers; ++i) p.users.push_back(edKey(i));
  for (std::size_t i = 0; i < kMaxProposalInputs; ++i) p.inputs.push_back(hashOf(std::to_string(i)));
  Proposal p2 = p;
  p2.users.push_back(edKey(kMaxProposalUsers));
  expectMaxAndOneOver(p, p2, "proposal: users: count 10001 over the maximum 10000");
  p2 = p;
  p2.inputs.push_back(hashOf("one more"));
  expectMaxAndOneOver(p, p2, "proposal: inputs: count 10001 over the maximum 10000");

  // The largest view change: the largest proposal and the most votes.
  ViewChange v = viewChange(seedKey(1), true);
  v.lock->proposal = p;
  v.lock->votes.assign(kMaxLockVotes, v.lock->votes[0]);
  ViewChange v2 = v;
  v2.lock->votes.push_back(v.lock->votes[0]);
  expectMaxAndOneOver(v, v2, "view_change: lock.votes: count 1025 over the maximum 1024");
  v2 = v;
  v2.lock->proposal.users.push_back(edKey(kMaxProposalUsers));
  expectMaxAndOneOver(v, v2, "view_change: lock.proposal.users: count 10001 over the maximum 10000");

  Npl n{1, core::Bytes(kMaxNplDataBytes, 3), edKey(1), {}};
  Npl n2 = n;
  n2.data.push_back(3);
  expectMaxAndOneOver(n, n2, "npl: data: length 131073 over the maximum 131072");

  StateRequest sq{1, core::Bytes(kMaxStateRequestBytes, 4)};
  StateRequest sq2 = sq;
  sq2.request.push_back(4);
  expectMaxAndOneOver(sq, sq2, "state_request: request: length 8193 over the maximum 8192");
  StateResponse sr{1, core::Bytes(kMaxStateResponseBytes, 5)};
  StateResponse sr2 = sr;
  sr2.response.push_back(5);
  expectMaxAndOneOver(sr, sr2, "state_response: response: length 2097153 over the maximum 2097152");
}

TEST(PeerMessageTest, ACountTheRestCannotHoldIsTruncation) {
  core::Bytes b = {1, 4, 0, 0, 4, 0};  // input_request, 1024 hashes announced, none there
  EXPECT_EQ(decodePeerMessage(b).error().message, "input_request: truncated at inputs (byte 6)");
}

// The refusal of the first sample of type T after edit.
template <typename T, typename Edit>
std::string refusalOfEdited(Edit edit) {
  for (const auto& [name, m] : samples()) {
    if (const auto* body = std::get_if<T>(&m)) {
      T copy = *body;
      edit(copy);
      return refusal(copy);
    }
  }
  return "no sample";
}

TEST(PeerMessageTest, KeysMustBeEd25519) {
  const auto bad = [](const char* type, const char* field) {
    return std::string(type) + ": " + field + " is not an ed25519 key (first byte 02, not ed)";
  };
  EXPECT_EQ(refusalOfEdited<Hello>([](Hello& m) { m.key[0] = 2; }), bad("hello", "key"));
  EXPECT_EQ(refusalOfEdited<PeerInput>([](PeerInput& m) { m.user[0] = 2; }), bad("input", "user"));
  EXPECT_EQ(refusalOfEdited<Proposal>([](Proposal& m) { m.users[1][0] = 2; }), bad("proposal", "users[1]"));
  EXPECT_EQ(refusalOfEdited<Proposal>([](Proposal& m) { m.leader[0] = 2; }), bad("proposal", "leader"));
  EXPECT_EQ(refusalOfEdited<Vote>([](Vote& m) { m.voter[0] = 2; }), bad("vote", "voter"));
  EXPECT_EQ(refusalOfEdited<Output>([](Output& m) { m.member[0] = 2; }), bad("output", "member"));
  EXPECT_EQ(refusalOfEdited<ViewChange>([](ViewChange& m) { m.member[0] = 2; }),
            bad("view_change", "member"));
  EXPECT_EQ(refusalOfEdited<ViewChange>([](ViewChange& m) { m.lock->votes[1].voter[0] = 2; }),
            bad("view_change", "lock.votes[1].voter"));
  EXPECT_EQ(refusalOfEdited<ViewChange>([](ViewChange& m) { m.lock->proposal.leader[0] = 2; }),
            bad("view_change", "lock.proposal.leader"));
  EXPECT_EQ(refusalOfEdited<Npl>([](Npl& m) { m.sender[0] = 0; }),
            "npl: sender is not an ed25519 key (first byte 00, not ed)");
}

TEST(PeerMessageTest, ProposalUsersSortedDistinctAndInputsDistinct) {
  Proposal p = proposal(seedKey(1));
  std::swap(p.users[0], p.users[1]);
  EXPECT_EQ(refusal(p), "proposal: users not sorted");
  p.users[0] = p.users[1];
  EXPECT_EQ(refusal(p), "proposal: users not distinct");
  p = proposal(seedKey(1));
  p.inputs.push_back(p.inputs[0]);
  EXPECT_EQ(refusal(p), "proposal: inputs not distinct");
  ViewChange v = viewChange(seedKey(1), true);
  std::swap(v.lock->proposal.users[1], v.lock->proposal.users[2]);
  EXPECT_EQ(refusal(v), "view_change: lock.proposal.users not sorted");
  // Inputs are in execution order, not sorted; no users and no inputs are fine.
  p = proposal(seedKey(1));
  ASSERT_TRUE(p.inputs[1] < p.inputs[0] || p.inputs[0] < p.inputs[1]);
  std::swap(p.inputs[0], p.inputs[1]);
  EXPECT_EQ(refusal(p), "");
  p.users.clear();
  p.inputs.clear();
  EXPECT_EQ(refusal(p), "");
}

TEST(PeerMessageTest, ProtocolAndLockFlagAreZeroOrOne) {
  core::Bytes in = encodePeerMessage(samples()[2].second);
  in[2] = 2;
  EXPECT_EQ(decodePeerMessage(in).error().message, "input: protocol 2 is neither 0 (JSON) nor 1 (BSON)");
  in[2] = 0;
  EXPECT_TRUE(decodePeerMessage(in).ok());
  core::Bytes v = encodePeerMessage(viewChange(seedKey(1), false));
  v[14] = 2;
  EXPECT_EQ(decodePeerMessage(v).error().message, "view_change: lock flag 2 is neither 0 nor 1");
}

// --- signatures ---

TEST(PeerMessageTest, EverySignedKindVerifies) {
  const InstanceKey a = seedKey(1), b = seedKey(2);
  Challenge mine{};
  mine.fill(7);
  const HelloAck ack = signHelloAck(a, kContract, mine, b.publicKey());  // a answers b's hello
  EXPECT_TRUE(verifyHelloAck(ack, kContract, mine, a.publicKey(), b.publicKey()));
  EXPECT_FALSE(verifyHelloAck(ack, kContract, mine, b.publicKey(), a.publicKey()));  // reflected
  EXPECT_FALSE(verifyHelloAck(ack, "another-contract", mine, a.publicKey(), b.publicKey()));
  Challenge other = mine;
  other[31] ^= 1;
  EXPECT_FALSE(verifyHelloAck(ack, kContract, other, a.publicKey(), b.publicKey()));
  EXPECT_FALSE(verifyHelloAck(ack, kContract, mine, a.publicKey(), seedKey(3).publicKey()));

  for (const auto& [name, m] : samples()) {
    auto back = decodePeerMessage(encodePeerMessage(m));  // signatures survive the wire
    ASSERT_TRUE(back.ok());
    const PeerMessage& got = *back;
    if (const auto* p = std::get_if<Proposal>(&got)) {
      EXPECT_TRUE(verifyProposal(*p));
    } else if (const auto* v = std::get_if<Vote>(&got)) {
      EXPECT_TRUE(verifyVote(*v));
    } else if (const auto* o = std::get_if<Output>(&got)) {
      EXPECT_TRUE(verifyOutput(*o));
      EXPECT_TRUE(crypto::verify(o->member, o->outputRoot, o->rootSig).ok());  // what users check
    } else if (const auto* vc = std::get_if<ViewChange>(&got)) {
      EXPECT_TRUE(verifyViewChange(*vc)) << name;
    } else if (const auto* n = std::get_if<Npl>(&got)) {
      EXPECT_TRUE(verifyNpl(*n, kContract));
      EXPECT_FALSE(verifyNpl(*n, "another-contract"));
    }
  }
  // The proposal hash is BLAKE3 of the signed string, and the leader signs that hash.
  const Proposal p = proposal(a);
  EXPECT_TRUE(crypto::verify(p.leader, proposalHash(p), p.sig).ok());
}

TEST(PeerMessageTest, ASignatureOfOneKindIsNoneOfAnother) {
  const InstanceKey a = seedKey(1);
  const Proposal p = proposal(a, 7, 1);
  const Vote v = voteFor(p, 1, a);
  Output o{7, 1, hashOf("plan"), hashOf("state"), hashOf("root"), hashOf("ledger"), {}, {}, {}, {}};
  signOutput(o, a);
  ViewChange vc{7, 1, std::nullopt, {}, {}};
  signViewChange(vc, a);
  Npl n{7, core::Bytes{1, 2, 3}, {}, {}};
  signNpl(n, kContract, a);
  Challenge c{};
  const HelloAck ack = signHelloAck(a, kContract, c, edKey(1));
  // Every (message, signature) pair a signs: no signature verifies for another's message.
  const std::vector<std::pair<Hash, Sig>> signed_ = {
      {helloDigest(kContract, c, a.publicKey(), edKey(1)), ack.sig},
      {proposalHash(p), p.sig},
      {voteDigest(v.seq, v.view, v.proposal), v.sig},
      {outputDigest(o.seq, o.view, o.plan, o.stateHash, o.outputRoot, o.ledger), o.sig},
      {o.outputRoot, o.rootSig},
      {ledgerDigest(o.ledger), o.ledgerSig},
      {viewChangeDigest(vc), vc.sig},
      {nplDigest(kContract, n.lclSeq, n.data), n.sig},
  };
  for (std::size_t i = 0; i < signed_.size(); ++i) {
    for (std::size_t j = 0; j < signed_.size(); ++j) {
      EXPECT_EQ(crypto::verify(a.publicKey(), signed_[i].first, signed_[j].second).ok(), i == j)
          << i << " " << j;
    }
  }
  // Moved into a message of another kind with the same numbers, a signature fails.
  Vote fake = v;
  fake.sig = vc.sig;
  EXPECT_FALSE(verifyVote(fake));
  Output swapped = o;
  std::swap(swapped.sig, swapped.rootSig);
  EXPECT_FALSE(verifyOutput(swapped));
  ViewChange fakeVc = vc;
  fakeVc.sig = v.sig;
  EXPECT_FALSE(verifyViewChange(fakeVc));
}

template <typename T, typename Verify, typename Edit>
void expectTamperFails(const T& signedMsg, Verify verify, Edit edit, const char* what) {
  T m = signedMsg;
  edit(m);
  EXPECT_FALSE(verify(m)) << what;
}

TEST(PeerMessageTest, ATamperedFieldFailsVerification) {
  const InstanceKey a = seedKey(1);
  const Proposal p = proposal(a);
  ASSERT_TRUE(verifyProposal(p));
  const auto vp = [](const Proposal& m) { return verifyProposal(m); };
  expectTamperFails(
      p, vp, [](Proposal& m) { m.seq++; }, "seq");
  expectTamperFails(
      p, vp, [](Proposal& m) { m.view++; }, "view");
  expectTamperFails(
      p, vp, [](Proposal& m) { m.prev[0] ^= 1; }, "prev");
  expectTamperFails(
      p, vp, [](Proposal& m) { m.timestamp++; }, "timestamp");
  expectTamperFails(
      p, vp, [](Proposal& m) { m.users.pop_back(); }, "users");
  expectTamperFails(
      p, vp, [](Proposal& m) { std::swap(m.inputs[0], m.inputs[1]); }, "input order");
  expectTamperFails(
      p, vp, [](Proposal& m) { m.leader = seedKey(2).publicKey(); }, "leader");
  expectTamperFails(
      p, vp, [](Proposal& m) { m.sig[5] ^= 1; }, "sig");
  expectTamperFails(
      p, vp, [](Proposal& m) { m.leader[0] = 0x02; }, "key prefix");

  const Vote v = voteFor(p, 1, a);
  const auto vv = [](const Vote& m) { return verifyVote(m); };
  expectTamperFails(
      v, vv, [](Vote& m) { m.seq++; }, "vote seq");
  expectTamperFails(
      v, vv, [](Vote& m) { m.view++; }, "vote view");
  expectTamperFails(
      v, vv, [](Vote& m) { m.proposal[3] ^= 1; }, "vote proposal");
  expectTamperFails(
      v, vv, [](Vote& m) { m.voter = seedKey(2).publicKey(); }, "vote voter");

  Output o{7, 1, hashOf("plan"), hashOf("state"), hashOf("root"), hashOf("ledger"), {}, {}, {}, {}};
  signOutput(o, a);
  const auto vo = [](const Output& m) { return verifyOutput(m); };
  expectTamperFails(
      o, vo, [](Output& m) { m.seq++; }, "output seq");
  expectTamperFails(
      o, vo, [](Output& m) { m.plan[0] ^= 1; }, "output plan");
  expectTamperFails(
      o, vo, [](Output& m) { m.view++; }, "output view");
  expectTamperFails(
      o, vo, [](Output& m) { m.stateHash[0] ^= 1; }, "output state");
  expectTamperFails(
      o, vo, [](Output& m) { m.outputRoot[0] ^= 1; }, "output root");
  expectTamperFails(
      o, vo, [](Output& m) { m.rootSig[0] ^= 1; }, "output root_sig");
  expectTamperFails(
      o, vo, [](Output& m) { m.ledger[0] ^= 1; }, "output ledger");
  expectTamperFails(
      o, vo, [](Output& m) { m.ledgerSig[0] ^= 1; }, "output ledger_sig");
  expectTamperFails(
      o, vo, [](Output& m) { m.member = seedKey(2).publicKey(); }, "output member");

  const ViewChange vc = viewChange(a, true);
  const auto vvc = [](const ViewChange& m) { return verifyViewChange(m); };
  expectTamperFails(
      vc, vvc, [](ViewChange& m) { m.seq++; }, "vc seq");
  expectTamperFails(
      vc, vvc, [](ViewChange& m) { m.view++; }, "vc view");
  expectTamperFails(
      vc, vvc, [](ViewChange& m) { m.lock->lockView++; }, "vc lock view");
  expectTamperFails(
      vc, vvc, [](ViewChange& m) { m.lock->proposal.timestamp++; }, "vc lock proposal");
  expectTamperFails(
      vc, vvc, [](ViewChange& m) { m.lock.reset(); }, "vc lock dropped");
  // The certificate's votes are not covered by the member's signature (they carry their own).
  ViewChange fewer = vc;
  fewer.lock->votes.pop_back();
  EXPECT_TRUE(verifyViewChange(fewer));

  Npl n{6, core::Bytes{'h', 'i'}, {}, {}};
  signNpl(n, kContract, a);
  const auto vn = [](const Npl& m) { return verifyNpl(m, kContract); };
  expectTamperFails(
      n, vn, [](Npl& m) { m.lclSeq++; }, "npl lcl_seq");
  expectTamperFails(
      n, vn, [](Npl& m) { m.data.push_back('!'); }, "npl data");
  expectTamperFails(
      n, vn, [](Npl& m) { m.sender = seedKey(2).publicKey(); }, "npl sender");
}

// --- certificates ---

class PeerMessageCertificateTest : public ::testing::Test {
 protected:
  PeerMessageCertificateTest() {
    for (std::uint8_t i = 1; i <= 5; ++i) {
      keys_.push_back(seedKey(i));
      unl_.push_back(keys_.back().publicKey());
    }
    p_ = proposal(keys_[0], 7, 2);
  }
  std::vector<Vote> votes(std::size_t n, std::uint32_t view = 3) const {
    std::vector<Vote> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(voteFor(p_, view, keys_[i]));
    return out;
  }
  bool certifies(const std::vector<Vote>& v) const { return verifyCertificate(p_, 3, v, unl_, kT); }

  static constexpr std::size_t kT = 4;  // ceil(0.8 × 5)
  std::vector<InstanceKey> keys_;
  std::vector<PubKey> unl_;
  Proposal p_;
};

TEST_F(PeerMessageCertificateTest, ThresholdValidVotesCertify) {
  EXPECT_TRUE(certifies(votes(4)));
  EXPECT_TRUE(certifies(votes(5)));
  EXPECT_FALSE(certifies(votes(3)));
  EXPECT_FALSE(certifies({}));
  EXPECT_FALSE(verifyCertificate(p_, 3, {}, unl_, 0));         // a threshold of 0 certifies nothing
  EXPECT_FALSE(verifyCertificate(p_, 2, votes(5), unl_, kT));  // votes of view 3 are not view 2's
}

TEST_F(PeerMessageCertificateTest, AVoterCountsOnce) {
  auto v = votes(3);
  v.push_back(v[1]);
  EXPECT_FALSE(certifies(v));
  auto bad = voteFor(p_, 3, keys_[3]);
  bad.sig[0] ^= 1;  // an invalid vote first does not block the voter's valid one
  v = votes(3);
  v.insert(v.begin(), bad);
  EXPECT_FALSE(certifies(v));
  v.push_back(voteFor(p_, 3, keys_[3]));
  EXPECT_TRUE(certifies(v));
}

TEST_F(PeerMessageCertificateTest, OnlyValidUnlVotesForThisRoundCount) {
  auto withFourth = [&](const Vote& fourth) {
    auto v = votes(3);
    v.push_back(fourth);
    return certifies(v);
  };
  EXPECT_TRUE(withFourth(voteFor(p_, 3, keys_[4])));
  EXPECT_FALSE(withFourth(voteFor(p_, 3, seedKey(9))));  // not in the UNL
  EXPECT_FALSE(withFourth(voteFor(p_, 4, keys_[4])));    // another view
  Vote otherSeq = voteFor(p_, 3, keys_[4]);
  otherSeq.seq++;
  signVote(otherSeq, keys_[4]);
  EXPECT_FALSE(withFourth(otherSeq));
  EXPECT_FALSE(withFourth(voteFor(proposal(keys_[0], 7, 3), 3, keys_[4])));  // another proposal
  Vote forged = voteFor(p_, 3, keys_[4]);
  forged.sig = voteFor(p_, 3, keys_[3]).sig;
  EXPECT_FALSE(withFourth(forged));
}

// --- the fuzz target's seeds are these samples (SASHIMONO_WRITE_FUZZ_SEEDS=1 rewrites them) ---

TEST(PeerMessageTest, FuzzSeedsAreTheSamples) {
  const std::string dir = std::string(SASHIMONO_SOURCE_DIR) + "/tests/fuzz/corpus/RuntimePeerMessageFuzz/";
  const bool write = std::getenv("SASHIMONO_WRITE_FUZZ_SEEDS") != nullptr;
  for (const auto& [name, m] : samples()) {
    const core::Bytes bytes = encodePeerMessage(m);
    const std::string path = dir + name + ".bin";
    std::FILE* f = std::fopen(path.c_str(), write ? "wb" : "rb");
    ASSERT_NE(f, nullptr) << path;
    core::Bytes file(bytes.size() + 1);
    if (write) {
      EXPECT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
      file = bytes;
    } else {
      file.resize(std::fread(file.data(), 1, file.size(), f));
    }
    std::fclose(f);
    EXPECT_EQ(file, bytes) << name << ": the encoding changed; rewrite the seeds if that is intended";
  }
}

}  // namespace
}  // namespace sashimono::runtime
