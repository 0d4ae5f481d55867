#pragma once
// Replies to a developer's requests: finding the host's Payments in the account's history,
// unsealing their memos with the wallet's reply key, and matching them to requests.
// Pure functions over board transactions (decoded and signature-checked here). Thread-safe.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/board/Responses.h"
#include "sashimono/client/Wallet.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::client {

struct Reply {
  protocol::MessageType type = protocol::MessageType::error;
  protocol::Message message;
  crypto::Hash256 hash{};      // the reply transaction
  std::string from;            // the host account that sent it
  protocol::Drops amount = 0;  // XRP it carried (a refund)
};

// The request a reply answers (zero for notices, which answer none).
[[nodiscard]] crypto::Hash256 requestOf(const protocol::Message& message);

// Opens `tx` as a reply: a correctly signed transaction to the wallet's account (from `host` when
// not empty) whose sashimono memo opens with the reply key or an earlier one. nullopt otherwise.
[[nodiscard]] std::optional<Reply> openReply(const board::BoardTx& tx, const Wallet& wallet,
                                             const std::string& host = {});

// One request the account sent, with the replies that answer it.
struct RequestRecord {
  std::string request;      // the request hash (hex); a reply to an unknown request has only this
  std::string requestType;  // "sashimono.acquire", …; empty for a reply to an unknown request
  std::string host;         // its destination
  protocol::Drops paid = 0;
  std::uint32_t ledger = 0;
  std::vector<Reply> replies;
};

struct LeaseHistory {
  std::vector<RequestRecord> requests;  // in history order
  std::vector<Reply> notices;           // replies answering no request (expiry notices)
};

// Sorts `txs` (the account's history, oldest first) into requests with their replies.
[[nodiscard]] LeaseHistory leaseHistory(const std::vector<board::BoardTx>& txs, const Wallet& wallet);

// The acquire reply of lease `leaseId` in the account's history.
[[nodiscard]] std::optional<protocol::AcquireOk> findAcquire(const std::vector<board::BoardTx>& txs,
                                                             const Wallet& wallet,
                                                             const crypto::Hash256& leaseId);

}  // namespace sashimono::client
