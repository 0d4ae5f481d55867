#pragma once
// The instance's ledger: one record per closed round, hash-chained, in sqlite.
//
// A round's ledger holds what the round agreed on and produced: its inputs (in execution order),
// the users it served, the state hash after the contract ran, the patch.cfg hash, and the root of
// the round's output tree (docs/RUNTIME.md, "Ledger"). Unlike Hot Pocket, whose outputs are
// voted and tagged one round later, a round's outputs belong to the ledger of the inputs that
// produced them: the ledger closes after the contract ran, and outputs go out only after it is
// stored.
//
//   data_hash = H(seq_no(8 BE) ‖ timestamp(8 BE) ‖ state_hash ‖ config_hash ‖
//                 user_hash ‖ input_hash ‖ output_hash)
//   hash      = H(prev_hash ‖ data_hash)       (genesis: seq_no 0, every hash zero)
//   user_hash = H(sorted pk33 of the round's users)
//   input_hash = H(input hashes in order)
//   Empty lists hash to 32 zero bytes; output_hash = output root, zeros when nothing was output.
//
// With each ledger the store keeps the signatures that closed it (docs/CLUSTER.md): the members'
// ledger_sigs over ledgerDigest(hash), what a member that syncs checks (LedgerSync.h), and their
// root_sigs, plain ed25519 signatures of the 32-byte output root, what users' output proofs carry
// (so that a member that synced the ledger can send its outputs too).
//
// LedgerStore: thread-compatible (one thread at a time; the round engine owns it). Every append
// is one durable sqlite transaction (the round is stored before any of its outputs is sent).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sashimono/core/Bytes.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/store/Database.h"

namespace sashimono::runtime {

using Hash = crypto::Hash256;
using PubKey = std::array<std::uint8_t, 33>;  // 0xED ‖ ed25519 public key
using Sig = std::array<std::uint8_t, 64>;     // an ed25519 signature
// A member's signature over a round's output root: its key and the signature bytes.
using Signature = std::pair<PubKey, core::Bytes>;

struct LedgerRecord {
  std::uint64_t seqNo = 0;
  std::uint64_t timestamp = 0;  // ms since the epoch (round time)
  Hash hash{};
  Hash prevHash{};
  Hash stateHash{};
  Hash configHash{};
  Hash userHash{};
  Hash inputHash{};
  Hash outputHash{};
  bool operator==(const LedgerRecord&) const = default;
};

struct LedgerInput {
  PubKey user{};
  Hash hash{};  // H(signature)
  std::uint64_t nonce = 0;
  std::uint64_t maxLedgerSeqNo = 0;
  core::Bytes blob;  // the input bytes the contract received
  bool operator==(const LedgerInput&) const = default;
};

struct LedgerOutput {
  PubKey user{};
  Hash hash{};  // the user's output hash (OutputProof.h)
  std::vector<core::Bytes> blobs;
  bool operator==(const LedgerOutput&) const = default;
};

// Hash of a list of 32-byte hashes (zeros when empty).
Hash hashList(const std::vector<Hash>& hashes);
// H(sorted pk33s) (zeros when empty). `users` need not be sorted.
Hash userSetHash(std::vector<PubKey> users);
Hash dataHash(const LedgerRecord& r);
// Fills hash from the other fields.
void sealLedger(LedgerRecord& r);

struct UserNonce {
  std::uint64_t nonce = 0;
  std::uint64_t maxLedgerSeqNo = 0;
};

class LedgerStore {
 public:
  // Opens (creating) the database and verifies the hash chain of every stored ledger; a broken
  // chain is an error naming the first bad sequence number (never silently repaired).
  static core::Result<LedgerStore> open(const std::string& path);
  // A second, read-only connection to a ledger another LedgerStore writes (queries from other
  // threads); last() is not maintained.
  static core::Result<LedgerStore> openReader(const std::string& path);

  [[nodiscard]] const LedgerRecord& last() const { return last_; }
  core::Result<std::optional<LedgerRecord>> get(std::uint64_t seqNo);
  core::Result<std::vector<LedgerInput>> inputs(std::uint64_t seqNo);
  core::Result<std::vector<LedgerOutput>> outputs(std::uint64_t seqNo);
  // The ledger_sigs stored with the ledger, by signer ascending (none for a ledger stored before
  // the store kept them, or not stored).
  core::Result<std::vector<Signature>> signatures(std::uint64_t seqNo);
  // The root_sigs stored with the ledger, by signer ascending (only signers whose root_sig was
  // stored).
  core::Result<std::vector<Signature>> rootSignatures(std::uint64_t seqNo);
  // The last accepted nonce of a user (none: never accepted).
  core::Result<std::optional<UserNonce>> userNonce(const PubKey& user);
  // True when an input with this hash is in some ledger.
  core::Result<bool> hasInput(const Hash& inputHash);

  // Appends the next ledger (record.seqNo == last().seqNo + 1, prevHash == last().hash, sealed),
  // its inputs and outputs, the users' new nonces and the signatures that closed it (ledger_sigs
  // of distinct signers, and root_sigs of some of those signers), in one durable transaction.
  core::Status append(const LedgerRecord& record, const std::vector<LedgerInput>& inputs,
                      const std::vector<LedgerOutput>& outputs, const std::vector<Signature>& signatures = {},
                      const std::vector<Signature>& rootSignatures = {});
  // append in two steps, so that the bulk of the writing can overlap the wait for the signatures:
  // stage() writes the ledger, its inputs, outputs and nonces in a transaction it leaves open
  // (nothing is durable or visible to other connections yet); commitStaged() adds the signatures
  // and commits it, durably; unstage() rolls it back (so do stage() and append() of another
  // ledger; a store closed with a ledger staged, as in a crash, stores nothing of it). The
  // connection carries the open transaction: a moved store keeps it.
  core::Status stage(const LedgerRecord& record, const std::vector<LedgerInput>& inputs,
                     const std::vector<LedgerOutput>& outputs);
  core::Status commitStaged(const std::vector<Signature>& signatures,
                            const std::vector<Signature>& rootSignatures = {});
  void unstage();
  [[nodiscard]] bool staged() const { return staging_; }

 private:
  explicit LedgerStore(store::Database db) : db_(std::move(db)) {}
  // (signer, signature) rows of `sql`, whose one parameter is the ledger's seq_no.
  core::Result<std::vector<Signature>> signatureRows(std::string_view sql, std::uint64_t seqNo);
  // stage()'s inserts, inside its transaction.
  core::Status stageRows(const LedgerRecord& record, const std::vector<LedgerInput>& inputs,
                         const std::vector<LedgerOutput>& outputs);
  // A statement prepared once and reset for each use (a round asks hasInput for every input).
  core::Result<store::Statement*> cached(std::optional<store::Statement>& slot, std::string_view sql);
  store::Database db_;
  // Declared after db_: finalized before the connection closes.
  std::optional<store::Statement> hasInputSt_, userNonceSt_, signatureSt_;
  LedgerRecord last_;
  bool staging_ = false;  // db_ is inside stage()'s transaction
  LedgerRecord stagedRecord_;
};

}  // namespace sashimono::runtime
