#pragma once
// Building a developer's request (docs/PROTOCOL.md §5-8): the message and the amount to pay.
// Checks that cost nothing happen here, before any payment. Pure functions, thread-safe
// (randomUuid uses the OS random source).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sashimono/client/Wallet.h"
#include "sashimono/crypto/Hash.h"
#include "sashimono/protocol/Amount.h"
#include "sashimono/protocol/Messages.h"

namespace sashimono::client {

enum class RequestKind { acquire, extend, terminate, cluster };

struct RequestParams {
  RequestKind kind = RequestKind::acquire;
  // acquire
  std::string image;
  std::string contractId;  // empty: a random UUID
  // acquire, extend: moments × the host's price is paid
  std::uint64_t moments = 1;
  // extend, terminate, cluster
  crypto::Hash256 leaseId{};
  // cluster
  std::vector<protocol::ClusterMember> members;
  bool addMembers = false;
  // overrides the amount (terminate and cluster pay 1 drop by default)
  std::optional<protocol::Drops> amount;
};

struct PreparedRequest {
  protocol::Message message;
  protocol::Drops amount = 1;
};

// Checks what can be checked locally (image and contract id patterns, the member count) without a
// host. Errors say which option is wrong.
[[nodiscard]] core::Status checkRequest(const RequestParams& params);

// The request for `params` from `wallet` to a host whose announcement is `host`: the reply key is
// the owner of an acquired instance and is named as replyKey when it is not the account's own.
// Errors: checkRequest's, "price × moments overflows".
[[nodiscard]] core::Result<PreparedRequest> prepareRequest(const RequestParams& params, const Wallet& wallet,
                                                           const protocol::HostAnnouncement& host);

// The `sashimono.cluster` requests that hand lease `leaseId`'s instance the whole membership
// `members` (docs/PROTOCOL.md §5.4): one `replace` with as many members as fit one message (16, and
// the sealed payload limit), then `add`s with the rest, to be sent in this order. Errors: no
// members, more than 64, a member that does not fit a message alone.
[[nodiscard]] core::Result<std::vector<RequestParams>> membershipRequests(
    const crypto::Hash256& leaseId, const std::vector<protocol::ClusterMember>& members,
    const Wallet& wallet);

// A random (version 4) UUID in lower case: the default contract id.
[[nodiscard]] std::string randomUuid();

}  // namespace sashimono::client
