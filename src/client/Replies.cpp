#include "sashimono/client/Replies.h"

#include <map>

#include "sashimono/client/Discovery.h"
#include "sashimono/core/Bytes.h"
#include "sashimono/ledger/DecodedTx.h"
#include "sashimono/protocol/Envelope.h"

namespace sashimono::client {

crypto::Hash256 requestOf(const protocol::Message& m) {
  return std::visit(
      [](const auto& v) -> crypto::Hash256 {
        if constexpr (requires { v.request; }) {
          return v.request;
        } else {
          return crypto::Hash256{};
        }
      },
      m);
}

std::optional<Reply> openReply(const board::BoardTx& bt, const Wallet& me, const std::string& host) {
  auto tx = ledger::decodeTransaction(bt.blob);
  if (!tx || !ledger::verifySignature(*tx).ok()) return std::nullopt;
  const std::string from = crypto::encodeAddress(tx->account);
  if (!host.empty() && from != host) return std::nullopt;
  if (!tx->destination || *tx->destination != me.account.accountId()) return std::nullopt;
  std::vector<const crypto::KeyPair*> keys{&me.replyKeyPair()};
  for (const auto& k : me.alsoOpen) keys.push_back(&k);
  for (auto& [type, memo] : sashimonoMemos(*tx)) {
    if (protocol::messageTypeInfo(type).direction != protocol::Direction::reply) continue;
    for (const auto* key : keys) {
      auto msg = protocol::openMemo(memo, key);
      if (!msg) continue;
      Reply r{type, std::move(*msg), tx->hash, from, 0};
      if (tx->amount && tx->amount->native) r.amount = tx->amount->drops;
      return r;
    }
  }
  return std::nullopt;
}

LeaseHistory leaseHistory(const std::vector<board::BoardTx>& txs, const Wallet& wallet) {
  LeaseHistory out;
  std::map<std::string, std::size_t> index;  // request hash → position in out.requests
  auto record = [&](const std::string& h) -> RequestRecord& {
    auto it = index.find(h);
    if (it == index.end()) {
      it = index.emplace(h, out.requests.size()).first;
      out.requests.push_back(RequestRecord{h, {}, {}, 0, 0, {}});
    }
    return out.requests[it->second];
  };
  const std::string me = wallet.account.address();
  for (const auto& bt : txs) {
    auto tx = ledger::decodeTransaction(bt.blob);
    if (!tx) continue;
    if (crypto::encodeAddress(tx->account) == me) {
      if (!bt.result.empty() && bt.result != "tesSUCCESS") continue;
      for (auto& [type, memo] : sashimonoMemos(*tx)) {
        if (!protocol::isRequest(type) || !tx->destination) continue;
        auto& e = record(core::toHex(tx->hash));
        e.host = crypto::encodeAddress(*tx->destination);
        e.requestType = std::string(protocol::messageTypeName(type));
        e.paid = tx->amount && tx->amount->native ? tx->amount->drops : 0;
        e.ledger = bt.ledgerIndex;
      }
    } else if (auto r = openReply(bt, wallet)) {
      if (std::holds_alternative<protocol::ExpiredNotice>(r->message)) {
        out.notices.push_back(std::move(*r));
      } else {
        record(core::toHex(requestOf(r->message))).replies.push_back(std::move(*r));
      }
    }
  }
  return out;
}

std::optional<protocol::AcquireOk> findAcquire(const std::vector<board::BoardTx>& txs, const Wallet& wallet,
                                               const crypto::Hash256& leaseId) {
  for (const auto& bt : txs) {
    auto r = openReply(bt, wallet);
    if (!r) continue;
    if (const auto* ok = std::get_if<protocol::AcquireOk>(&r->message);
        ok != nullptr && ok->leaseId == leaseId)
      return *ok;
  }
  return std::nullopt;
}

}  // namespace sashimono::client
