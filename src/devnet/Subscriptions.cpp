#include "sashimono/devnet/Subscriptions.h"

#include <spdlog/spdlog.h>

#include "sashimono/devnet/Rpc.h"
#include "sashimono/devnet/TxJson.h"
#include "sashimono/net/WsSession.h"

namespace sashimono::devnet {

void Subscriptions::subscribe(const std::shared_ptr<net::WsSession>& session, int apiVersion,
                              const Change& c) {
  std::lock_guard lock(mu_);
  Sub& s = subs_[session->id()];
  s.session = session;
  s.apiVersion = apiVersion;
  s.ledger = s.ledger || c.ledger;
  s.transactions = s.transactions || c.transactions;
  s.validations = s.validations || c.validations;
  s.manifests = s.manifests || c.manifests;
  s.accounts.insert(c.accounts.begin(), c.accounts.end());
}

void Subscriptions::unsubscribe(std::uint64_t sessionId, const Change& c) {
  std::lock_guard lock(mu_);
  auto it = subs_.find(sessionId);
  if (it == subs_.end()) return;
  if (c.ledger) it->second.ledger = false;
  if (c.transactions) it->second.transactions = false;
  if (c.validations) it->second.validations = false;
  if (c.manifests) it->second.manifests = false;
  for (const auto& a : c.accounts) it->second.accounts.erase(a);
}

void Subscriptions::remove(std::uint64_t sessionId) {
  std::lock_guard lock(mu_);
  subs_.erase(sessionId);
}

bool Subscriptions::empty() const {
  std::lock_guard lock(mu_);
  return subs_.empty();
}

std::vector<std::pair<std::shared_ptr<net::WsSession>, int>> Subscriptions::sessionsWanting(
    bool Sub::*stream) {
  std::vector<std::pair<std::shared_ptr<net::WsSession>, int>> out;
  std::lock_guard lock(mu_);
  forEachOpenLocked([&](std::shared_ptr<net::WsSession> s, const Sub& sub) {
    if (sub.*stream) out.emplace_back(std::move(s), sub.apiVersion);
  });
  return out;
}

void Subscriptions::forEachOpenLocked(
    const std::function<void(std::shared_ptr<net::WsSession>, const Sub&)>& visit) {
  for (auto it = subs_.begin(); it != subs_.end();) {
    auto s = it->second.session.lock();
    if (!s || !s->isOpen()) {
      it = subs_.erase(it);
      continue;
    }
    visit(std::move(s), it->second);
    ++it;
  }
}

void Subscriptions::publishValidation(const std::function<std::string(int apiVersion)>& render) {
  auto targets = sessionsWanting(&Sub::validations);
  std::shared_ptr<const std::string> msg[3];
  for (auto& [session, apiVersion] : targets) {
    int slot = apiVersion >= 2 ? 2 : 1;
    if (!msg[slot]) msg[slot] = std::make_shared<const std::string>(render(slot));
    session->send(msg[slot]);
  }
}

void Subscriptions::publishManifest(const std::function<std::string()>& render) {
  auto targets = sessionsWanting(&Sub::manifests);
  std::shared_ptr<const std::string> msg;
  for (auto& [session, apiVersion] : targets) {
    if (!msg) msg = std::make_shared<const std::string>(render());
    session->send(msg);
  }
}

void Subscriptions::publish(const LedgerHeader& h, const std::string& validatedLedgers,
                            const std::vector<StoredTx>& txs,
                            const std::vector<std::vector<crypto::AccountId>>& affected,
                            std::uint32_t networkId) {
  struct Target {
    std::shared_ptr<net::WsSession> session;
    int apiVersion;
    bool ledger;
    bool transactions;
    std::set<crypto::AccountId> accounts;
  };
  std::vector<Target> targets;
  {
    std::lock_guard lock(mu_);
    forEachOpenLocked([&](std::shared_ptr<net::WsSession> s, const Sub& sub) {
      if (sub.ledger || sub.transactions || !sub.accounts.empty())
        targets.push_back({std::move(s), sub.apiVersion, sub.ledger, sub.transactions, sub.accounts});
    });
  }
  if (targets.empty()) return;

  // ledgerClosed, per API version (v1 also carries fee_ref).
  std::shared_ptr<const std::string> ledgerMsg[3];
  auto ledgerMessage = [&](int v) {
    int slot = v >= 2 ? 2 : 1;
    if (!ledgerMsg[slot]) {
      rapidjson::StringBuffer buf;
      JsonWriter w(buf);
      w.StartObject();
      w.Key("fee_base");
      w.Uint64(kBaseFee);
      if (slot == 1) {
        w.Key("fee_ref");
        w.Uint64(kBaseFee);
      }
      w.Key("ledger_hash");
      auto hash = core::toHex(h.hash);
      w.String(hash.c_str());
      w.Key("ledger_index");
      w.Uint(h.seq);
      w.Key("ledger_time");
      w.Uint(h.closeTime);
      w.Key("reserve_base");
      w.Uint64(kReserveBase);
      w.Key("reserve_inc");
      w.Uint64(kReserveIncrement);
      w.Key("txn_count");
      w.Uint(h.txCount);
      w.Key("type");
      w.String("ledgerClosed");
      w.Key("validated_ledgers");
      w.String(validatedLedgers.c_str());
      w.EndObject();
      ledgerMsg[slot] = std::make_shared<const std::string>(buf.GetString(), buf.GetSize());
    }
    return ledgerMsg[slot];
  };

  for (std::size_t i = 0; i < txs.size(); ++i) {
    std::shared_ptr<const std::string> msg[3];
    for (auto& t : targets) {
      bool wants = t.transactions;
      if (!wants) {
        for (const auto& a : affected[i]) {
          if (t.accounts.count(a) != 0) {
            wants = true;
            break;
          }
        }
      }
      if (!wants) continue;
      int slot = t.apiVersion >= 2 ? 2 : 1;
      if (!msg[slot]) {
        auto text = renderTransactionMessage(txs[i], t.apiVersion, networkId);
        if (!text.ok()) {
          spdlog::error("devnet: rendering transaction message: {}", text.error().message);
          break;
        }
        msg[slot] = std::make_shared<const std::string>(std::move(*text));
      }
      t.session->send(msg[slot]);
    }
  }
  // rippled sends the transactions of a ledger before its ledgerClosed message, so that a client
  // that sees ledgerClosed N can rely on having every stream message of N.
  for (auto& t : targets) {
    if (t.ledger) t.session->send(ledgerMessage(t.apiVersion));
  }
}

}  // namespace sashimono::devnet
