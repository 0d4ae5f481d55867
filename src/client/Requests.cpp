#include "sashimono/client/Requests.h"

#include <array>

#include "sashimono/core/Bytes.h"
#include "sashimono/crypto/Random.h"
#include "sashimono/protocol/MessageType.h"
#include "sashimono/protocol/Patterns.h"
#include "sashimono/protocol/Payload.h"

namespace sashimono::client {

core::Status checkRequest(const RequestParams& p) {
  if (p.kind == RequestKind::acquire) {
    if (p.image.empty()) return core::Error("--image NAME is required");
    if (!p.contractId.empty()) SASHI_TRY(protocol::validateContractId(p.contractId));
    SASHI_TRY(protocol::validateImageName(p.image));
  } else if (p.kind == RequestKind::cluster) {
    if (p.members.empty() || p.members.size() > protocol::kMaxClusterMembers)
      return core::Error("--member KEY@HOST:PORT: 1 to " + std::to_string(protocol::kMaxClusterMembers) +
                         " members per message");
  }
  return {};
}

core::Result<PreparedRequest> prepareRequest(const RequestParams& p, const Wallet& wallet,
                                             const protocol::HostAnnouncement& host) {
  SASHI_TRY(checkRequest(p));
  // The reply key is also the owner of the instance; replyKey is named when it is not the
  // account's own key (always for a secp256k1 account, whose acquire the host refuses otherwise).
  const std::optional<protocol::Ed25519Key> replyKey = wallet.requestReplyKey();
  PreparedRequest out;
  auto priced = [&]() -> core::Status {
    auto total = protocol::mulDrops(host.price, p.moments);
    if (!total) return core::Error("price × moments overflows");
    out.amount = *total;
    return {};
  };
  switch (p.kind) {
    case RequestKind::acquire: {
      protocol::AcquireRequest r;
      r.contractId = p.contractId.empty() ? randomUuid() : p.contractId;
      r.image = p.image;
      r.owner = wallet.replyKey();
      r.replyKey = replyKey;
      out.message = r;
      SASHI_TRY(priced());
      break;
    }
    case RequestKind::extend:
      out.message = protocol::ExtendRequest{p.leaseId, replyKey};
      SASHI_TRY(priced());
      break;
    case RequestKind::cluster: {
      protocol::ClusterRequest r;
      r.leaseId = p.leaseId;
      r.mode = p.addMembers ? protocol::ClusterMode::add : protocol::ClusterMode::replace;
      r.members = p.members;
      r.replyKey = replyKey;
      out.message = r;
      break;
    }
    case RequestKind::terminate:
      out.message = protocol::TerminateRequest{p.leaseId, replyKey};
      break;
  }
  if (p.amount) out.amount = *p.amount;
  return out;
}

core::Result<std::vector<RequestParams>> membershipRequests(
    const crypto::Hash256& leaseId, const std::vector<protocol::ClusterMember>& members,
    const Wallet& wallet) {
  // The instance's cluster holds at most 64 members (§5.4).
  constexpr std::size_t kMaxMembership = 64;
  if (members.empty() || members.size() > kMaxMembership)
    return core::Error("a cluster has 1 to " + std::to_string(kMaxMembership) + " members, not " +
                       std::to_string(members.size()));
  auto fits = [&](const std::vector<protocol::ClusterMember>& part, bool add) {
    protocol::ClusterRequest r;
    r.leaseId = leaseId;
    r.mode = add ? protocol::ClusterMode::add : protocol::ClusterMode::replace;
    r.members = part;
    r.replyKey = wallet.requestReplyKey();
    return part.size() <= protocol::kMaxClusterMembers &&
           protocol::renderPayload(r).size() <= protocol::kMaxSealedPlaintextBytes;
  };
  std::vector<RequestParams> out;
  for (const auto& m : members) {
    if (!out.empty()) {
      auto grown = out.back().members;
      grown.push_back(m);
      if (fits(grown, out.back().addMembers)) {
        out.back().members = std::move(grown);
        continue;
      }
    }
    RequestParams p;
    p.kind = RequestKind::cluster;
    p.leaseId = leaseId;
    p.addMembers = !out.empty();
    p.members = {m};
    if (!fits(p.members, p.addMembers))
      return core::Error("the member " + m.peer + " does not fit a message");
    out.push_back(std::move(p));
  }
  return out;
}

std::string randomUuid() {
  std::array<std::uint8_t, 16> b{};
  crypto::randomBytes(b);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
  std::string hex = core::toHexLower(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace sashimono::client
