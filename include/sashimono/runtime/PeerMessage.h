#pragma once
// The peer protocol's messages (version 1, docs/CLUSTER.md "Handshake" and "Encoding") as
// values and bytes, and the signatures they carry. Layout (integers big-endian):
//
//   message  version(1)=1 ‖ type(1) ‖ body
//   key      33 bytes, 0xED ‖ ed25519 public key (any other first byte is an error)
//   hash     32 bytes (BLAKE3), sig 64 bytes (ed25519)
//   bytes(m) len(4) ‖ len bytes, len ≤ m          list<T>(m) count(4) ‖ count × T, count ≤ m
//
//   type  name           body                                                        size limit
//    1    hello          contract_id bytes(128) ‖ key ‖ challenge(32)                      512 B
//    2    hello_ack      sig                                                               128 B
//    3    input          protocol(1: 0 JSON, 1 BSON) ‖ user key ‖ sig bytes(64) ‖
//                        container bytes(4 MiB)                                    4 MiB + 1 KiB
//    4    input_request  list<hash>(1024)                                               40 KiB
//    5    proposal       seq(8) ‖ view(4) ‖ prev hash ‖ timestamp(8) ‖ users list<key>(10000) ‖
//                        inputs list<hash>(10000) ‖ leader key ‖ sig                      1 MiB
//    6    vote           seq(8) ‖ view(4) ‖ proposal hash ‖ voter key ‖ sig                256 B
//    7    output         seq(8) ‖ view(4) ‖ plan hash ‖ state hash ‖ output root ‖ ledger hash ‖
//                        member key ‖ root_sig ‖ ledger_sig ‖ sig                         512 B
//    8    view_change    seq(8) ‖ view(4) ‖ lock ‖ member key ‖ sig                      1.5 MiB
//                        lock = 0(1) | 1(1) ‖ lock_view(4) ‖ proposal body ‖ list<vote body>(1024)
//    9    npl            lcl_seq(8) ‖ data bytes(128 KiB) ‖ sender key ‖ sig             129 KiB
//   10    status         lcl_seq(8) ‖ lcl hash ‖ state hash ‖ pending(4)                   256 B
//   11    ledger_request from_seq(8) ‖ count(4)                                             64 B
//   12    ledger         record ‖ inputs ‖ outputs ‖ signatures                          16 MiB
//                        (PeerLedgerMessage.h)
//   13    state_request  id(4) ‖ request bytes(8 KiB)                                      9 KiB
//   14    state_response id(4) ‖ response bytes(2 MiB)                                 2 MiB + 1 KiB
//
// Decoding refuses a message over its type's size limit (checked first, on the whole message), an
// unknown version or type, a length or count over its maximum, a short message, trailing bytes, a
// key not starting with 0xED, an input protocol other than 0/1, a lock flag other than 0/1, a
// proposal (also one inside a lock) whose users are not strictly ascending or whose inputs are
// not distinct, and the ledger sync messages' rules (PeerLedgerMessage.h). Errors name the
// message type and the field: "vote: truncated at sig (byte 79)", "proposal: users not sorted",
// "view_change: lock.votes: count 1025 over the maximum 1024"; errors before the type is known
// start with "peer message: ". A message of the largest allowed fields is below its type's size
// limit (a ledger excepted, whose whole size checkPeerMessage checks), so the limits never refuse
// what checkPeerMessage allows. The encoding is canonical: a message that decodes encodes back to
// the same bytes.
//
// Signatures (docs/CLUSTER.md): a `sig` is the ed25519 signature of a 32-byte digest, BLAKE3 of
// a byte string starting with its kind's domain string (ASCII, no terminator):
//   hello_ack    "sashimono-peer-hello-v1" ‖ u32 len(contract_id) ‖ contract_id ‖ challenge ‖
//                signer key ‖ receiver key            (challenge: the one the receiver sent)
//   proposal     "sashimono-proposal-v1" ‖ body up to and including the leader key; this digest
//                is also the proposal hash that votes and view changes name
//   vote         "sashimono-vote-v1" ‖ u64 seq ‖ u32 view ‖ proposal hash
//   output       "sashimono-output-v1" ‖ u64 seq ‖ u32 view ‖ plan hash ‖ state hash ‖ output root ‖
//                ledger hash (the plan hash: Agreement.h's planHash, the same for a plan
//                re-proposed later); root_sig is the plain signature of the 32 root bytes (what
//                hotpocket-js-client checks), not of a digest; ledger_sig is over
//                "sashimono-ledger-v1" ‖ ledger hash (what the ledger store keeps, and what a
//                member syncing the ledger checks)
//   view_change  "sashimono-view-change-v1" ‖ u64 seq ‖ u32 view ‖ (u8 0 | u8 1 ‖ u32 lock_view ‖
//                hash of the lock's proposal)
//   npl          "sashimono-npl-v1" ‖ u32 len(contract_id) ‖ contract_id ‖ u64 lcl_seq ‖ data
// input carries the user's own signature (checked by the round engine), status none.
// The verify functions refuse a key that does not start with 0xED.
//
// Pure functions, thread-safe (signing uses only the given InstanceKey, itself immutable).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/runtime/Codec.h"
#include "sashimono/runtime/Consensus.h"
#include "sashimono/runtime/InstanceKey.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/PeerLedgerMessage.h"

namespace sashimono::runtime {

inline constexpr std::uint8_t kPeerVersion = 1;
inline constexpr std::size_t kMaxContractIdBytes = 128;
inline constexpr std::size_t kMaxInputSigBytes = 64;
inline constexpr std::size_t kMaxInputContainerBytes = std::size_t{4} << 20;
inline constexpr std::size_t kMaxRequestedInputs = 1024;
inline constexpr std::size_t kMaxProposalUsers = 10000;
inline constexpr std::size_t kMaxProposalInputs = 10000;
inline constexpr std::size_t kMaxLockVotes = 1024;
inline constexpr std::size_t kMaxNplDataBytes = std::size_t{128} << 10;

using Challenge = std::array<std::uint8_t, 32>;

enum class PeerType : std::uint8_t {
  hello = 1,
  helloAck = 2,
  input = 3,
  inputRequest = 4,
  proposal = 5,
  vote = 6,
  output = 7,
  viewChange = 8,
  npl = 9,
  status = 10,
  ledgerRequest = 11,
  ledger = 12,
  stateRequest = 13,
  stateResponse = 14,
};
inline constexpr std::size_t kPeerTypeCount = 14;
// The names of docs/CLUSTER.md: "hello", "hello_ack", "input", …, "status", "ledger_request",
// "ledger".
const char* peerTypeName(PeerType t);
// The whole message's size limit in bytes (version and type included).
std::size_t peerSizeLimit(PeerType t);

struct Hello {
  std::string contractId;  // at most kMaxContractIdBytes
  PubKey key{};
  Challenge challenge{};
  bool operator==(const Hello&) const = default;
};

struct HelloAck {
  Sig sig{};  // over helloDigest(contract id, the receiver's challenge, signer, receiver)
  bool operator==(const HelloAck&) const = default;
};

struct PeerInput {
  Protocol protocol = Protocol::Json;
  PubKey user{};
  core::Bytes sig;        // the user's signature over container, at most kMaxInputSigBytes
  core::Bytes container;  // the exact signed contract_input bytes, at most kMaxInputContainerBytes
  bool operator==(const PeerInput&) const = default;
};

struct InputRequest {
  std::vector<Hash> inputs;  // H(sig) of inputs the sender lacks, at most kMaxRequestedInputs
  bool operator==(const InputRequest&) const = default;
};

struct Proposal {
  std::uint64_t seq = 0;
  std::uint32_t view = 0;
  Hash prev{};
  std::uint64_t timestamp = 0;  // ms
  std::vector<PubKey> users;    // strictly ascending, at most kMaxProposalUsers
  std::vector<Hash> inputs;     // execution order, distinct, at most kMaxProposalInputs
  PubKey leader{};
  Sig sig{};
  bool operator==(const Proposal&) const = default;
};

struct Vote {
  std::uint64_t seq = 0;
  std::uint32_t view = 0;
  Hash proposal{};  // the proposal hash
  PubKey voter{};
  Sig sig{};
  bool operator==(const Vote&) const = default;
};

struct Output {
  std::uint64_t seq = 0;
  std::uint32_t view = 0;  // of the certificate the member executed on
  Hash plan{};             // the plan hash (Agreement.h)
  Hash stateHash{};
  Hash outputRoot{};
  Hash ledger{};  // the hash of the ledger the result closes (Ledger.h)
  PubKey member{};
  Sig rootSig{};    // plain signature of the 32 bytes of outputRoot
  Sig ledgerSig{};  // over ledgerDigest(ledger): what a member syncing the ledger later checks
  Sig sig{};
  bool operator==(const Output&) const = default;
};

struct ViewChangeLock {
  std::uint32_t lockView = 0;
  Proposal proposal;
  std::vector<Vote> votes;  // the certificate, at most kMaxLockVotes
  bool operator==(const ViewChangeLock&) const = default;
};

struct ViewChange {
  std::uint64_t seq = 0;
  std::uint32_t view = 0;  // the view the member moves to
  std::optional<ViewChangeLock> lock;
  PubKey member{};
  Sig sig{};
  bool operator==(const ViewChange&) const = default;
};

struct Npl {
  std::uint64_t lclSeq = 0;
  core::Bytes data;  // at most kMaxNplDataBytes
  PubKey sender{};
  Sig sig{};
  bool operator==(const Npl&) const = default;
};

struct Status {
  std::uint64_t lclSeq = 0;
  Hash lclHash{};
  Hash stateHash{};
  std::uint32_t pending = 0;
  bool operator==(const Status&) const = default;
};

// State sync (docs/CLUSTER.md, "Sync: state"): a statefs sync request (SyncMessage.h) and the
// answer to the request with the same id; the bytes are statefs's, checked by statefs.
inline constexpr std::size_t kMaxStateRequestBytes = std::size_t{8} << 10;
inline constexpr std::size_t kMaxStateResponseBytes = std::size_t{2} << 20;

struct StateRequest {
  std::uint32_t id = 0;
  core::Bytes request;  // at most kMaxStateRequestBytes
  bool operator==(const StateRequest&) const = default;
};

struct StateResponse {
  std::uint32_t id = 0;
  core::Bytes response;  // at most kMaxStateResponseBytes
  bool operator==(const StateResponse&) const = default;
};

// In type order: the alternative at index i is type i + 1.
using PeerMessage = std::variant<Hello, HelloAck, PeerInput, InputRequest, Proposal, Vote, Output, ViewChange,
                                 Npl, Status, LedgerRequest, LedgerMessage, StateRequest, StateResponse>;

PeerType peerTypeOf(const PeerMessage& m);

// The field rules decoding enforces (lengths, counts, key prefixes, protocol, sorted users,
// distinct inputs), for a sender to check what it built; errors are worded as decoding's.
[[nodiscard]] core::Status checkPeerMessage(const PeerMessage& m);
// Precondition: checkPeerMessage(m) succeeds (otherwise the peer refuses the bytes).
core::Bytes encodePeerMessage(const PeerMessage& m);
[[nodiscard]] core::Result<PeerMessage> decodePeerMessage(core::ByteView in);

// A user's input as members relay it (`input`), and back: fromPeerInput checks the user's
// signature over the container and parses it with its protocol, giving the RoundInput the round
// engine made from the user's own message (hash = H(sig)); "bad_sig" or "bad_msg_format"
// otherwise. Whether the input is still valid on the last ledger (nonce, max ledger) is the
// round engine's to decide, as for its own users' inputs.
PeerInput toPeerInput(const RoundInput& in);
[[nodiscard]] core::Result<RoundInput> fromPeerInput(const PeerInput& p, const ParseLimits& limits = {});

// Digests (the BLAKE3 hashes that are signed).
Hash helloDigest(std::string_view contractId, const Challenge& challenge, const PubKey& signer,
                 const PubKey& receiver);
Hash proposalHash(const Proposal& p);
Hash voteDigest(std::uint64_t seq, std::uint32_t view, const Hash& proposalHash);
Hash outputDigest(std::uint64_t seq, std::uint32_t view, const Hash& planHash, const Hash& stateHash,
                  const Hash& outputRoot, const Hash& ledger);
// BLAKE3("sashimono-ledger-v1" ‖ ledger hash): a member's signature over it says that the ledger,
// all of it (Ledger.h's hash covers the record, the chain and the inputs' and outputs' hashes),
// is the one it closed.
Hash ledgerDigest(const Hash& ledger);
Hash viewChangeDigest(const ViewChange& v);
Hash nplDigest(std::string_view contractId, std::uint64_t lclSeq, core::ByteView data);

// Signing: each fills the signer's key field (leader, voter, member, sender) with
// key.publicKey() and the signature(s) from the other fields.
HelloAck signHelloAck(const InstanceKey& key, std::string_view contractId, const Challenge& theirChallenge,
                      const PubKey& receiver);
void signProposal(Proposal& p, const InstanceKey& key);
void signVote(Vote& v, const InstanceKey& key);
void signOutput(Output& o, const InstanceKey& key);  // rootSig, ledgerSig and sig
// The two halves of signOutput: rootSig and ledgerSig (they do not depend on the view, so a
// result is signed once), then sig.
void signOutputResult(Output& o, const InstanceKey& key);
void signOutputView(Output& o, const InstanceKey& key);
void signViewChange(ViewChange& v, const InstanceKey& key);
void signNpl(Npl& n, std::string_view contractId, const InstanceKey& key);

// Verification against the key the message names (hello_ack: the signer's, from its hello).
[[nodiscard]] bool verifyHelloAck(const HelloAck& a, std::string_view contractId,
                                  const Challenge& myChallenge, const PubKey& signer, const PubKey& receiver);
[[nodiscard]] bool verifyProposal(const Proposal& p);
[[nodiscard]] bool verifyVote(const Vote& v);
[[nodiscard]] bool verifyOutput(const Output& o);  // rootSig, ledgerSig and sig
// The member's signature only; a lock's certificate is checked with verifyCertificate.
[[nodiscard]] bool verifyViewChange(const ViewChange& v);
[[nodiscard]] bool verifyNpl(const Npl& n, std::string_view contractId);

// True when at least `threshold` (≥ 1) distinct members of `unl` each sent a valid vote for
// (p.seq, view, proposalHash(p)). Votes of others, for another seq/view/proposal, with a bad
// signature, or repeating a counted voter are ignored. `view` is the view the votes were cast
// in (a proposal carried over to a later view keeps its own view field). p.sig is not checked.
[[nodiscard]] bool verifyCertificate(const Proposal& p, std::uint32_t view, const std::vector<Vote>& votes,
                                     const std::vector<PubKey>& unl, std::size_t threshold);

}  // namespace sashimono::runtime
