#include "LeaseRequests.h"

#include "sashimono/core/Bytes.h"
#include "sashimono/protocol/Reason.h"

namespace sashimono::cli {

bool RequestOutcome::ok() const {
  return reply.ok() && !std::holds_alternative<protocol::ErrorReply>(reply->message);
}

std::string RequestOutcome::describe() const {
  if (!reply) return reply.error().message;
  if (const auto* e = std::get_if<protocol::ErrorReply>(&reply->message))
    return "error " + std::string(protocol::reasonName(e->reason)) + ": " + e->detail;
  return "ok";
}

std::vector<RequestOutcome> sendRequests(client::LeaseClient& lc, const std::vector<HostRequest>& requests,
                                         std::chrono::seconds timeout, std::ostream* progress) {
  std::vector<RequestOutcome> out(requests.size());
  std::vector<client::PendingRequest> pending;
  std::vector<std::size_t> slot;  // pending[i] answers requests[slot[i]]
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    auto sent = lc.submit(r.host, r.announcement, r.params);
    if (!sent) {
      out[i].reply = sent.error();
      continue;
    }
    out[i].sent = *sent;
    if (progress != nullptr)
      *progress << "submitted " << core::toHex(sent->hash) << " to " << r.host << " (" << sent->amount
                << " drops)\n";
    pending.push_back(client::PendingRequest{r.host, *sent});
    slot.push_back(i);
  }
  if (pending.empty()) return out;
  if (progress != nullptr)
    *progress << "waiting for " << pending.size() << (pending.size() == 1 ? " reply\n" : " replies\n");
  auto replies = lc.awaitReplies(pending, timeout);
  for (std::size_t i = 0; i < replies.size(); ++i) out[slot[i]].reply = std::move(replies[i]);
  return out;
}

core::Result<std::vector<client::Announcement>> findHosts(client::BoardSession& session,
                                                          const std::vector<std::string>& hosts,
                                                          const std::string& registry) {
  std::map<std::string, client::Announcement> known;
  if (!registry.empty()) {
    auto txs = session.history(registry);
    if (!txs) return txs.error().context("account_tx " + registry);
    known = client::announcements(*txs, std::nullopt);
  }
  std::vector<client::Announcement> out;
  for (const auto& h : hosts) {
    auto it = known.find(h);
    if (it != known.end()) {
      out.push_back(it->second);
      continue;
    }
    auto txs = session.history(h);
    if (!txs) return txs.error().context("account_tx " + h);
    auto own = client::announcements(*txs, h);
    auto found = own.find(h);
    if (found == own.end()) return core::Error("no sashimono.host announcement found for " + h);
    out.push_back(found->second);
  }
  return out;
}

}  // namespace sashimono::cli
