// The "classify" stage: decode each admitted transaction, check its hash, and let
// protocol::classify verify and judge it (signature, key and Account, destination, memo, amount,
// payload, image, config bounds), trusting nothing the board said but which ledger holds it.
#include <algorithm>
#include <atomic>
#include <thread>

#include "sashimono/ledger/Codec.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/node/Node.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Patterns.h"

namespace sashimono::node {

protocol::TxOutcome outcomeOf(const std::string& result, core::ByteView meta) {
  protocol::TxOutcome o;
  o.succeeded = result == "tesSUCCESS";
  if (meta.empty()) return o;
  auto d = ledger::decode(meta);
  if (!d || !d->IsObject()) return o;
  if (result.empty() && d->HasMember("TransactionResult") && (*d)["TransactionResult"].IsString())
    o.succeeded = std::string((*d)["TransactionResult"].GetString()) == "tesSUCCESS";
  if (d->HasMember("DeliveredAmount") && (*d)["DeliveredAmount"].IsString()) {
    auto drops = protocol::parseDrops((*d)["DeliveredAmount"].GetString());
    if (drops) o.delivered = ledger::Amount{true, *drops, false, {}};
  }
  return o;
}

std::string verdictSummary(const protocol::Verdict& v) {
  if (const auto* i = std::get_if<protocol::Ignored>(&v)) return "ignored: " + i->why;
  if (const auto* r = std::get_if<protocol::Refused>(&v))
    return std::string("refused: ") + std::string(protocol::reasonName(r->reason)) + ": " + r->detail;
  const auto& a = std::get<protocol::Accepted>(v);
  return std::string("accepted: ") + std::string(protocol::messageTypeName(a.type()));
}

RequestRow requestRow(const board::BoardTx& tx, const protocol::Verdict& v) {
  RequestRow row;
  row.hash = tx.hash;
  row.ledger = tx.ledgerIndex;
  row.result = tx.result;
  row.verdict = verdictSummary(v);
  if (!std::holds_alternative<protocol::Ignored>(v)) {
    row.blob = tx.blob;
    row.meta = tx.meta;
  }
  return row;
}

protocol::Verdict Node::classifyOne(const board::BoardTx& tx) const {
  if (ledger::transactionHash(tx.blob) != tx.hash) return protocol::Ignored{"blob does not match its hash"};
  auto decoded = ledger::decodeTransaction(tx.blob);
  if (!decoded.ok()) return protocol::Ignored{"undecodable"};
  return protocol::classify(*decoded, outcomeOf(tx.result, tx.meta), hostKey_, options_.policy);
}

std::vector<protocol::Verdict> Node::classify(std::span<const board::BoardTx* const> txs) const {
  // Pure work (decode, signature, unseal: ~0.2 ms each, mostly crypto): spread over the cores
  // for a large batch (a flood, a catch-up), so a good request behind many bad ones waits less.
  std::vector<protocol::Verdict> out(txs.size(), protocol::Verdict{protocol::Ignored{"not classified"}});
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const std::size_t workers =
      txs.size() >= 32 ? std::min<std::size_t>(std::min(cores, options_.verifyThreads), txs.size() / 16) : 1;
  std::atomic<std::size_t> next{0};
  auto work = [&] {
    for (std::size_t k = next++; k < txs.size(); k = next++) out[k] = classifyOne(*txs[k]);
  };
  std::vector<std::thread> helpers;
  for (std::size_t w = 1; w < workers; ++w) helpers.emplace_back(work);
  work();
  for (auto& t : helpers) t.join();
  return out;
}

}  // namespace sashimono::node
