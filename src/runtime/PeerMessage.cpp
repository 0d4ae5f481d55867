#include "sashimono/runtime/PeerMessage.h"

#include <algorithm>
#include <utility>

#include "PeerCodec.h"
#include "sashimono/crypto/Blake3.h"
#include "sashimono/crypto/Keys.h"

namespace sashimono::runtime {

namespace {

using namespace peercodec;

constexpr std::size_t kVoteBodyBytes = 8 + 4 + kHashBytes + kKeyBytes + kSigBytes;

constexpr std::string_view kHelloDomain = "sashimono-peer-hello-v1";
constexpr std::string_view kProposalDomain = "sashimono-proposal-v1";
constexpr std::string_view kVoteDomain = "sashimono-vote-v1";
constexpr std::string_view kOutputDomain = "sashimono-output-v1";
constexpr std::string_view kLedgerDomain = "sashimono-ledger-v1";
constexpr std::string_view kViewChangeDomain = "sashimono-view-change-v1";
constexpr std::string_view kNplDomain = "sashimono-npl-v1";

struct TypeInfo {
  const char* name;
  std::size_t limit;
};
constexpr TypeInfo kTypes[] = {
    {"hello", 512},
    {"hello_ack", 128},
    {"input", (std::size_t{4} << 20) + 1024},
    {"input_request", std::size_t{40} << 10},
    {"proposal", std::size_t{1} << 20},
    {"vote", 256},
    {"output", 512},
    {"view_change", std::size_t{3} << 19},
    {"npl", std::size_t{129} << 10},
    {"status", 256},
    {"ledger_request", 64},
    {"ledger", kMaxLedgerMessageBytes},
    {"state_request", kMaxStateRequestBytes + 1024},
    {"state_response", kMaxStateResponseBytes + 1024},
};
constexpr std::size_t kTypeCount = std::size(kTypes);
static_assert(kTypeCount == std::variant_size_v<PeerMessage>);
static_assert(kTypeCount == kPeerTypeCount);

core::Status checkProposal(const char* msg, const Proposal& p, const std::string& pre) {
  SASHI_TRY(checkLength(msg, pre + "users", "count", p.users.size(), kMaxProposalUsers));
  SASHI_TRY(checkLength(msg, pre + "inputs", "count", p.inputs.size(), kMaxProposalInputs));
  for (std::size_t i = 0; i < p.users.size(); ++i) {
    if (p.users[i][0] != kEd25519Prefix)
      return checkKey(msg, p.users[i], pre + "users[" + std::to_string(i) + "]");
    if (i > 0 && p.users[i - 1] == p.users[i]) return bad(msg, pre + "users not distinct");
    if (i > 0 && p.users[i] < p.users[i - 1]) return bad(msg, pre + "users not sorted");
  }
  std::vector<Hash> inputs = p.inputs;
  std::sort(inputs.begin(), inputs.end());
  if (std::adjacent_find(inputs.begin(), inputs.end()) != inputs.end())
    return bad(msg, pre + "inputs not distinct");
  return checkKey(msg, p.leader, pre + "leader");
}

core::Status checkBody(const Hello& m) {
  SASHI_TRY(checkLength("hello", "contract_id", "length", m.contractId.size(), kMaxContractIdBytes));
  return checkKey("hello", m.key, "key");
}
core::Status checkBody(const HelloAck&) { return {}; }
core::Status checkBody(const PeerInput& m) {
  if (m.protocol != Protocol::Json && m.protocol != Protocol::Bson)
    return bad("input", "protocol " + std::to_string(static_cast<int>(m.protocol)) +
                            " is neither 0 (JSON) nor 1 (BSON)");
  SASHI_TRY(checkKey("input", m.user, "user"));
  SASHI_TRY(checkLength("input", "sig", "length", m.sig.size(), kMaxInputSigBytes));
  return checkLength("input", "container", "length", m.container.size(), kMaxInputContainerBytes);
}
core::Status checkBody(const InputRequest& m) {
  return checkLength("input_request", "inputs", "count", m.inputs.size(), kMaxRequestedInputs);
}
core::Status checkBody(const Proposal& m) { return checkProposal("proposal", m, ""); }
core::Status checkBody(const Vote& m) { return checkKey("vote", m.voter, "voter"); }
core::Status checkBody(const Output& m) { return checkKey("output", m.member, "member"); }
core::Status checkBody(const ViewChange& m) {
  if (m.lock) {
    SASHI_TRY(checkProposal("view_change", m.lock->proposal, "lock.proposal."));
    SASHI_TRY(checkLength("view_change", "lock.votes", "count", m.lock->votes.size(), kMaxLockVotes));
    for (std::size_t i = 0; i < m.lock->votes.size(); ++i) {
      if (m.lock->votes[i].voter[0] != kEd25519Prefix)
        return checkKey("view_change", m.lock->votes[i].voter, "lock.votes[" + std::to_string(i) + "].voter");
    }
  }
  return checkKey("view_change", m.member, "member");
}
core::Status checkBody(const Npl& m) {
  SASHI_TRY(checkLength("npl", "data", "length", m.data.size(), kMaxNplDataBytes));
  return checkKey("npl", m.sender, "sender");
}
core::Status checkBody(const Status&) { return {}; }
core::Status checkBody(const StateRequest& m) {
  return checkLength("state_request", "request", "length", m.request.size(), kMaxStateRequestBytes);
}
core::Status checkBody(const StateResponse& m) {
  return checkLength("state_response", "response", "length", m.response.size(), kMaxStateResponseBytes);
}

template <typename IO>
void fields(IO& io, Ref<IO, Hello> m) {
  io.bytes(m.contractId, "contract_id", kMaxContractIdBytes);
  io.fixed(m.key, "key");
  io.fixed(m.challenge, "challenge");
}

template <typename IO>
void fields(IO& io, Ref<IO, HelloAck> m) {
  io.fixed(m.sig, "sig");
}

template <typename IO>
void fields(IO& io, Ref<IO, PeerInput> m) {
  std::uint8_t protocol = static_cast<std::uint8_t>(m.protocol);
  io.u8(protocol, "protocol");
  if constexpr (!IO::kWrites) {
    if (protocol > 1) io.fail("protocol " + std::to_string(protocol) + " is neither 0 (JSON) nor 1 (BSON)");
    m.protocol = protocol == 1 ? Protocol::Bson : Protocol::Json;
  }
  io.fixed(m.user, "user");
  io.bytes(m.sig, "sig", kMaxInputSigBytes);
  io.bytes(m.container, "container", kMaxInputContainerBytes);
}

template <typename IO>
void fields(IO& io, Ref<IO, InputRequest> m) {
  list<IO, Hash>(io, m.inputs, "inputs", kMaxRequestedInputs);
}

// The proposal body up to and including the leader key: what its signature and hash cover.
template <typename IO>
void proposalSigned(IO& io, Ref<IO, Proposal> m) {
  io.u64(m.seq, "seq");
  io.u32(m.view, "view");
  io.fixed(m.prev, "prev");
  io.u64(m.timestamp, "timestamp");
  list<IO, PubKey>(io, m.users, "users", kMaxProposalUsers);
  list<IO, Hash>(io, m.inputs, "inputs", kMaxProposalInputs);
  io.fixed(m.leader, "leader");
}

template <typename IO>
void fields(IO& io, Ref<IO, Proposal> m) {
  proposalSigned<IO>(io, m);
  io.fixed(m.sig, "sig");
}

template <typename IO>
void fields(IO& io, Ref<IO, Vote> m) {
  io.u64(m.seq, "seq");
  io.u32(m.view, "view");
  io.fixed(m.proposal, "proposal");
  io.fixed(m.voter, "voter");
  io.fixed(m.sig, "sig");
}

template <typename IO>
void fields(IO& io, Ref<IO, Output> m) {
  io.u64(m.seq, "seq");
  io.u32(m.view, "view");
  io.fixed(m.plan, "plan");
  io.fixed(m.stateHash, "state_hash");
  io.fixed(m.outputRoot, "output_root");
  io.fixed(m.ledger, "ledger");
  io.fixed(m.member, "member");
  io.fixed(m.rootSig, "root_sig");
  io.fixed(m.ledgerSig, "ledger_sig");
  io.fixed(m.sig, "sig");
}

template <typename IO>
void fields(IO& io, Ref<IO, ViewChangeLock> m) {
  io.u32(m.lockView, "lock_view");
  io.scope("lock.proposal");
  fields<IO>(io, m.proposal);
  io.scope(nullptr);
  std::size_t n = m.votes.size();
  io.count(n, "lock.votes", kMaxLockVotes, kVoteBodyBytes);
  if constexpr (!IO::kWrites) m.votes.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    io.scope("lock.votes", i);
    fields<IO>(io, m.votes[i]);
  }
  io.scope(nullptr);
}

template <typename IO>
void fields(IO& io, Ref<IO, ViewChange> m) {
  io.u64(m.seq, "seq");
  io.u32(m.view, "view");
  std::uint8_t flag = m.lock ? 1 : 0;
  io.u8(flag, "lock");
  if constexpr (IO::kWrites) {
    if (m.lock) fields<IO>(io, *m.lock);
  } else {
    if (flag > 1) io.fail("lock flag " + std::to_string(flag) + " is neither 0 nor 1");
    if (flag == 1 && io.ok()) fields<IO>(io, m.lock.emplace());
  }
  io.fixed(m.member, "member");
  io.fixed(m.sig, "sig");
}

template <typename IO>
void fields(IO& io, Ref<IO, Npl> m) {
  io.u64(m.lclSeq, "lcl_seq");
  io.bytes(m.data, "data", kMaxNplDataBytes);
  io.fixed(m.sender, "sender");
  io.fixed(m.sig, "sig");
}

template <typename IO>
void fields(IO& io, Ref<IO, Status> m) {
  io.u64(m.lclSeq, "lcl_seq");
  io.fixed(m.lclHash, "lcl_hash");
  io.fixed(m.stateHash, "state_hash");
  io.u32(m.pending, "pending");
}

// ledger_request and ledger: PeerLedgerMessage.cpp.
template <typename IO>
void fields(IO& io, Ref<IO, LedgerRequest> m) {
  peercodec::fields(io, m);
}

template <typename IO>
void fields(IO& io, Ref<IO, LedgerMessage> m) {
  peercodec::fields(io, m);
}

template <typename IO>
void fields(IO& io, Ref<IO, StateRequest> m) {
  io.u32(m.id, "id");
  io.bytes(m.request, "request", kMaxStateRequestBytes);
}

template <typename IO>
void fields(IO& io, Ref<IO, StateResponse> m) {
  io.u32(m.id, "id");
  io.bytes(m.response, "response", kMaxStateResponseBytes);
}

// A default-constructed message of alternative `index`.
template <std::size_t... I>
PeerMessage emptyMessage(std::size_t index, std::index_sequence<I...>) {
  PeerMessage m;
  ((index == I ? static_cast<void>(m.emplace<I>()) : static_cast<void>(0)), ...);
  return m;
}

// --- signatures ---

Hash digestOf(std::string_view domain, const Writer& w) {
  return crypto::blake3({core::asBytes(domain), core::ByteView(w.view())});
}

Sig signHash(const InstanceKey& key, core::ByteView message) {
  const core::Bytes s = key.sign(message);
  Sig sig{};
  if (s.size() == sig.size()) std::copy(s.begin(), s.end(), sig.begin());
  return sig;
}

bool verifySig(const PubKey& key, core::ByteView message, const Sig& sig) {
  return key[0] == kEd25519Prefix && crypto::verify(key, message, sig).ok();
}

}  // namespace

const char* peerTypeName(PeerType t) {
  const auto i = static_cast<std::size_t>(t);
  return i >= 1 && i <= kTypeCount ? kTypes[i - 1].name : "unknown";
}

std::size_t peerSizeLimit(PeerType t) {
  const auto i = static_cast<std::size_t>(t);
  return i >= 1 && i <= kTypeCount ? kTypes[i - 1].limit : 0;
}

PeerType peerTypeOf(const PeerMessage& m) { return static_cast<PeerType>(m.index() + 1); }

core::Status checkPeerMessage(const PeerMessage& m) {
  return std::visit([](const auto& body) { return checkBody(body); }, m);
}

core::Bytes encodePeerMessage(const PeerMessage& m) {
  Writer w;
  w.u8(kPeerVersion, "version");
  w.u8(static_cast<std::uint8_t>(peerTypeOf(m)), "type");
  std::visit([&w](const auto& body) { fields<Writer>(w, body); }, m);
  return w.take();
}

core::Result<PeerMessage> decodePeerMessage(core::ByteView in) {
  if (in.size() < 2)
    return core::Error(std::string("peer message: truncated at ") + (in.empty() ? "version" : "type") +
                       " (byte " + std::to_string(in.size()) + ")");
  if (in[0] != kPeerVersion) return core::Error("peer message: unknown version " + std::to_string(in[0]));
  if (in[1] < 1 || in[1] > kTypeCount)
    return core::Error("peer message: unknown type " + std::to_string(in[1]));
  const auto type = static_cast<PeerType>(in[1]);
  const char* name = peerTypeName(type);
  if (in.size() > peerSizeLimit(type))
    return bad(name, std::to_string(in.size()) + " bytes, over the size limit of " +
                         std::to_string(peerSizeLimit(type)));
  Reader r(in, 2);
  PeerMessage m = emptyMessage(in[1] - 1u, std::make_index_sequence<kTypeCount>());
  std::visit([&r](auto& body) { fields<Reader>(r, body); }, m);
  if (r.ok() && !r.atEnd()) r.fail("trailing bytes at byte " + std::to_string(r.pos()));
  if (!r.ok()) return bad(name, r.error());
  SASHI_TRY(checkPeerMessage(m));
  return m;
}

Hash helloDigest(std::string_view contractId, const Challenge& challenge, const PubKey& signer,
                 const PubKey& receiver) {
  Writer w;
  w.bytes(contractId, "contract_id", kMaxContractIdBytes);
  w.raw(challenge);
  w.raw(signer);
  w.raw(receiver);
  return digestOf(kHelloDomain, w);
}

Hash proposalHash(const Proposal& p) {
  Writer w;
  proposalSigned<Writer>(w, p);
  return digestOf(kProposalDomain, w);
}

Hash voteDigest(std::uint64_t seq, std::uint32_t view, const Hash& proposalHash) {
  Writer w;
  w.be(seq, 8);
  w.be(view, 4);
  w.raw(proposalHash);
  return digestOf(kVoteDomain, w);
}

Hash outputDigest(std::uint64_t seq, std::uint32_t view, const Hash& planHash, const Hash& stateHash,
                  const Hash& outputRoot, const Hash& ledger) {
  Writer w;
  w.be(seq, 8);
  w.be(view, 4);
  w.raw(planHash);
  w.raw(stateHash);
  w.raw(outputRoot);
  w.raw(ledger);
  return digestOf(kOutputDomain, w);
}

Hash ledgerDigest(const Hash& ledger) {
  Writer w;
  w.raw(ledger);
  return digestOf(kLedgerDomain, w);
}

Hash viewChangeDigest(const ViewChange& v) {
  Writer w;
  w.be(v.seq, 8);
  w.be(v.view, 4);
  w.be(v.lock ? 1 : 0, 1);
  if (v.lock) {
    w.be(v.lock->lockView, 4);
    w.raw(proposalHash(v.lock->proposal));
  }
  return digestOf(kViewChangeDomain, w);
}

Hash nplDigest(std::string_view contractId, std::uint64_t lclSeq, core::ByteView data) {
  Writer w;
  w.bytes(contractId, "contract_id", kMaxContractIdBytes);
  w.be(lclSeq, 8);
  return crypto::blake3({core::asBytes(kNplDomain), core::ByteView(w.view()), data});
}

HelloAck signHelloAck(const InstanceKey& key, std::string_view contractId, const Challenge& theirChallenge,
                      const PubKey& receiver) {
  return HelloAck{signHash(key, helloDigest(contractId, theirChallenge, key.publicKey(), receiver))};
}

void signProposal(Proposal& p, const InstanceKey& key) {
  p.leader = key.publicKey();
  p.sig = signHash(key, proposalHash(p));
}

void signVote(Vote& v, const InstanceKey& key) {
  v.voter = key.publicKey();
  v.sig = signHash(key, voteDigest(v.seq, v.view, v.proposal));
}

void signOutput(Output& o, const InstanceKey& key) {
  signOutputResult(o, key);
  signOutputView(o, key);
}

void signOutputResult(Output& o, const InstanceKey& key) {
  o.member = key.publicKey();
  o.rootSig = signHash(key, o.outputRoot);
  o.ledgerSig = signHash(key, ledgerDigest(o.ledger));
}

void signOutputView(Output& o, const InstanceKey& key) {
  o.member = key.publicKey();
  o.sig = signHash(key, outputDigest(o.seq, o.view, o.plan, o.stateHash, o.outputRoot, o.ledger));
}

void signViewChange(ViewChange& v, const InstanceKey& key) {
  v.member = key.publicKey();
  v.sig = signHash(key, viewChangeDigest(v));
}

void signNpl(Npl& n, std::string_view contractId, const InstanceKey& key) {
  n.sender = key.publicKey();
  n.sig = signHash(key, nplDigest(contractId, n.lclSeq, n.data));
}

bool verifyHelloAck(const HelloAck& a, std::string_view contractId, const Challenge& myChallenge,
                    const PubKey& signer, const PubKey& receiver) {
  return verifySig(signer, helloDigest(contractId, myChallenge, signer, receiver), a.sig);
}

bool verifyProposal(const Proposal& p) { return verifySig(p.leader, proposalHash(p), p.sig); }

bool verifyVote(const Vote& v) { return verifySig(v.voter, voteDigest(v.seq, v.view, v.proposal), v.sig); }

bool verifyOutput(const Output& o) {
  return verifySig(o.member, o.outputRoot, o.rootSig) &&
         verifySig(o.member, ledgerDigest(o.ledger), o.ledgerSig) &&
         verifySig(o.member, outputDigest(o.seq, o.view, o.plan, o.stateHash, o.outputRoot, o.ledger), o.sig);
}

bool verifyViewChange(const ViewChange& v) { return verifySig(v.member, viewChangeDigest(v), v.sig); }

bool verifyNpl(const Npl& n, std::string_view contractId) {
  return verifySig(n.sender, nplDigest(contractId, n.lclSeq, n.data), n.sig);
}

bool verifyCertificate(const Proposal& p, std::uint32_t view, const std::vector<Vote>& votes,
                       const std::vector<PubKey>& unl, std::size_t threshold) {
  if (threshold == 0) return false;
  const Hash h = proposalHash(p);
  std::vector<PubKey> counted;
  for (const Vote& v : votes) {
    if (v.seq != p.seq || v.view != view || v.proposal != h) continue;
    if (std::find(unl.begin(), unl.end(), v.voter) == unl.end()) continue;
    if (std::find(counted.begin(), counted.end(), v.voter) != counted.end()) continue;
    if (!verifyVote(v)) continue;
    counted.push_back(v.voter);
    if (counted.size() >= threshold) return true;
  }
  return false;
}

}  // namespace sashimono::runtime
