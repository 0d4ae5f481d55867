#pragma once
// The peer protocol's ledger sync messages (docs/CLUSTER.md, "Sync: ledgers"), types 11 and 12
// of PeerMessage (PeerMessage.h carries them; encoding and decoding are PeerMessage.h's
// encodePeerMessage / decodePeerMessage). Layout (integers big-endian, as in PeerMessage.h):
//
//   type  name            body                                                       size limit
//   11    ledger_request  from_seq(8) ‖ count(4)                                           64 B
//   12    ledger          record ‖ inputs list<input>(10000) ‖ outputs list<output>(20000) ‖
//                         signatures list<key ‖ ledger_sig ‖ root_sig>(64)               16 MiB
//         record  seq(8) ‖ timestamp(8) ‖ prev_hash ‖ state_hash ‖ config_hash ‖ user_hash ‖
//                 input_hash ‖ output_hash ‖ hash
//         input   user key ‖ hash ‖ nonce(8) ‖ max_ledger(8) ‖ blob bytes(4 MiB)
//         output  user key ‖ hash ‖ blobs list<bytes(16 MiB)>(1048576)
//
// Rules decoding (and checkPeerMessage) enforce besides lengths and counts: ledger_request's
// count is 1..64 and from_seq at least 1 (the genesis ledger is never sent); a ledger's keys
// start with 0xED, its outputs are by user strictly ascending, each with at least one blob, and
// the whole message is at most 16 MiB (a ledger whose fields are each within bounds may still be
// too large to send: checkPeerMessage refuses it, so the size limit never refuses what it
// allows). What the fields mean and whether they are true is LedgerSync's to check.
//
// Plain values; thread-safe functions.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/Ledger.h"

namespace sashimono::runtime {

inline constexpr std::uint32_t kMaxLedgerRequestCount = 64;
inline constexpr std::size_t kMaxLedgerInputs = 10000;                         // a proposal's
inline constexpr std::size_t kMaxLedgerInputBlobBytes = std::size_t{4} << 20;  // an input's container
inline constexpr std::size_t kMaxLedgerOutputUsers = 20000;                    // a proposal's users + inputs
inline constexpr std::size_t kMaxLedgerOutputBlobs = std::size_t{1} << 20;     // per user
inline constexpr std::size_t kMaxLedgerMessageBytes = std::size_t{16} << 20;   // the whole message
inline constexpr std::size_t kMaxLedgerOutputBlobBytes = kMaxLedgerMessageBytes;  // bounded by the whole
inline constexpr std::size_t kMaxLedgerSignatures = 64;

// Asks for the ledgers from_seq .. from_seq + count - 1 (count 1..kMaxLedgerRequestCount).
struct LedgerRequest {
  std::uint64_t fromSeq = 0;
  std::uint32_t count = 0;
  bool operator==(const LedgerRequest&) const = default;
};

// A member's signatures of a ledger: `sig` its ledger_sig over ledgerDigest(hash), `rootSig` its
// root_sig over the output root (what users' output proofs carry; all zeros when not kept).
struct LedgerSignature {
  PubKey key{};
  Sig sig{};
  Sig rootSig{};
  bool operator==(const LedgerSignature&) const = default;
};

// One closed ledger as its LedgerStore holds it, with the signatures that closed it.
struct LedgerMessage {
  LedgerRecord record;
  std::vector<LedgerInput> inputs;          // in execution order, at most kMaxLedgerInputs
  std::vector<LedgerOutput> outputs;        // by user ascending, at most kMaxLedgerOutputUsers
  std::vector<LedgerSignature> signatures;  // at most kMaxLedgerSignatures
  bool operator==(const LedgerMessage&) const = default;
};

// The size of the whole encoded message (version and type included).
std::size_t ledgerMessageBytes(const LedgerMessage& m);

// What checkPeerMessage checks for these types; errors are worded as decoding's
// ("ledger_request: count 65 is not between 1 and 64", "ledger: outputs[2] has no blobs").
[[nodiscard]] core::Status checkLedgerRequest(const LedgerRequest& m);
[[nodiscard]] core::Status checkLedgerMessage(const LedgerMessage& m);

}  // namespace sashimono::runtime
