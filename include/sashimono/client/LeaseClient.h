#pragma once
// The developer's side of the lease protocol over one board session: find a host's announcement,
// send a request (a signed Payment with a sealed memo), wait for the host's reply, read the
// account's leases and find where a lease's instance runs.
//
//   auto session = BoardSession::open({boards, caFile, wallet.account.address()});
//   LeaseClient lc(**session, wallet);
//   auto host = lc.findHost(hostAddress, registry);
//   auto sent = lc.submit(hostAddress, *host, params);
//   auto reply = lc.awaitReply(hostAddress, *sent, 120s);
//
// The session and the wallet must outlive the client. One thread at a time.
#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sashimono/client/BoardSession.h"
#include "sashimono/client/Discovery.h"
#include "sashimono/client/Replies.h"
#include "sashimono/client/Requests.h"
#include "sashimono/client/Wallet.h"

namespace sashimono::client {

struct Submitted {
  crypto::Hash256 hash{};  // the request transaction
  protocol::Drops amount = 0;
};

// A request sent to `host`, whose reply is awaited (awaitReplies).
struct PendingRequest {
  std::string host;  // the host's r-address
  Submitted sent;
};

// Where a lease's instance listens and the owner key to talk to it as.
struct LeaseTarget {
  std::string host;
  std::uint16_t userPort = 0;
  std::array<std::uint8_t, 33> instanceKey{};  // 0xED ‖ key
  std::array<std::uint8_t, 32> ownerSeed{};    // the lease owner's ed25519 seed (wipe after use)
};

class LeaseClient {
 public:
  LeaseClient(BoardSession& session, const Wallet& wallet) : session_(session), wallet_(wallet) {}

  // The latest announcement of `host`, from `registry`'s history (empty: the host's own).
  [[nodiscard]] core::Result<Announcement> findHost(const std::string& host, const std::string& registry);

  // Builds, signs and submits the request. Errors: the request's checks, "cannot build the
  // request: …", "cannot sign: …", "submit: …", "submit refused: <engine result> <message>".
  [[nodiscard]] core::Result<Submitted> submit(const std::string& host, const Announcement& announcement,
                                               const RequestParams& params);

  // Waits for the host's reply to `sent` (the session must watch the wallet's account). Errors:
  // "the request failed on the ledger: <result>", "the request <hash> was not validated within N s",
  // "the request <hash> was validated but no reply came within N s".
  [[nodiscard]] core::Result<Reply> awaitReply(const std::string& host, const Submitted& sent,
                                               std::chrono::seconds timeout);

  // Waits for the replies to several requests at once (sent one after another, answered by their
  // hosts in parallel), until each has one or `timeout` has passed. Slot i answers pending[i]
  // with its reply or awaitReply's error.
  [[nodiscard]] std::vector<core::Result<Reply>> awaitReplies(const std::vector<PendingRequest>& pending,
                                                              std::chrono::seconds timeout);

  // The wallet account's requests and replies.
  [[nodiscard]] core::Result<LeaseHistory> history();

  // Where lease `leaseId` (acquired by this wallet) runs. Error: no acquire reply for it.
  [[nodiscard]] core::Result<LeaseTarget> resolveLease(const crypto::Hash256& leaseId);

 private:
  BoardSession& session_;
  const Wallet& wallet_;
};

}  // namespace sashimono::client
