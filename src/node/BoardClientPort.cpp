#include "sashimono/node/BoardClientPort.h"

#include <algorithm>
#include <stdexcept>

#include "sashimono/board/RpcErrorCode.h"

namespace sashimono::node {

bool ledgersCover(const std::string& complete, std::uint32_t first, std::uint32_t last) {
  // "a-b,c-d,e" (rippled's complete_ledgers); "empty" or anything malformed covers nothing.
  std::size_t pos = 0;
  while (pos < complete.size()) {
    std::size_t end = complete.find(',', pos);
    if (end == std::string::npos) end = complete.size();
    const std::string part = complete.substr(pos, end - pos);
    pos = end + 1;
    std::size_t dash = part.find('-');
    try {
      std::size_t used = 0;
      const unsigned long a = std::stoul(part.substr(0, dash), &used);
      if (used != (dash == std::string::npos ? part.size() : dash)) continue;
      unsigned long b = a;
      if (dash != std::string::npos) {
        b = std::stoul(part.substr(dash + 1), &used);
        if (used != part.size() - dash - 1) continue;
      }
      if (a <= first && last <= b) return true;
    } catch (const std::exception&) {
      continue;
    }
  }
  return false;
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
