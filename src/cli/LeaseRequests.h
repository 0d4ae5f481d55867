#pragma once
// Sending lease requests and waiting for their replies, shared by `lease` (one request) and
// `cluster` (one or more per member). The requests are submitted one after another — they are
// payments from one account, each taking the account's next sequence — and their replies are
// awaited together, so the hosts work on them in parallel.
#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "sashimono/client/LeaseClient.h"

namespace sashimono::cli {

struct HostRequest {
  std::string host;                   // the host's r-address
  client::Announcement announcement;  // its latest announcement (sealing key, price)
  client::RequestParams params;
};

struct RequestOutcome {
  std::optional<client::Submitted> sent;  // absent: never submitted (`reply` says why)
  core::Result<client::Reply> reply = core::Error("not sent");

  // A reply that is not an error reply.
  [[nodiscard]] bool ok() const;
  // One line: "ok", "error <reason>: <detail>", or why there is no reply.
  [[nodiscard]] std::string describe() const;
};

// Submits `requests` in order and waits (at most `timeout`) for every reply. A request that cannot
// be submitted does not stop the others. Progress lines ("submitted <hash> to <host> (N drops)")
// go to `progress` when it is not null.
[[nodiscard]] std::vector<RequestOutcome> sendRequests(client::LeaseClient& lc,
                                                       const std::vector<HostRequest>& requests,
                                                       std::chrono::seconds timeout, std::ostream* progress);

// The latest announcement of each of `hosts`: from `registry`'s history when given (read once),
// else (or when the registry has none for a host) from the host's own history.
[[nodiscard]] core::Result<std::vector<client::Announcement>> findHosts(client::BoardSession& session,
                                                                        const std::vector<std::string>& hosts,
                                                                        const std::string& registry);

}  // namespace sashimono::cli
