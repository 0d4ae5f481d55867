#pragma once
// Shared by the peer message tests (PeerMessageTest, PeerLedgerMessageTest): deterministic keys,
// one sample message of each type (the fuzz target's seeds), and round-trip helpers.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sashimono/crypto/Blake3.h"
#include "sashimono/runtime/OutputProof.h"
#include "sashimono/runtime/PeerMessage.h"

namespace sashimono::runtime::testing {

inline const std::string kContract = "3c349abe-4d70-4f50-9fa6-018f1f2530ab";

inline InstanceKey seedKey(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return InstanceKey::fromSeed(seed);
}

inline Hash hashOf(const std::string& s) { return crypto::blake3(core::asBytes(s)); }

// 0xED ‖ the index, big-endian, in the last bytes: ascending with i.
inline PubKey edKey(std::size_t i) {
  PubKey k{};
  k[0] = 0xED;
  for (std::size_t b = 0; b < 4; ++b) k[32 - b] = static_cast<std::uint8_t>(i >> (8 * b));
  return k;
}

inline Proposal proposal(const InstanceKey& leader, std::uint64_t seq = 7, std::uint32_t view = 1) {
  Proposal p;
  p.seq = seq;
  p.view = view;
  p.prev = hashOf("ledger 6");
  p.timestamp = 1700000000123;
  p.users = {edKey(1), edKey(2), edKey(300)};
  p.inputs = {hashOf("input b"), hashOf("input a")};
  signProposal(p, leader);
  return p;
}

inline Vote voteFor(const Proposal& p, std::uint32_t view, const InstanceKey& key) {
  Vote v;
  v.seq = p.seq;
  v.view = view;
  v.proposal = proposalHash(p);
  signVote(v, key);
  return v;
}

inline ViewChange viewChange(const InstanceKey& key, bool locked) {
  ViewChange v;
  v.seq = 7;
  v.view = 3;
  if (locked) {
    const Proposal p = proposal(seedKey(2));
    v.lock = ViewChangeLock{2, p, {voteFor(p, 2, seedKey(3)), voteFor(p, 2, seedKey(4))}};
  }
  signViewChange(v, key);
  return v;
}

// A consistent ledger 7 (on a made-up ledger 6): two inputs, two users' outputs, the root signed by
// the keys of seeds 1 and 2.
inline LedgerMessage sampleLedger() {
  LedgerMessage m;
  LedgerRecord& r = m.record;
  r.seqNo = 7;
  r.timestamp = 1700000000123;
  r.prevHash = hashOf("ledger 6");
  r.stateHash = hashOf("state");
  r.configHash = hashOf("patch.cfg");
  r.userHash = userSetHash({edKey(1), edKey(2)});
  m.inputs.push_back(LedgerInput{edKey(1), hashOf("sig a"), 5, 9, core::Bytes{'h', 'i'}});
  m.inputs.push_back(LedgerInput{edKey(2), hashOf("sig b"), 1, 7, core::Bytes{}});
  r.inputHash = hashList({m.inputs[0].hash, m.inputs[1].hash});
  m.outputs.push_back(LedgerOutput{edKey(1), {}, {core::Bytes{'o', 'k'}, core::Bytes{'"', 'x', '"'}}});
  m.outputs.push_back(LedgerOutput{edKey(2), {}, {core::Bytes{}}});
  for (auto& o : m.outputs) o.hash = userOutputHash(o.user, o.blobs);
  const OutputTree tree({m.outputs[0].hash, m.outputs[1].hash}, r.stateHash);
  r.outputHash = tree.root();
  sealLedger(r);
  for (std::uint8_t k : {1, 2}) {
    const InstanceKey key = seedKey(k);
    const core::Bytes sig = key.sign(tree.root());
    LedgerSignature s{key.publicKey(), {}};
    std::copy(sig.begin(), sig.end(), s.sig.begin());
    m.signatures.push_back(s);
  }
  return m;
}

// One message of each type (signed ones signed), in type order, named as their fuzz seeds.
inline std::vector<std::pair<std::string, PeerMessage>> samples() {
  const InstanceKey a = seedKey(1);
  std::vector<std::pair<std::string, PeerMessage>> out;
  Challenge challenge{};
  challenge.fill(0x5c);
  out.emplace_back("hello", Hello{kContract, a.publicKey(), challenge});
  out.emplace_back("hello_ack", signHelloAck(a, kContract, challenge, seedKey(2).publicKey()));
  const core::Bytes container = core::toBytes(hashOf("container"));
  out.emplace_back("input", PeerInput{Protocol::Bson, edKey(9), a.sign(container), container});
  out.emplace_back("input_request", InputRequest{{hashOf("x"), hashOf("y")}});
  out.emplace_back("proposal", proposal(a));
  out.emplace_back("vote", voteFor(proposal(a), 1, seedKey(3)));
  Output o{8, 2, hashOf("plan"), hashOf("state"), hashOf("root"), hashOf("ledger"), {}, {}, {}, {}};
  signOutput(o, a);
  out.emplace_back("output", o);
  out.emplace_back("view_change", viewChange(a, true));
  Npl n{6, core::Bytes{'h', 'i'}, {}, {}};
  signNpl(n, kContract, a);
  out.emplace_back("npl", n);
  out.emplace_back("status", Status{6, hashOf("ledger 6"), hashOf("state"), 12});
  out.emplace_back("ledger_request", LedgerRequest{7, 64});
  out.emplace_back("ledger", sampleLedger());
  out.emplace_back("state_request", StateRequest{3, core::Bytes{1, 1, 0, 1, '/', 0}});
  out.emplace_back("state_response", StateResponse{3, core::Bytes{1, 1, 0, 0, 0, 0, 0}});
  out.emplace_back("view_change-nolock", viewChange(a, false));
  out.emplace_back("input_request-empty", InputRequest{});
  LedgerMessage empty;  // genesis's successor with nothing in it, unsigned
  empty.record.seqNo = 1;
  sealLedger(empty.record);
  out.emplace_back("ledger-empty", empty);
  return out;
}

inline core::Result<PeerMessage> roundTrip(const PeerMessage& m) {
  return decodePeerMessage(encodePeerMessage(m));
}

// The decoding error of m's bytes (empty: it decoded).
inline std::string refusal(const PeerMessage& m) {
  auto r = roundTrip(m);
  return r.ok() ? std::string() : r.error().message;
}

inline bool startsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace sashimono::runtime::testing
