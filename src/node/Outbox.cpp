#include "sashimono/node/Outbox.h"

#include <algorithm>

#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/Definitions.h"
#include "sashimono/ledger/Payment.h"
#include "sashimono/protocol/Envelope.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::node {

OutboxEntry outboxEntryFor(const lease::Reply& reply) {
  OutboxEntry e;
  e.answers = reply.answers;
  e.to = reply.to;
  e.type = reply.type;
  e.payload = protocol::renderPayload(reply.message);
  e.sealTo = reply.sealTo;
  e.amount = reply.amount;
  return e;
}

OutboxEntry outboxEntryFor(const crypto::AccountId& registry, const protocol::HostAnnouncement& a) {
  OutboxEntry e;
  e.to = registry;
  e.type = protocol::MessageType::host;
  e.payload = protocol::renderPayload(protocol::Message{a});
  e.amount.native = true;
  e.amount.drops = 1;
  return e;
}

core::Result<core::Bytes> signEntry(const OutboxEntry& e, const crypto::KeyPair& key, std::uint32_t sequence,
                                    std::uint32_t lastLedger, std::uint64_t fee, std::uint32_t networkId) {
  auto message = protocol::parsePayload(e.type, e.payload);
  if (!message) return message.error().context("outbox entry " + std::to_string(e.id) + " payload");
  auto memo = protocol::buildMemo(e.type, *message, e.sealTo);
  if (!memo) return memo.error().context("outbox entry " + std::to_string(e.id) + " memo");
  ledger::Payment p;
  p.destination = e.to;
  p.amount = e.amount;
  p.fee = fee;
  p.sequence = sequence;
  p.lastLedgerSequence = lastLedger;
  p.networkId = ledger::networkIdField(networkId);
  p.memos.push_back(protocol::memoToLedger(*memo));
  return ledger::signPayment(p, key);
}

std::optional<std::uint64_t> feeToSign(const FeeView& fee, std::uint64_t minFee, std::uint64_t maxFee) {
  const std::uint64_t wanted = std::max({fee.openLedger, fee.base, minFee});
  if (wanted > maxFee) return std::nullopt;
  return wanted;
}

Outbox::Outbox(NodeStore& store, BoardPort& board, const crypto::KeyPair& key, OutboxOptions options)
    : store_(store), board_(board), key_(key), options_(options), address_(key.address()) {}

core::Result<std::size_t> Outbox::confirmDelivered(std::span<const board::BoardTx> delivered) {
  if (delivered.empty()) return std::size_t{0};
  auto open = store_.outbox();
  if (!open) return open.error();
  std::size_t n = 0;
  for (const auto& e : *open) {
    if (!e.hash) continue;
    for (const auto& tx : delivered) {
      if (tx.hash != *e.hash) continue;
      SASHI_TRY(store_.markSent(e.id, tx.result, tx.ledgerIndex));
      submittedAt_.erase(e.id);
      knownDead_.erase(e.id);
      ++n;
      break;
    }
  }
  return n;
}

core::Result<PumpReport> Outbox::pump() {
  PumpReport report;
  auto open = store_.outbox();
  if (!open) return open.error();
  if (open->empty()) return report;
  // Trust mode: the node's cursor (every ledger up to it checked and acted on), not the board's word.
  const bool verified = board_.verifiesLedgers();
  std::uint32_t v = 0;
  if (verified) {
    auto cursor = store_.cursor();
    if (!cursor) return cursor.error();
    if (!*cursor) return report;
    v = **cursor;
  } else {
    auto validated = board_.validatedLedger();
    if (!validated) return validated.error().context("outbox: validated ledger");
    v = *validated;
  }

  std::vector<OutboxEntry> live, dead, pending;
  // Confirmations are recorded together (one commit for the whole pass).
  auto confirmations = store_.beginBatch();
  if (!confirmations) return confirmations.error();
  for (auto& e : *open) {
    if (e.state == OutboxState::pending || !e.hash) {
      pending.push_back(std::move(e));
      continue;
    }
    // Submitted while `v` was the validated ledger: it cannot be in a validated ledger yet.
    if (auto at = submittedAt_.find(e.id); at != submittedAt_.end() && at->second >= v) {
      live.push_back(std::move(e));
      continue;
    }
    // Found dead before (it can never validate): no need to ask again while it waits for a fee.
    if (auto d = knownDead_.find(e.id); d != knownDead_.end() && d->second == *e.hash) {
      dead.push_back(std::move(e));
      continue;
    }
    const std::uint32_t lls = e.lastLedger.value_or(0);
    if (verified) {
      // Not confirmed by a delivery, and every ledger up to its LastLedgerSequence was checked.
      if (lls != 0 && lls <= v) {
        knownDead_[e.id] = *e.hash;
        dead.push_back(std::move(e));
      } else {
        live.push_back(std::move(e));
      }
      continue;
    }
    const std::uint32_t from = lls > options_.lastLedgerWindow + 1 ? lls - options_.lastLedgerWindow - 1 : 1;
    auto look = board_.lookup(*e.hash, from, std::max(lls, from));
    if (!look) {
      live.push_back(std::move(e));  // unsure: treat as in flight
      continue;
    }
    if (look->validated) {
      SASHI_TRY(store_.markSent(e.id, look->result, look->ledger));
      submittedAt_.erase(e.id);
      ++report.confirmed;
      continue;
    }
    if (!look->found && v >= lls) {
      knownDead_[e.id] = *e.hash;
      dead.push_back(std::move(e));
    } else
      live.push_back(std::move(e));
  }

  SASHI_TRY(confirmations->commit());
  report.open = open->size() - report.confirmed;

  // Re-sign dead entries or sign new ones only when nothing is in flight: the sequences then
  // continue from the account's validated sequence without gaps or collisions.
  std::vector<OutboxEntry> toSign;
  const bool fromAccount = !dead.empty();
  if (!dead.empty()) {
    if (live.empty()) {
      for (auto& e : dead) toSign.push_back(std::move(e));
      for (auto& e : pending) toSign.push_back(std::move(e));
    }
  } else {
    for (auto& e : pending) toSign.push_back(std::move(e));
  }

  // In flight: submit again once per validated ledger (same blob, same hash: harmless). Whatever
  // the fee is now, a signed blob is never replaced while it may still validate.
  for (const auto& e : live) {
    auto& at = submittedAt_[e.id];
    if (at < v) {
      (void)board_.submit(e.blob);
      if (at != 0) ++report.resubmitted;
      at = v;
    }
  }
  if (toSign.empty()) return report;

  // The fee first: above the ceiling, nothing is signed (a blob that cannot get in would hold
  // its sequence until its LastLedgerSequence passed).
  auto fees = board_.fee();
  if (!fees) return fees.error().context("outbox: fee");
  report.fee = *fees;
  const auto fee = feeToSign(*fees, options_.minFee, options_.maxFee);
  if (!fee) {
    report.waitingForFee = toSign.size();
    return report;
  }

  std::uint32_t seq = 0;
  std::optional<std::uint32_t> stored;
  if (!fromAccount) {
    auto next = store_.nextSequence();
    if (!next) return next.error();
    stored = *next;
  }
  if (stored) {
    seq = *stored;
  } else {
    auto a = board_.account(address_);
    if (!a) return a.error().context("outbox: account sequence");
    seq = a->sequence;
  }
  // Replies that serve a lease go first, then refunds of refused requests, then announcements
  // (protocol::SendPriority, in the message type table): a flood of bad requests cannot queue
  // the refunds it earns ahead of a good request's reply.
  std::sort(toSign.begin(), toSign.end(), [](const auto& a, const auto& b) {
    const auto priority = [](const auto& e) { return protocol::messageTypeInfo(e.type).priority; };
    return std::pair(priority(a), a.id) < std::pair(priority(b), b.id);
  });

  auto network = board_.networkId();
  if (!network) return network.error().context("outbox: network id");
  // Every blob is recorded (one commit for all) before any of them is submitted.
  {
    auto batch = store_.beginBatch();
    if (!batch) return batch.error();
    for (auto& e : toSign) {
      const bool again = e.hash.has_value();
      auto blob = signEntry(e, key_, seq, v + options_.lastLedgerWindow, *fee, *network);
      if (!blob) return blob.error();
      e.sequence = seq;
      e.lastLedger = v + options_.lastLedgerWindow;
      e.fee = *fee;
      e.blob = std::move(*blob);
      e.hash = ledger::transactionHash(e.blob);
      SASHI_TRY(store_.storeSigned(e, seq + 1));
      knownDead_.erase(e.id);
      if (options_.onStep) options_.onStep("outbox.signed");
      ++seq;
      ++report.signed_;
      if (again) ++report.resigned;
    }
    SASHI_TRY(batch->commit());
  }
  if (options_.onStep) options_.onStep("outbox.stored");
  for (auto& e : toSign) {
    (void)board_.submit(e.blob);  // the outcome is read from the ledger, not from submit
    submittedAt_[e.id] = v;
    if (options_.onStep) options_.onStep("outbox.submitted");
  }
  return report;
}

}  // namespace sashimono::node
