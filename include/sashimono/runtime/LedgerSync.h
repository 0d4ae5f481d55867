#pragma once
// Ledger sync (docs/CLUSTER.md, "Sync: ledgers"): a member that fell behind fetches the ledgers it
// lacks from its peers (`ledger_request` → `ledger` messages) and checks each one itself, trusting
// no peer: the ledger must extend its last ledger, be sealed as Ledger.h says, agree with its own
// inputs and outputs, and carry the ledger_sigs of at least T distinct UNL members over its hash.
//
// What that proves: each member's ledger_sig (signed in its `output`, kept with the ledger) is
// over the ledger's hash, which covers the whole record — the chain (prev hash), timestamp, state,
// config, user set, the inputs' hashes and the output tree — so T of them mean the cluster closed
// exactly this ledger. Not covered: an input's content beyond its hash (LedgerInput keeps H(sig),
// not the user's signature and container), so a peer could serve a ledger whose input blobs are
// not the users' (what the contract ran on is still proven by the state hash).
//
// LedgerSync: pure logic, no I/O; thread-compatible (one thread at a time).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sashimono/core/Result.h"
#include "sashimono/runtime/Ledger.h"
#include "sashimono/runtime/PeerLedgerMessage.h"

namespace sashimono::runtime {

// At most this many encoded bytes of ledger messages answer one request (at least one ledger): a
// quarter of a connection's byte rate and half the accepting side's send queue (WsServer's
// maxQueuedBytes, 32 MiB, over which it drops the connection), leaving room for other traffic.
inline constexpr std::size_t kMaxLedgerAnswerBytes = std::size_t{16} << 20;

class LedgerSync {
 public:
  // `unl`: the members' keys (any order); `threshold`: T (≥ 1; 0 verifies nothing); `last`: the
  // local last ledger, which the first verified ledger must extend.
  LedgerSync(std::vector<PubKey> unl, std::size_t threshold, LedgerRecord last);

  // Checks `m` as the ledger after last(): its fields (checkLedgerMessage), seq = last + 1, prev
  // hash = last's hash, the seal, the inputs (hashes distinct, by user then nonce ascending with
  // each user's nonces increasing, max ledger ≥ seq, input_hash = hashList of their hashes), the
  // outputs (each hash = userOutputHash of its blobs), output_hash = the root of the output tree
  // over them and the state hash (zeros without outputs), and at least T valid ledger_sigs over
  // ledgerDigest(hash) from distinct UNL members (others, repeats and invalid ones are not counted). On
  // success last() becomes m.record and the result is the counted signatures (by signer ascending), what the
  // caller appends with the ledger (LedgerStore::append); on failure nothing changes and the error names the
  // ledger's seq and what failed.
  [[nodiscard]] core::Result<std::vector<Signature>> verify(const LedgerMessage& m);

  [[nodiscard]] const LedgerRecord& last() const { return last_; }
  // The request for the next ledgers: from last() + 1, `count` (1..kMaxLedgerRequestCount).
  [[nodiscard]] LedgerRequest nextRequest(std::uint32_t count = kMaxLedgerRequestCount) const;

 private:
  std::vector<PubKey> unl_;  // sorted
  std::size_t threshold_;
  LedgerRecord last_;
};

// The root_sigs in `m` that verify over its output root, of distinct keys among `signers` (the
// keys LedgerSync::verify counted), by signer ascending: what the member keeps with the synced
// ledger and sends its users with the ledger's outputs. None for a ledger without outputs.
[[nodiscard]] std::vector<Signature> verifiedRootSignatures(const LedgerMessage& m,
                                                            const std::vector<Signature>& signers);

// The answer to `request` from `store` (a writer's or a reader's, LedgerStore::openReader): the
// stored ledgers from request.fromSeq on, in order, each with its inputs, outputs and stored
// signatures (the first kMaxLedgerSignatures by signer; one not of 64 bytes, which cannot verify,
// is left out; a root_sig not kept is sent as zeros). It stops after request.count ledgers, at the last
// stored one, or before the ledger that would take the answer over kMaxLedgerAnswerBytes (the first is always
// sent). A request that fails checkLedgerRequest, or whose first ledger is too large for one
// message, is an error; a request past the last stored ledger gets no ledgers.
[[nodiscard]] core::Result<std::vector<LedgerMessage>> answerLedgerRequest(LedgerStore& store,
                                                                           const LedgerRequest& request);

}  // namespace sashimono::runtime
