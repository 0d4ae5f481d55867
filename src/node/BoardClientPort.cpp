#include "sashimono/node/BoardClientPort.h"

#include <algorithm>
#include <stdexcept>

#include "sashimono/board/RpcErrorCode.h"
#include "sashimono/ledger/LedgerRanges.h"

namespace sashimono::node {

bool ledgersCover(const std::string& complete, std::uint32_t first, std::uint32_t last) {
  // "empty" or anything malformed covers nothing.
  auto ranges = ledger::parseLedgerRanges(complete);
  return ranges && ledger::coversLedgers(*ranges, first, last);
}

core::Result<std::uint32_t> BoardClientPort::validatedLedger() {
  auto info = client_.serverInfo();
  if (!info) return info.error();
  if (info->validatedLedger == 0) return core::Error("board has no validated ledger yet");
  return info->validatedLedger;
}

core::Result<std::uint64_t> BoardClientPort::fee() {
  auto f = client_.fee();
  if (!f) return f.error();
  return std::max(f->baseFee, f->openLedgerFee);
}

core::Result<std::uint32_t> BoardClientPort::accountSequence(const std::string& address) {
  auto info = client_.accountInfo(address, true);
  if (!info) return info.error();
  return info->sequence;
}

core::Result<SubmitOutcome> BoardClientPort::submit(core::ByteView blob) {
  auto r = client_.submit(blob);
  if (!r) return r.error();
  return SubmitOutcome{r->engineResult, r->accepted};
}

core::Result<TxLookup> BoardClientPort::lookup(const crypto::Hash256& hash, std::uint32_t minLedger,
                                               std::uint32_t maxLedger) {
  board::TxQuery q;
  q.hash = hash;
  q.binary = true;
  q.minLedger = minLedger;
  q.maxLedger = maxLedger;
  auto r = client_.tx(q);
  if (!r) {
    if (board::isSearchedAllNotFound(r.error())) return TxLookup{};
    if (board::rpcErrorCode(r.error()) != board::RpcErrorCode::txnNotFound) return r.error();
    // No searched_all from this server: not found counts only if it holds the whole range.
    auto info = client_.serverInfo();
    if (!info) return info.error();
    if (ledgersCover(info->completeLedgers, minLedger, maxLedger)) return TxLookup{};
    return core::Error("tx lookup: the server does not hold ledgers " + std::to_string(minLedger) + "-" +
                       std::to_string(maxLedger) + " (complete_ledgers " + info->completeLedgers + ")");
  }
  TxLookup l;
  l.found = true;
  l.validated = r->validated;
  l.ledger = r->tx.ledgerIndex;
  l.result = r->tx.result;
  return l;
}

}  // namespace sashimono::node
