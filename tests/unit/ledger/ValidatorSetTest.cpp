#include "sashimono/ledger/ValidatorSet.h"

#include <map>

#include <gtest/gtest.h>

#include "ValidatorFixture.h"
#include "sashimono/ledger/Manifest.h"
#include "sashimono/ledger/Validation.h"

namespace sashimono::ledger {
namespace {
using crypto::KeyType;
using testing::hashOf;
using testing::keyPair;
using Kind = ValidationOutcome::Kind;
using MKind = ManifestOutcome::Kind;

// Validator i: a master key (ed25519 for even i, secp256k1 for odd i) and ephemeral secp256k1
// signing keys by generation.
struct Validators {
  std::vector<crypto::KeyPair> masters;
  explicit Validators(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      masters.push_back(
          keyPair(i % 2 == 0 ? KeyType::ed25519 : KeyType::secp256k1, static_cast<std::uint8_t>(i + 1)));
    }
  }
  // Derived once (secp256k1 derivation is slow next to signing).
  static const crypto::KeyPair& signing(std::size_t i, std::uint8_t generation) {
    static std::map<std::pair<std::size_t, std::uint8_t>, crypto::KeyPair> cache;
    auto it = cache.find({i, generation});
    if (it == cache.end()) {
      it = cache
               .emplace(std::pair{i, generation},
                        keyPair(KeyType::secp256k1, static_cast<std::uint8_t>(100 + i * 10 + generation)))
               .first;
    }
    return it->second;
  }
  std::vector<crypto::PublicKey> keys() const {
    std::vector<crypto::PublicKey> k;
    for (const auto& m : masters) k.push_back(m.publicKey());
    return k;
  }
  core::Bytes manifest(std::size_t i, std::uint8_t generation, std::uint32_t seq) const {
    const auto& s = signing(i, generation);
    return makeManifest(masters[i], &s, seq);
  }
};

core::Bytes vote(const crypto::KeyPair& key, std::uint32_t seq, const crypto::Hash256& hash,
                 std::optional<std::uint32_t> networkId = {}, std::uint32_t flags = 0x80000001) {
  ValidationFields f;
  f.flags = flags;
  f.ledgerSequence = seq;
  f.signingTime = 800000000 + seq;
  f.ledgerHash = hash;
  f.networkId = networkId;
  return signValidation(f, key);
}

// A set of n validators, each with a generation-1 manifest.
struct Fixture {
  Validators v;
  ValidatorSet set;
  Fixture(std::size_t n, std::size_t quorum, std::optional<std::uint32_t> networkId = {})
      : v(n), set(v.keys(), quorum, networkId) {
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(set.addManifest(v.manifest(i, 1, 1)).kind, MKind::accepted);
  }
  ValidationOutcome by(std::size_t i, std::uint32_t seq, const crypto::Hash256& h,
                       std::uint8_t generation = 1) {
    return set.addValidation(vote(Validators::signing(i, generation), seq, h));
  }
};

TEST(ValidatorSet, DefaultQuorumIsEightyPercentRoundedUp) {
  for (auto [n, q] :
       std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}, {3, 3}, {4, 4}, {5, 4}, {10, 8}, {35, 28}}) {
    Validators v(n);
    EXPECT_EQ(ValidatorSet(v.keys()).quorum(), q) << n;
    EXPECT_EQ(ValidatorSet(v.keys()).trustedCount(), n);
  }
  Validators v(3);
  EXPECT_EQ(ValidatorSet(v.keys(), 2).quorum(), 2U);
  EXPECT_THROW(ValidatorSet(v.keys(), 4), std::invalid_argument);
  auto twice = v.keys();
  twice.push_back(twice[0]);
  EXPECT_THROW(ValidatorSet(twice, 0), std::invalid_argument);
  EXPECT_THROW(ValidatorSet(std::vector<crypto::PublicKey>{crypto::PublicKey{}}), std::invalid_argument);
}

TEST(ValidatorSet, BelowQuorumThenExactlyQuorum) {
  Fixture f(5, 4);
  const auto h = hashOf(100);
  for (std::size_t i = 0; i < 3; ++i) {
    auto o = f.by(i, 100, h);
    EXPECT_EQ(o.kind, Kind::counted) << kindName(o.kind) << " " << o.reason;
    EXPECT_FALSE(o.newlyValidated);
    ASSERT_TRUE(o.masterKey);
    EXPECT_EQ(*o.masterKey, f.v.masters[i].publicKey());
  }
  EXPECT_EQ(f.set.votes(100, h), 3U);
  EXPECT_FALSE(f.set.validatedHash(100));
  EXPECT_FALSE(f.set.latestValidated());
  auto fourth = f.by(3, 100, h);
  EXPECT_EQ(fourth.kind, Kind::counted);
  ASSERT_TRUE(fourth.newlyValidated);
  EXPECT_EQ(fourth.newlyValidated->sequence, 100U);
  EXPECT_EQ(fourth.newlyValidated->hash, h);
  EXPECT_EQ(f.set.validatedHash(100), h);
  EXPECT_EQ(f.set.latestValidated(), 100U);
  // The fifth counts but validates nothing anew.
  auto fifth = f.by(4, 100, h);
  EXPECT_EQ(fifth.kind, Kind::counted);
  EXPECT_FALSE(fifth.newlyValidated);
}

TEST(ValidatorSet, SplitVotesReachNoQuorum) {
  Fixture f(4, 3);
  EXPECT_EQ(f.by(0, 7, hashOf(1)).kind, Kind::counted);
  EXPECT_EQ(f.by(1, 7, hashOf(1)).kind, Kind::counted);
  EXPECT_EQ(f.by(2, 7, hashOf(2)).kind, Kind::counted);
  EXPECT_EQ(f.by(3, 7, hashOf(2)).kind, Kind::counted);
  EXPECT_FALSE(f.set.validatedHash(7));
}

TEST(ValidatorSet, DuplicatesCountOnce) {
  Fixture f(3, 2);
  const auto blob = vote(Validators::signing(0, 1), 9, hashOf(9));
  EXPECT_EQ(f.set.addValidation(blob).kind, Kind::counted);
  EXPECT_EQ(f.set.addValidation(blob).kind, Kind::duplicate);
  // Signed again (another ECDSA nonce): still the same vote.
  EXPECT_EQ(f.by(0, 9, hashOf(9)).kind, Kind::duplicate);
  EXPECT_EQ(f.set.votes(9, hashOf(9)), 1U);
  EXPECT_FALSE(f.set.validatedHash(9));
}

TEST(ValidatorSet, ConflictingValidationsAreReportedAndTheSecondDoesNotCount) {
  Fixture f(3, 2);
  EXPECT_EQ(f.by(0, 9, hashOf(1)).kind, Kind::counted);
  auto c = f.by(0, 9, hashOf(2));
  EXPECT_EQ(c.kind, Kind::conflict);
  ASSERT_TRUE(c.conflict);
  EXPECT_EQ(c.conflict->masterKey, f.v.masters[0].publicKey());
  EXPECT_EQ(c.conflict->sequence, 9U);
  EXPECT_EQ(c.conflict->firstHash, hashOf(1));
  EXPECT_EQ(c.conflict->secondHash, hashOf(2));
  EXPECT_EQ(f.set.votes(9, hashOf(2)), 0U);
  // One more for hash 2 is not a quorum: the conflicting vote did not count.
  auto o = f.by(1, 9, hashOf(2));
  EXPECT_EQ(o.kind, Kind::counted);
  EXPECT_FALSE(o.newlyValidated);
  // A forged "conflict" (bad signature) is no evidence.
  core::Bytes forged = vote(Validators::signing(2, 1), 9, hashOf(3));
  EXPECT_EQ(f.set.addValidation(forged).kind, Kind::counted);
  forged = vote(Validators::signing(2, 1), 9, hashOf(4));
  forged.back() ^= 1;
  auto bad = f.set.addValidation(forged);
  EXPECT_EQ(bad.kind, Kind::badSignature);
  EXPECT_FALSE(bad.conflict);
}

TEST(ValidatorSet, TwoHashesReachingQuorumIsAFork) {
  Fixture f(4, 2);  // a quorum of half: unsafe, which is what makes a fork possible
  EXPECT_EQ(f.by(0, 5, hashOf(1)).kind, Kind::counted);
  auto first = f.by(1, 5, hashOf(1));
  ASSERT_TRUE(first.newlyValidated);
  EXPECT_EQ(f.by(2, 5, hashOf(2)).kind, Kind::counted);
  auto fork = f.by(3, 5, hashOf(2));
  EXPECT_EQ(fork.kind, Kind::fork);
  ASSERT_TRUE(fork.fork);
  EXPECT_EQ(fork.fork->sequence, 5U);
  EXPECT_EQ(fork.fork->validatedHash, hashOf(1));
  EXPECT_EQ(fork.fork->otherHash, hashOf(2));
  EXPECT_FALSE(fork.newlyValidated);
  EXPECT_EQ(f.set.validatedHash(5), hashOf(1));
}

TEST(ValidatorSet, UntrustedKeysAndManifests) {
  Fixture f(3, 2);
  const auto stranger = keyPair(KeyType::secp256k1, 200);
  auto o = f.set.addValidation(vote(stranger, 3, hashOf(3)));
  EXPECT_EQ(o.kind, Kind::untrusted);
  EXPECT_FALSE(o.masterKey);
  // A manifest by an untrusted master delegating to a stranger's key changes nothing.
  const auto strangerMaster = keyPair(KeyType::ed25519, 201);
  auto m = f.set.addManifest(makeManifest(strangerMaster, &stranger, 1));
  EXPECT_EQ(m.kind, MKind::untrusted);
  EXPECT_EQ(f.set.addValidation(vote(stranger, 3, hashOf(3))).kind, Kind::untrusted);
  // Nor can an untrusted master claim a trusted validator's signing key.
  const auto trustedSigning = Validators::signing(0, 1);
  EXPECT_EQ(f.set.addManifest(makeManifest(strangerMaster, &trustedSigning, 2)).kind, MKind::untrusted);
  EXPECT_EQ(f.set.masterOf(trustedSigning.publicKey()), f.v.masters[0].publicKey());
}

TEST(ValidatorSet, ATrustedValidatorCannotTakeAnothersKey) {
  Fixture f(3, 2);
  const auto othersKey = Validators::signing(1, 1);
  auto m = f.set.addManifest(makeManifest(f.v.masters[0], &othersKey, 2));
  EXPECT_EQ(m.kind, MKind::invalid);
  EXPECT_NE(m.reason.find("another trusted validator"), std::string::npos) << m.reason;
  const auto othersMaster = f.v.masters[1];
  EXPECT_EQ(f.set.addManifest(makeManifest(f.v.masters[0], &othersMaster, 3)).kind, MKind::invalid);
}

TEST(ValidatorSet, MasterKeySignsUntilAManifestIsKnown) {
  Validators v(3);
  ValidatorSet set(v.keys(), 2);
  // secp256k1 master (validator 1) signing itself, as rippled allows without a manifest.
  EXPECT_EQ(set.addValidation(vote(v.masters[1], 4, hashOf(4))).kind, Kind::counted);
  EXPECT_EQ(set.addManifest(v.manifest(1, 1, 1)).kind, MKind::accepted);
  auto old = set.addValidation(vote(v.masters[1], 5, hashOf(5)));
  EXPECT_EQ(old.kind, Kind::stale) << old.reason;
  EXPECT_EQ(set.addValidation(vote(Validators::signing(1, 1), 5, hashOf(5))).kind, Kind::counted);
}

TEST(ValidatorSet, SequenceChangeRetiresTheOldSigningKey) {
  Fixture f(3, 2);
  EXPECT_EQ(f.by(0, 10, hashOf(10)).kind, Kind::counted);
  auto m = f.set.addManifest(f.v.manifest(0, 2, 2));
  EXPECT_EQ(m.kind, MKind::accepted);
  EXPECT_EQ(m.sequence, 2U);
  auto old = f.by(0, 11, hashOf(11), 1);
  EXPECT_EQ(old.kind, Kind::stale);
  EXPECT_NE(old.reason.find("superseded"), std::string::npos) << old.reason;
  EXPECT_EQ(f.by(0, 11, hashOf(11), 2).kind, Kind::counted);
  // Stale manifests: the same sequence again, or a lower one, change nothing.
  EXPECT_EQ(f.set.addManifest(f.v.manifest(0, 3, 2)).kind, MKind::stale);
  EXPECT_EQ(f.set.addManifest(f.v.manifest(0, 1, 1)).kind, MKind::stale);
  EXPECT_EQ(f.by(0, 12, hashOf(12), 2).kind, Kind::counted);
  const auto rows = f.set.validators();
  ASSERT_EQ(rows.size(), 3U);
  EXPECT_EQ(rows[0].manifestSequence, 2U);
  EXPECT_EQ(rows[0].signingKey, Validators::signing(0, 2).publicKey());
  EXPECT_EQ(rows[0].lastValidatedSequence, 12U);
  EXPECT_EQ(rows[0].masterKeyText.substr(0, 2), "nH");  // ed25519 master
  EXPECT_FALSE(rows[0].revoked);
}

TEST(ValidatorSet, RevocationWithdrawsTheValidator) {
  Fixture f(3, 2);
  EXPECT_EQ(f.by(0, 20, hashOf(20)).kind, Kind::counted);
  auto r = f.set.addManifest(makeManifest(f.v.masters[0], nullptr, kRevokedSequence));
  EXPECT_EQ(r.kind, MKind::revoked);
  // Its pending vote is withdrawn: one more vote is not a quorum of two.
  EXPECT_EQ(f.set.votes(20, hashOf(20)), 0U);
  EXPECT_FALSE(f.by(1, 20, hashOf(20)).newlyValidated);
  auto after = f.by(0, 21, hashOf(21));
  EXPECT_EQ(after.kind, Kind::stale);
  EXPECT_NE(after.reason.find("revoked"), std::string::npos) << after.reason;
  // (Validator 0's master is ed25519: it could never sign a validation.)
  EXPECT_EQ(f.set.addValidation(vote(f.v.masters[0], 21, hashOf(21))).kind, Kind::malformed);
  // Nothing un-revokes it.
  EXPECT_EQ(f.set.addManifest(f.v.manifest(0, 5, 5)).kind, MKind::stale);
  EXPECT_TRUE(f.set.validators()[0].revoked);
  EXPECT_FALSE(f.set.validators()[0].signingKey);
  EXPECT_TRUE(f.by(2, 20, hashOf(20)).newlyValidated);  // validators 1 and 2
}

TEST(ValidatorSet, WrongNetworkPartialTamperedMalformed) {
  Fixture f(3, 2, 21337);
  const auto key = Validators::signing(0, 1);
  auto wrong = f.set.addValidation(vote(key, 3, hashOf(3), 1));
  EXPECT_EQ(wrong.kind, Kind::wrongNetwork) << wrong.reason;
  EXPECT_EQ(f.set.addValidation(vote(key, 3, hashOf(3), 21337)).kind, Kind::counted);
  auto partial = f.set.addValidation(vote(Validators::signing(1, 1), 3, hashOf(3), {}, 0x80000000));
  EXPECT_EQ(partial.kind, Kind::notFull);
  EXPECT_FALSE(f.set.validatedHash(3));
  core::Bytes tampered = vote(Validators::signing(1, 1), 3, hashOf(3));
  tampered[tampered.size() - 5] ^= 0x10;
  EXPECT_EQ(f.set.addValidation(tampered).kind, Kind::badSignature);
  EXPECT_EQ(f.set.addValidation(core::Bytes{0x22, 0x00}).kind, Kind::malformed);
  EXPECT_EQ(f.set.addManifest(core::Bytes{0x24}).kind, MKind::invalid);
  EXPECT_FALSE(f.set.validatedHash(3));
  EXPECT_TRUE(f.by(1, 3, hashOf(3)).newlyValidated);
}

TEST(ValidatorSet, WindowAndForgetBelow) {
  Fixture f(2, 2);
  for (std::uint32_t s = 1000; s < 1000 + ValidatorSet::kWindow + 50; ++s) {
    f.by(0, s, hashOf(s));
    ASSERT_TRUE(f.by(1, s, hashOf(s)).newlyValidated) << s;
  }
  const std::uint32_t latest = 1000 + ValidatorSet::kWindow + 49;
  EXPECT_EQ(f.set.latestValidated(), latest);
  EXPECT_FALSE(f.set.validatedHash(1000));  // only kWindow validated hashes are kept
  EXPECT_EQ(f.set.validatedHash(latest), hashOf(latest));
  EXPECT_LE(f.set.trackedSequences(), ValidatorSet::kWindow);
  auto tooOld = f.by(0, latest - ValidatorSet::kWindow, hashOf(1));
  EXPECT_EQ(tooOld.kind, Kind::outOfWindow) << tooOld.reason;
  auto tooNew = f.by(0, latest + ValidatorSet::kWindow + 1, hashOf(1));
  EXPECT_EQ(tooNew.kind, Kind::outOfWindow);
  EXPECT_EQ(f.by(0, latest + ValidatorSet::kWindow, hashOf(1)).kind, Kind::counted);
  f.set.forgetBelow(latest);
  EXPECT_FALSE(f.set.validatedHash(latest - 1));
  EXPECT_EQ(f.set.validatedHash(latest), hashOf(latest));
  EXPECT_LE(f.set.trackedSequences(), 2U);
}

// One trusted validator flooding far-apart sequences before anything is validated cannot grow
// the set past kMaxRounds, and an honest ledger still reaches quorum.
TEST(ValidatorSet, AFloodIsBounded) {
  Fixture f(3, 2);
  EXPECT_EQ(f.by(1, 50, hashOf(50)).kind, Kind::counted);
  for (std::uint32_t i = 0; i < ValidatorSet::kMaxRounds + 100; ++i) {
    f.by(0, 1000000 + i * 7, hashOf(i));
  }
  EXPECT_LE(f.set.trackedSequences(), ValidatorSet::kMaxRounds);
  auto o = f.by(2, 50, hashOf(50));
  EXPECT_TRUE(o.newlyValidated) << kindName(o.kind);
  // Once something is validated the far-ahead flood is dropped and refused.
  EXPECT_LE(f.set.trackedSequences(), ValidatorSet::kWindow + 1);
  EXPECT_EQ(f.by(0, 9000000, hashOf(1)).kind, Kind::outOfWindow);
}

TEST(ValidatorSet, KindNames) {
  EXPECT_STREQ(kindName(Kind::counted), "counted");
  EXPECT_STREQ(kindName(Kind::outOfWindow), "outOfWindow");
  EXPECT_STREQ(kindName(MKind::revoked), "revoked");
}

}  // namespace
}  // namespace sashimono::ledger
