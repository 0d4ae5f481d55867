// LedgerSync (LedgerSync.h): a real chain in a real LedgerStore, closed with real members' ledger
// signatures, served with answerLedgerRequest, carried as peer messages, verified and stored by a
// second member; and everything a peer could get wrong or lie about, refused.
#include "sashimono/runtime/LedgerSync.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/runtime/OutputProof.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime {
namespace {

InstanceKey keyOf(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return InstanceKey::fromSeed(seed);
}

Hash hashOf(const std::string& s) { return crypto::blake3(core::asBytes(s)); }
core::Bytes bytesOf(const std::string& s) { return core::Bytes(s.begin(), s.end()); }

// A member's ledger_sig over ledger `hash`.
LedgerSignature sigOf(const InstanceKey& k, const Hash& hash) {
  const core::Bytes s = k.sign(ledgerDigest(hash));
  LedgerSignature out{k.publicKey(), {}, {}};
  std::copy(s.begin(), s.end(), out.sig.begin());
  return out;
}

class LedgerSyncTest : public ::testing::Test {
 protected:
  static constexpr std::size_t kT = 3;  // of 4 members

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ledger-sync-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    for (std::uint8_t i = 1; i <= 4; ++i) {
      members_.push_back(keyOf(i));
      unl_.push_back(members_.back().publicKey());
    }
    auto a = LedgerStore::open(path("a"));
    ASSERT_TRUE(a.ok()) << a.error().message;
    a_.emplace(std::move(*a));
    close(*a_, 1, true);   // ledger 1: inputs and outputs
    close(*a_, 2, false);  // ledger 2: inputs, no outputs (the zero root)
    close(*a_, 3, true);
  }
  void TearDown() override {
    a_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / (name + ".sqlite")).string(); }

  // Closes the next ledger in `store` as the round engine does (InstanceRound.cpp): two users'
  // inputs in (user, nonce) order, their outputs (or none), the output tree, the record; the first
  // T members sign the ledger.
  void close(LedgerStore& store, std::uint8_t tag, bool outputs, std::size_t blobBytes = 0) {
    const std::string t = std::to_string(tag);
    LedgerRecord r;
    r.seqNo = store.last().seqNo + 1;
    r.timestamp = 1700000000000 + r.seqNo;
    r.prevHash = store.last().hash;
    r.stateHash = hashOf("state " + t);
    r.configHash = hashOf("patch.cfg");
    std::vector<PubKey> users = {keyOf(20).publicKey(), keyOf(21).publicKey()};
    std::sort(users.begin(), users.end());
    r.userHash = userSetHash(users);
    std::vector<LedgerInput> ins = {
        {users[0], hashOf("sig 0 " + t), 10u * tag, r.seqNo + 3, bytesOf("in 0 " + t)},
        {users[0], hashOf("sig 1 " + t), 10u * tag + 1, r.seqNo, bytesOf("in 1")},
        {users[1], hashOf("sig 2 " + t), tag, r.seqNo + 9, {}}};
    r.inputHash = hashList({ins[0].hash, ins[1].hash, ins[2].hash});
    std::vector<LedgerOutput> outs;
    std::vector<Hash> userHashes;
    for (std::size_t i = 0; outputs && i < users.size(); ++i) {
      LedgerOutput o{users[i], {}, {bytesOf("\"Echo: " + t + "\""), core::Bytes(blobBytes, 'b')}};
      o.hash = userOutputHash(o.user, o.blobs);
      userHashes.push_back(o.hash);
      outs.push_back(std::move(o));
    }
    const OutputTree tree(userHashes, r.stateHash);
    r.outputHash = tree.empty() ? Hash{} : tree.root();
    sealLedger(r);
    std::vector<Signature> sigs, roots;
    for (std::size_t i = 0; i < kT; ++i) {
      sigs.emplace_back(unl_[i], members_[i].sign(ledgerDigest(r.hash)));
      if (!outs.empty()) roots.emplace_back(unl_[i], members_[i].sign(r.outputHash));
    }
    ASSERT_TRUE(store.append(r, ins, outs, sigs, roots).ok());
  }

  // Ledger `seq` as `a_` serves it, through the wire.
  LedgerMessage served(std::uint64_t seq) {
    auto answer = answerLedgerRequest(*a_, LedgerRequest{seq, 1});
    EXPECT_TRUE(answer.ok() && answer->size() == 1);
    if (!answer.ok() || answer->empty()) return {};
    auto back = decodePeerMessage(encodePeerMessage(answer->front()));
    EXPECT_TRUE(back.ok());
    return back.ok() ? std::get<LedgerMessage>(*back) : LedgerMessage{};
  }

  LedgerSync fresh(std::uint64_t lastSeq = 0) {
    auto last = a_->get(lastSeq);
    return LedgerSync(unl_, kT, last.ok() && *last ? **last : LedgerRecord{});
  }

  // The refusal of `m` as the ledger after a_'s ledger m.seq - 1 (empty: accepted).
  std::string refusal(const LedgerMessage& m) {
    LedgerSync sync = fresh(m.record.seqNo - 1);
    auto r = sync.verify(m);
    if (r.ok()) return "";
    EXPECT_EQ(sync.last().seqNo, m.record.seqNo - 1);  // nothing changed
    return r.error().message;
  }

  std::filesystem::path dir_;
  std::vector<InstanceKey> members_;
  std::vector<PubKey> unl_;
  std::optional<LedgerStore> a_;
};

TEST_F(LedgerSyncTest, AMemberBehindFetchesVerifiesAndStoresTheChain) {
  auto b = LedgerStore::open(path("b"));
  ASSERT_TRUE(b.ok());
  LedgerSync sync(unl_, kT, b->last());
  std::size_t requests = 0;
  while (true) {
    const LedgerRequest req = sync.nextRequest(2);
    auto answer = answerLedgerRequest(*a_, req);
    ASSERT_TRUE(answer.ok()) << answer.error().message;
    ++requests;
    if (answer->empty()) break;
    for (const LedgerMessage& sent : *answer) {
      auto m = decodePeerMessage(encodePeerMessage(sent));
      ASSERT_TRUE(m.ok()) << m.error().message;
      const auto& got = std::get<LedgerMessage>(*m);
      auto sigs = sync.verify(got);
      ASSERT_TRUE(sigs.ok()) << sigs.error().message;
      EXPECT_EQ(sigs->size(), kT);
      const auto roots = verifiedRootSignatures(got, *sigs);
      EXPECT_EQ(roots.size(), got.outputs.empty() ? 0u : kT);
      ASSERT_TRUE(b->append(got.record, got.inputs, got.outputs, *sigs, roots).ok());
    }
  }
  EXPECT_EQ(requests, 3u);  // 1-2, 3, none left
  EXPECT_EQ(sync.last(), a_->last());
  EXPECT_EQ(b->last(), a_->last());
  for (std::uint64_t s = 1; s <= 3; ++s) {
    EXPECT_EQ(*b->get(s), *a_->get(s));
    EXPECT_EQ(*b->inputs(s), *a_->inputs(s));
    EXPECT_EQ(*b->outputs(s), *a_->outputs(s));
    EXPECT_EQ(*b->signatures(s), *a_->signatures(s));
    EXPECT_EQ(b->signatures(s)->size(), kT);
    EXPECT_EQ(*b->rootSignatures(s), *a_->rootSignatures(s));  // what users' proofs need
    EXPECT_EQ(b->rootSignatures(s)->size(), s == 2 ? 0u : kT);
  }
  b = LedgerStore::open(path("b"));  // the chain checks out on reopening too
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->last(), a_->last());
}

TEST_F(LedgerSyncTest, AnswersStopAtTheLastStoredLedger) {
  auto all = answerLedgerRequest(*a_, LedgerRequest{2, 64});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at(0).record.seqNo, 2u);
  EXPECT_EQ(all->at(1).record, a_->last());
  EXPECT_TRUE(all->at(0).outputs.empty());
  EXPECT_EQ(all->at(1).signatures.size(), kT);
  EXPECT_TRUE(answerLedgerRequest(*a_, LedgerRequest{4, 1})->empty());
  EXPECT_EQ(answerLedgerRequest(*a_, LedgerRequest{0, 1}).error().message,
            "ledger_request: from_seq 0: the genesis ledger is never sent");
  EXPECT_FALSE(answerLedgerRequest(*a_, LedgerRequest{1, 65}).ok());
  // A reader (another thread's connection) serves the same.
  auto reader = LedgerStore::openReader(path("a"));
  ASSERT_TRUE(reader.ok());
  auto again = answerLedgerRequest(*reader, LedgerRequest{2, 64});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *all);
}

TEST_F(LedgerSyncTest, AnswersAreBoundedInBytes) {
  for (std::uint8_t t = 4; t <= 6; ++t) close(*a_, t, true, 11u << 18);  // two users' 2.75 MiB: 5.5 MiB
  auto answer = answerLedgerRequest(*a_, LedgerRequest{4, 64});
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  ASSERT_EQ(answer->size(), 2u);  // 2 × 5.5 MiB; a third would pass 16 MiB
  EXPECT_EQ(answer->back().record.seqNo, 5u);
  close(*a_, 7, true, 9u << 20);  // 2 × 9 MiB: too large for one message
  auto tooLarge = answerLedgerRequest(*a_, LedgerRequest{7, 1});
  ASSERT_FALSE(tooLarge.ok());
  EXPECT_EQ(tooLarge.error().message.rfind("ledger 7 cannot be sent: ledger: ", 0), 0u)
      << tooLarge.error().message;
  auto upTo = answerLedgerRequest(*a_, LedgerRequest{6, 2});
  ASSERT_TRUE(upTo.ok());
  EXPECT_EQ(upTo->size(), 1u);  // stops before it
}

TEST_F(LedgerSyncTest, TheChainMustContinue) {
  LedgerSync sync = fresh(0);
  EXPECT_EQ(sync.verify(served(2)).error().message,
            "ledger 2: does not follow the last ledger 0 (expected ledger 1)");
  ASSERT_TRUE(sync.verify(served(1)).ok());
  EXPECT_EQ(sync.verify(served(1)).error().message,
            "ledger 1: does not follow the last ledger 1 (expected ledger 2)");
  EXPECT_EQ(sync.nextRequest(), (LedgerRequest{2, 64}));
  EXPECT_EQ(sync.nextRequest(0), (LedgerRequest{2, 1}));
  // A member whose ledger 1 differs (a fork) cannot take ledger 2 on it.
  LedgerRecord other = sync.last();
  other.timestamp += 1;
  sealLedger(other);
  LedgerSync forked(unl_, kT, other);
  EXPECT_EQ(forked.verify(served(2)).error().message,
            "ledger 2: prev_hash " + core::toHexLower(sync.last().hash) + " is not the hash of ledger 1 (" +
                core::toHexLower(other.hash) + ")");
  ASSERT_TRUE(sync.verify(served(2)).ok());
  ASSERT_TRUE(sync.verify(served(3)).ok());
}

TEST_F(LedgerSyncTest, ATamperedRecordIsRefused) {
  LedgerMessage m = served(1);
  m.record.timestamp += 1;
  EXPECT_EQ(
      refusal(m).rfind(
          "ledger 1: hash " + core::toHexLower(m.record.hash) + " does not match the record's fields (", 0),
      0u);
  m = served(1);
  m.record.stateHash[0] ^= 1;  // resealed: the outputs' tree no longer has this root
  sealLedger(m.record);
  EXPECT_EQ(refusal(m).rfind("ledger 1: output_hash ", 0), 0u) << refusal(m);
  m = served(2);
  m.record.outputHash = hashOf("made up");
  sealLedger(m.record);
  EXPECT_EQ(refusal(m), "ledger 2: output_hash " + core::toHexLower(m.record.outputHash) +
                            " is not the root of its output tree (" + std::string(64, '0') + ")");
}

TEST_F(LedgerSyncTest, TamperedInputsAreRefused) {
  LedgerMessage m = served(1);
  m.inputs[2].hash = hashOf("another input");
  EXPECT_EQ(refusal(m).rfind("ledger 1: input_hash ", 0), 0u) << refusal(m);
  m = served(1);
  m.inputs.pop_back();
  EXPECT_EQ(refusal(m).rfind("ledger 1: input_hash ", 0), 0u) << refusal(m);
  m = served(1);
  std::swap(m.inputs[0], m.inputs[1]);
  EXPECT_EQ(refusal(m), "ledger 1: inputs[1] is not after inputs[0] (by user, then increasing nonce)");
  m = served(1);
  m.inputs[1].hash = m.inputs[0].hash;
  EXPECT_EQ(refusal(m), "ledger 1: inputs[1]: hash " + core::toHexLower(m.inputs[0].hash) +
                            " repeats an earlier input's");
  m = served(3);
  m.inputs[1].maxLedgerSeqNo = 2;
  EXPECT_EQ(refusal(m), "ledger 3: inputs[1]: max ledger 2 is before this ledger");
}

TEST_F(LedgerSyncTest, ATamperedBlobIsRefused) {
  LedgerMessage m = served(3);
  m.outputs[1].blobs[0].back() ^= 1;
  const std::string user = core::toHexLower(m.outputs[1].user);
  EXPECT_EQ(refusal(m).rfind("ledger 3: outputs[1] (user " + user + "): hash ", 0), 0u) << refusal(m);
  // Made consistent all the way to the record: the members did not sign that ledger.
  m.outputs[1].hash = userOutputHash(m.outputs[1].user, m.outputs[1].blobs);
  m.record.outputHash = OutputTree({m.outputs[0].hash, m.outputs[1].hash}, m.record.stateHash).root();
  sealLedger(m.record);
  EXPECT_EQ(refusal(m), "ledger 3: 0 valid signatures of UNL members over the ledger " +
                            core::toHexLower(m.record.hash) + ", 3 needed (of 3 sent: 0 not of members, " +
                            "0 repeated, 3 invalid)");
  // A user's outputs dropped (and their hash with them): the same.
  m = served(3);
  m.outputs.pop_back();
  m.record.outputHash = OutputTree({m.outputs[0].hash}, m.record.stateHash).root();
  sealLedger(m.record);
  EXPECT_NE(refusal(m).find("0 valid signatures"), std::string::npos) << refusal(m);
}

TEST_F(LedgerSyncTest, TooFewSignaturesAreRefused) {
  LedgerMessage m = served(1);
  const std::string hash = core::toHexLower(m.record.hash);
  m.signatures.pop_back();
  EXPECT_EQ(refusal(m), "ledger 1: 2 valid signatures of UNL members over the ledger " + hash +
                            ", 3 needed (of 2 sent: 0 not of members, 0 repeated, 0 invalid)");
  m.signatures.clear();
  EXPECT_NE(refusal(m).find("0 valid signatures"), std::string::npos);
  // The fourth member's signature makes up for the one missing.
  m = served(1);
  m.signatures.back() = sigOf(members_[3], m.record.hash);
  EXPECT_EQ(refusal(m), "");
}

TEST_F(LedgerSyncTest, SignaturesOfNonMembersAndRepeatsDoNotCount) {
  LedgerMessage m = served(1);
  const Hash root = m.record.hash;
  m.signatures.back() = sigOf(keyOf(99), root);  // valid, but not a member's
  EXPECT_EQ(refusal(m), "ledger 1: 2 valid signatures of UNL members over the ledger " +
                            core::toHexLower(root) +
                            ", 3 needed (of 3 sent: 1 not of members, 0 repeated, 0 invalid)");
  m = served(1);
  m.signatures = {m.signatures[0], m.signatures[0], m.signatures[0], m.signatures[1]};
  EXPECT_EQ(refusal(m), "ledger 1: 2 valid signatures of UNL members over the ledger " +
                            core::toHexLower(root) +
                            ", 3 needed (of 4 sent: 0 not of members, 2 repeated, 0 invalid)");
  // A member's key with another member's signature.
  m = served(1);
  m.signatures[2].sig = m.signatures[1].sig;
  EXPECT_NE(refusal(m).find("(of 3 sent: 0 not of members, 0 repeated, 1 invalid)"), std::string::npos);
  // The counted signatures are what verify returns: the outsider's is not stored.
  m = served(1);
  m.signatures.push_back(sigOf(keyOf(99), root));
  m.signatures.push_back(m.signatures[0]);
  LedgerSync sync = fresh(0);
  auto counted = sync.verify(m);
  ASSERT_TRUE(counted.ok()) << counted.error().message;
  EXPECT_EQ(*counted, *a_->signatures(1));
}

TEST_F(LedgerSyncTest, SignaturesOverAnotherLedgerAreRefused) {
  LedgerMessage m = served(1);
  m.signatures = served(3).signatures;  // the same members, another ledger
  EXPECT_NE(
      refusal(m).find("0 valid signatures of UNL members over the ledger " + core::toHexLower(m.record.hash) +
                      ", 3 needed (of 3 sent: 0 not of members, " + "0 repeated, 3 invalid)"),
      std::string::npos)
      << refusal(m);
  // Ledger 2 has no outputs (the zero root): its signatures still name it, not any such ledger.
  m = served(2);
  EXPECT_EQ(m.record.outputHash, Hash{});
  EXPECT_EQ(refusal(m), "");
  m.signatures = served(1).signatures;
  EXPECT_NE(refusal(m).find("3 invalid"), std::string::npos);
  m = served(2);
  m.record.stateHash[0] ^= 1;  // another state, still no outputs: resealed, but not what they signed
  sealLedger(m.record);
  EXPECT_NE(refusal(m).find("0 valid signatures"), std::string::npos) << refusal(m);
  // Threshold 0 verifies nothing.
  LedgerSync none(unl_, 0, LedgerRecord{});
  EXPECT_FALSE(none.verify(served(1)).ok());
}

// The signatures cover the whole record (LedgerSync.h): a changed timestamp, resealed, is refused.
// Not covered: an input's blob (the ledger keeps only its hash); the next ledger still chains.
TEST_F(LedgerSyncTest, SignaturesCoverTheRecordButNotInputBlobs) {
  LedgerMessage m = served(1);
  m.record.timestamp += 1000;
  sealLedger(m.record);
  EXPECT_NE(refusal(m).find("0 valid signatures"), std::string::npos) << refusal(m);
  m = served(1);
  m.inputs[0].blob = bytesOf("not what the user sent");
  LedgerSync sync = fresh(0);
  ASSERT_TRUE(sync.verify(m).ok());
  EXPECT_TRUE(sync.verify(served(2)).ok());
}

TEST_F(LedgerSyncTest, AMalformedMessageIsRefusedWithItsSeq) {
  LedgerMessage m = served(1);
  m.outputs[0].blobs.clear();
  EXPECT_EQ(refusal(m), "ledger 1: ledger: outputs[0] has no blobs");
}

// The root_sigs kept with a synced ledger are the counted members' that verify over its output
// root: a forged one, one over another root and one of a member whose ledger_sig did not count
// are dropped (the ledger itself still verifies: its ledger_sigs are what prove it).
TEST_F(LedgerSyncTest, OnlyTheCountedMembersValidRootSignaturesAreKept) {
  LedgerMessage m = served(1);
  ASSERT_EQ(m.signatures.size(), kT);
  m.signatures[0].rootSig[5] ^= 1;                                     // forged
  const core::Bytes other = members_[1].sign(hashOf("another root"));  // over another root
  std::copy(other.begin(), other.end(), m.signatures[1].rootSig.begin());
  LedgerSignature extra = sigOf(members_[3], hashOf("not this ledger"));  // its ledger_sig fails
  const core::Bytes root = members_[3].sign(m.record.outputHash);
  std::copy(root.begin(), root.end(), extra.rootSig.begin());
  m.signatures.push_back(extra);
  LedgerSync sync = fresh(0);
  auto counted = sync.verify(m);
  ASSERT_TRUE(counted.ok()) << counted.error().message;
  const auto roots = verifiedRootSignatures(m, *counted);
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_EQ(roots[0].first, unl_[2]);
  EXPECT_TRUE(crypto::verify(roots[0].first, m.record.outputHash, roots[0].second).ok());
}

}  // namespace
}  // namespace sashimono::runtime
