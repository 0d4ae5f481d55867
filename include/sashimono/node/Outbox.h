#pragma once
// The persistent outbox: every payment the host owes, sent exactly once.
//
// An entry is recorded (NodeStore) with its deterministic content before anything is sent.
// pump() then, per entry in id order:
//  1. signed entries are looked up on the ledger by their stored hash (not before a ledger has
//     validated since their submit): validated → done (all confirmations of a pass: one commit);
//  2. an entry whose LastLedgerSequence is ≤ the validated ledger and that the server is sure it
//     does not hold is dead (it can never validate); once no entry is still in flight, dead
//     entries are re-signed from the account's validated sequence (the same sequences the dead
//     ones held, so no gap stays open);
//  3. pending entries get the next Sequence (tracked in the store), LastLedgerSequence =
//     validated + window and the open-ledger fee — lease replies first, then refunds of refused
//     requests, then announcements, each in id order; all blobs and hashes of the pass are
//     stored (one commit) BEFORE any is submitted;
//  4. in-flight entries are submitted again once per validated ledger (same blob, same hash:
//     harmless).
// A reply is re-signed only when its previous blob provably can never validate, so no reply or
// refund is ever delivered twice, across crashes at any point.
//
// With a board that verifies ledgers (BoardPort::verifiesLedgers: board.validators) the board's
// word is not taken for either step: an entry is confirmed when its transaction is delivered from
// a checked ledger (confirmDelivered, called by the node before that ledger is finished), and it
// is dead when the node's cursor has passed its LastLedgerSequence without that — every ledger it
// could be in was checked and it was not there.
//
// Fees: an entry is signed at the board's open-ledger fee (at least its base fee and minFee),
// never above maxFee. While that fee is above maxFee (a busy network) nothing is signed: the
// entries that need signing (pending, or dead and due for re-signing) wait, unsigned, and the
// pass counts them (PumpReport::waitingForFee); in-flight entries keep their blob and are
// resubmitted as before. A pass that cannot read the fee signs nothing either.
//
// Thread-safety: one owner thread (the node's).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string_view>

#include "sashimono/board/Responses.h"
#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Action.h"
#include "sashimono/node/BoardPort.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::node {

struct OutboxOptions {
  std::uint32_t lastLedgerWindow = 20;  // ledgers an entry may wait before it is re-signed
  std::uint64_t maxFee = 1000;          // drops: the ceiling; above it entries wait unsigned
  std::uint64_t minFee = 10;            // drops: never signed below this
  // Test hook: called at each step boundary ("outbox.signed", "outbox.submitted"); a test
  // throws from it to simulate a crash there.
  std::function<void(std::string_view step)> onStep;
};

struct PumpReport {
  std::size_t open = 0;         // entries not yet validated after the pass
  std::size_t confirmed = 0;    // validated in this pass
  std::size_t signed_ = 0;      // signed (first time or again) in this pass
  std::size_t resigned = 0;     // of which re-signed after their LastLedgerSequence passed
  std::size_t resubmitted = 0;  // in-flight entries submitted again (a new validated ledger)
  // Entries that needed signing and wait: the open-ledger fee is above maxFee.
  std::size_t waitingForFee = 0;
  std::optional<FeeView> fee;  // the board's fees, when this pass had something to sign
};

// The fee to sign at: the open-ledger fee, at least the base fee and minFee; nullopt when that
// is above maxFee (the entry must wait).
[[nodiscard]] std::optional<std::uint64_t> feeToSign(const FeeView& fee, std::uint64_t minFee,
                                                     std::uint64_t maxFee);

// The outbox form of a lease reply (its payload rendered: deterministic content).
OutboxEntry outboxEntryFor(const lease::Reply& reply);
// An announcement to the registry: 1 drop, plain memo.
OutboxEntry outboxEntryFor(const crypto::AccountId& registry, const protocol::HostAnnouncement& announcement);

// The signed Payment of an entry with the given sequence, LastLedgerSequence and fee.
[[nodiscard]] core::Result<core::Bytes> signEntry(const OutboxEntry& entry, const crypto::KeyPair& key,
                                                  std::uint32_t sequence, std::uint32_t lastLedger,
                                                  std::uint64_t fee, std::uint32_t networkId = 0);

class Outbox {
 public:
  // All references must outlive the outbox.
  Outbox(NodeStore& store, BoardPort& board, const crypto::KeyPair& key, OutboxOptions options = {});
  // One pass (see above). Errors (board unreachable, store failure) leave everything to the next
  // pass; nothing is ever lost or doubled by an interrupted pass.
  [[nodiscard]] core::Result<PumpReport> pump();
  // Entries whose signed transaction is among `delivered` (from checked ledgers) are sent; returns
  // how many. Used when the board verifies ledgers.
  [[nodiscard]] core::Result<std::size_t> confirmDelivered(std::span<const board::BoardTx> delivered);
  // A new ceiling (a reloaded configuration), used from the next pass.
  void setMaxFee(std::uint64_t maxFee) { options_.maxFee = maxFee; }
  [[nodiscard]] std::uint64_t maxFee() const { return options_.maxFee; }
  [[nodiscard]] std::uint64_t minFee() const { return options_.minFee; }

 private:
  NodeStore& store_;
  BoardPort& board_;
  const crypto::KeyPair& key_;
  OutboxOptions options_;
  std::string address_;
  std::map<std::int64_t, std::uint32_t> submittedAt_;  // entry → validated ledger of its last submit
  std::map<std::int64_t, crypto::Hash256> knownDead_;  // entry → its blob's hash, found dead
};

}  // namespace sashimono::node
