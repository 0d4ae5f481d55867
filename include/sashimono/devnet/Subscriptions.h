#pragma once
// Who listens to what: per WebSocket session, the streams ("ledger", "transactions",
// "validations", "manifests") and the accounts it subscribed to, with the API version of its subscribe
// request (which decides the shape of its stream messages). Thread-safe.
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "sashimono/devnet/ChainStore.h"

namespace sashimono::net {
class WsSession;
}

namespace sashimono::devnet {

class Subscriptions {
 public:
  struct Change {
    bool ledger = false;
    bool transactions = false;
    bool validations = false;
    bool manifests = false;
    std::vector<crypto::AccountId> accounts;
  };
  void subscribe(const std::shared_ptr<net::WsSession>& session, int apiVersion, const Change& c);
  void unsubscribe(std::uint64_t sessionId, const Change& c);
  void remove(std::uint64_t sessionId);

  // Sends the ledgerClosed message and every transaction message of one validated ledger.
  // `txs` must be in ledger order; `affected[i]` lists the accounts of txs[i]; `networkId` goes
  // into their ctid.
  void publish(const LedgerHeader& header, const std::string& validatedLedgers,
               const std::vector<StoredTx>& txs, const std::vector<std::vector<crypto::AccountId>>& affected,
               std::uint32_t networkId);
  // Sends a message to every subscriber of "validations" / "manifests". `render(apiVersion)` makes
  // the text; it is called at most once per API version, and not at all without subscribers.
  void publishValidation(const std::function<std::string(int apiVersion)>& render);
  void publishManifest(const std::function<std::string()>& render);
  [[nodiscard]] bool empty() const;

 private:
  struct Sub {
    std::weak_ptr<net::WsSession> session;
    int apiVersion = 1;
    bool ledger = false;
    bool transactions = false;
    bool validations = false;
    bool manifests = false;
    std::set<crypto::AccountId> accounts;
  };
  // The open sessions (with their API version) subscribed to `stream`; closed ones are dropped.
  std::vector<std::pair<std::shared_ptr<net::WsSession>, int>> sessionsWanting(bool Sub::*stream);
  // Calls `visit` for each open session with its subscription and drops the closed ones; the
  // caller holds mu_.
  void forEachOpenLocked(const std::function<void(std::shared_ptr<net::WsSession>, const Sub&)>& visit);
  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, Sub> subs_;
};

}  // namespace sashimono::devnet
