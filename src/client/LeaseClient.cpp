#include "sashimono/client/LeaseClient.h"

#include <algorithm>
#include <optional>

#include "sashimono/core/Bytes.h"
#include "sashimono/ledger/Codec.h"
#include "sashimono/protocol/Envelope.h"

namespace sashimono::client {

core::Result<Announcement> LeaseClient::findHost(const std::string& host, const std::string& registry) {
  const std::string where = registry.empty() ? host : registry;
  auto txs = session_.history(where);
  if (!txs) return txs.error().context("account_tx " + where);
  auto all = announcements(*txs, host);
  auto it = all.find(host);
  if (it == all.end()) return core::Error("no sashimono.host announcement found for " + host);
  return it->second;
}

core::Result<Submitted> LeaseClient::submit(const std::string& host, const Announcement& announcement,
                                            const RequestParams& params) {
  SASHI_TRY_ASSIGN(to, crypto::decodeAddress(host));
  SASHI_TRY_ASSIGN(request, prepareRequest(params, wallet_, announcement.a));
  auto memo = protocol::buildRequest(request.message, announcement.a.key);
  if (!memo) return core::Error("cannot build the request: " + memo.error().message);
  PaymentOrder order;
  order.to = to;
  order.amount = request.amount;
  order.memos.push_back(std::move(*memo));
  auto blob = session_.signPayment(wallet_.account, order);
  if (!blob) return core::Error("cannot sign: " + blob.error().message);
  Submitted sent{ledger::transactionHash(*blob), request.amount};
  auto submitted = session_.board().submit(*blob);
  if (!submitted) return core::Error("submit: " + submitted.error().message);
  if (submitted->engineResult != "tesSUCCESS" && submitted->engineResult.rfind("ter", 0) != 0)
    return core::Error("submit refused: " + submitted->engineResult + " " + submitted->engineResultMessage);
  return sent;
}

core::Result<Reply> LeaseClient::awaitReply(const std::string& host, const Submitted& sent,
                                            std::chrono::seconds timeout) {
  return std::move(awaitReplies({PendingRequest{host, sent}}, timeout).front());
}

std::vector<core::Result<Reply>> LeaseClient::awaitReplies(const std::vector<PendingRequest>& pending,
                                                           std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<std::optional<Reply>> replies(pending.size());
  std::vector<std::string> failed(pending.size());  // failed on the ledger: its result
  std::vector<bool> validated(pending.size(), false);
  auto open = [&] {
    std::size_t n = 0;
    for (std::size_t i = 0; i < pending.size(); ++i) n += !replies[i] && failed[i].empty() ? 1 : 0;
    return n;
  };
  while (open() > 0) {
    auto batch = session_.nextTransactions(deadline);
    if (batch.empty()) break;
    for (const auto& bt : batch) {
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (bt.hash != pending[i].sent.hash) continue;
        validated[i] = true;
        if (!bt.result.empty() && bt.result != "tesSUCCESS") failed[i] = bt.result;
      }
      // A reply opens only with the wallet's keys; it answers the request it names, from its host.
      auto r = openReply(bt, wallet_);
      if (!r) continue;
      for (std::size_t i = 0; i < pending.size(); ++i) {
        if (!replies[i] && r->from == pending[i].host && requestOf(r->message) == pending[i].sent.hash) {
          replies[i] = std::move(*r);
          break;
        }
      }
    }
  }
  std::vector<core::Result<Reply>> out;
  out.reserve(pending.size());
  for (std::size_t i = 0; i < pending.size(); ++i) {
    if (replies[i]) {
      out.emplace_back(std::move(*replies[i]));
      continue;
    }
    if (!failed[i].empty()) {
      out.emplace_back(core::Error("the request failed on the ledger: " + failed[i]));
      continue;
    }
    const std::string hash = core::toHex(pending[i].sent.hash);
    out.emplace_back(
        core::Error(std::string(validated[i] ? "the request " + hash + " was validated but no reply came"
                                             : "the request " + hash + " was not validated") +
                    " within " + std::to_string(timeout.count()) + " s"));
  }
  return out;
}

core::Result<LeaseHistory> LeaseClient::history() {
  SASHI_TRY_ASSIGN(txs, session_.history(wallet_.account.address()));
  return leaseHistory(txs, wallet_);
}

core::Result<LeaseTarget> LeaseClient::resolveLease(const crypto::Hash256& leaseId) {
  SASHI_TRY_ASSIGN(txs, session_.history(wallet_.account.address()));
  auto ok = findAcquire(txs, wallet_, leaseId);
  if (!ok)
    return core::Error("no acquire reply for lease " + core::toHex(leaseId) + " in the history of " +
                       wallet_.account.address());
  LeaseTarget t;
  const auto& secret = wallet_.replyKeyPair().ed25519SecretKey();
  std::copy(secret.begin(), secret.begin() + 32, t.ownerSeed.begin());
  t.host = ok->instance.host;
  t.userPort = ok->instance.userPort;
  t.instanceKey[0] = 0xED;
  std::copy(ok->instance.pubkey.begin(), ok->instance.pubkey.end(), t.instanceKey.begin() + 1);
  return t;
}

}  // namespace sashimono::client
