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
//     validated + window and the board's fee — lease replies first, then refunds of refused
//     requests, then announcements, each in id order; all blobs and hashes of the pass are
//     stored (one commit) BEFORE any is submitted;
//  4. in-flight entries are submitted again once per validated ledger (same blob, same hash:
//     harmless).
// A reply is re-signed only when its previous blob provably can never validate, so no reply or
// refund is ever delivered twice, across crashes at any point.
//
// Thread-safety: one owner thread (the node's).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>

#include "sashimono/core/Result.h"
#include "sashimono/crypto/Keys.h"
#include "sashimono/lease/Action.h"
#include "sashimono/node/BoardPort.h"
#include "sashimono/node/NodeStore.h"

namespace sashimono::node {

struct OutboxOptions {
  std::uint32_t lastLedgerWindow = 20;  // ledgers an entry may wait before it is re-signed
  std::uint64_t maxFee = 1000;          // drops; the board's fee is capped to this
  std::uint64_t minFee = 10;
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
};

// The outbox form of a lease reply (its payload rendered: deterministic content).
OutboxEntry outboxEntryFor(const lease::Reply& reply);
// An announcement to the registry: 1 drop, plain memo.
OutboxEntry outboxEntryFor(const crypto::AccountId& registry, const protocol::HostAnnouncement& announcement);

// The signed Payment of an entry with the given sequence, LastLedgerSequence and fee.
[[nodiscard]] core::Result<core::Bytes> signEntry(const OutboxEntry& entry, const crypto::KeyPair& key,
                                                  std::uint32_t sequence, std::uint32_t lastLedger,
                                                  std::uint64_t fee);

class Outbox {
 public:
  // All references must outlive the outbox.
  Outbox(NodeStore& store, BoardPort& board, const crypto::KeyPair& key, OutboxOptions options = {});
  // One pass (see above). Errors (board unreachable, store failure) leave everything to the next
  // pass; nothing is ever lost or doubled by an interrupted pass.
  [[nodiscard]] core::Result<PumpReport> pump();

 private:
  NodeStore& store_;
  BoardPort& board_;
  const crypto::KeyPair& key_;
  OutboxOptions options_;
  std::string address_;
  std::map<std::int64_t, std::uint32_t> submittedAt_;  // entry → validated ledger of its last submit
};

}  // namespace sashimono::node
