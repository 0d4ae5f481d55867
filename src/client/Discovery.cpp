#include "sashimono/client/Discovery.h"

#include "sashimono/crypto/Keys.h"

namespace sashimono::client {

std::vector<std::pair<protocol::MessageType, protocol::Memo>> sashimonoMemos(const ledger::DecodedTx& tx) {
  std::vector<std::pair<protocol::MessageType, protocol::Memo>> out;
  for (const auto& m : tx.memos) {
    auto memo = protocol::memoFromLedger(m);
    auto t = protocol::parseMessageType(memo.type);
    if (t) out.emplace_back(*t, std::move(memo));
  }
  return out;
}

std::map<std::string, Announcement> announcements(const std::vector<board::BoardTx>& txs,
                                                  const std::optional<std::string>& onlyFrom) {
  std::map<std::string, Announcement> latest;
  for (const auto& bt : txs) {
    if (!bt.result.empty() && bt.result != "tesSUCCESS") continue;
    auto tx = ledger::decodeTransaction(bt.blob);
    if (!tx || !ledger::verifySignature(*tx).ok()) continue;
    std::string from = crypto::encodeAddress(tx->account);
    if (onlyFrom && from != *onlyFrom) continue;
    for (auto& [type, memo] : sashimonoMemos(*tx)) {
      if (type != protocol::MessageType::host) continue;
      auto msg = protocol::openMemo(memo, nullptr);
      if (!msg) continue;
      const auto* a = std::get_if<protocol::HostAnnouncement>(&*msg);
      if (a == nullptr) continue;
      auto it = latest.find(from);
      if (it == latest.end() || it->second.a.time <= a->time)
        latest[from] = Announcement{from, *a, bt.ledgerIndex};
    }
  }
  return latest;
}

Liveness liveness(const protocol::HostAnnouncement& a, std::uint64_t now,
                  std::optional<std::uint64_t> staleSeconds) {
  Liveness l;
  l.staleSeconds =
      staleSeconds ? *staleSeconds : (a.heartbeatSeconds > 0 ? 3 * a.heartbeatSeconds : kDefaultStaleSeconds);
  l.ageSeconds = now > a.time ? now - a.time : 0;
  l.future = a.time > now + kMaxFutureSeconds;
  return l;
}

}  // namespace sashimono::client
