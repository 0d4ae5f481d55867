// Agreement (docs/CLUSTER.md, "Agreement") in simulated clusters (AgreementSim.h): rounds close
// identically everywhere; a crashed leader, a minority partition, a lying member and an
// equivocating leader change nothing the others accept; random schedules never fork.
#include <gtest/gtest.h>

#include <optional>

#include "AgreementSim.h"

namespace sashimono::runtime::testing {
namespace {

std::vector<std::size_t> all(const AgreementSim& s) {
  std::vector<std::size_t> v;
  for (std::size_t i = 0; i < s.size(); ++i) v.push_back(i);
  return v;
}

TEST(AgreementTest, ThresholdIsEightyPercentAndAtLeastAMajority) {
  EXPECT_EQ(agreementThreshold(0), 0U);
  EXPECT_EQ(agreementThreshold(1), 1U);
  EXPECT_EQ(agreementThreshold(2), 2U);
  EXPECT_EQ(agreementThreshold(3), 3U);
  EXPECT_EQ(agreementThreshold(4), 4U);
  EXPECT_EQ(agreementThreshold(5), 4U);
  EXPECT_EQ(agreementThreshold(10), 8U);
  EXPECT_EQ(agreementThreshold(5, 0.6), 3U);
  EXPECT_EQ(agreementThreshold(4, 0.1), 3U);  // never below a strict majority
}

TEST(AgreementTest, PlanHashIgnoresViewAndLeader) {
  Plan p{3, Hash{}, 1000, {}, {Hash{}}};
  Plan q = p;
  EXPECT_EQ(planHash(p), planHash(q));
  q.timestamp = 1001;
  EXPECT_NE(planHash(p), planHash(q));
}

TEST(AgreementTest, FiveMembersCloseEveryRoundIdentically) {
  AgreementSim s(5, 0.8, 1);
  s.start(3);
  s.runUntil(Ms(2000));
  EXPECT_GE(s.minClosed(all(s)), 20U) << "rounds closed by the slowest member in 2 s";
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
  for (std::size_t i = 0; i < s.size(); ++i) {
    EXPECT_TRUE(s.member(i).evidence.empty());
    EXPECT_EQ(s.member(i).rollbacks, 0U);
    for (const auto& c : s.member(i).closed) EXPECT_GE(c.signatures, s.threshold());
  }
}

// Three members 50 ms apart, one input a round, the simulated run taking 5 ms: every member
// closes ledger k at k × `roundMs`, and runs `extraRuns` plans beyond the ledgers it closed (the
// round in progress at the end), never one it rolls back.
void expectRoundsOf(bool speculate, long roundMs, std::size_t extraRuns) {
  AgreementSim s(3, 0.8, 11);
  s.delay = [](std::size_t, std::size_t) { return Ms(50); };
  for (std::size_t i = 0; i < s.size(); ++i) s.member(i).agreement->setSpeculative(speculate);
  s.start(1);
  s.runUntil(Ms(1000));
  ASSERT_GE(s.member(0).closed.size(), 5U);
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto& closed = s.member(i).closed;
    for (std::size_t k = 0; k < closed.size(); ++k)
      EXPECT_EQ(closed[k].at.count(), roundMs * static_cast<long>(k + 1))
          << "member " << i << " ledger " << k + 1;
    EXPECT_EQ(s.member(i).executions, closed.size() + extraRuns) << "member " << i;
    EXPECT_EQ(s.member(i).rollbacks, 0U);
  }
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
}

// Members run the plan they voted for while the votes travel: a round takes three delays
// (proposal, votes, outputs), not three plus the run; the next round's plan already runs at the
// leader when the simulation ends.
TEST(AgreementTest, ExecutionOverlapsTheVotes) { expectRoundsOf(true, 150, 1); }

// A member that cannot undo a round (no undo log) runs a plan only once it is certified.
TEST(AgreementTest, WithoutSpeculationAPlanRunsOnceCertified) { expectRoundsOf(false, 155, 0); }

TEST(AgreementTest, AClusterOfOneClosesAlone) {
  AgreementSim s(1, 0.8, 2);
  s.start(1);
  s.runUntil(Ms(200));
  EXPECT_GE(s.member(0).closed.size(), 20U);
}

TEST(AgreementTest, ACrashedLeaderIsReplacedAfterItsViewTimesOut) {
  AgreementSim s(5, 0.8, 3);
  // Round 1's leader of view 0 is the member at index 1 of the sorted UNL.
  const std::size_t dead = s.indexOf(s.member(0).agreement->leader(1, 0));
  s.member(dead).crashed = true;
  s.start(2);
  s.runUntil(Ms(5000));
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != dead) live.push_back(i);
  EXPECT_GE(s.minClosed(live), 5U);
  EXPECT_TRUE(s.member(dead).closed.empty());
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
  // Ledger 1 closed in a later view: after at least the 200 ms view timeout.
  EXPECT_GE(s.member(live[0]).closed[0].at.count(), 200);
}

TEST(AgreementTest, AMinorityPartitionStopsAndTheClusterHealsIntoOneChain) {
  AgreementSim s(5, 0.8, 4);
  bool split = true;
  auto side = [](std::size_t i) { return i < 2; };
  s.linked = [&](std::size_t a, std::size_t b) { return !split || side(a) == side(b); };
  s.start(1);
  s.runUntil(Ms(3000));
  for (std::size_t i = 0; i < s.size(); ++i) EXPECT_TRUE(s.member(i).closed.empty()) << i;  // T = 4
  split = false;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      if (i != j) s.member(i).agreement->peerConnected(s.member(j).key->publicKey());
  // The harness drains on the next event; a tick delivers what peerConnected queued.
  s.runUntil(Ms(12000));
  EXPECT_GE(s.minClosed(all(s)), 3U);
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
}

TEST(AgreementTest, WithAThresholdOfThreeTheMajorityGoesOnAndTheMinorityNeverForks) {
  AgreementSim s(5, 0.6, 5);
  bool split = true;
  auto side = [](std::size_t i) { return i < 2; };
  s.linked = [&](std::size_t a, std::size_t b) { return !split || side(a) == side(b); };
  s.start(1);
  s.runUntil(Ms(2000));
  EXPECT_GE(s.minClosed({2, 3, 4}), 5U);
  EXPECT_TRUE(s.member(0).closed.empty());
  EXPECT_TRUE(s.member(1).closed.empty());
  split = false;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      if (i != j) s.member(i).agreement->peerConnected(s.member(j).key->publicKey());
  s.runUntil(Ms(4000));
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
  // The two are behind: they hear of later rounds and must sync (a later step).
  EXPECT_GT(s.member(0).behind + s.member(1).behind, 0U);
}

TEST(AgreementTest, ALyingMemberIsOutvotedAndLearnsItDiffers) {
  AgreementSim s(5, 0.8, 6);
  s.member(4).lies = true;
  s.start(1);
  s.runUntil(Ms(2000));
  EXPECT_GE(s.minClosed({0, 1, 2, 3}), 10U);
  EXPECT_TRUE(s.member(4).closed.empty());
  EXPECT_GT(s.member(4).behind, 0U);
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
  for (std::size_t i = 0; i < 4; ++i)
    for (const auto& c : s.member(i).closed) EXPECT_EQ(c.signatures, 4U);
}

TEST(AgreementTest, AnEquivocatingLeaderForksNothingAndLeavesEvidence) {
  AgreementSim s(5, 0.8, 7);
  // Round 1's view-0 leader sends a different proposal (another timestamp) to members 0 and 1.
  const std::size_t liar = s.indexOf(s.member(0).agreement->leader(1, 0));
  s.tamper = [&](std::size_t from, std::size_t to, const PeerMessage& m) -> PeerMessage {
    const auto* p = std::get_if<Proposal>(&m);
    if (from != liar || p == nullptr || p->seq != 1 || p->view != 0 || to > 1) return m;
    Proposal q = *p;
    q.timestamp += 1;
    signProposal(q, *s.member(liar).key);
    return q;
  };
  s.start(1);
  s.runUntil(Ms(6000));
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
  EXPECT_GE(s.minClosed(all(s)), 3U);
  std::size_t evidence = 0;
  for (std::size_t i = 0; i < s.size(); ++i) evidence += s.member(i).evidence.size();
  EXPECT_GT(evidence, 0U) << "the two signed proposals reached someone";
}

// The lock rule at work. Round 1's plan A is certified in view 0 and run by all; member X gets
// every output at once and closes A, the others get them only 2 s later, so their view times
// out. View 1's leader lies: it proposes another plan B, votes for it and forges an output for
// it. The honest members, locked on A, must refuse B (voting for it would close B for them while
// X closed A); view 2's honest leader proposes A again, and everyone closes A.
TEST(AgreementTest, LockedMembersRefuseAnotherPlanFromALyingLeader) {
  AgreementSim s(5, 0.8, 9);
  const std::size_t liar = s.indexOf(s.member(0).agreement->leader(1, 1));
  std::size_t x = 0;
  while (x == liar) ++x;
  std::optional<Proposal> b;
  s.messageDelay = [&](std::size_t, std::size_t to, const PeerMessage& m) {
    const auto* o = std::get_if<Output>(&m);
    if (o != nullptr && o->seq == 1 && o->view == 0 && to != x) return Ms(2000);
    return Ms(5);
  };
  s.tamper = [&](std::size_t from, std::size_t, const PeerMessage& m) -> PeerMessage {
    if (from != liar) return m;
    const InstanceKey& key = *s.member(liar).key;
    if (const auto* p = std::get_if<Proposal>(&m); p != nullptr && p->seq == 1 && p->view == 1) {
      if (!b) {
        b = *p;
        b->timestamp += 5;
        signProposal(*b, key);
      }
      return *b;
    }
    if (const auto* v = std::get_if<Vote>(&m); v != nullptr && v->seq == 1 && v->view == 1 && b) {
      Vote f = *v;
      f.proposal = proposalHash(*b);
      signVote(f, key);
      return f;
    }
    if (const auto* o = std::get_if<Output>(&m); o != nullptr && o->seq == 1 && b) {
      Output f = *o;
      f.view = 1;
      f.plan = planHash(planOf(*b));
      core::Bytes r(f.plan.begin(), f.plan.end());
      r.push_back(0);
      f.stateHash = crypto::blake3(r);
      r.push_back(7);
      f.outputRoot = crypto::blake3(r);
      f.ledger = ledgerOf(f.stateHash, f.outputRoot);
      signOutput(f, key);
      return f;
    }
    return m;
  };
  s.start(1);
  s.runUntil(Ms(8000));
  ASSERT_TRUE(b.has_value()) << "view 1 was never reached: the scenario did not happen";
  ASSERT_FALSE(s.member(x).closed.empty());
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (i == liar) continue;
    ASSERT_FALSE(s.member(i).closed.empty()) << i;
    EXPECT_EQ(s.member(i).closed[0].plan, s.member(x).closed[0].plan) << i;
  }
}

// Round 1's view-0 leader sends member X another proposal (another timestamp) than the others,
// and X gets it before the others relay the first: X votes for it, the others certify and decide
// the first. X has the first too (relayed: kept as evidence), so it follows the certificate
// and closes the round with the others; it does not fall behind and have to sync. (It used to
// keep only the first proposal it got of a view, and then treated the decided one as one it
// lacked.)
TEST(AgreementTest, AMemberThatGotAnEquivocatingLeadersOtherProposalFollowsTheCertifiedOne) {
  AgreementSim s(5, 0.8, 7);
  const std::size_t liar = s.indexOf(s.member(0).agreement->leader(1, 0));
  const std::size_t x = liar == 0 ? 1 : 0;
  s.tamper = [&](std::size_t from, std::size_t to, const PeerMessage& m) -> PeerMessage {
    const auto* p = std::get_if<Proposal>(&m);
    if (from != liar || to != x || p == nullptr || p->seq != 1 || p->view != 0) return m;
    Proposal q = *p;
    q.timestamp += 1;
    signProposal(q, *s.member(liar).key);
    return q;
  };
  s.messageDelay = [&](std::size_t from, std::size_t to, const PeerMessage& m) {
    if (to == x && std::holds_alternative<Proposal>(m)) return from == liar ? Ms(1) : Ms(8);
    return Ms(5);
  };
  s.start(1);
  s.runUntil(Ms(1000));
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
  EXPECT_FALSE(s.member(x).evidence.empty()) << "X got both proposals";
  EXPECT_EQ(s.member(x).behind, 0U) << "X had to sync a round it could run";
  ASSERT_FALSE(s.member(x).closed.empty()) << "X closed nothing";
  EXPECT_GE(s.minClosed(all(s)), 10U);
  for (std::size_t i = 0; i < s.size(); ++i) {
    ASSERT_FALSE(s.member(i).closed.empty()) << i;
    EXPECT_EQ(s.member(i).closed[0].plan, s.member(x).closed[0].plan) << i;
  }
}

TEST(AgreementTest, MissingInputsAreFetchedBeforeTheVote) {
  AgreementSim s(3, 0.8, 8);
  s.start(2, [](std::size_t i, const Hash&) { return i == 2; });  // member 2 never has them first
  s.runUntil(Ms(1000));
  EXPECT_GE(s.minClosed(all(s)), 5U);
  std::string why;
  EXPECT_TRUE(s.agreeOnEveryLedger(&why)) << why;
}

// Random delays (1–150 ms), a member cut off now and then, and leaders that sign two proposals
// (another timestamp for odd receivers) in every third round: never two results for one ledger;
// once healed, the cluster goes on.
TEST(AgreementTest, RandomSchedulesNeverFork) {
  for (std::uint64_t seed = 10; seed < 30; ++seed) {
    AgreementSim s(5, 0.8, seed);
    std::mt19937_64 rng(seed);
    s.delay = [&](std::size_t, std::size_t) { return Ms(1 + static_cast<long>(rng() % 150)); };
    s.tamper = [&](std::size_t from, std::size_t to, const PeerMessage& m) -> PeerMessage {
      const auto* p = std::get_if<Proposal>(&m);
      if (p == nullptr || p->seq % 3 != 0 || to % 2 == 0 || p->leader != s.member(from).key->publicKey())
        return m;
      Proposal q = *p;
      q.timestamp += 1;
      signProposal(q, *s.member(from).key);
      return q;
    };
    std::set<std::size_t> cut;
    s.linked = [&](std::size_t a, std::size_t b) { return cut.count(a) == 0 && cut.count(b) == 0; };
    s.start(1 + seed % 3);
    for (int phase = 0; phase < 6; ++phase) {
      cut.clear();
      if (rng() % 2) cut.insert(rng() % 5);  // one member cut off (T = 4 of 5 stay)
      s.runUntil(s.now() + Ms(700));
    }
    cut.clear();
    for (std::size_t i = 0; i < s.size(); ++i)
      for (std::size_t j = 0; j < s.size(); ++j)
        if (i != j) s.member(i).agreement->peerConnected(s.member(j).key->publicKey());
    const auto before = s.minClosed({0, 1, 2, 3, 4});
    s.runUntil(s.now() + Ms(8000));
    std::string why;
    ASSERT_TRUE(s.agreeOnEveryLedger(&why)) << "seed " << seed << ": " << why;
    std::uint64_t most = 0;
    for (std::size_t i = 0; i < s.size(); ++i)
      most = std::max<std::uint64_t>(most, s.member(i).closed.size());
    EXPECT_GT(most, before) << "seed " << seed << ": no progress after healing";
  }
}

}  // namespace
}  // namespace sashimono::runtime::testing
